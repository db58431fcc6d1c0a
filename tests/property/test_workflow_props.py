"""Properties of the workflow module: guard proofs are sound, random definitions behave."""

import datetime as dt
import itertools
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest
from hypothesis import Phase, example, find, given, settings
from hypothesis import strategies as st

from salesflow.errors import InvalidValueError
from salesflow.expressions import compile_expression
from salesflow.testing.workflow import workflow_machine
from salesflow.workflow import (
    Actor,
    Approval,
    ApprovalStep,
    Overlap,
    State,
    Transition,
    Workflow,
    WorkflowDefinition,
    compare_guards,
    coverage_paths,
    dump_workflow,
    lint,
    load_workflow,
    shortest_paths,
    simple_paths,
    state_graph,
)
from salesflow.workflow._guards import never_holds

from strategies.workflow import GUARD_FIELDS, definitions, event_walks, guards, plain_definitions

T0 = dt.datetime(2026, 1, 5, 9, tzinfo=dt.UTC)
ANYONE = Actor("anyone")

# Every row of a grid wide enough to hold a witness for any two generated guards:
# constants are in -3..3 (some not whole) and at most six atoms exclude six more values.
_X = np.arange(-12, 13)
_GRID = list(itertools.product(_X, _X, [False, True], ["a", "b", "c", "d"]))
_COLUMNS = {
    "x": np.array([row[0] for row in _GRID], dtype=np.int64),
    "y": np.array([row[1] for row in _GRID], dtype=np.int64),
    "b": np.array([row[2] for row in _GRID], dtype=bool),
    "r": np.array([row[3] for row in _GRID], dtype=np.str_),
}


def _holds(source):
    return compile_expression(source, GUARD_FIELDS, expect="bool").mask(_COLUMNS)


@given(guards(), guards())
@example("x >= 2 && x <= 3", "x != 2.5 && x != 3")  # x == 2 satisfies both
@example("x > 1 && x < 2", "x == 1.5")  # no int satisfies either
def test_guard_verdicts_agree_with_evaluating_every_row_of_a_grid(first, second):
    verdict = compare_guards(first, second, GUARD_FIELDS)
    both = _holds(first) & _holds(second)
    if verdict is Overlap.DISJOINT:
        assert not both.any()
    elif verdict is Overlap.OVERLAPPING:
        assert both.any()


# A decimal(1) field holds tenths only: constants that are not tenths (0.15, -0.25,
# 2.05) sit between them. Every witness lies within +-2.7 (constants within +-2.05 and at
# most six excluded values a side), so the tenths from -4.0 to 4.0 hold one.
_TENTHS = [Decimal(n).scaleb(-1) for n in range(-40, 41)]
_DECIMAL_CONSTANTS = ["-2", "-1.5", "-0.25", "0", "0.1", "0.15", "1", "2.05"]
_DECIMAL_GUARDS = st.lists(
    st.builds(
        "d {} {}".format,
        st.sampled_from(["<", "<=", ">", ">=", "==", "!="]),
        st.sampled_from(_DECIMAL_CONSTANTS),
    ),
    min_size=1,
    max_size=3,
).map(" && ".join)


def _holding_tenths(source):
    compiled = compile_expression(source, {"d": "decimal(1)"}, expect="bool")
    return {value for value in _TENTHS if compiled.matches({"d": value})}


@given(_DECIMAL_GUARDS, _DECIMAL_GUARDS)
@example("d > 0.1 && d < 0.15", "d >= 0")  # no tenth lies between 0.1 and 0.15
def test_decimal_guard_verdicts_agree_with_every_value_of_the_scale(first, second):
    types = {"d": "decimal(1)"}
    verdict = compare_guards(first, second, types)
    both = _holding_tenths(first) & _holding_tenths(second)
    if verdict is Overlap.DISJOINT:
        assert not both
    elif verdict is Overlap.OVERLAPPING:
        assert both
    if never_holds(first, types):
        assert not _holding_tenths(first)


@given(guards(), guards())
def test_guard_verdict_does_not_depend_on_the_order_of_the_pair(first, second):
    assert compare_guards(first, second, GUARD_FIELDS) is compare_guards(
        second, first, GUARD_FIELDS
    )


@given(definitions())
def test_generated_definitions_lint_clean_and_round_trip(definition):
    assert lint(definition) == ()
    assert load_workflow(dump_workflow(definition)) == definition
    Workflow(definition)  # and compile for running


@pytest.mark.parametrize(
    ("feature", "present"),
    [
        ("a guard", lambda d: any(t.guard for t in d.transitions)),
        ("roles", lambda d: any(t.roles for t in d.transitions)),
        ("entry criteria", lambda d: any(s.entry for s in d.states)),
        ("an approval", lambda d: any(s.approval for s in d.states)),
        ("an SLA with a timeout", lambda d: any(s.sla and s.sla.timeout for s in d.states)),
    ],
)
def test_generated_definitions_sometimes_carry_rules_not_only_bare_chains(feature, present):
    no_shrinking = settings(max_examples=200, database=None, phases=[Phase.generate])
    found = find(definitions(), present, settings=no_shrinking)
    assert present(found), feature


@given(plain_definitions())
def test_shortest_paths_replay_to_their_terminal_state(definition):
    wf = Workflow(definition)
    paths = shortest_paths(definition)
    assert set(paths) == {s.name for s in definition.states if s.terminal}
    for terminal, path in paths.items():
        instance = wf.start("p", now=T0)
        for event in path.events:
            instance = wf.fire(instance, event, ANYONE, now=T0).instance
        assert instance.state == terminal


@given(plain_definitions())
def test_coverage_paths_take_every_move_and_replay(definition):
    wf = Workflow(definition)
    paths = coverage_paths(definition)
    taken = {(e.source, e.target, e.event) for p in paths for e in p.edges}
    assert taken == set(state_graph(definition).edges(keys=True))
    moves = {(s, i) for i, t in enumerate(definition.transitions) for s in t.source}
    assert {(e.source, e.transition) for p in paths for e in p.edges} == moves
    for path in paths:
        instance = wf.start("p", now=T0)
        for event in path.events:
            instance = wf.fire(instance, event, ANYONE, now=T0).instance
        assert instance.state == path.end


@given(definitions(max_states=6), st.integers(0, 6))
def test_simple_paths_never_repeat_a_state_and_respect_the_bound(definition, bound):
    terminals = {s.name for s in definition.states if s.terminal}
    for path in itertools.islice(simple_paths(definition, bound), 200):
        assert len(set(path.states)) == len(path.states)
        assert len(path.edges) <= bound
        assert path.end in terminals


@settings(max_examples=30)
@given(st.data())
def test_event_walks_fire_without_refusal_on_unguarded_definitions(data):
    definition = data.draw(plain_definitions())
    events = data.draw(event_walks(definition))
    wf = Workflow(definition)
    instance = wf.start("w", now=T0)
    for event in events:
        instance = wf.fire(instance, event, ANYONE, now=T0).instance
    assert [s.event for s in instance.history] == ["start", *events]
    assert instance.version == len(events)


_EXAMPLE = Path(__file__).parents[2] / "examples" / "workflows" / "deal.yaml"
_DEAL = Workflow(load_workflow(_EXAMPLE.read_text("utf-8")))
_PEOPLE = [
    Actor("li.na", {"销售"}),
    Actor("zhou", {"销售经理"}),
    Actor("wu", {"财务"}),
    Actor("qian.director"),
    Actor("zhao.director"),
    Actor("guest"),
]
_PAYLOADS = st.fixed_dictionaries(
    {},
    optional={
        "customer": st.sampled_from(["华为", "比亚迪"]),
        "amount": st.decimals(0, 3_000_000, places=2),
        "discount": st.integers(-1, 30),
        "region": st.sampled_from(["华东", "华南"]),
        "contract_signed": st.booleans(),
        "bogus": st.just(1),
    },
)


def _terminal_has_outcome(instance):
    state = _DEAL.definition.state(instance.state)
    assert not state.terminal or state.outcome in {"won", "lost"}


DealMachine = workflow_machine(
    _DEAL, _PEOPLE, payloads=_PAYLOADS, invariants=[_terminal_has_outcome]
)
DealMachine.TestCase.settings = settings(max_examples=25, stateful_step_count=20)
TestDealMachine = DealMachine.TestCase


@settings(max_examples=30)
@given(st.data())
def test_fast_path_and_general_path_produce_the_same_change(data):
    definition = data.draw(plain_definitions())
    events = data.draw(event_walks(definition))
    wf = Workflow(definition)
    instance = wf.start("w", now=T0)
    for event in events:
        fast = wf.fire(instance, event, ANYONE, now=T0)
        general = wf._attempt(instance, event, ANYONE, None, T0, system=False)
        assert fast.instance._replace(log=None) == general.instance._replace(log=None)
        assert fast.instance.history == general.instance.history
        assert fast.events == general.events
        instance = fast.instance


def _every_loop_free_move_sequence(definition, bound):
    """Brute force, by transition index: every path without a repeated state to a terminal."""
    terminals = {s.name for s in definition.states if s.terminal}
    found = set()

    def walk(state, seen, taken):
        if state in terminals and taken:
            found.add(taken)
        if len(taken) == bound:
            return
        for index, transition in enumerate(definition.transitions):
            if state in transition.source and transition.target not in seen:
                walk(transition.target, seen | {transition.target}, (*taken, index))

    walk(definition.initial, {definition.initial}, ())
    return found


@given(st.data(), st.integers(1, 5))
def test_simple_paths_are_exactly_the_loop_free_sequences_of_transitions(data, bound):
    # Parallel transitions are distinct moves, each giving its own path: the extras may
    # join two states the chain already joins (another event), and a copy of a drawn
    # transition joins them again on the same event.
    plain = data.draw(plain_definitions(max_states=5))
    twin = data.draw(st.sampled_from(plain.transitions))
    definition = plain.model_copy(update={"transitions": (*plain.transitions, twin)})
    listed = [tuple(e.transition for e in p.edges) for p in simple_paths(definition, bound)]
    assert len(listed) == len(set(listed))
    assert set(listed) == _every_loop_free_move_sequence(definition, bound)


@settings(max_examples=30)
@given(st.data())
def test_the_fast_path_checks_roles_exactly_as_the_general_path(data):
    plain = data.draw(plain_definitions())
    definition = plain.model_copy(
        update={
            "roles": ("sales",),
            "transitions": tuple(
                t.model_copy(update={"roles": ("sales",)}) for t in plain.transitions
            ),
        }
    )
    events = data.draw(event_walks(definition))
    wf = Workflow(definition)
    seller, outsider = Actor("li", {"sales"}), Actor("wang", {"finance"})
    instance = wf.start("w", now=T0)
    for event in events:
        refused = wf._attempt(instance, event, outsider, None, T0, system=False)
        assert refused.code == "workflow.missing_role"
        with pytest.raises(InvalidValueError, match="needs one of the roles"):
            wf.fire(instance, event, outsider, now=T0)
        fast = wf.fire(instance, event, seller, now=T0)
        general = wf._attempt(instance, event, seller, None, T0, system=False)
        assert fast.instance._replace(log=None) == general.instance._replace(log=None)
        assert fast.events == general.events
        instance = fast.instance


def _vote_on(rejection, people, quorum, votes):
    step = ApprovalStep(
        name="vote", people=[f"p{i}" for i in range(people)], quorum=quorum, rejection=rejection
    )
    wf = Workflow(
        WorkflowDefinition(
            name="w",
            initial="draft",
            states=[
                State(name="draft"),
                State(
                    name="vote",
                    approval=Approval(steps=[step], approved="yes", rejected="no"),
                ),
                State(name="yes", terminal=True),
                State(name="no", terminal=True),
            ],
            transitions=[Transition(event="submit", source="draft", target="vote")],
        )
    )
    instance = wf.fire(wf.start("v", now=T0), "submit", Actor("requester"), now=T0).instance
    for person, verdict in votes:
        if instance.state != "vote":
            break
        decide = wf.approve if verdict else wf.reject
        instance = decide(instance, Actor(f"p{person}"), now=T0).instance
    return instance.state


@given(
    st.sampled_from(["veto", "quorum"]),
    st.integers(1, 5).flatmap(
        lambda n: st.tuples(
            st.just(n),
            st.integers(1, n),
            st.lists(st.tuples(st.integers(0, n - 1), st.booleans()), unique_by=lambda v: v[0]),
        )
    ),
)
def test_a_step_is_rejected_exactly_when_its_policy_says(rejection, vote):
    # A model written from the rule, not the code: N named people, each votes once.
    # Veto: the first rejection rejects. Quorum: rejected once the people who did not
    # reject are fewer than the quorum (approvals + undecided = people - rejections).
    people, quorum, votes = vote
    approvals = rejections = 0
    expected = "vote"
    for _, approves in votes:
        approvals += approves
        rejections += not approves
        if approvals >= quorum:
            expected = "yes"
        elif (rejection == "veto" and rejections) or people - rejections < quorum:
            expected = "no"
        if expected != "vote":
            break
    assert _vote_on(rejection, people, quorum, votes) == expected


_APPROVERS = ("a", "b", "c", "d")


@st.composite
def _delegated_chains(draw):
    """A chain of named steps, the first needing two approvals, and who delegated to whom.

    (people of the first step, people of each later step, (principal, delegate) pairs);
    principals are people of the first step, delegates anyone of the four.
    """
    first = draw(st.sets(st.sampled_from(_APPROVERS), min_size=2))
    later = draw(st.lists(st.sets(st.sampled_from(_APPROVERS), min_size=1), min_size=1, max_size=2))
    pairs = st.tuples(st.sampled_from(sorted(first)), st.sampled_from(_APPROVERS))
    delegations = draw(st.lists(pairs.filter(lambda p: p[0] != p[1]), max_size=3))
    return tuple(sorted(first)), tuple(tuple(sorted(s)) for s in later), tuple(delegations)


def _delegated_vote(chain, votes):
    first, later, delegations = chain
    steps = [
        ApprovalStep(name="s0", people=first, quorum=2),
        *(ApprovalStep(name=f"s{i}", people=people) for i, people in enumerate(later, 1)),
    ]
    approval = Approval(steps=steps, approved="yes", rejected="no", delegate_votes=votes)
    wf = Workflow(
        WorkflowDefinition(
            name="w",
            initial="vote",
            states=[
                State(name="vote", approval=approval),
                State(name="yes", terminal=True),
                State(name="no", terminal=True),
            ],
            transitions=[],
        )
    )
    instance = wf.start("v", now=T0, actor=Actor("requester"))
    for principal, delegate in delegations:
        instance = wf.delegate(instance, Actor(principal), delegate, now=T0).instance
    return wf, instance


def _after(wf, instance, *decisions):
    """The state and pending step after these approvals, or None when one is refused."""
    for actor, principal in decisions:
        try:
            instance = wf.approve(instance, Actor(actor), now=T0, on_behalf_of=principal).instance
        except InvalidValueError:
            return None
    return instance.state, instance.approval and instance.approval.current


@pytest.mark.parametrize("votes", ["one", "per_principal"])
@settings(max_examples=150)
@given(chain=_delegated_chains())
# review round 4 #1: b holds a's delegation; "b for a" first was refused as stranding s1,
# although b still completes s0 in his own right and c decides s1.
@example(chain=(("a", "b"), (("c",),), (("a", "b"),)))
def test_two_approvals_of_a_step_go_through_in_either_order_or_in_neither(votes, chain):
    # Both orders end in the same set of decisions, so the rules (distinct approvers,
    # one say per principal, the stranding check) must accept both or neither: a
    # refusal of one order only would refuse a valid order of approvals.
    try:
        wf, instance = _delegated_vote(chain, votes)
    except InvalidValueError as err:  # distinct people cannot be found for the chain
        refused = err.code
    else:
        refused = None
    if refused is not None:
        assert refused == "workflow.no_approver"
        return
    delegations = instance.approval.delegations
    decisions = [
        (actor, principal)
        for actor in _APPROVERS
        for principal in (actor, *(p.id for p in delegations.get(actor, ())))
    ]
    for x, y in itertools.permutations(decisions, 2):
        assert _after(wf, instance, x, y) == _after(wf, instance, y, x), (x, y)
