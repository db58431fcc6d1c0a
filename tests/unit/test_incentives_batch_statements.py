"""The batch engine's statements built in bulk: lines and statements set field by field
equal those built one by one; one payee's statement built on demand equals the run's;
a run's `earned` made on first use; the ledger read for many payees at once; and the
split checks that the batch engine runs over columns."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from salesflow.errors import SalesflowError
from salesflow.incentives import (
    Adjustment,
    Assignment,
    Ledger,
    Split,
    Transaction,
    TransactionTable,
    calculate,
    calculate_columns,
    load_plan,
)
from salesflow.incentives._run import BuiltOnUse
from salesflow.incentives._statement import (
    Line,
    Statement,
    lines_from_columns,
    statements_from_columns,
)
from salesflow.money import Money

C = "CNY"
ON_PLAN = [Assignment(name, "ae") for name in ("ann", "bob", "cy")]
# 3% to 20,000 of the year's running total, 5% above; 3,000 a month at most; a
# recoverable draw of 1,000 a month; deals cancelled within 90 days are clawed back.
PLAN = load_plan(
    {
        "id": "ae",
        "currency": C,
        "fiscal_year": 2027,
        "rounding": "half_up",
        "measures": {"bookings": {}},
        "draw": {"amount": "1000", "recoverable": True},
        "components": [
            {
                "kind": "commission",
                "id": "commission",
                "measure": "bookings",
                "rating": "cumulative",
                "accumulate": "year",
                "table": {
                    "tiers": [
                        {"start": 0, "end": 20000, "rate": "0.03"},
                        {"start": 20000, "rate": "0.05"},
                    ]
                },
                "cap": {"per_period": "3000"},
                "clawback": {"within_days": 90},
            }
        ],
    }
)


def deal(tid: str, on: dt.date, amount: str, owner: str, **extra: object) -> Transaction:
    return Transaction(tid, on, Money(amount, C), owner, **extra)  # type: ignore[arg-type]


def deals() -> list[Transaction]:
    return [
        deal("t1", dt.date(2027, 1, 5), "15000", "ann"),
        deal(
            "t2",
            dt.date(2027, 1, 20),
            "10000",
            "ann",
            splits=(Split("ann", Decimal("0.6")), Split("bob", Decimal("0.4"))),
        ),
        deal("t3", dt.date(2027, 2, 3), "90000", "ann", cancelled=dt.date(2027, 3, 1)),
        deal("t4", dt.date(2027, 3, 9), "2000", "bob"),
        deal("t5", dt.date(2027, 3, 10), "500", "ann"),
    ]


def test_lines_built_from_columns_equal_lines_built_one_by_one():
    money = [Money("1.00", C), Money("-2.50", C)]
    built = lines_from_columns(
        2,
        {"amount": money, "transaction": ["t1", "t2"], "tiers": [(0,), (0, 1)]},
        kind="credit",
        component="commission",
    )
    assert built == [
        Line(kind="credit", amount=money[0], component="commission", transaction="t1", tiers=(0,)),
        Line(
            kind="credit", amount=money[1], component="commission", transaction="t2", tiers=(0, 1)
        ),
    ]
    assert built[1].rates == ()  # a field given nowhere takes its default
    assert hash(built[0]) == hash(
        Line(kind="credit", amount=money[0], component="commission", transaction="t1", tiers=(0,))
    )


def test_lines_from_columns_refuse_an_unknown_field_and_a_missing_amount():
    with pytest.raises(TypeError, match="no field 'amout'"):
        lines_from_columns(1, {"amout": [Money("1", C)]}, kind="credit")
    with pytest.raises(TypeError, match="needs 'amount'"):
        lines_from_columns(1, {}, kind="credit")


def test_statements_from_columns_equal_statements_built_one_by_one():
    total = Money("0.00", C)
    built = statements_from_columns(
        1, {"payee": ["ann"], "total": [total], "lines": [()]}, plan="ae", period="P"
    )
    assert built == [Statement(payee="ann", plan="ae", period="P", lines=(), total=total)]
    assert built[0].problems == ()
    with pytest.raises(TypeError, match="needs 'lines'"):
        statements_from_columns(1, {"payee": ["ann"], "total": [total]}, plan="ae", period="P")


def _ledger_through(period: str, transactions: list[Transaction]) -> Ledger:
    run = calculate(PLAN, transactions, ON_PLAN, period=period, ledger=Ledger())
    return Ledger().record(run)


def test_every_statement_built_on_demand_equals_the_runs_and_the_references():
    # Recorded through February from t1-t3. ann: January 21,000 = 20,000 x 3% + 1,000 x
    # 5% = 650; February t3 takes her to 111,000: 4,500 more, cut to the 3,000 cap.
    ledger = _ledger_through("FY2027-M02", deals()[:3])
    adjustments = [
        Adjustment("ann", "ae", "FY2027-M03", Money("-100", C), "training fee", "lea"),
        Adjustment("cy", "ae", "FY2027-M03", Money("50.50", C), "spiff", "lea"),
    ]
    arguments = {"period": "FY2027-M03", "ledger": ledger, "adjustments": adjustments}
    late = [*deals(), deal("t6", dt.date(2027, 1, 30), "1000", "cy")]  # January, known late
    columns = calculate_columns(PLAN, TransactionTable.from_records(late), ON_PLAN, **arguments)  # type: ignore[arg-type]
    run = columns.run()
    assert run == calculate(PLAN, late, ON_PLAN, engine="reference", **arguments)  # type: ignore[arg-type]
    for payee in run.payees:
        assert columns.statement(payee) == run.statement(payee)
    shown = {
        p: [(line.kind, str(line.amount)) for line in run.statement(p).lines] for p in run.payees
    }
    # ann, March: t3's 4,500 line clawed back; t5's 500 at 5% = 25; the adjustment; pay
    # 25 - 4,500 - 100 = -4,575, so the draw adds 1,000 + 4,575 = 5,575.
    assert shown["ann"] == [
        ("credit", "25.00 CNY"),
        ("clawback", "-4500.00 CNY"),
        ("adjustment", "-100 CNY"),  # as given
        ("draw", "5575.00 CNY"),
    ]
    # bob: t4 takes him from 4,000 to 6,000: 2,000 x 3% = 60; the draw adds 940.
    assert shown["bob"] == [("credit", "60.00 CNY"), ("draw", "940.00 CNY")]
    # cy: January recalculated, 1,000 x 3% = 30 (stated 0); the adjustment; the draw
    # adds 1,000 - 30 - 50.50 = 919.50.
    assert shown["cy"] == [
        ("recalculation", "30.00 CNY"),
        ("adjustment", "50.50 CNY"),
        ("draw", "919.50 CNY"),
    ]
    assert run.statement("cy").total == Money("1000", C)


def test_a_payee_without_a_statement_has_none_on_demand():
    columns = calculate_columns(PLAN, deals(), ON_PLAN, period="FY2027-M01", ledger=Ledger())
    with pytest.raises(KeyError, match="'dee' has no statement"):
        columns.statement("dee")


def test_a_runs_earned_is_made_on_first_use_and_equals_the_references():
    arguments = {"period": "FY2027-M03", "ledger": Ledger()}
    batch = calculate(PLAN, deals(), ON_PLAN, engine="batch", **arguments)  # type: ignore[arg-type]
    reference = calculate(PLAN, deals(), ON_PLAN, engine="reference", **arguments)  # type: ignore[arg-type]
    assert isinstance(batch.earned, BuiltOnUse)
    assert batch.earned == reference.earned
    assert reference.earned == batch.earned
    # ann, January: 15,000 and 6,000 of t2 = 21,000: 20,000 x 3% + 1,000 x 5% = 650.
    assert batch.earned[("ann", "commission", "FY2027-M01")] == Money("650", C)
    assert dict(batch.earned.items()) == dict(reference.earned.items())
    assert len(batch.earned) == len(reference.earned)


def test_a_mapping_made_on_use_calls_its_function_once():
    calls: list[int] = []

    def build() -> dict[str, int]:
        calls.append(1)
        return {"a": 1}

    made = BuiltOnUse(build)
    assert not calls
    assert made["a"] == 1
    assert list(made) == ["a"]
    assert made == BuiltOnUse(lambda: {"a": 1})
    assert made != {"a": 2}
    assert calls == [1]


def test_the_ledger_read_for_many_payees_is_what_it_states_for_each():
    ledger = _ledger_through("FY2027-M02", deals())
    payees, periods = ["ann", "bob", "dee"], ["FY2027-M01", "FY2027-M02", "FY2027-M03"]
    assert ledger.stated_many("ae", "commission", payees, periods) == [
        ledger.stated(payee, "ae", "commission", period) for payee in payees for period in periods
    ]
    # recorded and zero: a zero; not recorded: None
    found = ledger.stated_many("ae", "commission", ["bob", "dee"], ["FY2027-M02"])
    assert found == [Money("0", C), None]


def _error(engine: str, transactions: object) -> tuple[object, ...]:
    with pytest.raises(SalesflowError) as caught:
        calculate(
            PLAN,
            transactions,  # type: ignore[arg-type]
            ON_PLAN,
            period="FY2027-M01",
            ledger=Ledger(),
            engine=engine,  # type: ignore[arg-type]
        )
    err = caught.value
    return (type(err), err.code, str(err.location), err.message)


@pytest.mark.parametrize(
    "splits",
    [
        (Split("ann", Decimal("0.5")), Split("ann", Decimal("0.5"))),
        (
            Split("ann", Decimal("0.5")),
            Split("bob", Decimal("0.25")),
            Split("ann", Decimal("0.25")),
        ),
    ],
    ids=["two_splits", "three_splits"],
)
def test_a_payee_twice_in_one_deals_splits_gets_the_references_error(splits):
    records = [
        deal("t1", dt.date(2027, 1, 5), "10", "bob"),
        deal("t2", dt.date(2027, 1, 6), "10", "ann", splits=splits),
    ]
    reference = _error("reference", records)
    assert reference[1] == "incentives.split_duplicate"
    assert _error("batch", TransactionTable.from_records(records)) == reference
