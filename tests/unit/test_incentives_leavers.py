"""Statements of payees who have left the plan (decision D2).

A payee on the plan at some time in the fiscal year keeps a statement in every later
period of it: it holds what still concerns them (the clawback of a deal they were paid
for, a late change to a period they worked, an adjustment), never a draw, and nothing
newly earned. Every case runs both engines and checks they give the same run.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

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


# -- the yearly steps keep working after a payee leaves (decision D3) --------------------
#
# Off the plan nothing new is earned, but the yearly cap (a component's or the plan's)
# and a year-window gate keep applying the limit and the outcome of the payee's last
# period on the plan, so a clawback after leaving gives back what they held: the year
# nets what it would for a payee who stayed. Nothing is read for an off-plan period.


def _tenth(*, cap: str | None = None, gate: bool = False, accumulate: str = "period") -> Plan:
    """10% of each deal, rated on its own, clawed back within 90 days.

    ``cap``: ``"component"`` or ``"plan"`` caps the year at 1 x the target incentive;
    ``gate``: nothing is paid below 100% of the bookings quota to date.
    """
    component: dict[str, object] = {
        "kind": "commission",
        "id": "c",
        "measure": "bookings",
        "rating": "individual",
        "accumulate": accumulate,
        "table": {"tiers": [{"start": 0, "rate": "0.1"}]},
        "clawback": {"within_days": 90},
    }
    data: dict[str, object] = {
        "id": "ae",
        "currency": C,
        "fiscal_year": 2027,
        "rounding": "half_up",
        "measures": {"bookings": {"quota": gate}},
        "components": [component],
    }
    if cap == "component":
        component["cap"] = {"target_incentive_multiple": 1}
    if cap == "plan":
        data["cap"] = {"target_incentive_multiple": 1}
    if gate:
        component["gate"] = {"measure": "bookings", "attainment": 1}
    return load_plan(data)


def _year(
    plan: Plan,
    transactions: list[Transaction],
    roster: list[Assignment],
    through: int,
    **arguments: object,
) -> list[PayoutRun]:
    """Close every month from January through ``through`` with both engines, checked equal."""
    ledgers = {"reference": Ledger(), "batch": Ledger()}
    runs: list[PayoutRun] = []
    for month in range(1, through + 1):
        pair = [
            calculate(
                plan,
                transactions,
                roster,
                period=f"FY2027-M{month:02}",
                ledger=ledgers[engine],
                engine=engine,
                **arguments,  # type: ignore[arg-type]
            )
            for engine in ("reference", "batch")
        ]
        assert pair[0] == pair[1]
        assert pair[0].to_dict() == pair[1].to_dict()
        for engine, run in zip(ledgers, pair, strict=True):
            ledgers[engine] = ledgers[engine].record(run)
        runs.append(pair[0])
    return runs


def _net(runs: list[PayoutRun], payee: str) -> Money:
    return Money.sum((run.statement(payee).total for run in runs), C)


def _left_end_of_february(target: str = "10000") -> list[Assignment]:
    return [Assignment("ann", "ae", end=dt.date(2027, 2, 28), target_incentive=Money(target, C))]


def _january_deal(amount: str) -> list[Transaction]:
    # Dated 10 January, cancelled 10 March (59 days later, within the 90): after leaving.
    return [deal("t1", dt.date(2027, 1, 10), amount, "ann", cancelled=dt.date(2027, 3, 10))]


@pytest.mark.parametrize(("cap", "note"), [("component", "per_year"), ("plan", "plan_per_year")])
def test_a_yearly_cap_gives_back_its_cut_when_a_leavers_deal_is_clawed_back(
    cap: str, note: str
) -> None:
    runs = _year(_tenth(cap=cap), _january_deal("150000"), _left_end_of_february(), 3)
    january, _, march = runs

    def shown(run: PayoutRun) -> list[tuple[str, str | None, str]]:
        return [(ln.kind, ln.note, str(ln.amount)) for ln in run.statement("ann").lines]

    # January: 150,000 x 10% = 15,000, held to the year's 1 x 10,000 TI: cut 5,000.
    assert shown(january) == [("credit", None, "15000.00 CNY"), ("cap", note, "-5000.00 CNY")]
    # March, after leaving: the clawback takes back the 15,000 line; the year to date
    # is S = 15,000 - 15,000 = 0, C = min(0, 10,000) = 0, so the period pays
    # 0 - 10,000 = -10,000: the cap gives back its 5,000.
    assert shown(march) == [("clawback", None, "-15000.00 CNY"), ("cap", note, "5000.00 CNY")]
    # The year: 10,000 paid in January, 10,000 taken back in March: 0, as for a stayer.
    assert _net(runs, "ann") == Money("0", C)


def test_a_year_gate_gives_back_what_it_held_when_a_leavers_deal_is_clawed_back():
    quotas = {"bookings": {("ann", f"FY2027-M{m:02}"): Money("100000", C) for m in range(1, 13)}}
    plan = _tenth(gate=True, accumulate="year")
    runs = _year(plan, _january_deal("10000"), _left_end_of_february(), 3, quotas=quotas)
    january, february, march = runs
    # January: 10,000 x 10% = 1,000, but 10,000 / 100,000 = 10% < 100%: all held.
    assert _shown(january, "ann") == [("credit", "1000.00 CNY"), ("gate", "-1000.00 CNY")]
    assert _shown(february, "ann") == []
    # March, after leaving, the gate stands as in February (10,000 / 200,000 = 5%,
    # closed), nothing of March is read: T = 1,000 - 1,000 = 0, G = 0, so the period
    # pays G - G before = 0: the gate line +1,000 cancels the -1,000 clawback.
    assert _shown(march, "ann") == [("clawback", "-1000.00 CNY"), ("gate", "1000.00 CNY")]
    gate = march.statement("ann").lines[1]
    assert (gate.attainment, gate.threshold, str(gate.basis)) == (
        Decimal("0.05"),
        Decimal(1),
        "-1000.00 CNY",
    )
    assert _net(runs, "ann") == Money("0", C)


@pytest.mark.parametrize("cap", ["component", "plan"])
def test_a_leavers_clawback_takes_back_all_of_a_deal_the_yearly_cap_did_not_cut(cap: str) -> None:
    runs = _year(_tenth(cap=cap), _january_deal("50000"), _left_end_of_february(), 3)
    # January: 50,000 x 10% = 5,000, below the 10,000 limit: paid in full, no cap line.
    assert _shown(runs[0], "ann") == [("credit", "5000.00 CNY")]
    # March: S = 5,000 - 5,000 = 0 <= 10,000: the cap does not come in; -5,000.
    assert _shown(runs[2], "ann") == [("clawback", "-5000.00 CNY")]
    assert _net(runs, "ann") == Money("0", C)


def test_a_rejoiners_clawback_in_the_gap_gives_back_and_the_cap_holds_on_return():
    roster = [
        Assignment("ann", "ae", end=dt.date(2027, 2, 28), target_incentive=Money("10000", C)),
        Assignment("ann", "ae", start=dt.date(2027, 5, 1), target_incentive=Money("10000", C)),
    ]
    transactions = [*_january_deal("150000"), deal("t2", dt.date(2027, 5, 12), "120000", "ann")]
    runs = _year(_tenth(cap="component"), transactions, roster, 5)
    january, february, march, april, may = runs
    # January: 15,000 cut by 5,000 to the 10,000 limit (S 15,000, C 10,000).
    assert _shown(january, "ann") == [("credit", "15000.00 CNY"), ("cap", "-5000.00 CNY")]
    assert _shown(february, "ann") == []
    # March, off the plan in the gap: S = 0, C = min(0, 10,000) = 0: -15,000 + 5,000.
    assert _shown(march, "ann") == [("clawback", "-15000.00 CNY"), ("cap", "5000.00 CNY")]
    assert _shown(april, "ann") == []
    # May, back on the plan: 120,000 x 10% = 12,000; S = 12,000, C = min(12,000,
    # 10,000) = 10,000, so May pays 10,000 - 0: a 2,000 cut.
    assert _shown(may, "ann") == [("credit", "12000.00 CNY"), ("cap", "-2000.00 CNY")]
    # The year: 10,000 - 10,000 + 10,000 = 10,000, the limit, as for a payee who stayed.
    assert _net(runs, "ann") == Money("10000", C)


def test_a_year_gate_reads_no_quota_for_the_months_after_the_payee_left():
    # Quotas only for the months ann was on the plan: 100,000 in January, 20,000 in
    # February. Nothing after February may be read, or the runs would raise no_quota.
    quotas = {
        "bookings": {
            ("ann", "FY2027-M01"): Money("100000", C),
            ("ann", "FY2027-M02"): Money("20000", C),
        }
    }
    transactions = [
        deal("t1", dt.date(2027, 1, 10), "100000", "ann"),
        deal("t2", dt.date(2027, 1, 20), "20000", "ann", cancelled=dt.date(2027, 3, 10)),
    ]
    plan = _tenth(gate=True, accumulate="year")
    runs = _year(plan, transactions, _left_end_of_february(), 12, quotas=quotas)
    # January: 120,000 / 100,000 = 120%, open: 10,000 + 2,000 = 12,000.
    assert _shown(runs[0], "ann") == [("credit", "10000.00 CNY"), ("credit", "2000.00 CNY")]
    # February: 120,000 / 120,000 = 100%, still open; nothing new.
    assert _shown(runs[1], "ann") == []
    # March: the open gate of February stands, so the clawback takes back all of
    # t2's 2,000 (T = 10,000 = G); no gate line. Later months: nothing.
    assert _shown(runs[2], "ann") == [("clawback", "-2000.00 CNY")]
    assert all(_shown(run, "ann") == [] for run in runs[3:])
    assert _net(runs, "ann") == Money("10000", C)
