"""Linting a workflow as a graph: each finding, and guard overlap proofs."""

import pytest

from salesflow.errors import Severity
from salesflow.workflow import (
    Approval,
    ApprovalStep,
    Overlap,
    Sla,
    State,
    Transition,
    WorkflowDefinition,
    compare_guards,
    lint,
)


def _wf(states, transitions, **extra):
    return WorkflowDefinition(
        name="w",
        initial=extra.pop("initial", states[0].name),
        states=states,
        transitions=transitions,
        **extra,
    )


def _t(event, source, target, **extra):
    return Transition(event=event, source=source, target=target, **extra)


def _found(definition):
    return {(p.code, p.location.path if p.location else None) for p in lint(definition)}


def test_clean_definition_has_no_findings():
    definition = _wf(
        [State(name="a"), State(name="b", terminal=True)],
        [_t("go", "a", "b")],
    )
    assert lint(definition) == ()


def test_unreachable_state_is_a_warning():
    definition = _wf(
        [State(name="a"), State(name="b", terminal=True), State(name="orphan", terminal=True)],
        [_t("go", "a", "b")],
    )
    problems = lint(definition)
    assert [(p.code, p.severity) for p in problems] == [("workflow.unreachable", Severity.WARNING)]
    assert "orphan" in problems[0].message


def test_dead_end_is_a_non_terminal_state_without_a_way_out():
    definition = _wf(
        [State(name="a"), State(name="stuck"), State(name="b", terminal=True)],
        [_t("go", "a", "b"), _t("wander", "a", "stuck")],
    )
    assert _found(definition) == {("workflow.dead_end", "workflow.states[1]")}


def test_cycle_without_exit_is_reported_once_for_the_whole_cycle():
    definition = _wf(
        [State(name="a"), State(name="x"), State(name="y"), State(name="end", terminal=True)],
        [_t("go", "a", "end"), _t("loop", "a", "x"), _t("ping", "x", "y"), _t("pong", "y", "x")],
    )
    assert _found(definition) == {("workflow.cycle_without_exit", "workflow.states[1]")}


def test_cycle_with_an_exit_is_fine():
    definition = _wf(
        [State(name="a"), State(name="b"), State(name="end", terminal=True)],
        [_t("go", "a", "b"), _t("back", "b", "a"), _t("finish", "b", "end")],
    )
    assert lint(definition) == ()


def test_states_leading_only_into_a_dead_end_cannot_reach_a_terminal():
    definition = _wf(
        [State(name="a"), State(name="b"), State(name="c"), State(name="end", terminal=True)],
        [_t("go", "a", "end"), _t("side", "a", "b"), _t("on", "b", "c")],
    )
    assert _found(definition) == {
        ("workflow.no_terminal_reachable", "workflow.states[1]"),
        ("workflow.dead_end", "workflow.states[2]"),
    }


def test_definition_without_any_terminal_state_is_an_error():
    definition = _wf([State(name="a")], [_t("again", "a", "a")])
    codes = {code for code, _ in _found(definition)}
    assert "workflow.no_terminal" in codes
    assert "workflow.cycle_without_exit" in codes


def test_sla_on_a_terminal_state_is_a_warning():
    definition = _wf(
        [State(name="a"), State(name="b", terminal=True, sla=Sla(within="1d"))],
        [_t("go", "a", "b")],
    )
    assert _found(definition) == {("workflow.sla_on_terminal", "workflow.states[1].sla")}


def test_transition_out_of_a_terminal_state_is_a_warning():
    definition = _wf(
        [State(name="a"), State(name="b", terminal=True)],
        [_t("go", "a", "b"), _t("reopen", "b", "a")],
    )
    assert _found(definition) == {("workflow.leaves_terminal", "workflow.states[1]")}


def test_unknown_references_are_findings_too():
    definition = _wf(
        [State(name="a"), State(name="b", terminal=True)],
        [_t("go", "a", "b", roles=["ghost"])],
    )
    assert _found(definition) == {("workflow.unknown_role", "workflow.transitions[0].roles[0]")}


def _approval(*steps, distinct=True):
    return _wf(
        [
            State(
                name="a",
                approval=Approval(steps=steps, approved="ok", rejected="no", distinct=distinct),
            ),
            State(name="ok", terminal=True),
            State(name="no", terminal=True),
        ],
        [],
        roles=["mgr"],
    )


def test_quorum_larger_than_the_named_people_cannot_be_reached():
    definition = _approval(ApprovalStep(name="board", people=["a", "b"], quorum=3))
    assert _found(definition) == {
        ("workflow.quorum_unreachable", "workflow.states[0].approval.steps[0].quorum")
    }


def test_distinct_approvers_across_steps_need_enough_people():
    steps = (
        ApprovalStep(name="one", people=["a", "b"], quorum=2),
        ApprovalStep(name="two", people=["a", "b"], quorum=1),
    )
    assert ("workflow.quorum_unreachable", "workflow.states[0].approval.steps") in _found(
        _approval(*steps)
    )
    assert lint(_approval(*steps, distinct=False)) == ()


def test_quorum_by_role_is_assumed_reachable():
    assert lint(_approval(ApprovalStep(name="m", roles=["mgr"], quorum=5))) == ()


def _two_guards(first, second, fields):
    return _wf(
        [State(name="a"), State(name="b", terminal=True), State(name="c", terminal=True)],
        [_t("go", "a", "b", guard=first), _t("go", "a", "c", guard=second)],
        fields=fields,
    )


@pytest.mark.parametrize(
    ("first", "second", "fields"),
    [
        ("amount < 1000", "amount >= 1000", {"amount": "int"}),
        ("amount <= 1000.00", "amount > 1000.00", {"amount": "decimal(2)"}),
        ('region in ["华东", "华南"]', 'region == "华北"', {"region": "string"}),
        ('region in ["华东"]', '!(region in ["华东"])', {"region": "string"}),
        ("vip", "!vip", {"vip": "bool"}),
        ("n > 1 && n < 3", "n == 5", {"n": "int"}),
        ("x > 3 && y == 1", "x < 2 && y == 1", {"x": "int", "y": "int"}),
        ("-5 > x", "x >= -5", {"x": "int"}),
    ],
)
def test_disjoint_guards_are_proved_and_not_reported(first, second, fields):
    assert lint(_two_guards(first, second, fields)) == ()


@pytest.mark.parametrize(
    ("first", "second", "fields"),
    [
        ("amount < 1000", "amount > 500", {"amount": "int"}),
        ('region in ["华东", "华南"]', 'region != "华东"', {"region": "string"}),
        ("vip", "amount > 1", {"vip": "bool", "amount": "int"}),
    ],
)
def test_overlapping_guards_are_an_error(first, second, fields):
    problems = lint(_two_guards(first, second, fields))
    assert [(p.code, p.severity) for p in problems] == [
        ("workflow.overlapping_guards", Severity.ERROR)
    ]
    assert problems[0].location is not None
    assert problems[0].location.path == "workflow.transitions[1].guard"


@pytest.mark.parametrize(
    ("first", "second", "fields"),
    [
        ("amount * 2 > 10", "amount < 3", {"amount": "int"}),
        ("a > 1 || b > 1", "a < 0", {"a": "int", "b": "int"}),
        ('name > "m"', 'name < "z"', {"name": "string"}),
    ],
)
def test_guards_that_cannot_be_decided_get_a_warning(first, second, fields):
    problems = lint(_two_guards(first, second, fields))
    assert [(p.code, p.severity) for p in problems] == [
        ("workflow.guards_not_proved_disjoint", Severity.WARNING)
    ]


def test_an_unguarded_transition_overlaps_any_other_on_the_same_event():
    definition = _wf(
        [State(name="a"), State(name="b", terminal=True), State(name="c", terminal=True)],
        [_t("go", "a", "b"), _t("go", "a", "c", guard="n > 1")],
        fields={"n": "int"},
    )
    assert {code for code, _ in _found(definition)} == {"workflow.overlapping_guards"}


def test_integer_gaps_are_disjoint_but_dense_gaps_are_not():
    assert compare_guards("n > 1 && n < 2", "n > 0", {"n": "int"}) is Overlap.DISJOINT
    assert compare_guards("n > 1 && n < 2", "n > 0", {"n": "double"}) is Overlap.OVERLAPPING


def test_excluded_values_that_empty_an_integer_range_prove_disjointness():
    both = "n >= 1 && n <= 2 && n != 1"
    assert compare_guards(both, "n != 2", {"n": "int"}) is Overlap.DISJOINT


# -- regressions -------------------------------------------------------------------------


def test_an_after_approval_transition_from_a_state_without_approval_can_never_fire():
    definition = _wf(
        [State(name="a"), State(name="b", terminal=True)],
        [_t("go", "a", "b", after_approval=True)],
    )
    assert _found(definition) == {
        ("workflow.after_approval_without_approval", "workflow.transitions[0].source[0]")
    }


def test_an_approval_leading_nowhere_once_granted_is_stuck():
    approval = Approval(steps=[ApprovalStep(name="m", roles=["mgr"])], rejected="lost")
    definition = _wf(
        [State(name="a", approval=approval), State(name="lost", terminal=True)],
        [],
        roles=["mgr"],
    )
    assert _found(definition) == {("workflow.stuck_after_approval", "workflow.states[0].approval")}


def _approver_step(**extra):
    step = ApprovalStep(name="s", approver='r == "x" ? "p1" : "p2"', quorum=2, **extra)
    approval = Approval(steps=[step], approved="b", rejected="b")
    return _wf(
        [State(name="a", approval=approval), State(name="b", terminal=True)],
        [],
        fields={"r": "string"},
    )


def test_an_approver_expression_counts_as_one_person_toward_the_quorum():
    assert _found(_approver_step()) == {
        ("workflow.quorum_unreachable", "workflow.states[0].approval.steps[0].quorum")
    }
    assert lint(_approver_step(people=["p3"])) == ()


@pytest.mark.parametrize(
    ("first", "second", "verdict"),
    [
        # x == 2 satisfies both: 2.5 is no integer to exclude.
        ("x >= 2 && x <= 3", "x != 2.5 && x != 3", Overlap.OVERLAPPING),
        # No integer lies strictly between 1 and 2, and none equals 1.5.
        ("x > 1 && x < 2", "x == 1.5", Overlap.DISJOINT),
        ("x == 1.5", "x > 0", Overlap.DISJOINT),
        ("x == 2.0", "x > 0", Overlap.OVERLAPPING),
    ],
)
def test_int_fields_against_constants_that_are_not_whole(first, second, verdict):
    assert compare_guards(first, second, {"x": "int"}) is verdict


def test_unguarded_transitions_for_disjoint_roles_are_only_a_warning_and_say_no_guard():
    definition = _wf(
        [State(name="a"), State(name="b", terminal=True), State(name="c", terminal=True)],
        [_t("close", "a", "b", roles=["sales"]), _t("close", "a", "c", roles=["mgr"])],
        roles=["sales", "mgr"],
    )
    (problem,) = lint(definition)
    assert (problem.code, problem.severity) == (
        "workflow.guards_not_proved_disjoint",
        Severity.WARNING,
    )
    assert "no guard and no guard" in problem.message
    assert "None" not in problem.message


def test_cold_lint_parses_each_distinct_guard_once(monkeypatch):
    """Compiling a guard and proving overlaps read one parse; big definitions repeat guards.

    The constants are unlike any other test's, so no cache from an earlier test hides
    a second parse.
    """
    from lark import Lark  # noqa: PLC0415 - the parser every expression goes through

    parsed = []
    original = Lark.parse

    def counting(self, text, *args, **kwargs):
        parsed.append(text)
        return original(self, text, *args, **kwargs)

    monkeypatch.setattr(Lark, "parse", counting)
    guards = ["amount < 918273", "amount >= 918273", "amount < 918274 && amount > 17"]
    definition = _wf(
        [State(name="a"), State(name="b", terminal=True)],
        [_t("route", "a", "b", guard=guard) for guard in guards]
        + [_t("again", "a", "b", guard=guard) for guard in guards],
        fields={"amount": "int"},
    )
    lint(definition)
    assert sorted(parsed) == sorted(guards)


@pytest.mark.parametrize(
    ("guard", "fields"),
    [
        ("n > 1 && n < 2", {"n": "int"}),
        ('r == "a" && r == "b"', {"r": "string"}),
        ("vip && !vip", {"vip": "bool"}),
        ("amount >= 10 && amount < 10", {"amount": "decimal(2)"}),
    ],
)
def test_a_guard_that_can_never_hold_is_a_warning_at_its_location(guard, fields):
    definition = _wf(
        [State(name="a"), State(name="b", terminal=True)],
        [_t("go", "a", "b"), _t("skip", "a", "b", guard=guard)],
        fields=fields,
    )
    problems = [p for p in lint(definition) if p.code == "workflow.guard_never_holds"]
    assert [(p.severity, p.location.path) for p in problems] == [
        (Severity.WARNING, "workflow.transitions[1].guard")
    ]
    assert guard in problems[0].message


def test_entry_criteria_that_can_never_hold_are_a_warning_at_the_state():
    definition = _wf(
        [State(name="a"), State(name="b", terminal=True, entry="n < 0 && n > 0")],
        [_t("go", "a", "b")],
        fields={"n": "int"},
    )
    assert ("workflow.guard_never_holds", "workflow.states[1].entry") in _found(definition)


@pytest.mark.parametrize(
    ("guard", "fields"),
    [
        ("n > 1 && n < 3", {"n": "int"}),
        ("n > 1 && n < 2", {"n": "double"}),  # 1.5
        ("n > 1 || n < 0", {"n": "int"}),  # not proved either way: no finding
    ],
)
def test_a_guard_some_input_satisfies_is_not_reported(guard, fields):
    definition = _wf(
        [State(name="a"), State(name="b", terminal=True)],
        [_t("go", "a", "b", guard=guard)],
        fields=fields,
    )
    assert "workflow.guard_never_holds" not in {p.code for p in lint(definition)}


def test_lint_knows_the_time_a_guard_reads():
    definition = _wf(
        [State(name="open"), State(name="late", terminal=True), State(name="done", terminal=True)],
        [
            _t("escalate", "open", "late", guard='now - entered_at > duration("2d")'),
            _t("close", "open", "done", guard='now < timestamp("2026-12-31T00:00:00Z")'),
        ],
    )
    assert lint(definition) == ()


def test_entry_criteria_do_not_read_the_time():
    # In entry criteria entered_at would be ambiguous (the state left, or the one
    # entered): they, like approval conditions, read fields only.
    definition = _wf(
        [State(name="a"), State(name="b", terminal=True, entry="now > entered_at")],
        [_t("go", "a", "b")],
    )
    assert {code for code, _ in _found(definition)} == {"expression_type.unknown_name"}


# -- review round 3: false positives gone, moves that can never fire left out -------------


def test_steps_that_apply_under_exclusive_conditions_may_name_the_same_approver():
    # small (amount <= 100) and big (amount > 100) never apply together: zhang alone
    # decides whichever applies, so no two distinct approvers are needed.
    steps = (
        ApprovalStep(name="small", people=["zhang"], when="amount <= 100"),
        ApprovalStep(name="big", people=["zhang"], when="amount > 100"),
    )
    approval = Approval(steps=steps, approved="ok", rejected="no")
    definition = _wf(
        [
            State(name="a", approval=approval),
            State(name="ok", terminal=True),
            State(name="no", terminal=True),
        ],
        [],
        fields={"amount": "int"},
    )
    assert lint(definition) == ()


@pytest.mark.parametrize("guard", [None, "n > 1"])
def test_a_host_check_keeps_a_pair_at_a_warning_even_when_both_have_guards(guard):
    # Adding the guard n > 1 beside the check narrows the transition: it cannot turn
    # the warning into an error.
    definition = _wf(
        [State(name="a"), State(name="b", terminal=True), State(name="c", terminal=True)],
        [_t("go", "a", "b", guard=guard, check="vip"), _t("go", "a", "c", guard="n > 5")],
        fields={"n": "int"},
    )
    assert [(p.code, p.severity) for p in lint(definition)] == [
        ("workflow.guards_not_proved_disjoint", Severity.WARNING)
    ]


@pytest.mark.parametrize(
    ("first", "second", "fields", "verdict"),
    [
        # A decimal(2) holds cents: none lies strictly between 999.99 and 1000.00.
        ("amount > 999.99", "amount < 1000", {"amount": "decimal(2)"}, Overlap.DISJOINT),
        ("amount > 999.99", "amount < 1000", {"amount": "decimal(3)"}, Overlap.OVERLAPPING),
        ("amount <= 999.99", "amount >= 999.995", {"amount": "decimal(2)?"}, Overlap.DISJOINT),
        ("amount == 0.125", "amount > 0", {"amount": "decimal(2)"}, Overlap.DISJOINT),
        # decimal(0) holds whole numbers, like an int.
        ("n > 1", "n < 2", {"n": "decimal(0)"}, Overlap.DISJOINT),
        # A decimal without a scale, or a double, is dense.
        ("amount > 999.99", "amount < 1000", {"amount": "decimal"}, Overlap.OVERLAPPING),
    ],
)
def test_decimal_fields_count_on_the_grid_of_their_scale(first, second, fields, verdict):
    assert compare_guards(first, second, fields) is verdict


def test_lint_reads_a_decimals_scale_for_overlaps_and_guards_that_never_hold():
    disjoint = _two_guards("amount > 999.99", "amount < 1000", {"amount": "decimal(2)"})
    assert lint(disjoint) == ()
    never = _wf(
        [State(name="a"), State(name="b", terminal=True)],
        [_t("go", "a", "b", guard="amount > 10.00 && amount < 10.01")],
        fields={"amount": "decimal(2)"},
    )
    assert ("workflow.guard_never_holds", "workflow.transitions[0].guard") in _found(never)


@pytest.mark.parametrize(
    ("transition", "target"),
    [
        ({"guard": "n > 1 && n < 2"}, {}),
        ({}, {"entry": "n > 1 && n < 2"}),
    ],
)
def test_a_state_whose_only_way_out_can_never_fire_is_a_dead_end(transition, target):
    definition = _wf(
        [State(name="a"), State(name="z", terminal=True, **target)],
        [_t("go", "a", "z", **transition)],
        fields={"n": "int"},
    )
    found = _found(definition)
    assert ("workflow.dead_end", "workflow.states[0]") in found
    assert ("workflow.unreachable", "workflow.states[1]") in found
    (dead_end,) = [p for p in lint(definition) if p.code == "workflow.dead_end"]
    assert "no way out that can ever be taken" in dead_end.message


def test_an_after_approval_transition_out_of_an_approval_that_moves_on_never_fires():
    # The grant moves to z at once, so ship never fires and y is never reached.
    approval = Approval(steps=[ApprovalStep(name="s", people=["p"])], approved="z", rejected="a")
    definition = _wf(
        [
            State(name="a", approval=approval),
            State(name="y", terminal=True),
            State(name="z", terminal=True),
        ],
        [_t("ship", "a", "y", after_approval=True)],
    )
    assert _found(definition) == {
        ("workflow.after_approval_never_fires", "workflow.transitions[0].source[0]"),
        ("workflow.unreachable", "workflow.states[1]"),
    }


def test_a_person_a_later_step_needs_can_never_approve_an_earlier_one():
    # s1: a or b; s2: only a. A matching exists (b, then a), but a approving s1 would
    # leave s2 to nobody: the engine refuses that, and lint says so.
    definition = _approval(
        ApprovalStep(name="s1", people=["a", "b"]), ApprovalStep(name="s2", people=["a"])
    )
    problems = lint(definition)
    assert [(p.code, p.severity, p.location.path) for p in problems if p.location] == [
        (
            "workflow.approver_needed_later",
            Severity.WARNING,
            "workflow.states[0].approval.steps[0].people",
        )
    ]
    assert "'a' can never approve step 's1'" in problems[0].message
    spare = _approval(
        ApprovalStep(name="s1", people=["a", "b"]), ApprovalStep(name="s2", people=["a", "c"])
    )
    assert lint(spare) == ()
