"""Approvals as a step: chains, N-of-M, distinct approvers, self-approval, delegation."""

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from salesflow.errors import DefinitionError, InvalidValueError
from salesflow.workflow import (
    SYSTEM,
    Actor,
    Approval,
    ApprovalProgress,
    ApprovalStep,
    Decision,
    PlannedStep,
    State,
    Transition,
    Workflow,
    WorkflowDefinition,
    load_workflow,
)

T0 = dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC)
EXAMPLE = Path(__file__).parents[2] / "examples" / "workflows" / "deal.yaml"
SALES = Actor("li.na", {"销售"})
MANAGER = Actor("zhou", {"销售经理"})
FINANCE = Actor("wu", {"财务"})
MANAGER_OF_W = Actor("m1", {"mgr"})


def _workflow(*steps, **approval):
    approval.setdefault("approved", "ok")
    approval.setdefault("rejected", "draft")
    definition = WorkflowDefinition(
        name="w",
        initial="draft",
        fields={"amount": "int?", "region": "string?"},
        roles=["sales", "mgr", "fin"],
        states=[
            State(name="draft"),
            State(name="review", approval=Approval(steps=steps, **approval)),
            State(name="ok", terminal=True),
            State(name="done", terminal=True),
        ],
        transitions=[
            Transition(event="submit", source="draft", target="review"),
            Transition(event="close", source="review", target="done", after_approval=True),
        ],
    )
    return Workflow(definition)


REQUESTER = Actor("req")


def _submitted(wf, by=REQUESTER, **data):
    instance = wf.start("R-1", data, now=T0)
    return wf.fire(instance, "submit", by, now=T0).instance


def _code(call):
    with pytest.raises(InvalidValueError) as caught:
        call()
    return caught.value.code


def test_sequential_chain_moves_on_only_after_the_last_step():
    wf = _workflow(ApprovalStep(name="m", roles=["mgr"]), ApprovalStep(name="f", roles=["fin"]))
    review = _submitted(wf)
    assert _code(lambda: wf.approve(review, Actor("f1", {"fin"}), now=T0)) == (
        "workflow.not_an_approver"
    )
    after_manager = wf.approve(review, Actor("m1", {"mgr"}), now=T0).instance
    assert after_manager.state == "review"
    assert after_manager.approval is not None
    assert after_manager.approval.current == 1
    fired = wf.approve(after_manager, Actor("f1", {"fin"}), now=T0)
    assert fired.instance.state == "ok"
    assert [s.event for s in fired.events] == ["approve", "approved"]
    assert fired.instance.history[-1].actor == "system"


def test_parallel_n_of_m_needs_n_distinct_people():
    wf = _workflow(ApprovalStep(name="board", people=["a", "b", "c"], quorum=2))
    review = _submitted(wf)
    once = wf.approve(review, Actor("a"), now=T0).instance
    assert once.state == "review"
    assert _code(lambda: wf.approve(once, Actor("a"), now=T0)) == "workflow.not_distinct"
    assert wf.approve(once, Actor("c"), now=T0).instance.state == "ok"


def test_distinct_approvers_across_steps_unless_declared_otherwise():
    steps = (ApprovalStep(name="one", roles=["mgr"]), ApprovalStep(name="two", roles=["mgr"]))
    boss = Actor("boss", {"mgr"})
    wf = _workflow(*steps)
    half = wf.approve(_submitted(wf), boss, now=T0).instance
    assert _code(lambda: wf.approve(half, boss, now=T0)) == "workflow.not_distinct"
    lenient = _workflow(*steps, distinct=False)
    half = lenient.approve(_submitted(lenient), boss, now=T0).instance
    assert lenient.approve(half, boss, now=T0).instance.state == "ok"


def test_requester_cannot_approve_their_own_request_unless_declared():
    requester = Actor("li", {"mgr"})
    wf = _workflow(ApprovalStep(name="m", roles=["mgr"]))
    review = _submitted(wf, by=requester)
    assert _code(lambda: wf.approve(review, requester, now=T0)) == "workflow.self_approval"
    lenient = _workflow(ApprovalStep(name="m", roles=["mgr"]), self_approval=True)
    review = _submitted(lenient, by=requester)
    assert lenient.approve(review, requester, now=T0).instance.state == "ok"


def test_rejection_follows_the_rejection_route():
    wf = _workflow(ApprovalStep(name="m", roles=["mgr"]))
    fired = wf.reject(_submitted(wf), Actor("m", {"mgr"}), now=T0, comment="价格太低")
    assert fired.instance.state == "draft"
    assert fired.instance.approval is None
    decision = fired.events[0]
    assert decision.payload["comment"] == "价格太低"


def test_delegate_decides_on_behalf_of_the_approver():
    wf = _workflow(ApprovalStep(name="m", roles=["mgr"]))
    review = _submitted(wf)
    delegated = wf.delegate(review, Actor("m", {"mgr"}), "deputy", now=T0).instance
    assert _code(lambda: wf.approve(review, Actor("deputy"), now=T0)) == "workflow.not_an_approver"
    fired = wf.approve(delegated, Actor("deputy"), now=T0)
    assert fired.instance.state == "ok"
    assert fired.events[0].payload["on_behalf_of"] == "m"


def test_delegation_can_be_forbidden():
    wf = _workflow(ApprovalStep(name="m", roles=["mgr"]), delegation=False)
    err = _code(lambda: wf.delegate(_submitted(wf), Actor("m", {"mgr"}), "deputy", now=T0))
    assert err == "workflow.delegation_not_allowed"


def test_delegate_cannot_be_the_requester():
    wf = _workflow(ApprovalStep(name="m", roles=["mgr"]))
    review = _submitted(wf, by=Actor("req"))
    delegated = wf.delegate(review, Actor("m", {"mgr"}), "req", now=T0).instance
    assert _code(lambda: wf.approve(delegated, Actor("req"), now=T0)) == "workflow.self_approval"


def test_transition_after_approval_waits_for_it():
    wf = _workflow(ApprovalStep(name="m", roles=["mgr"]), approved=None)
    review = _submitted(wf)
    assert _code(lambda: wf.fire(review, "close", Actor("x"), now=T0)) == (
        "workflow.approval_pending"
    )
    granted = wf.approve(review, Actor("m", {"mgr"}), now=T0).instance
    assert granted.state == "review"
    assert wf.fire(granted, "close", Actor("x"), now=T0).instance.state == "done"


def test_dynamic_steps_apply_only_when_their_condition_holds():
    steps = (
        ApprovalStep(name="m", roles=["mgr"]),
        ApprovalStep(
            name="director",
            when="amount > 1000000",
            approver='region == "east" ? "zhao" : "qian"',
        ),
    )
    wf = _workflow(*steps)
    small = _submitted(wf, amount=10)
    assert small.approval is not None
    assert [s.name for s in small.approval.steps] == ["m"]
    big = _submitted(wf, amount=2_000_000, region="east")
    assert big.approval is not None
    assert big.approval.steps[1].people == frozenset({"zhao"})
    half = wf.approve(big, Actor("m", {"mgr"}), now=T0).instance
    assert _code(lambda: wf.approve(half, Actor("qian"), now=T0)) == "workflow.not_an_approver"
    assert wf.approve(half, Actor("zhao"), now=T0).instance.state == "ok"


def test_approval_with_no_applicable_step_is_granted_on_entry():
    wf = _workflow(ApprovalStep(name="director", roles=["mgr"], when="amount > 1000000"))
    fired = wf.fire(wf.start("R", {"amount": 5}, now=T0), "submit", Actor("req"), now=T0)
    assert fired.instance.state == "ok"
    assert [s.event for s in fired.events] == ["submit", "approved"]


def test_approval_options_show_in_available():
    wf = _workflow(ApprovalStep(name="m", roles=["mgr"]))
    review = _submitted(wf)
    options = {o.event: o.allowed for o in wf.available(review, Actor("m", {"mgr"}))}
    assert options["approve"]
    assert options["reject"]
    assert not options["close"]
    outsider = {o.event: o.allowed for o in wf.available(review, Actor("x"))}
    assert not outsider["approve"]


def test_no_approval_pending_outside_an_approval_state():
    wf = _workflow(ApprovalStep(name="m", roles=["mgr"]))
    draft = wf.start("R", now=T0)
    assert _code(lambda: wf.approve(draft, Actor("m", {"mgr"}), now=T0)) == "workflow.no_approval"


def test_cross_department_discount_approval_in_the_example():
    wf = Workflow(load_workflow(EXAMPLE.read_text("utf-8")))
    deal = wf.start("D-9", {"customer": "比亚迪"}, now=T0)
    deal = wf.fire(deal, "确认需求", SALES, now=T0).instance
    deal = wf.fire(
        deal, "提交报价", SALES, {"amount": Decimal("2400000.00"), "region": "华南"}, now=T0
    ).instance
    deal = wf.fire(deal, "申请折扣", SALES, {"discount": 12}, now=T0).instance
    assert deal.approval is not None
    assert [s.name for s in deal.approval.steps] == ["销售经理审批", "财务审批", "区域总监审批"]
    deal = wf.approve(deal, MANAGER, now=T0).instance
    deal = wf.approve(deal, FINANCE, now=T0).instance
    assert _code(lambda: wf.approve(deal, Actor("zhao.director"), now=T0)) == (
        "workflow.not_an_approver"
    )
    deal = wf.approve(deal, Actor("qian.director"), now=T0).instance
    assert deal.state == "合同谈判"
    won = wf.fire(deal, "签约", SALES, {"contract_signed": True}, now=T0)
    assert won.instance.state == "赢单"
    assert [getattr(e, "name", None) for e in won.events[1:]] == ["通知财务开票"]


# -- regressions -------------------------------------------------------------------------


def test_two_steps_of_one_name_are_refused_at_load_instead_of_sharing_approvals():
    steps = [{"name": "s", "roles": ["mgr"]}, {"name": "s", "roles": ["mgr"], "quorum": 2}]
    data = {
        "name": "w",
        "initial": "a",
        "roles": ["mgr"],
        "states": [
            {"name": "a", "approval": {"steps": steps, "approved": "ok", "rejected": "ok"}},
            {"name": "ok", "terminal": True},
        ],
    }
    with pytest.raises(DefinitionError) as caught:
        load_workflow(data)
    assert [(p.code, str(p.location)) for p in caught.value.problems] == [
        ("workflow.duplicate_step", "workflow.states[0].approval.steps[1].name")
    ]


@pytest.mark.parametrize("boss", [None, ""])
def test_an_approver_expression_naming_nobody_refuses_entering_the_approval(boss):
    wf = _workflow(ApprovalStep(name="boss", approver="region"))
    draft = wf.start("R", {"region": boss}, now=T0)
    assert _code(lambda: wf.fire(draft, "submit", REQUESTER, now=T0)) == ("workflow.missing_field")


def test_a_step_only_the_requester_could_approve_refuses_entering_the_approval():
    wf = _workflow(ApprovalStep(name="boss", approver="region"))
    draft = wf.start("R", {"region": "req"}, now=T0)
    assert _code(lambda: wf.fire(draft, "submit", REQUESTER, now=T0)) == "workflow.no_approver"
    assert wf.check(draft, "submit", REQUESTER).code == "workflow.no_approver"
    assert wf.fire(draft, "submit", Actor("other"), now=T0).instance.approval is not None


def test_a_null_read_by_a_when_refuses_the_approval_rather_than_dropping_the_step():
    step = ApprovalStep(name="director", people=["zhao"], when="amount > 1000000")
    wf = _workflow(ApprovalStep(name="m", roles=["mgr"]), step)
    draft = wf.start("R", now=T0)
    refusal = wf.check(draft, "submit", REQUESTER, {"amount": None})
    assert refusal is not None
    assert refusal.code == "workflow.missing_field"
    assert "amount" in refusal.message


def test_an_approval_granted_at_start_moves_on_at_once():
    definition = WorkflowDefinition(
        name="w",
        initial="review",
        fields={"amount": "int"},
        roles=["mgr"],
        states=[
            State(
                name="review",
                approval=Approval(
                    steps=[ApprovalStep(name="m", roles=["mgr"], when="amount > 100")],
                    approved="ok",
                    rejected="no",
                ),
            ),
            State(name="ok", terminal=True),
            State(name="no", terminal=True),
        ],
    )
    instance = Workflow(definition).start("R", {"amount": 5}, now=T0)
    assert instance.state == "ok"
    assert [(s.event, s.version) for s in instance.history] == [("start", 0), ("approved", 1)]


def test_a_granted_approval_whose_next_approval_cannot_start_is_refused_not_stuck():
    definition = WorkflowDefinition(
        name="w",
        initial="draft",
        fields={"amount": "int", "boss": "string?"},
        roles=["mgr"],
        states=[
            State(name="draft"),
            State(
                name="first",
                approval=Approval(
                    steps=[ApprovalStep(name="m", roles=["mgr"])], approved="second", rejected="no"
                ),
            ),
            State(
                name="second",
                approval=Approval(
                    steps=[ApprovalStep(name="b", approver="boss")], approved="ok", rejected="no"
                ),
            ),
            State(name="ok", terminal=True),
            State(name="no", terminal=True),
        ],
        transitions=[Transition(event="submit", source="draft", target="first")],
    )
    wf = Workflow(definition)
    first = wf.fire(wf.start("R", {"amount": 1}, now=T0), "submit", REQUESTER, now=T0).instance
    assert _code(lambda: wf.approve(first, Actor("m", {"mgr"}), now=T0)) == (
        "workflow.missing_field"
    )


def test_decisions_with_now_none_are_refused():
    wf = _workflow(ApprovalStep(name="m", roles=["mgr"]))
    review = _submitted(wf)
    boss = Actor("m", {"mgr"})
    assert _code(lambda: wf.approve(review, boss, now=None)) == "workflow.naive_datetime"
    assert _code(lambda: wf.delegate(review, boss, "x", now=None)) == "workflow.naive_datetime"


def test_the_example_refuses_clearing_the_amount_to_skip_the_regional_director():
    wf = Workflow(load_workflow(EXAMPLE.read_text("utf-8")))
    deal = wf.start("D", {"customer": "c", "region": "华南"}, now=T0, actor=SALES)
    deal = wf.fire(deal, "确认需求", SALES, now=T0).instance
    deal = wf.fire(deal, "提交报价", SALES, {"amount": Decimal("5000000.00")}, now=T0).instance
    payload = {"discount": 12, "amount": None}
    assert _code(lambda: wf.fire(deal, "申请折扣", SALES, payload, now=T0)) == (
        "workflow.bad_payload"
    )


def test_the_example_refuses_a_big_deal_without_region_instead_of_an_empty_step():
    wf = Workflow(load_workflow(EXAMPLE.read_text("utf-8")))
    deal = wf.start("D", {"customer": "c"}, now=T0, actor=SALES)
    deal = wf.fire(deal, "确认需求", SALES, now=T0).instance
    deal = wf.fire(deal, "提交报价", SALES, {"amount": Decimal("2000000.00")}, now=T0).instance
    refusal = wf.check(deal, "申请折扣", SALES, {"discount": 15})
    assert refusal is not None
    assert refusal.code == "workflow.missing_field"
    assert "region" in refusal.message


def test_the_example_locks_discount_and_amount_once_approved():
    wf = Workflow(load_workflow(EXAMPLE.read_text("utf-8")))
    deal = wf.start("D", {"customer": "c", "region": "华南"}, now=T0, actor=SALES)
    deal = wf.fire(deal, "确认需求", SALES, now=T0).instance
    deal = wf.fire(deal, "提交报价", SALES, {"amount": Decimal("500000.00")}, now=T0).instance
    deal = wf.fire(deal, "申请折扣", SALES, {"discount": 8}, now=T0).instance
    deal = wf.approve(deal, MANAGER, now=T0).instance
    assert deal.state == "合同谈判"
    changed = {"contract_signed": True, "discount": 60}
    assert _code(lambda: wf.fire(deal, "签约", SALES, changed, now=T0)) == "workflow.bad_payload"


def _approved_into(ok_state, rejected_state=None):
    definition = WorkflowDefinition(
        name="w",
        initial="draft",
        fields={"amount": "int", "contract": "string?"},
        roles=["mgr"],
        states=[
            State(name="draft"),
            State(
                name="review",
                approval=Approval(
                    steps=[ApprovalStep(name="m", roles=["mgr"])], approved="ok", rejected="no"
                ),
            ),
            ok_state,
            rejected_state or State(name="no", terminal=True),
        ],
        transitions=[Transition(event="submit", source="draft", target="review")],
    )
    return Workflow(definition)


@pytest.mark.parametrize(
    ("ok", "code", "said"),
    [
        (
            State(name="ok", terminal=True, requires=["contract"]),
            "workflow.missing_field",
            "entering 'ok' requires ['contract']",
        ),
        (
            State(name="ok", terminal=True, entry="amount < 1000"),
            "workflow.guard_false",
            "entry criteria of 'ok' is false: 'amount < 1000' with amount=5000",
        ),
    ],
)
def test_a_granted_approval_does_not_move_into_a_state_the_instance_does_not_qualify_for(
    ok, code, said
):
    wf = _approved_into(ok)
    review = wf.fire(wf.start("R", {"amount": 5000}, now=T0), "submit", REQUESTER, now=T0)
    with pytest.raises(InvalidValueError) as caught:
        wf.approve(review.instance, MANAGER_OF_W, now=T0)
    assert caught.value.code == code
    assert said in caught.value.message


def test_a_rejection_does_not_move_into_a_state_the_instance_does_not_qualify_for():
    wf = _approved_into(
        State(name="ok", terminal=True), State(name="no", terminal=True, requires=["contract"])
    )
    review = wf.fire(wf.start("R", {"amount": 5}, now=T0), "submit", REQUESTER, now=T0)
    assert _code(lambda: wf.reject(review.instance, MANAGER_OF_W, now=T0)) == (
        "workflow.missing_field"
    )


def test_an_approval_granted_into_a_state_the_instance_qualifies_for_moves_on():
    wf = _approved_into(State(name="ok", terminal=True, requires=["amount"], entry="amount > 0"))
    review = wf.fire(wf.start("R", {"amount": 5}, now=T0), "submit", REQUESTER, now=T0)
    assert wf.approve(review.instance, MANAGER_OF_W, now=T0).instance.state == "ok"


# -- rejection policies and delegation ---------------------------------------------------


def _board(quorum=2, people=("a", "b", "c"), **approval):
    return _workflow(ApprovalStep(name="board", people=list(people), quorum=quorum), **approval)


def _board_voting(rejection, quorum=2, people=("a", "b", "c"), **approval):
    step = ApprovalStep(name="board", people=list(people), quorum=quorum, rejection=rejection)
    return _workflow(step, **approval)


def test_by_default_one_rejection_vetoes_an_n_of_m_step():
    wf = _board()
    fired = wf.reject(_submitted(wf), Actor("a"), now=T0)
    assert fired.instance.state == "draft"
    assert [e.event for e in fired.events] == ["reject", "rejected"]


def test_a_quorum_step_survives_a_rejection_while_the_quorum_can_still_be_reached():
    # 2 of a, b, c: after a rejects, b and c are left, and 0 + 2 >= 2.
    wf = _board_voting("quorum")
    fired = wf.reject(_submitted(wf), Actor("a"), now=T0, comment="太贵")
    assert fired.instance.state == "review"
    assert [e.event for e in fired.events] == ["reject"]
    assert not fired.instance.approval.rejected
    after_b = wf.approve(fired.instance, Actor("b"), now=T0).instance
    assert wf.approve(after_b, Actor("c"), now=T0).instance.state == "ok"


def test_a_quorum_step_is_rejected_once_the_quorum_is_out_of_reach():
    # 2 of a, b, c: after a and b reject only c is left, and 0 + 1 < 2.
    wf = _board_voting("quorum")
    once = wf.reject(_submitted(wf), Actor("a"), now=T0).instance
    fired = wf.reject(once, Actor("b"), now=T0)
    assert fired.instance.state == "draft"
    assert [e.event for e in fired.events] == ["reject", "rejected"]


def test_a_quorum_step_does_not_count_the_requester_among_those_left():
    # 2 of req, a, b, but req may not approve their own request: after a rejects only
    # b is left, and 0 + 1 < 2.
    wf = _board_voting("quorum", people=("req", "a", "b"))
    fired = wf.reject(_submitted(wf), Actor("a"), now=T0)
    assert fired.instance.state == "draft"


def test_a_chain_distinct_approvers_cannot_complete_is_refused_on_entry_not_after_an_approval():
    # The first step needs a, the second 2 of a and b: 3 distinct approvers from 2
    # people. Entering is refused, rather than letting a approve and rejecting after.
    first = ApprovalStep(name="first", people=["a"])
    second = ApprovalStep(name="second", people=["a", "b"], quorum=2, rejection="quorum")
    wf = _workflow(first, second)
    draft = wf.start("R-1", now=T0)
    with pytest.raises(InvalidValueError) as caught:
        wf.fire(draft, "submit", REQUESTER, now=T0)
    assert caught.value.code == "workflow.no_approver"
    assert "need 3 distinct approvers" in caught.value.message
    assert "at most 2" in caught.value.message


def test_a_quorum_counts_only_people_who_can_still_decide():
    # c delegates to a; a decides for c (one decision per person by default), so a's
    # own say is spent: after b rejects, 1 approval (c's) + nobody left < 2.
    wf = _board_voting("quorum")
    review = wf.delegate(_submitted(wf), Actor("c"), "a", now=T0).instance
    for_c = wf.approve(review, Actor("a"), now=T0, on_behalf_of="c").instance
    assert for_c.approval.approvals_in("board") == frozenset({"c"})
    assert _code(lambda: wf.approve(for_c, Actor("a"), now=T0)) == "workflow.not_distinct"
    assert wf.reject(for_c, Actor("b"), now=T0).instance.state == "draft"


def test_rejection_by_quorum_needs_named_approvers_not_roles():
    with pytest.raises(ValueError, match="rejection 'quorum' needs the step's approvers known"):
        ApprovalStep(name="finance", roles=["fin"], quorum=2, rejection="quorum")


def test_one_delegate_decides_once_for_each_principal_and_each_counts_once():
    # 3 of a, b, c; a and b delegate to d, who decides for each (latest first unless
    # named); d has no third principal, so c's approval completes the step.
    wf = _board(quorum=3, delegate_votes="per_principal")
    review = wf.delegate(_submitted(wf), Actor("a"), "d", now=T0).instance
    review = wf.delegate(review, Actor("b"), "d", now=T0).instance
    first = wf.approve(review, Actor("d"), now=T0, on_behalf_of="a")
    second = wf.approve(first.instance, Actor("d"), now=T0)
    steps = [first.events[0], second.events[0]]
    assert [(s.actor, s.payload["on_behalf_of"]) for s in steps] == [("d", "a"), ("d", "b")]
    pending = second.instance
    assert pending.approval.approvals_in("board") == frozenset({"a", "b"})
    assert _code(lambda: wf.approve(pending, Actor("d"), now=T0)) == "workflow.not_distinct"
    assert _code(lambda: wf.approve(pending, Actor("a"), now=T0)) == "workflow.not_distinct"
    options = {o.event: o.allowed for o in wf.available(pending, Actor("d"))}
    assert not options["approve"]
    assert wf.approve(pending, Actor("c"), now=T0).instance.state == "ok"


def test_by_default_a_delegate_of_several_decides_once_and_the_others_keep_their_say():
    wf = _board(quorum=3)
    review = wf.delegate(_submitted(wf), Actor("a"), "d", now=T0).instance
    review = wf.delegate(review, Actor("b"), "d", now=T0).instance
    assert [p.id for p in review.approval.delegations["d"]] == ["a", "b"]
    fired = wf.approve(review, Actor("d"), now=T0)  # for b: the latest delegation
    assert fired.events[0].payload["on_behalf_of"] == "b"
    once = fired.instance
    assert _code(lambda: wf.approve(once, Actor("d"), now=T0, on_behalf_of="a")) == (
        "workflow.not_distinct"
    )
    after_a = wf.approve(once, Actor("a"), now=T0).instance
    assert wf.approve(after_a, Actor("c"), now=T0).instance.state == "ok"


def test_deciding_for_someone_who_did_not_delegate_is_refused():
    wf = _board()
    review = wf.delegate(_submitted(wf), Actor("a"), "d", now=T0).instance
    with pytest.raises(InvalidValueError) as caught:
        wf.approve(review, Actor("d"), now=T0, on_behalf_of="b")
    assert caught.value.code == "workflow.not_an_approver"
    assert "'d' holds no delegation from 'b'" in caught.value.message


# -- review round 3: requesters carried forward, distinct across capacities, no hangs ----


def _two_approvals():
    """Finance approves, then a manager: the second approval is entered by system."""
    return Workflow(
        WorkflowDefinition(
            name="disc",
            initial="draft",
            roles=["sales", "mgr", "fin"],
            states=[
                State(name="draft", sla={"within": "1h", "timeout": "auto"}),
                State(
                    name="fin",
                    approval=Approval(
                        steps=[ApprovalStep(name="f", roles=["fin"])],
                        approved="mgr",
                        rejected="draft",
                    ),
                ),
                State(
                    name="mgr",
                    approval=Approval(
                        steps=[ApprovalStep(name="m", roles=["mgr"])],
                        approved="done",
                        rejected="mgr",
                    ),
                ),
                State(name="done", terminal=True),
            ],
            transitions=[
                Transition(event="submit", source="draft", target="fin"),
                Transition(event="auto", source="draft", target="mgr"),
            ],
        )
    )


ZHOU = Actor("zhou", {"sales", "mgr"})  # a manager who submits his own deal


def test_an_approval_entered_by_an_approvals_own_move_keeps_the_requester():
    wf = _two_approvals()
    fin = wf.fire(wf.start("D", now=T0), "submit", ZHOU, now=T0).instance
    mgr = wf.approve(fin, Actor("wu", {"fin"}), now=T0).instance
    assert (mgr.state, mgr.approval.requester, mgr.requester) == ("mgr", "zhou", "zhou")
    assert _code(lambda: wf.approve(mgr, ZHOU, now=T0)) == "workflow.self_approval"


def test_a_rejection_back_into_an_approval_keeps_the_requester():
    # mgr's rejected route leads back into mgr: the new approval is still zhou's request.
    wf = _two_approvals()
    fin = wf.fire(wf.start("D", now=T0), "submit", ZHOU, now=T0).instance
    mgr = wf.approve(fin, Actor("wu", {"fin"}), now=T0).instance
    again = wf.reject(mgr, Actor("boss", {"mgr"}), now=T0).instance
    assert (again.state, again.approval.requester) == ("mgr", "zhou")
    assert _code(lambda: wf.approve(again, ZHOU, now=T0)) == "workflow.self_approval"


def test_a_timeout_into_an_approval_keeps_the_requester_who_entered_the_state():
    wf = _two_approvals()
    draft = wf.start("D", now=T0, actor=ZHOU)
    moved = wf.tick(draft, T0 + dt.timedelta(hours=2)).instance
    assert (moved.state, moved.approval.requester) == ("mgr", "zhou")
    assert moved.history[-1].actor == "system"
    assert _code(lambda: wf.approve(moved, ZHOU, now=T0 + dt.timedelta(hours=2))) == (
        "workflow.self_approval"
    )


@pytest.mark.parametrize("votes", ["one", "per_principal"])
def test_with_distinct_approvers_a_delegate_who_approved_a_step_decides_no_later_step(votes):
    # s1 needs a, s2 one of b and c. a delegates to b, b approves s1 for a; b has then
    # taken part in s1, so b may not approve s2 in his own right: c must.
    wf = _workflow(
        ApprovalStep(name="s1", people=["a"]),
        ApprovalStep(name="s2", people=["b", "c"]),
        delegate_votes=votes,
    )
    review = wf.delegate(_submitted(wf), Actor("a"), "b", now=T0).instance
    after_s1 = wf.approve(review, Actor("b"), now=T0, on_behalf_of="a").instance
    assert after_s1.approval.pending.name == "s2"
    assert _code(lambda: wf.approve(after_s1, Actor("b"), now=T0)) == "workflow.not_distinct"
    assert wf.approve(after_s1, Actor("c"), now=T0).instance.state == "ok"


def test_an_approval_that_would_leave_a_later_step_without_approvers_is_refused():
    # s1: a or b; s2: only a. With distinct approvers, a approving s1 would leave s2 to
    # nobody, and the request would hang: refused, and b approves s1 instead.
    wf = _workflow(
        ApprovalStep(name="s1", people=["a", "b"]), ApprovalStep(name="s2", people=["a"])
    )
    review = _submitted(wf)
    with pytest.raises(InvalidValueError) as caught:
        wf.approve(review, Actor("a"), now=T0)
    assert caught.value.code == "workflow.not_distinct"
    assert "would leave too few distinct approvers for ['s2']" in caught.value.message
    options = {o.event: o.refusal and o.refusal.code for o in wf.available(review, Actor("a"))}
    assert options["approve"] == "workflow.not_distinct"
    assert options["reject"] is None  # a may still veto s1
    after_b = wf.approve(review, Actor("b"), now=T0).instance
    assert wf.approve(after_b, Actor("a"), now=T0).instance.state == "ok"


def test_an_approval_naming_later_the_same_person_by_expression_is_refused_too():
    # s2's approver expression names a, who is also one of s1's people.
    wf = _workflow(
        ApprovalStep(name="s1", people=["a", "b"]),
        ApprovalStep(name="s2", approver="region"),
    )
    review = _submitted(wf, region="a")
    assert _code(lambda: wf.approve(review, Actor("a"), now=T0)) == "workflow.not_distinct"
    after_b = wf.approve(review, Actor("b"), now=T0).instance
    assert wf.approve(after_b, Actor("a"), now=T0).instance.state == "ok"


def test_a_delegate_may_not_approve_for_someone_when_a_later_step_needs_the_delegate():
    # s1: a; s2: b. a delegates to b; b approving s1 for a would spend b, whom s2 needs.
    wf = _workflow(ApprovalStep(name="s1", people=["a"]), ApprovalStep(name="s2", people=["b"]))
    review = wf.delegate(_submitted(wf), Actor("a"), "b", now=T0).instance
    refused = _code(lambda: wf.approve(review, Actor("b"), now=T0, on_behalf_of="a"))
    assert refused == "workflow.not_distinct"
    after_a = wf.approve(review, Actor("a"), now=T0).instance
    assert wf.approve(after_a, Actor("b"), now=T0).instance.state == "ok"


def test_a_pending_veto_step_nobody_can_still_decide_counts_as_rejected():
    # A progress left by older rules: a approved s1, s2 has only a, who is spent. The
    # step cannot reach its quorum of 1 (0 approvals + nobody left), so it is rejected
    # rather than left hanging; the same step with a role holder is assumed reachable.
    s1 = PlannedStep("s1", frozenset(), frozenset({"a", "b"}), 1)
    s2 = PlannedStep("s2", frozenset(), frozenset({"a"}), 1)
    stuck = ApprovalProgress(
        "req", (s1, s2), current=1, decisions=(Decision("s1", "a", "a", "approve", T0),)
    )
    assert stuck.rejected
    by_role = PlannedStep("s2", frozenset({"mgr"}), frozenset({"a"}), 1)
    assert not ApprovalProgress("req", (s1, by_role), 1, stuck.decisions).rejected


@pytest.mark.parametrize("to", [None, 42, ""])
def test_delegating_to_anything_but_a_person_id_is_refused_at_once(to):
    wf = _board_voting("quorum")
    review = _submitted(wf)
    with pytest.raises(InvalidValueError) as caught:
        wf.delegate(review, Actor("a"), to, now=T0)
    assert caught.value.code == "workflow.bad_actor"
    assert review.approval.delegations == {}


def test_available_offers_delegate_to_those_who_may_delegate():
    wf = _board()
    review = _submitted(wf)
    offered = {o.event: o.refusal and o.refusal.code for o in wf.available(review, Actor("a"))}
    assert offered["delegate"] is None
    outsider = {o.event: o.refusal and o.refusal.code for o in wf.available(review, Actor("z"))}
    assert outsider["delegate"] == "workflow.not_an_approver"
    locked = _board(delegation=False)
    options = {o.event: o.refusal for o in locked.available(_submitted(locked), Actor("a"))}
    assert options["delegate"].code == "workflow.delegation_not_allowed"


# -- review round 4: per-principal stranding, who the requester is ----------------------


def test_a_delegate_approving_for_a_principal_first_still_completes_the_step_himself():
    # per_principal: s1 needs 2 of [p1, d], s2 needs e. p1 delegates to d. d approving
    # s1 for p1 leaves one approval to give, and d can still give it in his own right;
    # e is left for s2. Both orders are valid, so neither is refused.
    wf = _workflow(
        ApprovalStep(name="s1", people=["p1", "d"], quorum=2),
        ApprovalStep(name="s2", people=["e"]),
        delegate_votes="per_principal",
    )
    review = wf.delegate(_submitted(wf), Actor("p1"), "d", now=T0).instance
    for_p1 = wf.approve(review, Actor("d"), now=T0, on_behalf_of="p1").instance
    both = wf.approve(for_p1, Actor("d"), now=T0, on_behalf_of="d").instance
    assert (both.approval.pending.name, both.approval.approvals_in("s1")) == (
        "s2",
        frozenset({"p1", "d"}),
    )
    assert wf.approve(both, Actor("e"), now=T0).instance.state == "ok"


def test_under_one_say_per_step_the_delegate_for_a_principal_has_no_own_say_left():
    # Under delegate_votes "one" d decides once in s1: after "d for p1", s1's second
    # approval and s2 would both need x, one person for two places: refused.
    wf = _workflow(
        ApprovalStep(name="s1", people=["p1", "d", "x"], quorum=2),
        ApprovalStep(name="s2", people=["x"]),
    )
    review = wf.delegate(_submitted(wf), Actor("p1"), "d", now=T0).instance
    refused = _code(lambda: wf.approve(review, Actor("d"), now=T0, on_behalf_of="p1"))
    assert refused == "workflow.not_distinct"


def _routed():
    """zhou (sales and manager) submits draft -> queued; a job routes queued -> review."""
    return Workflow(
        WorkflowDefinition(
            name="w",
            initial="draft",
            roles=["sales", "mgr"],
            states=[
                State(name="draft"),
                State(name="queued"),
                State(
                    name="review",
                    approval=Approval(
                        steps=[ApprovalStep(name="m", roles=["mgr"])],
                        approved="done",
                        rejected="draft",
                    ),
                ),
                State(
                    name="board",
                    approval=Approval(
                        steps=[ApprovalStep(name="b", roles=["mgr"])],
                        approved="done",
                        rejected="draft",
                    ),
                ),
                State(name="done", terminal=True),
            ],
            transitions=[
                Transition(event="submit", source="draft", target="queued"),
                Transition(event="route", source="queued", target="review"),
                Transition(event="amend", source="review", target="review"),
                Transition(event="escalate", source="review", target="board", roles=["mgr"]),
                Transition(event="withdraw", source="review", target="queued"),
            ],
        )
    )


@pytest.mark.parametrize(
    "job",
    [SYSTEM, Actor("system", {"system"}), Actor("system")],
    ids=["SYSTEM", "equal-to-SYSTEM", "system-without-roles"],
)
def test_a_host_job_firing_as_system_keeps_the_submitter_as_the_requester(job):
    # Before, only the tick and the approvals' own moves kept the requester: a job
    # firing "route" as system became the requester, and zhou approved his own deal.
    wf = _routed()
    queued = wf.fire(wf.start("D", now=T0), "submit", ZHOU, now=T0).instance
    review = wf.fire(queued, "route", job, now=T0).instance
    assert (review.requester, review.approval.requester) == ("zhou", "zhou")
    assert _code(lambda: wf.approve(review, ZHOU, now=T0)) == "workflow.self_approval"
    assert wf.approve(review, Actor("boss", {"mgr"}), now=T0).instance.state == "done"


def test_a_host_job_firing_under_its_own_id_becomes_the_requester_as_documented():
    wf = _routed()
    queued = wf.fire(wf.start("D", now=T0), "submit", ZHOU, now=T0).instance
    review = wf.fire(queued, "route", Actor("router"), now=T0).instance
    assert review.approval.requester == "router"


@pytest.mark.parametrize("event", ["amend", "escalate"])
def test_a_move_out_of_an_approval_by_another_person_keeps_the_requester(event):
    # boss re-enters review (amend) or moves the request on to the board (escalate):
    # the request is still zhou's, who may approve neither.
    wf = _routed()
    queued = wf.fire(wf.start("D", now=T0), "submit", ZHOU, now=T0).instance
    review = wf.fire(queued, "route", SYSTEM, now=T0).instance
    moved = wf.fire(review, event, Actor("boss", {"mgr"}), now=T0).instance
    assert (moved.requester, moved.approval.requester) == ("zhou", "zhou")
    assert _code(lambda: wf.approve(moved, ZHOU, now=T0)) == "workflow.self_approval"


@pytest.mark.parametrize(
    "admin", [Actor("admin", {"ops"}), Actor("system", {"system"})], ids=["admin", "system"]
)
def test_migrating_keeps_the_requester_whoever_migrates(admin):
    v1 = _routed()
    v2 = Workflow(v1.definition.model_copy(update={"version": 2}))
    queued = v1.fire(v1.start("D", now=T0), "submit", ZHOU, now=T0).instance
    review = v1.fire(queued, "route", SYSTEM, now=T0).instance
    migrated = v2.migrate(review, now=T0, actor=admin).instance
    assert (migrated.requester, migrated.approval.requester) == ("zhou", "zhou")
    assert migrated.history[-1].actor == admin.id  # who migrated is on the step
    assert _code(lambda: v2.approve(migrated, ZHOU, now=T0)) == "workflow.self_approval"


def test_the_fast_path_keeps_the_requester_exactly_as_the_general_path():
    # submit (draft -> queued) and withdraw (review -> queued) take the fast path:
    # system keeps the requester, and so does a move out of a state with an approval;
    # a person moving out of a state without one takes it.
    wf = _routed()
    draft = wf.start("D", now=T0, actor=ZHOU)
    review = wf.fire(wf.fire(draft, "submit", ZHOU, now=T0).instance, "route", SYSTEM, now=T0)
    cases = [
        (draft, "submit", SYSTEM, "zhou"),
        (draft, "submit", Actor("system"), "zhou"),
        (draft, "submit", SALES, "li.na"),
        (review.instance, "withdraw", Actor("boss", {"mgr"}), "zhou"),
    ]
    for before, event, actor, expected in cases:
        fast = wf.fire(before, event, actor, now=T0).instance
        general = wf._attempt(before, event, actor, None, T0, system=False).instance
        assert fast.requester == general.requester == expected, (event, actor)
