"""Loading a definition with every problem at once, and linting it as a graph."""

from __future__ import annotations

import itertools
import weakref
from collections import Counter, defaultdict
from typing import TYPE_CHECKING

import networkx as nx
from pydantic import ValidationError

from salesflow.errors import DefinitionError, Location, Problem, Severity
from salesflow.expressions import Schema
from salesflow.workflow._approvals import distinct_fill
from salesflow.workflow._definition import (
    WorkflowDefinition,
    parse_workflow_data,
    partial_parts,
    validate_shape,
)
from salesflow.workflow._graph import Move, moves
from salesflow.workflow._guards import Overlap, compare_guards, never_holds
from salesflow.workflow._references import Parts, parts_of, reference_problems

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from salesflow.workflow._definition import Approval, ApprovalStep, Transition

__all__ = ["lint", "load_workflow"]


def load_workflow(
    data: str | bytes | Mapping[str, object] | WorkflowDefinition,
    *,
    checks: Iterable[str] | None = None,
) -> WorkflowDefinition:
    """Load a workflow from YAML/JSON text or parsed data, or check a built one.

    Args:
        data: YAML or JSON text, the mapping read from it, or a definition.
        checks: The names of the Python predicates the host will provide; when given,
            a transition naming another is a problem. Default ``None``: not checked.

    Returns:
        The definition.

    Raises:
        DefinitionError: The definition cannot be used; ``problems`` lists every
            problem at once (shape, unknown states, roles, fields, checks, guards
            that do not compile), each with its path, e.g.
            ``workflow.transitions[3].guard``.

    >>> wf = load_workflow('''
    ... name: 报价审批
    ... initial: 草稿
    ... states: [{name: 草稿}, {name: 已批准, terminal: true, outcome: won}]
    ... transitions: [{event: 批准, source: 草稿, target: 已批准}]
    ... ''')
    >>> wf.states[1].outcome
    'won'
    >>> try:
    ...     load_workflow({"name": "x", "initial": "a", "states": [{"name": "a"}],
    ...                    "transitions": [{"event": "go", "source": "a", "target": "b"}]})
    ... except DefinitionError as err:
    ...     print(err)
    workflow.transitions[0].target: unknown state 'b'
    """
    if isinstance(data, str | bytes):
        data = parse_workflow_data(data)  # type: ignore[assignment]
    if isinstance(data, WorkflowDefinition):
        definition: WorkflowDefinition | None = data
        problems: list[Problem] = []
    else:
        definition, problems = validate_shape(data)
    if definition is not None:
        problems += reference_problems(parts_of(definition), checks)
    else:
        problems += reference_problems(_salvage(data), checks)
    if problems:
        raise DefinitionError.from_problems(problems)
    assert definition is not None  # noqa: S101 - no problem means the shape validated
    _RESOLVED[id(definition)] = definition
    return definition


def lint(definition: WorkflowDefinition) -> tuple[Problem, ...]:
    """Every finding about a definition, as data: references first, then the graph.

    Codes (severity):

    - ``workflow.unknown_state`` / ``_role`` / ``_field`` / ``_event``, expression
      errors, ``workflow.duplicate_state``, ``workflow.duplicate_step``,
      ``workflow.reserved_event`` (error): as `load_workflow`.
    - ``workflow.no_terminal`` (error): no terminal state at all.
    - ``workflow.unreachable`` (warning): no path from the initial state.
    - ``workflow.dead_end`` (error): a non-terminal state with no way out.

    The graph findings count only moves that can fire: a transition whose guard
    never holds, a move into a state whose entry criteria never hold, and an
    ``after_approval`` transition out of an approval that moves on by itself are
    left out.
    - ``workflow.cycle_without_exit`` (error): states that lead only to each other.
    - ``workflow.no_terminal_reachable`` (error): other states from which no
      terminal state can be reached.
    - ``workflow.overlapping_guards`` (error): two transitions on the same event
      from the same state can both fire (proved, or one has no guard).
    - ``workflow.guards_not_proved_disjoint`` (warning): could not be proved either way.
    - ``workflow.guard_never_holds`` (warning): a transition's guard or a state's entry
      criteria was proved false for every input (``n > 1 && n < 2`` on an int): the
      transition, or every way into the state, can never fire.
    - ``workflow.quorum_unreachable`` (error): an approval that cannot get enough
      distinct approvers (steps by role are assumed to have enough; an approver
      expression counts as one person; steps with ``when`` are left out of the
      distinct-approvers matching).
    - ``workflow.approver_needed_later`` (warning): with distinct approvers, a
      person named in a step who can never approve it, because the steps after it
      need them: the engine refuses that approval.
    - ``workflow.stuck_after_approval`` (error): an approval with no ``approved``
      state in a state no transition leaves: granted, it goes nowhere.
    - ``workflow.after_approval_without_approval`` (error): an ``after_approval``
      transition out of a state without an approval: it can never fire.
    - ``workflow.after_approval_never_fires`` (warning): an ``after_approval``
      transition out of a state whose approval names an ``approved`` state: the
      grant moves there at once, so it can never fire.
    - ``workflow.sla_on_terminal``, ``workflow.leaves_terminal``,
      ``workflow.outcome_not_terminal`` (warning).

    >>> from salesflow.workflow import State, Transition, WorkflowDefinition
    >>> wf = WorkflowDefinition(name="w", initial="a", states=[
    ...     State(name="a"), State(name="b"), State(name="c", terminal=True)],
    ...     transitions=[Transition(event="go", source="a", target="c")])
    >>> for problem in lint(wf):
    ...     print(problem.severity.value, problem.code, problem.location)
    warning workflow.unreachable workflow.states[1]
    error workflow.dead_end workflow.states[1]
    """
    resolved = _RESOLVED.get(id(definition)) is definition
    problems = [] if resolved else reference_problems(parts_of(definition))
    never = _never_verdicts(definition)
    problems += _graph_problems(definition, *_live_graph(definition, never))
    problems += _guard_problems(definition)
    problems += _never_holding(definition, never)
    problems += _approval_problems(definition)
    problems += _state_warnings(definition)
    return tuple(problems)


# Definitions `load_workflow` returned: their references resolve (they are frozen), so
# `lint` need not check them again. Weak, so a definition is never kept alive by it.
_RESOLVED: weakref.WeakValueDictionary[int, WorkflowDefinition] = weakref.WeakValueDictionary()


def _salvage(data: object) -> Parts:
    """The parts of a definition whose shape failed: whatever is valid on its own."""
    states, transitions, names = partial_parts(data)
    raw = data if isinstance(data, dict) else {}
    initial = raw.get("initial")
    roles = raw.get("roles", ())
    roles = (roles,) if isinstance(roles, str) else roles
    valid_roles = isinstance(roles, list | tuple) and all(isinstance(r, str) for r in roles)
    try:
        schema: Schema | None = Schema.model_validate(raw.get("fields") or {})
    except ValidationError:
        schema = None
    return Parts(
        initial if isinstance(initial, str) else None,
        frozenset(roles) if valid_roles else None,
        schema,
        states,
        transitions,
        names,
    )


def _at(definition: WorkflowDefinition) -> dict[str, int]:
    index: dict[str, int] = {}
    for i, state in enumerate(definition.states):
        index.setdefault(state.name, i)
    return index


def _problem(code: str, severity: Severity, message: str, path: str) -> Problem:
    return Problem(code, severity, message, Location(path=path))


def _live_graph(
    definition: WorkflowDefinition, never: Mapping[str, bool]
) -> tuple[nx.MultiDiGraph[str], set[str]]:
    """The states and the moves that can fire (see `lint`), keyed by event.

    Also the states some move out of which can never fire.
    """
    transitions = definition.transitions
    closed = {s.name for s in definition.states if s.entry is not None and never[s.entry]}
    moving_on = {s.name for s in definition.states if s.approval and s.approval.approved}

    def fires(move: Move) -> bool:
        if move.target in closed:  # no way in satisfies its entry criteria
            return False
        if move.transition is None:
            return True
        transition = transitions[move.transition]
        if transition.guard is not None and never[transition.guard]:
            return False
        # Granted, the approval moves on by itself before anyone can fire this.
        return not (transition.after_approval and move.source in moving_on)

    graph: nx.MultiDiGraph[str] = nx.MultiDiGraph()
    graph.add_nodes_from(state.name for state in definition.states)
    blocked = set()
    for move in moves(definition):
        if fires(move):
            graph.add_edge(move.source, move.target, move.event)
        else:
            blocked.add(move.source)
    return graph, blocked


def _graph_problems(
    definition: WorkflowDefinition, graph: nx.MultiDiGraph[str], blocked: set[str]
) -> list[Problem]:
    where = _at(definition)
    terminals = {s.name for s in definition.states if s.terminal}
    problems = []
    if not terminals:
        problems.append(
            _problem("workflow.no_terminal", Severity.ERROR, "no state is terminal", "workflow")
        )
    reachable = _forward(graph, definition.initial)
    for state in definition.states:
        if state.name not in reachable:
            message = (
                f"state {state.name!r} cannot be reached from the initial state"
                f" {definition.initial!r}"
            )
            path = f"workflow.states[{where[state.name]}]"
            problems.append(_problem("workflow.unreachable", Severity.WARNING, message, path))
    problems += _stuck_problems(definition, graph, terminals, where, blocked)
    return problems


def _forward(graph: nx.MultiDiGraph[str], start: str) -> set[str]:
    """The states reachable from ``start``, itself included."""
    return _search(graph.succ, {start}) if start in graph else set()


def _backward(graph: nx.MultiDiGraph[str], targets: set[str]) -> set[str]:
    """The states from which one of ``targets`` is reachable, themselves included."""
    return _search(graph.pred, targets)


def _search(adjacency: Mapping[str, Mapping[str, object]], seeds: set[str]) -> set[str]:
    # A plain stack: networkx's generic traversals cost twice as much on big graphs.
    seen = set(seeds)
    stack = list(seeds)
    while stack:
        for after in adjacency[stack.pop()]:
            if after not in seen:
                seen.add(after)
                stack.append(after)
    return seen


def _stuck_problems(
    definition: WorkflowDefinition,
    graph: nx.MultiDiGraph[str],
    terminals: set[str],
    where: dict[str, int],
    blocked: set[str],
) -> list[Problem]:
    finishing = _backward(graph, terminals)
    closed = _closed_cycles(graph, finishing)
    problems = []
    reported: set[str] = set()
    for members in closed:
        names = sorted(members, key=lambda n: where.get(n, 0))
        first = names[0]
        message = f"states {names} lead only to each other: no way out to a terminal state"
        path = f"workflow.states[{where.get(first, 0)}]"
        problems.append(_problem("workflow.cycle_without_exit", Severity.ERROR, message, path))
        reported |= members
    for state in definition.states:
        name = state.name
        if state.terminal or name in finishing or name in reported:
            continue
        path = f"workflow.states[{where[name]}]"
        if graph.out_degree(name) == 0:
            message = f"state {name!r} is not terminal and has no way out"
            if name in blocked:
                message += " that can ever be taken"
            problems.append(_problem("workflow.dead_end", Severity.ERROR, message, path))
        else:
            message = f"no terminal state can be reached from {name!r}"
            problems.append(
                _problem("workflow.no_terminal_reachable", Severity.ERROR, message, path)
            )
    return problems


def _closed_cycles(graph: nx.MultiDiGraph[str], finishing: set[str]) -> list[set[str]]:
    """Strongly connected groups with a cycle, no terminal reachable and no edge out."""
    closed = []
    for component in nx.strongly_connected_components(graph):
        sample = next(iter(component))
        if sample in finishing:
            continue
        if len(component) == 1 and not graph.has_edge(sample, sample):
            continue
        leaves = any(after not in component for n in component for after in graph.succ[n])
        if not leaves:
            closed.append(component)
    return closed


def _guard_problems(definition: WorkflowDefinition) -> list[Problem]:
    # Most (state, event) pairs have one transition: count first, in C, and group only
    # the shared ones; grouping all 50,000 of a big definition cost more than proving.
    shared = Counter((s, t.event) for t in definition.transitions for s in t.source)
    groups: dict[tuple[str, str], list[tuple[int, Transition]]] = defaultdict(list)
    for index, transition in enumerate(definition.transitions):
        for source in transition.source:
            if shared[source, transition.event] > 1:
                groups[source, transition.event].append((index, transition))
    types = _types(definition)
    problems = []
    for (source, event), members in groups.items():
        if len(members) < 2:  # noqa: PLR2004 - a pair is needed to overlap
            continue
        for (i, a), (j, b) in itertools.combinations(members, 2):
            problem = _pair_problem(source, event, (i, a), (j, b), types)
            if problem is not None:
                problems.append(problem)
    return problems


def _types(definition: WorkflowDefinition) -> dict[str, str]:
    """The fields' types as written (``decimal(2)?``): a decimal's scale matters to proofs."""
    return {name: str(field) for name, field in definition.fields.fields.items()}


def _written(definition: WorkflowDefinition) -> list[tuple[str, str | None]]:
    """Every guard and entry criteria, at its path."""
    written = [
        (f"workflow.transitions[{i}].guard", t.guard) for i, t in enumerate(definition.transitions)
    ]
    written += [(f"workflow.states[{i}].entry", s.entry) for i, s in enumerate(definition.states)]
    return written


def _never_verdicts(definition: WorkflowDefinition) -> dict[str, bool]:
    """For each guard and entry criteria written, whether it was proved never to hold."""
    types = _types(definition)
    verdicts: dict[str, bool] = {}
    for _, source in _written(definition):
        if source is None or source in verdicts:
            continue
        try:
            verdicts[source] = never_holds(source, types)
        except ValueError:  # does not parse: reported on its own
            verdicts[source] = False
    return verdicts


def _never_holding(definition: WorkflowDefinition, never: Mapping[str, bool]) -> list[Problem]:
    problems = []
    for path, source in _written(definition):
        if source is not None and never[source]:
            message = f"{source!r} can never hold: no value of its fields satisfies it"
            problems.append(_problem("workflow.guard_never_holds", Severity.WARNING, message, path))
    return problems


def _pair_problem(
    source: str,
    event: str,
    first: tuple[int, Transition],
    second: tuple[int, Transition],
    types: Mapping[str, str],
) -> Problem | None:
    (i, a), (j, b) = first, second
    path = f"workflow.transitions[{j}].guard"
    head = f"transitions[{i}] and [{j}] on {event!r} from {source!r}"
    verdict = Overlap.OVERLAPPING
    if a.guard is not None and b.guard is not None:
        try:
            verdict = compare_guards(a.guard, b.guard, types)
        except DefinitionError:  # a guard that does not parse is reported on its own
            return None
        except ValueError:  # the parser's syntax error is a ValueError too
            return None
    if verdict is Overlap.OVERLAPPING and (a.check is not None or b.check is not None):
        # A host check may be false whenever the guards hold: overlap is not proved.
        verdict = Overlap.UNKNOWN
    if verdict is Overlap.DISJOINT:
        return None
    guards = f"{_shown(a.guard)} and {_shown(b.guard)}"
    if a.roles and b.roles and set(a.roles).isdisjoint(b.roles):
        message = (
            f"{head}: {guards} could not be proved disjoint; only an actor holding roles"
            f" of both ({sorted(a.roles)} and {sorted(b.roles)}) can fire both"
        )
        return _problem("workflow.guards_not_proved_disjoint", Severity.WARNING, message, path)
    if verdict is Overlap.OVERLAPPING:
        message = f"{head} can both fire: {guards} overlap"
        return _problem("workflow.overlapping_guards", Severity.ERROR, message, path)
    message = f"{head}: {guards} could not be proved disjoint"
    return _problem("workflow.guards_not_proved_disjoint", Severity.WARNING, message, path)


def _shown(guard: str | None) -> str:
    return "no guard" if guard is None else f"guard {guard!r}"


def _approval_problems(definition: WorkflowDefinition) -> list[Problem]:
    problems = []
    leaving = {source for t in definition.transitions for source in t.source}
    for index, state in enumerate(definition.states):
        where = f"workflow.states[{index}].approval"
        if state.approval is None:
            continue
        problems += _quorum_problems(state.approval, where)
        if state.approval.approved is None and state.name not in leaving:
            message = (
                f"once the approval in {state.name!r} is granted nothing moves on: it names"
                " no approved state and no transition leaves the state"
            )
            problems.append(
                _problem("workflow.stuck_after_approval", Severity.ERROR, message, where)
            )
    return problems + _after_approval_problems(definition)


def _after_approval_problems(definition: WorkflowDefinition) -> list[Problem]:
    approvals = {s.name: s.approval for s in definition.states}
    problems = []
    for index, transition in enumerate(definition.transitions):
        if not transition.after_approval:
            continue
        for number, source in enumerate(transition.source):
            path = f"workflow.transitions[{index}].source[{number}]"
            approval = approvals.get(source)
            if approval is None:
                message = (
                    f"{transition.event!r} waits for an approval, but {source!r} has none:"
                    " it can never fire from there"
                )
                problems.append(
                    _problem(
                        "workflow.after_approval_without_approval", Severity.ERROR, message, path
                    )
                )
            elif approval.approved is not None:
                message = (
                    f"{transition.event!r} waits for the approval in {source!r}, which moves to"
                    f" {approval.approved!r} as soon as it is granted: it can never fire from there"
                )
                problems.append(
                    _problem("workflow.after_approval_never_fires", Severity.WARNING, message, path)
                )
    return problems


def _quorum_problems(approval: Approval, where: str) -> list[Problem]:
    problems = []
    named_only = []
    for number, step in enumerate(approval.steps):
        if step.roles:
            continue  # role holders are not known here: assume enough
        # Who an approver expression names is known only at run time, and steps with
        # `when` may never apply together: the run time checks both on entry.
        if step.approver is None and step.when is None:
            named_only.append((number, step))
        # An approver expression names one person at most.
        most = len(set(step.people)) + (step.approver is not None)
        if step.quorum > most:
            chosen = " and the one its approver expression names" if step.approver else ""
            message = (
                f"step {step.name!r} needs {step.quorum} approvals from only"
                f" {len(set(step.people))} named people{chosen}"
            )
            problems.append(
                _problem(
                    "workflow.quorum_unreachable",
                    Severity.ERROR,
                    message,
                    f"{where}.steps[{number}].quorum",
                )
            )
    if approval.distinct and not problems and len(named_only) > 1:
        problems += _distinct_shortfall([step for _, step in named_only], where)
        if not problems:
            problems += _needed_later(named_only, where)
    return problems


def _distinct_shortfall(steps: list[ApprovalStep], where: str) -> list[Problem]:
    """With distinct approvers across steps, the named-only steps need a matching."""
    needed = sum(step.quorum for step in steps)
    found = distinct_fill((step.quorum, step.people) for step in steps)
    if found >= needed:
        return []
    message = (
        f"the steps need {needed} distinct approvers but their named people can give"
        f" at most {found}"
    )
    return [_problem("workflow.quorum_unreachable", Severity.ERROR, message, f"{where}.steps")]


def _needed_later(steps: list[tuple[int, ApprovalStep]], where: str) -> list[Problem]:
    """People who can never approve a step, because the steps after it need them.

    Steps before it are left out, so the later steps are given every person but the
    one approving: when even then they cannot each find their own people, that
    approval would strand them in every run, and the engine refuses it.
    """
    problems = []
    for position, (number, step) in enumerate(steps):
        later = [s for _, s in steps[position + 1 :]]
        for person in sorted(set(step.people)) if later else ():
            needs = [(step.quorum - 1, set(step.people) - {person})]
            needs += [(s.quorum, set(s.people) - {person}) for s in later]
            if distinct_fill(needs) >= sum(count for count, _ in needs):
                continue
            message = (
                f"with distinct approvers, {person!r} can never approve step {step.name!r}:"
                f" the steps after it ({[s.name for s in later]}) need them, so the engine"
                " refuses that approval and another person named in it must decide it"
            )
            path = f"{where}.steps[{number}].people"
            problems.append(
                _problem("workflow.approver_needed_later", Severity.WARNING, message, path)
            )
    return problems


def _state_warnings(definition: WorkflowDefinition) -> list[Problem]:
    problems = []
    leaving = {source for t in definition.transitions for source in t.source}
    for index, state in enumerate(definition.states):
        where = f"workflow.states[{index}]"
        if state.terminal and state.sla is not None:
            message = f"terminal state {state.name!r} has an SLA that can never be met or missed"
            problems.append(
                _problem("workflow.sla_on_terminal", Severity.WARNING, message, f"{where}.sla")
            )
        if state.terminal and (state.name in leaving or state.approval is not None):
            message = f"terminal state {state.name!r} has ways out"
            problems.append(_problem("workflow.leaves_terminal", Severity.WARNING, message, where))
        if not state.terminal and state.outcome is not None:
            message = f"state {state.name!r} has outcome {state.outcome!r} but is not terminal"
            problems.append(
                _problem("workflow.outcome_not_terminal", Severity.WARNING, message, where)
            )
    return problems
