"""The batch engine's own behaviour: the columnar input (`TransactionTable`), its checks
naming the row, errors equal to the reference engine's, int64 overflow refused, the
columnar results, and a hand-worked year rated over arrays."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import numpy as np
import pytest

from salesflow.errors import InvalidValueError, MoneyOverflowError, SalesflowError
from salesflow.incentives import (
    Assignment,
    Ledger,
    Plan,
    Split,
    Transaction,
    TransactionTable,
    calculate,
    calculate_columns,
    load_plan,
)
from salesflow.incentives._batch_credit import _allocated
from salesflow.money import Money, allocate_units

C = "CNY"
ON_PLAN = [Assignment("ann", "ae"), Assignment("bob", "ae")]
# 3% to 20,000 of the year's running total; 5% on all of it from 20,000 (retroactive);
# 8% on the part above 50,000.
TIERS = {
    "tiers": [
        {"start": 0, "end": 20000, "rate": "0.03"},
        {"start": 20000, "end": 50000, "rate": "0.05", "style": "retroactive"},
        {"start": 50000, "rate": "0.08"},
    ]
}


def make_plan(**commission: object) -> Plan:
    component = {
        "kind": "commission",
        "id": "commission",
        "measure": "bookings",
        "rating": "cumulative",
        "accumulate": "year",
        "table": TIERS,
        **commission,
    }
    return load_plan(
        {
            "id": "ae",
            "currency": C,
            "fiscal_year": 2027,
            "rounding": "half_up",
            "fields": {"product": "string?", "seats": "decimal(1)?"},
            "measures": {"bookings": {}},
            "components": [component],
        }
    )


def deal(tid: str, on: dt.date, amount: str, owner: str = "ann", **extra: object) -> Transaction:
    return Transaction(tid, on, Money(amount, C), owner, **extra)  # type: ignore[arg-type]


def days(*texts: str) -> np.ndarray:
    return np.array(texts, dtype="datetime64[D]")


# -- TransactionTable ----------------------------------------------------------------


def test_a_table_of_records_gives_the_same_records_back():
    records = [
        deal("t1", dt.date(2027, 1, 5), "1000.50", fields={"product": "saas"}),
        deal(
            "t2",
            dt.date(2027, 2, 1),
            "300",
            "bob",
            fields={"product": "services", "seats": Decimal("2.5")},
            splits=(Split("bob", Decimal("0.6")), Split("ann", Decimal("0.40"))),
            cancelled=dt.date(2027, 3, 1),
        ),
    ]
    table = TransactionTable.from_records(records)
    assert len(table) == 2
    assert table.amounts.tolist() == [100050, 30000]
    assert table.payees == ("ann", "bob")
    assert list(table) == records


def test_integer_ids_show_as_text_on_records():
    table = TransactionTable.from_arrays(
        ids=np.array([7, 8]),
        dates=days("2027-01-05", "2027-01-06"),
        amounts=np.array([100, 200]),
        currency="CNY",
        owners=np.array(["ann", "ann"]),
    )
    assert [t.id for t in table] == ["7", "8"]


def test_integer_owner_codes_need_the_payees_they_stand_for():
    with pytest.raises(InvalidValueError) as caught:
        TransactionTable.from_arrays(
            ids=np.array([1]),
            dates=days("2027-01-05"),
            amounts=np.array([100]),
            currency="CNY",
            owners=np.array([0]),
        )
    assert caught.value.code == "incentives.invalid_array"
    table = TransactionTable.from_arrays(
        ids=np.array([1, 2]),
        dates=days("2027-01-05", "2027-01-06"),
        amounts=np.array([100, 200]),
        currency="CNY",
        owners=np.array([1, 0]),
        payees=["ann", "bob"],
    )
    assert [t.owner for t in table] == ["bob", "ann"]


def test_a_cancellation_before_its_date_is_refused_naming_the_row():
    with pytest.raises(InvalidValueError) as caught:
        TransactionTable.from_arrays(
            ids=np.array(["a", "b"]),
            dates=days("2027-01-05", "2027-03-01"),
            amounts=np.array([100, 200]),
            currency="CNY",
            owners=np.array(["ann", "ann"]),
            cancelled=days("NaT", "2027-02-01"),
        )
    assert caught.value.code == "incentives.cancelled_before_date"
    assert str(caught.value.location) == "transactions[1].cancelled"


def test_a_missing_date_is_refused_naming_the_row():
    with pytest.raises(InvalidValueError) as caught:
        TransactionTable.from_arrays(
            ids=np.array(["a", "b"]),
            dates=days("2027-01-05", "NaT"),
            amounts=np.array([100, 200]),
            currency="CNY",
            owners=np.array(["ann", "ann"]),
        )
    assert str(caught.value.location) == "transactions[1].date"


@pytest.mark.parametrize("share", ["0", "1.5", 0.5, "abc"])
def test_a_split_share_outside_zero_to_one_or_not_decimal_is_refused(share):
    with pytest.raises(InvalidValueError) as caught:
        TransactionTable.from_arrays(
            ids=np.array(["a"]),
            dates=days("2027-01-05"),
            amounts=np.array([100]),
            currency="CNY",
            owners=np.array(["ann"]),
            split_transaction=np.array([0, 0]),
            split_payee=np.array(["ann", "bob"]),
            split_share=["0.5", share],
        )
    assert caught.value.code == "incentives.invalid_share"
    assert str(caught.value.location) == "splits[1].share"


def test_a_split_of_no_transaction_is_refused():
    with pytest.raises(InvalidValueError) as caught:
        TransactionTable.from_arrays(
            ids=np.array(["a"]),
            dates=days("2027-01-05"),
            amounts=np.array([100]),
            currency="CNY",
            owners=np.array(["ann"]),
            split_transaction=np.array([3]),
            split_payee=np.array(["bob"]),
            split_share=["1"],
        )
    assert caught.value.code == "incentives.invalid_split"
    assert str(caught.value.location) == "splits[0].transaction"


def test_float_amounts_are_refused():
    with pytest.raises(InvalidValueError):
        TransactionTable.from_arrays(
            ids=np.array(["a"]),
            dates=days("2027-01-05"),
            amounts=np.array([1.5]),
            currency="CNY",
            owners=np.array(["ann"]),
        )


def test_splits_are_kept_in_split_order_per_transaction_whatever_the_input_order():
    table = TransactionTable.from_arrays(
        ids=np.array(["a", "b"]),
        dates=days("2027-01-05", "2027-01-06"),
        amounts=np.array([100, 200]),
        currency="CNY",
        owners=np.array(["ann", "ann"]),
        split_transaction=np.array([1, 0, 1]),
        split_payee=np.array(["bob", "ann", "ann"]),
        split_share=["0.5", "1", "0.5"],
    )
    records = list(table)
    assert [s.payee for s in records[0].splits] == ["ann"]
    assert [s.payee for s in records[1].splits] == ["bob", "ann"]


def test_a_frame_gives_the_table_its_columns_give():
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(
        {
            "id": ["t1", "t2"],
            "date": pd.to_datetime(["2027-01-05", "2027-02-01"]),
            "amount": [Decimal("1000.50"), "300"],
            "owner": ["ann", "bob"],
            "cancelled": [pd.NaT, pd.Timestamp("2027-03-01")],
            "product": ["saas", "services"],
        }
    )
    splits = pd.DataFrame(
        {"transaction": ["t2", "t2"], "payee": ["bob", "cy"], "share": ["0.6", "0.4"]}
    )
    table = TransactionTable.from_frame(
        frame, splits, currency="CNY", fields=["product"], field_types={"product": "string"}
    )
    records = list(table)
    assert [t.amount for t in records] == [Money("1000.50", C), Money("300", C)]
    assert records[1].cancelled == dt.date(2027, 3, 1)
    assert [(s.payee, s.share) for s in records[1].splits] == [
        ("bob", Decimal("0.6")),
        ("cy", Decimal("0.4")),
    ]
    assert records[0].fields == {"product": "saas"}


def test_float_amounts_in_a_frame_are_refused():
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(
        {"id": ["t1"], "date": pd.to_datetime(["2027-01-05"]), "amount": [10.5], "owner": ["ann"]}
    )
    with pytest.raises(InvalidValueError) as caught:
        TransactionTable.from_frame(frame, currency="CNY")
    assert caught.value.code == "incentives.float_amount"


# -- the same errors as the reference engine -------------------------------------------


def _error(engine: str, transactions: object, **arguments: object) -> tuple[object, ...]:
    with pytest.raises(SalesflowError) as caught:
        calculate(
            make_plan(),
            transactions,  # type: ignore[arg-type]
            ON_PLAN,
            period="FY2027-M01",
            ledger=Ledger(),
            engine=engine,  # type: ignore[arg-type]
            **arguments,  # type: ignore[arg-type]
        )
    err = caught.value
    return (type(err), err.code, str(err.location), err.message)


@pytest.mark.parametrize(
    ("records", "arguments"),
    [
        # the second t1 repeats the id of the first
        ([deal("t1", dt.date(2027, 1, 5), "1"), deal("t1", dt.date(2027, 1, 6), "1")], {}),
        # 0.6 + 0.3 = 0.9, not 1
        (
            [
                deal(
                    "t1",
                    dt.date(2027, 1, 5),
                    "10",
                    splits=(Split("ann", Decimal("0.6")), Split("bob", Decimal("0.3"))),
                )
            ],
            {},
        ),
        # USD without a rate
        ([Transaction("t1", dt.date(2027, 1, 5), Money("5", "USD"), "ann")], {}),
        ([Transaction("t1", dt.date(2027, 1, 5), Money("5", "USD"), "ann")], {"fx": {"USD": 7}}),
        # 10.005 CNY is between two fen
        ([deal("t1", dt.date(2027, 1, 5), "10.005")], {}),
    ],
    ids=["duplicate_id", "split_sum", "no_exchange_rate", "invalid_exchange_rate", "off_grid"],
)
def test_a_table_gets_the_error_the_reference_engine_gives_its_records(records, arguments):
    reference = _error("reference", records, **arguments)
    assert _error("batch", TransactionTable.from_records(records), **arguments) == reference
    assert _error("batch", records, **arguments) == reference


def test_a_foreign_amount_between_two_cents_converts_exactly_as_the_reference_does():
    # USD 1,000.005 x 7.1 = CNY 7,100.0355, rounded half up to 7,100.04; 5% of it is
    # 355.002, rounded to 355.00.
    records = [Transaction("t1", dt.date(2027, 1, 5), Money("1000.005", "USD"), "ann")]
    arguments = {"period": "FY2027-M01", "ledger": Ledger(), "fx": {"USD": Decimal("7.1")}}
    plan = make_plan(table={"tiers": [{"start": 0, "rate": "0.05"}]})
    batch = calculate(plan, records, ON_PLAN, **arguments)  # type: ignore[arg-type]
    assert batch == calculate(plan, records, ON_PLAN, engine="reference", **arguments)  # type: ignore[arg-type]
    (line,) = batch.statement("ann").lines
    assert (str(line.basis), str(line.amount)) == ("7100.04 CNY", "355.00 CNY")


# -- int64 overflow ----------------------------------------------------------------------


def test_a_running_total_beyond_int64_is_refused_not_wrapped():
    # Two deals of 5 * 10**16 CNY (5 * 10**18 fen each): the running total, 10**19 fen,
    # does not fit int64 (about 9.22 * 10**18).
    big = "50000000000000000"
    records = [deal("t1", dt.date(2027, 1, 5), big), deal("t2", dt.date(2027, 1, 6), big)]
    with pytest.raises(MoneyOverflowError) as caught:
        calculate(make_plan(), records, ON_PLAN, period="FY2027-M01", ledger=Ledger())
    assert caught.value.code == "incentives.int64_overflow"


def test_a_payout_beyond_int64_minor_units_is_refused():
    # 10**13 CNY is 10**15 fen, which fits; at 8% the payout times 10**6 (rates are held
    # to six places) is 8 * 10**19, which does not.
    records = [deal("t1", dt.date(2027, 1, 5), "10000000000000")]
    with pytest.raises(MoneyOverflowError) as caught:
        calculate(make_plan(), records, ON_PLAN, period="FY2027-M01", ledger=Ledger())
    assert caught.value.code == "incentives.int64_overflow"


# -- results as columns ------------------------------------------------------------------


def _year() -> list[Transaction]:
    return [
        deal("t1", dt.date(2027, 1, 10), "15000"),
        # split 60/40: ann 6,000, bob 4,000
        deal(
            "t2",
            dt.date(2027, 1, 20),
            "10000",
            splits=(Split("ann", Decimal("0.6")), Split("bob", Decimal("0.4"))),
        ),
        # cancelled in March, within 90 days: its line is clawed back in March
        deal("t3", dt.date(2027, 2, 3), "40000", cancelled=dt.date(2027, 3, 1)),
    ]


def test_a_year_is_rated_over_arrays_as_worked_by_hand():
    # ann, January: 15,000 at 3% = 450; then 6,000 takes her to 21,000, past 20,000, so
    # all of it is at 5%: 1,050 - 450 = 600. bob: 4,000 at 3% = 120.
    # ann, February: 21,000 -> 61,000: P(61,000) = 50,000 x 5% + 11,000 x 8% = 3,380,
    # less 1,050: 2,330. March: t3 is cancelled: running total back to 21,000, and its
    # line comes back: -2,330.
    columns = calculate_columns(
        make_plan(clawback={"within_days": 90}),
        _year(),
        ON_PLAN,
        period="FY2027-M03",
        ledger=Ledger(),
    )
    assert columns.payees == ("ann", "bob")
    assert columns.periods == ("FY2027-M01", "FY2027-M02", "FY2027-M03")
    assert columns.earned("commission").tolist() == [
        [105000, 233000, -233000],
        [12000, 0, 0],
    ]
    lines = columns.credit_lines("commission")
    by_transaction = {
        (columns.payees[p], int(t)): (int(b), int(a))
        for p, t, b, a in zip(
            lines["payee"], lines["transaction"], lines["before"], lines["amount"], strict=True
        )
    }
    assert by_transaction == {
        ("ann", 0): (0, 45000),
        ("ann", 1): (1500000, 60000),
        ("bob", 1): (0, 12000),
        ("ann", 2): (2100000, 233000),
    }


def test_the_run_of_the_columns_equals_the_reference_run():
    arguments = {"period": "FY2027-M03", "ledger": Ledger()}
    plan = make_plan(clawback={"within_days": 90}, cap={"per_period": "2000"})
    batch = calculate_columns(plan, _year(), ON_PLAN, **arguments).run()  # type: ignore[arg-type]
    reference = calculate(plan, _year(), ON_PLAN, engine="reference", **arguments)  # type: ignore[arg-type]
    assert batch == reference
    # March: the clawback of -2,330, and February's 2,330 cut to the 2,000 cap (a
    # recalculation line for each earlier month, nothing recorded yet).
    ann = batch.statement("ann")
    assert [(line.kind, str(line.amount)) for line in ann.lines] == [
        ("clawback", "-2330.00 CNY"),
        ("recalculation", "1050.00 CNY"),
        ("recalculation", "2000.00 CNY"),
    ]


def test_the_lines_frame_shows_every_credit_line_with_ids_and_labels():
    pd = pytest.importorskip("pandas")
    columns = calculate_columns(make_plan(), _year(), ON_PLAN, period="FY2027-M02", ledger=Ledger())
    frame = columns.lines_frame("commission")
    assert isinstance(frame, pd.DataFrame)
    assert frame["transaction"].tolist() == ["t1", "t2", "t2", "t3"]
    assert frame["amount"].tolist() == [
        Decimal("450.00"),
        Decimal("600.00"),
        Decimal("120.00"),
        Decimal("2330.00"),
    ]


# -- split allocation --------------------------------------------------------------------


def test_split_credit_is_the_largest_remainder_allocation_of_each_deal():
    rng = np.random.default_rng(5)
    shares = [Decimal("0.3333"), Decimal("0.3333"), Decimal("0.3334")]
    amounts = rng.integers(-(10**12), 10**12, 500)
    table = TransactionTable.from_arrays(
        ids=np.arange(500),
        dates=np.full(500, np.datetime64("2027-01-05")),
        amounts=amounts,
        currency="CNY",
        owners=np.zeros(500, dtype=np.int64),
        payees=["ann", "bob", "cy"],
        split_transaction=np.repeat(np.arange(500), 3),
        split_payee=np.tile([0, 1, 2], 500),
        split_share=shares * 500,
    )
    tx = np.repeat(np.arange(500), 3)
    parts = _allocated(amounts, tx, table.splits, np.arange(1500))
    expected = [part for a in amounts.tolist() for part in allocate_units(a, shares)]
    assert parts.tolist() == expected


# -- a paid plan amount beyond int64, and the row a filter's error names -----------------

# 10**17 CNY is 10**19 fen, beyond int64's 9,223,372,036,854,775,807 fen.
HUGE = "100000000000000000"
TEAM = [Assignment("ann", "ae", attributes={"team": "east"})]


def _paying_plan(component: dict[str, object]) -> Plan:
    return load_plan(
        {
            "id": "ae",
            "currency": C,
            "fiscal_year": 2027,
            "rounding": "half_up",
            "measures": {"bookings": {}},
            "components": [{"id": "x", "measure": "bookings", **component}],
        }
    )


_TEN_PERCENT = {
    "kind": "commission",
    "rating": "individual",
    "accumulate": "period",
    "table": {"tiers": [{"start": 0, "rate": "0.1"}]},
}


@pytest.mark.parametrize(
    ("component", "path", "reference_pays"),
    [
        # 10% of 1,000 = 100.00, topped up by the floor to 10**17: a floor line of
        # 10**17 - 100 = 99,999,999,999,999,900.00
        (
            {**_TEN_PERCENT, "floor": {"per_period": HUGE}},
            "plan.components[0].floor.per_period",
            [("credit", "100.00 CNY"), ("floor", "99999999999999900.00 CNY")],
        ),
        (
            {"kind": "bonus", "amount": HUGE, "per": "transaction"},
            "plan.components[0].amount",
            [("bonus", "100000000000000000.00 CNY")],
        ),
        (
            {"kind": "bonus", "amount": HUGE, "per": "period"},
            "plan.components[0].amount",
            [("bonus", "100000000000000000.00 CNY")],
        ),
        # 1,000 reaches the value 1
        (
            {"kind": "milestone", "value": "1", "amount": HUGE, "accumulate": "period"},
            "plan.components[0].amount",
            [("milestone", "100000000000000000.00 CNY")],
        ),
        # ann alone in team east takes the whole pool
        (
            {"kind": "pool", "amount": HUGE, "group_by": "team", "split": "equal"},
            "plan.components[0].amount",
            [("pool", "100000000000000000.00 CNY")],
        ),
        (
            {"kind": "contest", "prizes": [HUGE], "ties": "share", "accumulate": "period"},
            "plan.components[0].prizes[0]",
            [("contest", "100000000000000000.00 CNY")],
        ),
    ],
    ids=["floor", "bonus_per_transaction", "bonus_per_period", "milestone", "pool", "contest"],
)
def test_a_paid_plan_amount_beyond_int64_is_refused_at_its_path(component, path, reference_pays):
    plan = _paying_plan(component)
    records = [deal("t1", dt.date(2027, 1, 5), "1000")]
    arguments = {"period": "FY2027-M01", "ledger": Ledger()}
    reference = calculate(plan, records, TEAM, engine="reference", **arguments)  # type: ignore[arg-type]
    lines = reference.statement("ann").lines
    assert [(line.kind, str(line.amount)) for line in lines] == reference_pays
    with pytest.raises(MoneyOverflowError) as caught:
        calculate(plan, records, TEAM, **arguments)  # type: ignore[arg-type]
    assert (caught.value.code, caught.value.path) == ("incentives.int64_overflow", path)


def test_bonuses_that_fit_one_by_one_but_not_together_are_refused_not_wrapped():
    # 5 * 10**16 CNY is 5 * 10**18 fen: one bonus fits int64 (9.22 * 10**18), two are
    # 10**19 fen, which the earned matrix would wrap to a negative number.
    plan = _paying_plan({"kind": "bonus", "amount": "50000000000000000", "per": "transaction"})
    records = [deal("t1", dt.date(2027, 1, 5), "1000"), deal("t2", dt.date(2027, 1, 6), "1000")]
    arguments = {"period": "FY2027-M01", "ledger": Ledger()}
    reference = calculate(plan, records, TEAM, engine="reference", **arguments)  # type: ignore[arg-type]
    assert str(reference.statement("ann").total) == "100000000000000000.00 CNY"
    with pytest.raises(MoneyOverflowError) as caught:
        calculate(plan, records, TEAM, **arguments)  # type: ignore[arg-type]
    assert (caught.value.code, caught.value.path) == (
        "incentives.int64_overflow",
        "plan.components[0].amount",
    )
    # One such bonus is paid by both engines.
    one = calculate(plan, records[:1], TEAM, **arguments)  # type: ignore[arg-type]
    assert str(one.statement("ann").total) == "50000000000000000.00 CNY"


def test_a_prize_beyond_int64_shared_by_a_tie_is_paid_as_the_reference_pays_it():
    # ann and bob tie at 1,000 and share ranks 1 and 2: 1.2 * 10**17 + 0 CNY, halved,
    # is 6 * 10**16 CNY (6 * 10**18 fen, within int64) each.
    plan = _paying_plan(
        {
            "kind": "contest",
            "prizes": ["120000000000000000"],
            "ties": "share",
            "accumulate": "period",
        }
    )
    records = [
        deal("t1", dt.date(2027, 1, 5), "1000"),
        deal("t2", dt.date(2027, 1, 5), "1000", "bob"),
    ]
    arguments = {"period": "FY2027-M01", "ledger": Ledger()}
    batch = calculate(plan, records, ON_PLAN, **arguments)  # type: ignore[arg-type]
    assert batch == calculate(plan, records, ON_PLAN, engine="reference", **arguments)  # type: ignore[arg-type]
    for payee in ("ann", "bob"):
        (line,) = batch.statement(payee).lines
        assert str(line.amount) == "60000000000000000.00 CNY"


def test_a_milestone_beyond_int64_never_reached_pays_nothing_in_both_engines():
    # 1,000 stays below the value 1,000,000: nothing is paid, so nothing is refused
    plan = _paying_plan(
        {"kind": "milestone", "value": "1000000", "amount": HUGE, "accumulate": "period"}
    )
    records = [deal("t1", dt.date(2027, 1, 5), "1000")]
    arguments = {"period": "FY2027-M01", "ledger": Ledger()}
    batch = calculate(plan, records, ON_PLAN, **arguments)  # type: ignore[arg-type]
    assert batch == calculate(plan, records, ON_PLAN, engine="reference", **arguments)  # type: ignore[arg-type]
    assert batch.statement("ann").lines == ()


def _seats_table(seats: object, dates: list[str]) -> TransactionTable:
    return TransactionTable.from_arrays(
        ids=np.array([f"t{i}" for i in range(len(dates))]),
        dates=np.array(dates, dtype="datetime64[D]"),
        amounts=np.full(len(dates), 1000),
        currency=C,
        owners=np.array(["ann"] * len(dates)),
        fields={"seats": seats},  # type: ignore[dict-item]
        field_types={"seats": "int"},
    )


def _field_plan(kind: str = "int", where: str = "seats > 3") -> Plan:
    """10% of each deal whose field passes ``where``."""
    name = where.split(maxsplit=1)[0]
    return load_plan(
        {
            "id": "ae",
            "currency": C,
            "fiscal_year": 2027,
            "rounding": "half_up",
            "fields": {name: kind},
            "measures": {"bookings": {"where": where}},
            "components": [{"id": "x", "measure": "bookings", **_TEN_PERCENT}],
        }
    )


def test_a_null_further_down_a_masked_field_is_located_at_its_transaction():
    # t1 (2026) is outside the year, so the filter's column holds t0 and t2 only: the
    # null is the column's row 1, which is transactions[2], where the reference puts it.
    table = _seats_table(
        np.ma.masked_array([5, 6, 7], mask=[False, False, True]),
        ["2027-01-05", "2026-01-05", "2027-01-06"],
    )
    errors = {}
    for engine in ("reference", "batch"):
        with pytest.raises(InvalidValueError) as caught:
            calculate(
                _field_plan(),
                table,
                ON_PLAN,
                period="FY2027-M01",
                ledger=Ledger(),
                engine=engine,  # type: ignore[arg-type]
            )
        errors[engine] = (caught.value.code, caught.value.path)
    assert errors["batch"] == errors["reference"]
    assert errors["batch"] == ("incentives.invalid_field", "transactions[2].fields")
    assert caught.value.message == (
        "transactions[2]: column 'seats': 1 nulls (first at transactions[2]); "
        "the field is not nullable"
    )


def test_a_column_error_naming_a_row_is_located_at_its_transaction():
    # t1's product "b\x00" ends in NUL, which a numpy string would drop: the column
    # is refused at its row 1, t1; t0 is fine.
    table = TransactionTable.from_arrays(
        ids=np.array(["t0", "t1"]),
        dates=days("2027-01-05", "2027-01-06"),
        amounts=np.array([1000, 1000]),
        currency=C,
        owners=np.array(["ann", "ann"]),
        fields={"product": np.array(["a", "b\x00"], dtype=object)},
    )
    plan = _field_plan("string", 'product == "a"')
    with pytest.raises(InvalidValueError) as caught:
        calculate(plan, table, ON_PLAN, period="FY2027-M01", ledger=Ledger())
    assert (caught.value.code, caught.value.path) == (
        "incentives.invalid_field",
        "transactions[1].fields",
    )
