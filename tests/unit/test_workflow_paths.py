"""Path enumeration and the pytest assertions of salesflow.testing.workflow."""

import datetime as dt
import itertools

import pytest
from hypothesis import settings
from hypothesis.stateful import run_state_machine_as_test

from salesflow.errors import InvalidValueError, Severity
from salesflow.testing.workflow import (
    InstanceStore,
    assert_guards_disjoint,
    assert_lint_clean,
    assert_no_dead_ends,
    assert_reachable,
    assert_terminal_reachable,
    definitions,
    workflow_machine,
)
from salesflow.workflow import (
    Actor,
    Approval,
    ApprovalStep,
    State,
    Transition,
    Workflow,
    WorkflowDefinition,
    coverage_paths,
    shortest_paths,
    simple_paths,
)

T0 = dt.datetime(2026, 1, 5, 9, tzinfo=dt.UTC)


def _t(event, source, target, **extra):
    return Transition(event=event, source=source, target=target, **extra)


# lead -> quote -> (won | lost), with a loop quote -> revise -> quote.
LOOPY = WorkflowDefinition(
    name="loopy",
    initial="lead",
    states=[
        State(name="lead"),
        State(name="quote"),
        State(name="revise"),
        State(name="won", terminal=True),
        State(name="lost", terminal=True),
    ],
    transitions=[
        _t("qualify", "lead", "quote"),
        _t("revise", "quote", "revise"),
        _t("resubmit", "revise", "quote"),
        _t("win", "quote", "won"),
        _t("drop", ["lead", "quote", "revise"], "lost"),
    ],
)


def test_shortest_paths_reach_every_terminal_by_the_fewest_moves():
    paths = shortest_paths(LOOPY)
    assert paths["won"].events == ("qualify", "win")
    assert paths["lost"].events == ("drop",)
    assert str(paths["won"]) == "lead -qualify-> quote -win-> won"


def test_simple_paths_on_a_cycle_terminate_and_list_each_loop_free_path():
    found = sorted(p.events for p in simple_paths(LOOPY, max_moves=10))
    assert found == [
        ("drop",),
        ("qualify", "drop"),
        ("qualify", "revise", "drop"),
        ("qualify", "win"),
    ]


def test_simple_paths_respect_the_bound():
    assert sorted(p.events for p in simple_paths(LOOPY, max_moves=1)) == [("drop",)]
    with pytest.raises(InvalidValueError):
        list(simple_paths(LOOPY, max_moves=-1))


def test_coverage_paths_take_every_transition_including_the_loop_back():
    taken = {(e.source, e.event) for p in coverage_paths(LOOPY) for e in p.edges}
    assert ("revise", "resubmit") in taken
    assert len(taken) == 7  # drop leaves three states


def test_simple_paths_on_a_large_complete_graph_stay_lazy():
    names = [f"s{i}" for i in range(12)]
    transitions = [_t(f"{a}>{b}", a, b) for a, b in itertools.permutations(names, 2) if a != "s11"]
    definition = WorkflowDefinition(
        name="dense",
        initial="s0",
        states=[State(name=n, terminal=n == "s11") for n in names],
        transitions=transitions,
    )
    first = list(itertools.islice(simple_paths(definition, max_moves=11), 50))
    assert len(first) == 50


def test_assertions_pass_on_a_sound_definition():
    assert_lint_clean(LOOPY)
    assert_reachable(LOOPY, "won", "lost")
    assert_no_dead_ends(LOOPY)
    assert_terminal_reachable(LOOPY)
    assert_guards_disjoint(LOOPY)


BROKEN = WorkflowDefinition(
    name="broken",
    initial="a",
    fields={"n": "int"},
    states=[
        State(name="a"),
        State(name="stuck"),
        State(name="island", terminal=True),
        State(name="b", terminal=True),
    ],
    transitions=[
        _t("go", "a", "b", guard="n > 1"),
        _t("go", "a", "stuck", guard="n > 5"),
    ],
)


def test_assert_reachable_names_unreachable_and_unknown_states():
    with pytest.raises(AssertionError, match=r"not reachable from 'a': \['island'\]"):
        assert_reachable(BROKEN, "b", "island")
    with pytest.raises(AssertionError, match=r"no such states: \['nowhere'\]"):
        assert_reachable(BROKEN, "nowhere")


def test_assert_no_dead_ends_names_them():
    with pytest.raises(AssertionError, match=r"dead ends .*\['stuck'\]"):
        assert_no_dead_ends(BROKEN)


def test_assert_terminal_reachable_names_stuck_states():
    with pytest.raises(AssertionError, match=r"no terminal state reachable from \['stuck'\]"):
        assert_terminal_reachable(BROKEN)


def test_assert_guards_disjoint_quotes_the_overlap():
    with pytest.raises(AssertionError, match=r"guard 'n > 1' and guard 'n > 5' overlap"):
        assert_guards_disjoint(BROKEN)


def test_assert_lint_clean_lists_every_error_and_can_include_warnings():
    with pytest.raises(AssertionError) as caught:
        assert_lint_clean(BROKEN)
    text = str(caught.value)
    assert "workflow.dead_end" in text
    assert "workflow.overlapping_guards" in text
    assert "workflow.unreachable" not in text
    with pytest.raises(AssertionError, match=r"workflow\.unreachable"):
        assert_lint_clean(BROKEN, fail_on=Severity.WARNING)


def test_instance_store_refuses_a_stale_save():
    wf = Workflow(LOOPY)
    store = InstanceStore()
    store.add(wf.start("d", now=T0))
    first = wf.fire(store.get("d"), "qualify", Actor("a"), now=T0)
    second = wf.fire(store.get("d"), "drop", Actor("b"), now=T0)
    store.save(first, expected_version=0)
    with pytest.raises(InvalidValueError) as caught:
        store.save(second, expected_version=0)
    assert caught.value.code == "store.conflict"
    assert store.get("d").state == "quote"
    assert len(store.events("d")) == 1
    with pytest.raises(InvalidValueError):
        store.add(wf.start("d", now=T0))


def test_coverage_paths_take_each_of_two_parallel_transitions():
    definition = WorkflowDefinition(
        name="w",
        initial="a",
        fields={"n": "int"},
        states=[State(name="a"), State(name="b", terminal=True)],
        transitions=[
            _t("go", "a", "b", guard="n > 0"),
            _t("go", "a", "b", guard="n <= 0"),
        ],
    )
    taken = sorted(e.transition for p in coverage_paths(definition) for e in p.edges)
    assert taken == [0, 1]


def test_bounds_of_the_wrong_kind_get_a_salesflow_error():
    with pytest.raises(InvalidValueError) as caught:
        list(simple_paths(LOOPY, None))
    assert caught.value.code == "workflow.bad_bound"
    with pytest.raises(InvalidValueError) as caught:
        definitions(max_states=1)
    assert caught.value.code == "workflow.bad_bound"


# A -> B by two events, then B -> C by two guarded transitions on one event.
PARALLEL = WorkflowDefinition(
    name="parallel",
    initial="A",
    fields={"n": "int"},
    states=[State(name="A"), State(name="B"), State(name="C", terminal=True)],
    transitions=[
        _t("approve", "A", "B"),
        _t("fast_track", "A", "B"),
        _t("go", "B", "C", guard="n > 0"),
        _t("go", "B", "C", guard="n <= 0"),
    ],
)


def test_simple_paths_give_each_parallel_transition_its_own_path():
    # Two ways from A to B (transitions 0, 1) times two from B to C (2, 3): four paths,
    # two of which read the same events but take different transitions.
    found = sorted(
        tuple(e.transition for e in p.edges) for p in simple_paths(PARALLEL, max_moves=2)
    )
    assert found == [(0, 2), (0, 3), (1, 2), (1, 3)]


def test_shortest_path_takes_the_first_of_parallel_transitions_in_definition_order():
    # The engine tries parallel transitions in definition order; so does the path.
    path = shortest_paths(PARALLEL)["C"]
    assert [(e.event, e.transition) for e in path.edges] == [("approve", 0), ("go", 2)]


def test_coverage_paths_take_every_parallel_transition_on_every_move():
    taken = {e.transition for p in coverage_paths(PARALLEL) for e in p.edges}
    assert taken == {0, 1, 2, 3}


def test_the_state_machine_starts_its_clock_at_the_last_change_of_a_made_instance():
    # start= makes an instance whose last change (an approval, two days on) is later
    # than when it entered its state. A clock started at entered_at made every rule
    # fail: available offered moves that then raised workflow.time_went_back.
    approval = Approval(
        steps=[ApprovalStep(name="s", people=["p", "q"], quorum=2)], approved="y", rejected="z"
    )
    wf = Workflow(
        WorkflowDefinition(
            name="w",
            initial="a",
            states=[
                State(name="a", approval=approval),
                State(name="y", terminal=True),
                State(name="z", terminal=True),
            ],
            transitions=[],
        )
    )

    def approved_by_p():
        started = wf.start("i", now=T0, actor=Actor("r"))
        return wf.approve(started, Actor("p"), now=T0 + dt.timedelta(days=2)).instance

    machine = workflow_machine(wf, [Actor("q")], start=approved_by_p, now=T0)
    run_state_machine_as_test(
        machine, settings=settings(max_examples=20, stateful_step_count=5, database=None)
    )
