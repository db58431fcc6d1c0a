"""Testing workflow definitions: paths, assertions, Hypothesis strategies, a state machine.

Use the assertions in a pytest suite to keep a definition sound as it changes::

    from salesflow.testing.workflow import assert_lint_clean, assert_reachable

    def test_sales_process_is_sound():
        definition = load_workflow(Path("deal.yaml").read_text("utf-8"))
        assert_lint_clean(definition)
        assert_reachable(definition, "赢单", "输单")

Every search is bounded or breadth-first, so cycles are safe.
"""

from __future__ import annotations

import datetime as dt
import itertools
import string
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final, final

from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from salesflow.errors import InvalidValueError, Severity
from salesflow.workflow import (
    Actor,
    Fired,
    Instance,
    Refusal,
    State,
    Step,
    Transition,
    Workflow,
    WorkflowDefinition,
    coverage_paths,
    lint,
    shortest_paths,
    simple_paths,
    state_graph,
)
from salesflow.workflow._lint import _backward, _forward

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Sequence

__all__ = [
    "InstanceStore",
    "assert_guards_disjoint",
    "assert_lint_clean",
    "assert_no_dead_ends",
    "assert_reachable",
    "assert_terminal_reachable",
    "coverage_paths",
    "definitions",
    "event_walks",
    "shortest_paths",
    "simple_paths",
    "workflow_machine",
]

_NAMES: Final = st.text(
    alphabet=string.ascii_lowercase + "线索报价审批赢单输", min_size=1, max_size=4
)


# -- assertions ---------------------------------------------------------------------------


def assert_lint_clean(
    definition: WorkflowDefinition, *, fail_on: Severity = Severity.ERROR
) -> None:
    """Fail listing every lint finding at ``fail_on`` severity or worse (default: errors).

    >>> from salesflow.workflow import State, Transition, WorkflowDefinition
    >>> wf = WorkflowDefinition(name="w", initial="a", states=[State(name="a"),
    ...     State(name="b"), State(name="c", terminal=True)],
    ...     transitions=[Transition(event="go", source="a", target="b"),
    ...                  Transition(event="end", source="a", target="c")])
    >>> assert_lint_clean(wf)
    Traceback (most recent call last):
    ...
    AssertionError: workflow 'w' has 1 lint finding:
      error workflow.dead_end at workflow.states[1]: state 'b' is not terminal and has no way out
    """
    worst = _RANK[fail_on]
    found = [p for p in lint(definition) if _RANK[p.severity] >= worst]
    if found:
        lines = "\n".join(f"  {p}" for p in found)
        noun = "finding" if len(found) == 1 else "findings"
        message = f"workflow {definition.name!r} has {len(found)} lint {noun}:\n{lines}"
        raise AssertionError(message)


def assert_reachable(definition: WorkflowDefinition, *states: str) -> None:
    """Fail naming each state that no path from the initial state reaches."""
    graph = state_graph(definition)
    reachable = _forward(graph, definition.initial)
    unknown = [s for s in states if s not in graph]
    missing = [s for s in states if s in graph and s not in reachable]
    problems = []
    if unknown:
        problems.append(f"no such states: {unknown}")
    if missing:
        problems.append(f"not reachable from {definition.initial!r}: {missing}")
    if problems:
        raise AssertionError(f"workflow {definition.name!r}: " + "; ".join(problems))


def assert_no_dead_ends(definition: WorkflowDefinition) -> None:
    """Fail naming each non-terminal state with no way out."""
    graph = state_graph(definition)
    dead = [s.name for s in definition.states if not s.terminal and graph.out_degree(s.name) == 0]
    if dead:
        message = f"workflow {definition.name!r}: dead ends (not terminal, no way out): {dead}"
        raise AssertionError(message)


def assert_terminal_reachable(definition: WorkflowDefinition) -> None:
    """Fail naming each reachable state from which no terminal state can be reached."""
    graph = state_graph(definition)
    finishing = _backward(graph, {s.name for s in definition.states if s.terminal})
    reachable = _forward(graph, definition.initial)
    stuck = [s.name for s in definition.states if s.name in reachable and s.name not in finishing]
    if stuck:
        message = f"workflow {definition.name!r}: no terminal state reachable from {stuck}"
        raise AssertionError(message)


def assert_guards_disjoint(definition: WorkflowDefinition) -> None:
    """Fail unless every pair of guards on one event from one state is proved disjoint."""
    codes = {"workflow.overlapping_guards", "workflow.guards_not_proved_disjoint"}
    found = [p for p in lint(definition) if p.code in codes]
    if found:
        lines = "\n".join(f"  {p}" for p in found)
        message = f"workflow {definition.name!r}: guards not disjoint:\n{lines}"
        raise AssertionError(message)


_RANK: Final = {Severity.INFO: 0, Severity.WARNING: 1, Severity.ERROR: 2}


# -- an in-memory store -----------------------------------------------------------------------


@final
@dataclass(slots=True)
class InstanceStore:
    """A store for tests: instances by id with optimistic concurrency, and their events.

    >>> import datetime as dt
    >>> from salesflow.workflow import State, Transition, WorkflowDefinition, Workflow
    >>> wf = Workflow(WorkflowDefinition(name="w", initial="a", states=[State(name="a"),
    ...     State(name="b", terminal=True)],
    ...     transitions=[Transition(event="go", source="a", target="b")]))
    >>> now = dt.datetime(2026, 1, 5, tzinfo=dt.UTC)
    >>> store = InstanceStore()
    >>> store.add(wf.start("x", now=now))
    >>> store.save(wf.fire(store.get("x"), "go", Actor("me"), now=now), expected_version=0)
    >>> store.get("x").state, len(store.events("x"))
    ('b', 1)
    """

    instances: dict[str, Instance] = field(default_factory=dict)
    log: dict[str, list[object]] = field(default_factory=dict)

    def add(self, instance: Instance) -> None:
        """Store a new instance.

        Raises:
            InvalidValueError: The id is taken (``store.duplicate``).
        """
        if instance.id in self.instances:
            message = f"instance {instance.id!r} exists"
            raise InvalidValueError(message, code="store.duplicate")
        self.instances[instance.id] = instance
        self.log[instance.id] = []

    def get(self, instance_id: str) -> Instance:
        """The stored instance.

        Raises:
            KeyError: No such instance.
        """
        return self.instances[instance_id]

    def save(self, fired: Fired, *, expected_version: int) -> None:
        """Store a change if the stored version is still ``expected_version``.

        Raises:
            InvalidValueError: Someone else saved first (``store.conflict``).
        """
        current = self.instances[fired.instance.id]
        if current.version != expected_version:
            message = (
                f"instance {current.id!r} is at version {current.version}, not {expected_version}"
            )
            raise InvalidValueError(message, code="store.conflict")
        self.instances[current.id] = fired.instance
        self.log[current.id] += fired.events

    def events(self, instance_id: str) -> list[object]:
        """Every event saved for an instance, oldest first."""
        return list(self.log[instance_id])


# -- Hypothesis strategies ----------------------------------------------------------------------


def event_walks(
    definition: WorkflowDefinition, *, max_moves: int = 20
) -> st.SearchStrategy[list[str]]:
    """Random event sequences that follow the graph from the initial state.

    They follow transitions and approval routes without evaluating guards or roles:
    for checking paths and structure. Use `workflow_machine` to drive real instances.
    """
    graph = state_graph(definition)

    @st.composite
    def walk(draw: st.DrawFn) -> list[str]:
        state, events = definition.initial, []
        for _ in range(draw(st.integers(0, max_moves))):
            out = sorted((key, target) for _, target, key in graph.out_edges(state, keys=True))
            if not out:
                break
            event, state = draw(st.sampled_from(out))
            events.append(event)
        return events

    return walk()


@st.composite
def _definition(draw: st.DrawFn, max_states: int) -> WorkflowDefinition:
    names = draw(st.lists(_NAMES, min_size=2, max_size=max_states, unique=True))
    chain = list(itertools.pairwise(names))
    transitions = [Transition(event=f"e{i}", source=a, target=b) for i, (a, b) in enumerate(chain)]
    extra = draw(
        st.lists(st.tuples(st.sampled_from(names[:-1]), st.sampled_from(names)), max_size=6)
    )
    transitions += [Transition(event=f"x{i}", source=a, target=b) for i, (a, b) in enumerate(extra)]
    states = [State(name=n, terminal=n == names[-1]) for n in names]
    return WorkflowDefinition(
        name="random", initial=names[0], states=states, transitions=transitions
    )


def definitions(*, max_states: int = 8) -> st.SearchStrategy[WorkflowDefinition]:
    """Random valid definitions: a chain of states to one terminal, plus random extras.

    The extra transitions (cycles included) leave only non-terminal states. Every
    definition drawn loads, reaches its terminal state and has no dead end.

    Raises:
        InvalidValueError: ``max_states`` is below 2, the fewest a chain to a terminal
            state needs (``workflow.bad_bound``).
    """
    if isinstance(max_states, bool) or not isinstance(max_states, int) or max_states < 2:  # noqa: PLR2004 - a start and a terminal
        message = f"max_states must be an int >= 2, not {max_states!r}"
        raise InvalidValueError(message, code="workflow.bad_bound")
    return _definition(max_states)


# -- a RuleBasedStateMachine --------------------------------------------------------------------


def workflow_machine(  # noqa: PLR0913 - keyword options, each with a default
    workflow: Workflow,
    actors: Sequence[Actor],
    *,
    start: Callable[[], Instance] | None = None,
    payloads: st.SearchStrategy[dict[str, object]] | None = None,
    invariants: Iterable[Callable[[Instance], None]] = (),
    now: dt.datetime = dt.datetime(2026, 1, 5, 9, tzinfo=dt.UTC),
    max_pause: dt.timedelta = dt.timedelta(hours=4),
) -> type[RuleBasedStateMachine]:
    """A Hypothesis state machine that fires random events and checks invariants.

    Each step lets time pass (up to ``max_pause``), then does one of: fire an event
    out of the current state as a random actor with a random payload; approve or
    reject a pending approval; delegate it; or ``tick`` its SLA. Every outcome is held
    to what `Workflow.check` and `Workflow.available` promised: an allowed event or
    decision goes through and moves the version up by the history steps it produced;
    a refused one raises the code they gave and changes nothing. Then the built-in
    invariants (the state exists, the history holds one step per version and the
    ``start`` step, or nothing when history is off) and yours.

    Args:
        workflow: The workflow to drive.
        actors: The actors to draw from (at least one).
        start: Makes the first instance (default: ``workflow.start("instance")``).
        payloads: Payloads to draw (default: none).
        invariants: Callables that raise ``AssertionError`` on a bad instance.
        now: When the first step happens; later when the instance ``start`` makes
            was last changed after it (its ``updated_at``), so no step goes back in
            time.
        max_pause: The longest time drawn between two steps.

    Use it as ``TestDeal = workflow_machine(wf, actors).TestCase``.
    """
    making = start or (lambda: workflow.start("instance", now=now))
    attributes = {
        "workflow": workflow,
        "actors": tuple(actors),
        "making": staticmethod(making),
        "payloads": payloads if payloads is not None else st.just({}),
        "checks": tuple(invariants),
        "start_time": now,
        "pauses": st.integers(0, max(0, int(max_pause.total_seconds()) // 60)),
    }
    return type("WorkflowMachine", (_WorkflowMachine,), attributes)


# Refusals that `available` cannot foresee for a decision: the move a granted approval
# makes on its own may be refused by the next state.
_MOVING_ON: Final = frozenset(
    {
        "workflow.missing_field",
        "workflow.guard_false",
        "workflow.no_approver",
        "workflow.approval_loop",
    }
)


class _WorkflowMachine(RuleBasedStateMachine):
    """The machine `workflow_machine` configures through class attributes."""

    workflow: Workflow
    actors: tuple[Actor, ...]
    making: Callable[[], Instance]
    payloads: st.SearchStrategy[dict[str, object]]
    checks: tuple[Callable[[Instance], None], ...]
    start_time: dt.datetime
    pauses: st.SearchStrategy[int]

    def __init__(self) -> None:
        super().__init__()
        self.instance = self.making()
        self.keeps_history = self.instance.history_length > 0
        # Never before the instance's last change, which is later than entered_at
        # after a decision or a late tick: an earlier now would be refused.
        self.now = max(self.start_time, self.instance.updated_at)

    def _pause(self, data: st.DataObject) -> None:
        self.now += dt.timedelta(minutes=data.draw(self.pauses, label="minutes later"))

    @rule(data=st.data())
    def step(self, data: st.DataObject) -> None:
        """Fire a random event, or decide the approval, as a random actor."""
        self._pause(data)
        actor = data.draw(st.sampled_from(self.actors), label="actor")
        available = self.workflow.available(self.instance, actor, now=self.now)
        options = [o for o in available if o.event != "delegate"]  # the delegate rule's
        if not options:
            return
        option = data.draw(st.sampled_from(options), label="event")
        if option.event in {"approve", "reject"}:
            self._decide(option.event, actor, option.refusal)
            return
        self._fire(option.event, actor, data.draw(self.payloads, label="payload"))

    @rule(data=st.data())
    def delegate(self, data: st.DataObject) -> None:
        """Delegate the pending approval from one actor to another's id, as promised.

        `available` offers ``delegate`` while an approval is pending, with its refusal;
        when it does not offer it, delegating is refused with ``workflow.no_approval``.
        """
        self._pause(data)
        actor = data.draw(st.sampled_from(self.actors), label="delegating")
        to = data.draw(st.sampled_from(self.actors), label="delegate").id
        before = self.instance
        offered = [
            o for o in self.workflow.available(before, actor, now=self.now) if o.event == "delegate"
        ]
        promised = offered[0].refusal.code if offered and offered[0].refusal else None
        if not offered:
            promised = "workflow.no_approval"
        try:
            fired = self.workflow.delegate(before, actor, to, now=self.now)
        except InvalidValueError as err:
            _expect(
                err.code == promised, f"delegate: available said {promised}, it raised {err.code}"
            )
            _expect(self.instance == before, "a refused delegation changed the instance")
            return
        _expect(promised is None, f"delegate: available said {promised}, yet it went through")
        progress = fired.instance.approval
        _expect(
            progress is not None and progress.delegations.get(to) is not None,
            f"delegating to {to!r} is not recorded",
        )
        self._moved(before, fired, "delegate")

    @rule(data=st.data())
    def tick(self, data: st.DataObject) -> None:
        """Let time pass and fire the SLA's timeout when it is due."""
        self._pause(data)
        before = self.instance
        fired = self.workflow.tick(before, self.now)
        if isinstance(fired, Refusal):
            _expect(self.workflow.deadline(before) is not None, "a tick refused without an SLA")
            return
        if fired.events:
            deadline = self.workflow.deadline(before)
            _expect(
                deadline is not None and fired.instance.entered_at == deadline <= self.now,
                "a timeout did not restart the clock at the deadline that fired",
            )
        else:
            _expect(fired.instance is before, "a tick with no events changed the instance")
        self._moved(before, fired, "tick")

    def _moved(self, before: Instance, fired: Fired, what: str) -> None:
        steps = [e for e in fired.events if isinstance(e, Step)]
        _expect(
            fired.instance.version == before.version + len(steps),
            f"{what}: version {fired.instance.version} after {before.version}"
            f" with {len(steps)} steps",
        )
        _expect(all(step.at == self.now for step in steps), f"{what}: steps not stamped at now")
        self.instance = fired.instance

    def _fire(self, event: str, actor: Actor, payload: dict[str, object]) -> None:
        workflow, before, now = self.workflow, self.instance, self.now
        refusal = workflow.check(before, event, actor, payload, now=now)
        if refusal is None:
            self._moved(before, workflow.fire(before, event, actor, payload, now=now), event)
            return
        code = _refused_code(lambda: workflow.fire(before, event, actor, payload, now=now))
        _expect(code == refusal.code, f"{event!r}: check said {refusal.code}, fire {code}")
        _expect(self.instance == before, f"{event!r}: a refusal changed the instance")

    def _decide(self, verdict: str, actor: Actor, refusal: Refusal | None) -> None:
        before = self.instance
        decide = self.workflow.approve if verdict == "approve" else self.workflow.reject
        try:
            fired = decide(before, actor, now=self.now)
        except InvalidValueError as err:
            allowed = _MOVING_ON if refusal is None else {refusal.code}
            _expect(
                err.code in allowed,
                f"{verdict}: available said {refusal and refusal.code}, it raised {err.code}",
            )
            _expect(self.instance == before, f"{verdict}: a refusal changed the instance")
            return
        _expect(refusal is None, f"{verdict}: available said {refusal}, yet it went through")
        self._moved(before, fired, verdict)

    @invariant()
    def state_exists(self) -> None:
        """The instance is in a state of the definition."""
        states = {s.name for s in self.workflow.definition.states}
        _expect(self.instance.state in states, f"unknown state {self.instance.state!r}")

    @invariant()
    def history_matches_version(self) -> None:
        """With history on: the start step, one step per version, in time order; else nothing."""
        history = self.instance.history
        if not self.keeps_history:
            _expect(history == (), f"history kept although off: {len(history)} steps")
            return
        _expect(
            len(history) == self.instance.version + 1,
            f"history of {len(history)} steps at version {self.instance.version}",
        )
        _expect(history[0].event == "start", f"history starts with {history[0].event!r}")
        versions = [step.version for step in history]
        _expect(versions == sorted(set(versions)), f"step versions out of order: {versions}")
        times = [step.at for step in history]
        _expect(times == sorted(times), f"history goes back in time: {times}")

    @invariant()
    def user_invariants(self) -> None:
        """The caller's invariants."""
        for check in self.checks:
            check(self.instance)


def _expect(condition: bool, message: str) -> None:  # noqa: FBT001 - reads like assert
    if not condition:
        raise AssertionError(message)


def _refused_code(call: Callable[[], object]) -> str | None:
    """The code of the refusal ``call`` raises, or ``None`` if it does not raise."""
    try:
        call()
    except InvalidValueError as err:
        return err.code
    return None
