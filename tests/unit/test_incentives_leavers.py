"""Statements of payees who have left the plan (decision D2).

A payee on the plan at some time in the fiscal year keeps a statement in every later
period of it: it holds what still concerns them (the clawback of a deal they were paid
for, a late change to a period they worked, an adjustment), never a draw, and nothing
newly earned. Every case runs both engines and checks they give the same run.
"""

from __future__ import annotations

import datetime as dt

import pytest

from salesflow.errors import InvalidValueError
from salesflow.incentives import (
    Adjustment,
    Assignment,
    Ledger,
    PayoutRun,
    Plan,
    Transaction,
    calculate,
    load_plan,
)
from salesflow.money import Money

C = "CNY"


def _plan(*, draw: bool = False) -> Plan:
    # 5% of each deal, rated on its own; deals cancelled within 90 days are clawed back.
    data: dict[str, object] = {
        "id": "ae",
        "currency": C,
        "fiscal_year": 2027,
        "rounding": "half_up",
        "measures": {"bookings": {}},
        "components": [
            {
                "kind": "commission",
                "id": "commission",
                "measure": "bookings",
                "rating": "individual",
                "accumulate": "period",
                "table": {"tiers": [{"start": 0, "rate": "0.05"}]},
                "clawback": {"within_days": 90},
            }
        ],
    }
    if draw:
        data["draw"] = {"amount": "1000", "recoverable": True}
    return load_plan(data)


# ann leaves on 28 February; bob stays all year.
ROSTER = [Assignment("ann", "ae", end=dt.date(2027, 2, 28)), Assignment("bob", "ae")]


def deal(tid: str, on: dt.date, amount: str, owner: str, **extra: object) -> Transaction:
    return Transaction(tid, on, Money(amount, C), owner, **extra)  # type: ignore[arg-type]


def deals() -> list[Transaction]:
    # ann's January deal is cancelled on 5 March, 54 days later: within the 90 days.
    return [
        deal("t1", dt.date(2027, 1, 10), "10000", "ann", cancelled=dt.date(2027, 3, 5)),
        deal("t2", dt.date(2027, 1, 12), "20000", "bob"),
    ]


def _run(period: str, ledger: Ledger, **arguments: object) -> PayoutRun:
    """Both engines' run, checked equal."""
    plan = arguments.pop("plan", _plan())
    transactions = arguments.pop("transactions", deals())
    runs = [
        calculate(
            plan, transactions, ROSTER, period=period, ledger=ledger, engine=engine, **arguments
        )
        for engine in ("reference", "batch")
    ]
    assert runs[0] == runs[1]
    assert runs[0].to_dict() == runs[1].to_dict()
    return runs[0]


def _closed_through(month: int, **arguments: object) -> Ledger:
    ledger = Ledger()
    for m in range(1, month + 1):
        ledger = ledger.record(_run(f"FY2027-M{m:02}", ledger, **arguments))
    return ledger


def _shown(run: PayoutRun, payee: str) -> list[tuple[str, str]]:
    return [(line.kind, str(line.amount)) for line in run.statement(payee).lines]


def test_a_leavers_clawback_is_on_their_statement_after_they_left():
    run = _run("FY2027-M03", _closed_through(2))
    assert run.payees == ("ann", "bob")
    # t1 earned 10,000 x 5% = 500.00 in January; cancelled in March: -500.00.
    assert _shown(run, "ann") == [("clawback", "-500.00 CNY")]
    assert run.statement("ann").total == Money("-500.00", C)
    assert run.total == Money("-500.00", C)  # bob earns nothing in March


def test_a_leaver_gets_no_draw_and_keeps_the_balance_owed():
    plan = _plan(draw=True)
    ledger = _closed_through(2, plan=plan)
    # January: ann earns 500.00, the draw tops up 500.00 (owed 500.00); February: she
    # earns nothing, the draw tops up 1,000.00 (owed 1,500.00).
    assert ledger.draw_balance("ann", "ae") == Money("1500.00", C)
    run = _run("FY2027-M03", ledger, plan=plan)
    # March, after leaving: the clawback only; no draw, the 1,500.00 still owed.
    assert _shown(run, "ann") == [("clawback", "-500.00 CNY")]
    assert run.draw_balances["ann"] == Money("1500.00", C)
    # bob, still on the plan: 20,000 x 5% = 1,000.00 in January, nothing since, so the
    # draw tops March up to 1,000.00 (owed 1,000.00 from February plus 1,000.00).
    assert _shown(run, "bob") == [("draw", "1000.00 CNY")]


def test_a_leaver_with_nothing_left_has_an_empty_statement():
    ledger = _closed_through(3)
    run = _run("FY2027-M04", ledger)
    assert run.statement("ann").lines == ()
    assert str(run.statement("ann").total) == "0.00 CNY"


def test_a_late_change_to_a_period_a_leaver_worked_is_recalculated_after_they_left():
    ledger = _closed_through(3)
    late = [*deals(), deal("t3", dt.date(2027, 2, 20), "4000", "ann")]  # known in April
    run = _run("FY2027-M04", ledger, transactions=late)
    # February recomputed: 4,000 x 5% = 200.00, stated 0.
    assert _shown(run, "ann") == [("recalculation", "200.00 CNY")]
    assert run.statement("ann").lines[0].period == "FY2027-M02"


def test_an_adjustment_for_a_leaver_is_paid_and_one_for_a_stranger_is_refused():
    fee = Adjustment("ann", "ae", "FY2027-M03", Money("-80", C), "laptop not returned", "lea")
    run = _run("FY2027-M03", _closed_through(2), adjustments=[fee])
    assert _shown(run, "ann") == [("clawback", "-500.00 CNY"), ("adjustment", "-80 CNY")]
    stranger = Adjustment("cy", "ae", "FY2027-M03", Money("50", C), "welcome", "lea")
    for engine in ("reference", "batch"):
        with pytest.raises(InvalidValueError, match="'cy' has no statement") as raised:
            calculate(
                _plan(),
                deals(),
                ROSTER,
                period="FY2027-M03",
                ledger=Ledger(),
                adjustments=[stranger],
                engine=engine,
            )
        assert raised.value.code == "incentives.no_statement"
        assert str(raised.value.location) == "adjustments[0].payee"


def test_a_joiner_has_no_statement_before_joining():
    roster = [*ROSTER, Assignment("dee", "ae", start=dt.date(2027, 6, 1))]
    for engine in ("reference", "batch"):
        run = calculate(
            _plan(),
            deals(),
            roster,
            period="FY2027-M05",
            ledger=Ledger(),
            engine=engine,
        )
        assert run.payees == ("ann", "bob")
