"""Mermaid and Graphviz DOT text for a definition, with an instance highlighted."""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from salesflow.workflow._graph import APPROVED, MIGRATE, REJECTED

if TYPE_CHECKING:
    from collections.abc import Iterator

    from salesflow.workflow._definition import State, Transition, WorkflowDefinition
    from salesflow.workflow._instance import Instance, Step

__all__ = ["to_dot", "to_mermaid"]

_TAKEN: Final = "\N{HEAVY CHECK MARK} "
"""Marks a move taken in a Mermaid label: a state diagram cannot style one transition."""


def to_mermaid(definition: WorkflowDefinition, instance: Instance | None = None) -> str:
    """A Mermaid ``stateDiagram-v2`` of the definition.

    Transitions are labelled with their event, guard (``[...]``), roles and actions;
    states with their SLA and approval steps; terminal states point to ``[*]`` with
    their outcome. With ``instance``, its current state and the states of its history
    are highlighted (``classDef current`` / ``visited``), and the label of every move
    it took starts with ✔ (Mermaid cannot style one transition of a state diagram:
    ``linkStyle`` is for flowcharts). Two transitions on one event between the same
    states are told apart by the index each step records; a step made on another
    version of the definition (before a migration) by its transition's event,
    source, target and guard, and marks nothing when no single transition matches.

    >>> from salesflow.workflow import State, Transition, WorkflowDefinition
    >>> wf = WorkflowDefinition(name="w", initial="草稿", states=[
    ...     State(name="草稿"), State(name="赢单", terminal=True, outcome="won")],
    ...     transitions=[Transition(event="成交", source="草稿", target="赢单",
    ...                             guard="true", roles=["sales"])])
    >>> print(to_mermaid(wf))
    stateDiagram-v2
        state "草稿" as s0
        state "赢单" as s1
        [*] --> s0
        s0 --> s1: 成交 [true] (sales)
        s1 --> [*]: won
    """
    ids = {state.name: f"s{i}" for i, state in enumerate(definition.states)}
    taken = _Taken(definition, instance)
    lines = ["stateDiagram-v2"]
    for state in definition.states:
        lines.append(f'    state "{_mermaid_text(state.name)}" as {ids[state.name]}')
        lines += [f"    note right of {ids[state.name]}: {_mermaid_text(n)}" for n in _notes(state)]
    lines.append(f"    [*] --> {ids.get(definition.initial, definition.initial)}")
    for index, transition in enumerate(definition.transitions):
        label = _mermaid_text(_label(transition))
        target = ids.get(transition.target, transition.target)
        lines += [
            f"    {ids.get(s, s)} --> {target}:"
            f" {_TAKEN if taken.transition(s, index) else ''}{label}"
            for s in transition.source
        ]
    for state in definition.states:
        lines += [
            f"    {ids[state.name]} --> {ids.get(t, t)}:"
            f" {_TAKEN if taken.route(state.name, e, t) else ''}{e}"
            for e, t in _routes(state)
        ]
        if state.terminal:
            lines.append(f"    {ids[state.name]} --> [*]: {_mermaid_text(state.outcome or 'end')}")
    if instance is not None:
        visited = {ids[s] for s in _visited(instance) if s in ids} - {ids.get(instance.state)}
        lines.append("    classDef current fill:#fde68a,stroke:#b45309,stroke-width:3px")
        lines.append("    classDef visited fill:#e0f2fe,stroke:#0369a1")
        lines += [f"    class {i} visited" for i in sorted(visited)]
        if instance.state in ids:
            lines.append(f"    class {ids[instance.state]} current")
    return "\n".join(lines)


def to_dot(definition: WorkflowDefinition, instance: Instance | None = None) -> str:
    """A Graphviz DOT digraph of the definition, grouped by phase.

    Labels as in `to_mermaid`; terminal states are double circles; the instance's
    current state is filled and the moves it took are bold (of two transitions on
    one event between the same states, only the one that fired; after a migration,
    as in `to_mermaid`).

    >>> from salesflow.workflow import State, Transition, WorkflowDefinition
    >>> wf = WorkflowDefinition(name="w", initial="a", states=[
    ...     State(name="a"), State(name="b", terminal=True)],
    ...     transitions=[Transition(event="go", source="a", target="b")])
    >>> print(to_dot(wf))
    digraph "w" {
      rankdir=LR;
      "a" [shape=box, style=rounded];
      "b" [shape=doublecircle];
      "__start" [shape=point];
      "__start" -> "a";
      "a" -> "b" [label="go"];
    }
    """
    taken = _Taken(definition, instance)
    lines = [f"digraph {_dot(definition.name)} {{", "  rankdir=LR;"]
    phases: dict[str | None, list[State]] = {}
    for state in definition.states:
        phases.setdefault(state.phase, []).append(state)
    for number, (phase, states) in enumerate(phases.items()):
        indent = "  " if phase is None else "    "
        if phase is not None:
            lines += [f"  subgraph cluster_{number} {{", f"    label={_dot(phase)};"]
        lines += [indent + _dot_node(state, instance) for state in states]
        if phase is not None:
            lines.append("  }")
    lines += ['  "__start" [shape=point];', f'  "__start" -> {_dot(definition.initial)};']
    for index, transition in enumerate(definition.transitions):
        for source in transition.source:
            bold = ", style=bold" if taken.transition(source, index) else ""
            label = _dot(_label(transition))
            lines.append(f"  {_dot(source)} -> {_dot(transition.target)} [label={label}{bold}];")
    for state in definition.states:
        for event, target in _routes(state):
            # One style attribute: Graphviz keeps only the last of two.
            style = '"dashed,bold"' if taken.route(state.name, event, target) else "dashed"
            lines.append(
                f"  {_dot(state.name)} -> {_dot(target)} [label={_dot(event)}, style={style}];"
            )
    lines.append("}")
    return "\n".join(lines)


class _Taken:
    """The moves an instance's history took, as transitions of ``definition``.

    A step records its transition's index in the definition version the instance ran
    on then (followed back through the ``migrate`` steps). The index is trusted for a
    step made on this definition's version, when the transition there has the step's
    event, source and target. Any other step is matched by event, source, target and
    guard, and marks a transition only when exactly one matches: after a migration
    that reorders the transitions the one that fired is marked, and none when it no
    longer exists. The engine's own moves (``approved``, ``rejected``) are matched by
    source, event and target.
    """

    __slots__ = ("_moves", "_routes")

    def __init__(self, definition: WorkflowDefinition, instance: Instance | None) -> None:
        self._moves: set[tuple[str, int]] = set()
        self._routes: set[tuple[str, str, str]] = set()
        if instance is None:
            return
        same_name = instance.workflow == definition.name
        for step, version in _made_on(instance):
            if step.event in {APPROVED, REJECTED}:
                self._routes.add((step.source, step.event, step.target))
                continue
            trusted = same_name and version == definition.version
            index = _fired(definition, step, trusted=trusted)
            if index is not None:
                self._moves.add((step.source, index))

    def transition(self, source: str, index: int) -> bool:
        """Whether the transition at ``index`` was taken from ``source``."""
        return (source, index) in self._moves

    def route(self, state: str, event: str, target: str) -> bool:
        """Whether an approval's own move was taken."""
        return (state, event, target) in self._routes


def _made_on(instance: Instance) -> Iterator[tuple[Step, int | None]]:
    """Each step of the history, newest first, with the definition version it ran on.

    The steps since the last ``migrate`` ran on the instance's version, those before
    it on the version it migrated from (``None`` when its step does not say).
    """
    version: int | None = instance.definition_version
    for step in reversed(instance.history):
        yield step, version
        if step.event == MIGRATE:
            older = step.payload.get("from_version")
            version = older if isinstance(older, int) else None


def _fired(definition: WorkflowDefinition, step: Step, *, trusted: bool) -> int | None:
    """The index in ``definition`` of the transition ``step`` fired, if it can be told."""
    matching = [
        index
        for index, t in enumerate(definition.transitions)
        if t.event == step.event and t.target == step.target and step.source in t.source
    ]
    if trusted and step.transition in matching:
        return step.transition
    same = [index for index in matching if definition.transitions[index].guard == step.guard]
    return same[0] if len(same) == 1 else None


def _label(transition: Transition) -> str:
    parts = [transition.event]
    if transition.guard is not None:
        parts.append(f"[{transition.guard}]")
    if transition.check is not None:
        parts.append(f"[check {transition.check}]")
    if transition.roles:
        parts.append(f"({', '.join(transition.roles)})")
    if transition.after_approval:
        parts.append("after approval")
    if transition.emits:
        parts.append(f"/ {', '.join(transition.emits)}")
    return " ".join(parts)


def _notes(state: State) -> list[str]:
    notes = []
    if state.sla is not None:
        timeout = f", then {state.sla.timeout}" if state.sla.timeout else ""
        notes.append(f"SLA {state.sla.describe()}{timeout}")
    if state.approval is not None:
        for step in state.approval.steps:
            who = [*step.roles, *step.people] + ([f"<{step.approver}>"] if step.approver else [])
            when = f" when {step.when}" if step.when else ""
            vote = ", rejected only when out of reach" if step.rejection == "quorum" else ""
            notes.append(f"approval {step.name}: {step.quorum} of {', '.join(who)}{when}{vote}")
    return notes


def _routes(state: State) -> list[tuple[str, str]]:
    if state.approval is None:
        return []
    routes = [(REJECTED, state.approval.rejected)]
    if state.approval.approved is not None:
        routes.insert(0, (APPROVED, state.approval.approved))
    return routes


def _visited(instance: Instance) -> set[str]:
    return {s.source for s in instance.history} | {s.target for s in instance.history}


def _mermaid_text(text: str) -> str:
    # Mermaid ends a label at a newline and reads ':' and ';' as syntax.
    return text.replace("\n", " ").replace(";", ",").replace(":", "\uff1a").replace('"', "'")


def _dot(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _dot_node(state: State, instance: Instance | None) -> str:
    attributes = ["shape=doublecircle"] if state.terminal else ["shape=box", "style=rounded"]
    notes = _notes(state)
    if notes:
        attributes.append("label=" + _dot("\n".join([state.name, *notes])))
    if instance is not None and instance.state == state.name:
        attributes = [a for a in attributes if not a.startswith("style=")]
        attributes += ['style="rounded,filled,bold"', 'fillcolor="#fde68a"']
    return f"{_dot(state.name)} [{', '.join(attributes)}];"
