"""The batch engine's statements built in bulk: lines and statements set field by field
equal those built one by one; one payee's statement built on demand equals the run's;
a run's statements built on first read (`StatementsOnUse`) and its `earned` made on
first use; the ledger read for many payees at once; and the split checks that the
batch engine runs over columns."""

from __future__ import annotations

import copy
import datetime as dt
import operator
import pickle
import threading
import time
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
from salesflow.incentives._run import BuiltOnUse, StatementsOnUse
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


def _on_use(count: int, pause: float = 0) -> tuple[StatementsOnUse, list[tuple[int, int]]]:
    """``count`` one-line statements on use, payees p000, p001, ...; the calls recorded.

    The builder sleeps ``pause`` seconds first (a slow build lets threads meet).
    """
    payees = [f"p{n:03}" for n in range(count)]
    totals = [Money(n, C) for n in range(count)]
    calls: list[tuple[int, int]] = []

    def build(first: int, stop: int) -> list[Statement]:
        calls.append((first, stop))
        time.sleep(pause)
        return [
            Statement(payees[n], "ae", "FY2027-M01", (Line("bonus", totals[n]),), totals[n])
            for n in range(first, stop)
        ]

    return StatementsOnUse(payees, totals, [1] * count, build), calls


def test_statements_on_use_build_a_block_on_first_read_and_keep_it():
    block = StatementsOnUse.BLOCK
    statements, calls = _on_use(2 * block + 10)
    assert len(statements) == 2 * block + 10
    assert statements.payees[5] == "p005"
    assert statements.totals[5] == Money(5, C)
    assert not calls  # payees, totals and counts need no statement
    assert statements[block + 1].payee == f"p{block + 1:03}"
    assert calls == [(block, 2 * block)]
    assert statements[-1].total == Money(2 * block + 9, C)  # the last, partial block
    assert statements[block + 2] is statements[block + 2]  # kept, not built again
    assert calls == [(block, 2 * block), (2 * block, 2 * block + 10)]
    assert statements[1:3] == (statements[1], statements[2])
    with pytest.raises(IndexError):
        statements[2 * block + 10]


def test_iterating_statements_none_of_which_is_built_builds_them_in_one_call():
    statements, calls = _on_use(StatementsOnUse.BLOCK + 1)
    assert [s.payee for s in statements][-1] == f"p{StatementsOnUse.BLOCK:03}"
    assert calls == [(0, StatementsOnUse.BLOCK + 1)]
    assert statements._build is None  # everything kept: the builder is let go


def test_statements_on_use_equal_the_tuple_they_stand_for_and_copy_as_it():
    statements, _ = _on_use(3)
    made, _ = _on_use(3)
    as_tuple = tuple(made)
    assert statements == as_tuple
    assert as_tuple == statements  # the tuple defers to StatementsOnUse
    assert statements == _on_use(3)[0]
    assert statements != as_tuple[:2]
    assert statements != list(as_tuple)  # a list is not a tuple, as for tuples
    assert pickle.loads(pickle.dumps(statements)) == as_tuple  # noqa: S301 - our own bytes
    assert copy.copy(statements) == as_tuple
    assert repr(statements) == repr(as_tuple)


def test_statements_on_use_hash_order_add_and_repeat_as_their_tuple():
    statements, _ = _on_use(3)
    as_tuple = tuple(_on_use(3)[0])
    assert hash(statements) == hash(as_tuple)
    assert statements + as_tuple[:1] == as_tuple + as_tuple[:1]
    assert as_tuple[:1] + statements == as_tuple[:1] + as_tuple
    assert statements * 2 == 2 * statements == as_tuple * 2
    assert statements[:2] < statements  # a prefix sorts first, as for tuples
    assert (statements <= as_tuple, statements >= as_tuple, statements > ()) == (True, True, True)
    with pytest.raises(TypeError, match="combine with a tuple, not list"):
        operator.add(statements, [])


def _reader(
    at: int, statements: StatementsOnUse, barrier: threading.Barrier, read: list[str]
) -> None:
    barrier.wait()  # every thread asks at once
    read.append(statements[at].payee)


def test_threads_reading_at_once_build_each_block_once():
    block = StatementsOnUse.BLOCK
    for _ in range(20):
        statements, calls = _on_use(3 * block, pause=0.002)
        barrier = threading.Barrier(4)
        read: list[str] = []

        threads = [
            threading.Thread(target=_reader, args=(n, statements, barrier, read))
            for n in (0, 1, block + 1, 2)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(read) == sorted(["p000", "p001", f"p{block + 1:03}", "p002"])
        assert sorted(calls) == [(0, block), (block, 2 * block)]
        assert statements._missing == block  # the third block is still to build
        assert len(list(statements)) == 3 * block
        assert statements._build is None


def test_a_builder_giving_other_statements_is_refused():
    def wrong(first: int, stop: int) -> list[Statement]:
        return [Statement("zed", "ae", "FY2027-M01", (), Money(0, C))] * (stop - first)

    statements = StatementsOnUse(["ann"], [Money(0, C)], [0], wrong)
    with pytest.raises(RuntimeError, match="other statements than those of payees 0 to 0"):
        statements[0]
    with pytest.raises(ValueError, match="one item per statement"):
        StatementsOnUse(["ann"], [], [0], wrong)
    zero = Money(0, C)
    for unsorted in (["bob", "ann"], ["ann", "ann"]):  # bisection needs sorted, unique
        with pytest.raises(ValueError, match="payees must be sorted, each once"):
            StatementsOnUse(unsorted, [zero, zero], [0, 0], wrong)


def test_a_batch_runs_totals_payees_and_frame_need_no_line_and_equal_the_references():
    pytest.importorskip("pandas", reason="PayoutRun.to_frame needs the [dataframe] extra")
    ledger = _ledger_through("FY2027-M02", deals()[:3])
    arguments = {"period": "FY2027-M03", "ledger": ledger}
    batch = calculate(PLAN, deals(), ON_PLAN, engine="batch", **arguments)  # type: ignore[arg-type]
    reference = calculate(PLAN, deals(), ON_PLAN, engine="reference", **arguments)  # type: ignore[arg-type]
    statements = batch.statements
    assert isinstance(statements, StatementsOnUse)
    assert batch.payees == reference.payees == ("ann", "bob", "cy")
    assert batch.total == reference.total
    assert batch.to_frame().equals(reference.to_frame())
    assert batch.draw_balances == reference.draw_balances
    assert statements._missing == len(statements)  # still no statement built
    # The counts are the lines each statement has once built.
    assert statements.line_counts == tuple(len(s.lines) for s in reference.statements)
    assert batch.statement("bob") == reference.statement("bob")
    assert batch == reference
    assert batch.to_dict() == reference.to_dict()


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
