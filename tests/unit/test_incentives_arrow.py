"""`TransactionTable.from_arrow`: Arrow columns read into the batch engine's table.

The same data as Arrow, as a pandas frame and as records gives equal columns and an
identical `PayoutRun`; each Arrow type a column may have; each bad input refused with
the error `from_frame` gives for it, naming the row; chunked columns; pandas columns of
a ``pd.ArrowDtype``; decimal fields read at the plan's scale; no integer narrowed with
a silent wrap (uint64, units of time, int32 day numbers); temporal frame fields read
as from Arrow; and an unknown currency named at its row's currency.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import numpy as np
import pytest

from salesflow.errors import (
    InvalidValueError,
    MoneyOverflowError,
    SalesflowError,
    UnknownCurrencyError,
)
from salesflow.incentives import (
    Assignment,
    Ledger,
    Plan,
    Split,
    Transaction,
    TransactionTable,
    calculate,
    load_plan,
)
from salesflow.money import Money

pa = pytest.importorskip("pyarrow", reason="the [arrow] extra (pyarrow) is not installed")
pd = pytest.importorskip("pandas", reason="the [dataframe] extra (pandas) is not installed")

C = "CNY"
SHANGHAI = dt.timezone(dt.timedelta(hours=8))


def naive(*parts: int) -> dt.datetime:
    """A wall-clock time with no zone, as Arrow's naive timestamps hold."""
    return dt.datetime(*parts)  # noqa: DTZ001 - naive on purpose


def plan() -> Plan:
    # 5% of every deal; 1% more on SaaS deals of more than 1 seat.
    return load_plan(
        {
            "id": "ae",
            "currency": C,
            "fiscal_year": 2027,
            "rounding": "half_up",
            "fields": {"product": "string?", "seats": "decimal(1)?"},
            "measures": {
                "bookings": {},
                "big_saas": {"where": "product == 'saas' && seats > 1.0"},
            },
            "components": [
                {
                    "kind": "commission",
                    "id": "commission",
                    "measure": "bookings",
                    "rating": "individual",
                    "accumulate": "period",
                    "table": {"tiers": [{"start": 0, "rate": "0.05"}]},
                },
                {
                    "kind": "commission",
                    "id": "saas",
                    "measure": "big_saas",
                    "rating": "individual",
                    "accumulate": "period",
                    "table": {"tiers": [{"start": 0, "rate": "0.01"}]},
                },
            ],
        }
    )


ON_PLAN = [Assignment("ann", "ae"), Assignment("bo", "ae"), Assignment("cy", "ae")]


def records() -> list[Transaction]:
    return [
        Transaction(
            "t1",
            dt.date(2027, 1, 5),
            Money("1000.50", C),
            "ann",
            fields={"product": "saas", "seats": Decimal("1.5")},
        ),
        Transaction(
            "t2",
            dt.date(2027, 1, 10),
            Money("300.00", C),
            "bo",
            fields={"product": "services", "seats": None},
            splits=(Split("bo", Decimal("0.6")), Split("cy", Decimal("0.4"))),
        ),
        Transaction(
            "t3",
            dt.date(2027, 1, 20),
            Money("99.99", C),
            "ann",
            fields={"product": None, "seats": Decimal(3)},
            cancelled=dt.date(2027, 2, 10),
        ),
    ]


def arrow_data() -> tuple[object, object]:
    data = pa.table(
        {
            "id": ["t1", "t2", "t3"],
            "date": pa.array([dt.date(2027, 1, 5), dt.date(2027, 1, 10), dt.date(2027, 1, 20)]),
            "amount": pa.array(
                [Decimal("1000.50"), Decimal("300.00"), Decimal("99.99")], pa.decimal128(12, 2)
            ),
            "owner": pa.array(["ann", "bo", "ann"]).dictionary_encode(),
            "cancelled": pa.array([None, None, dt.date(2027, 2, 10)], pa.date32()),
            "product": pa.array(["saas", "services", None]),
            # two places where the plan has one: read at the plan's scale, exactly
            "seats": pa.array([Decimal("1.50"), None, Decimal("3.00")], pa.decimal128(5, 2)),
        }
    )
    splits = pa.table(
        {
            "transaction": ["t2", "t2"],
            "payee": ["bo", "cy"],
            "share": pa.array([Decimal("0.6"), Decimal("0.4")], pa.decimal128(2, 1)),
        }
    )
    return data, splits


def frame_data() -> tuple[object, object]:
    frame = pd.DataFrame(
        {
            "id": ["t1", "t2", "t3"],
            "date": pd.to_datetime(["2027-01-05", "2027-01-10", "2027-01-20"]),
            "amount": [Decimal("1000.50"), Decimal("300.00"), Decimal("99.99")],
            "owner": ["ann", "bo", "ann"],
            "cancelled": [pd.NaT, pd.NaT, pd.Timestamp("2027-02-10")],
            "product": ["saas", "services", None],
            "seats": [Decimal("1.5"), None, Decimal(3)],
        }
    )
    splits = pd.DataFrame(
        {"transaction": ["t2", "t2"], "payee": ["bo", "cy"], "share": ["0.6", "0.4"]}
    )
    return frame, splits


FIELDS = ["product", "seats"]


def assert_same_columns(left: TransactionTable, right: TransactionTable) -> None:
    """Column by column: ids, dates, amounts, currencies, owners, cancellations, splits,
    and the fields as the records of the plan's schema read them."""
    assert left.ids.tolist() == right.ids.tolist()
    assert left.dates.tolist() == right.dates.tolist()
    assert left.amounts.tolist() == right.amounts.tolist()
    assert [left.currencies[c].code for c in left.currency.tolist()] == [
        right.currencies[c].code for c in right.currency.tolist()
    ]
    assert [left.payees[o] for o in left.owners.tolist()] == [
        right.payees[o] for o in right.owners.tolist()
    ]
    assert left.cancelled.tolist() == right.cancelled.tolist()
    assert left.splits.transaction.tolist() == right.splits.transaction.tolist()
    assert [left.payees[p] for p in left.splits.payee.tolist()] == [
        right.payees[p] for p in right.splits.payee.tolist()
    ]
    assert left.splits.shares() == right.splits.shares()
    assert left.splits.overlay.tolist() == right.splits.overlay.tolist()
    schema = plan().filter_schema()
    assert [t.fields for t in left.records(schema)] == [t.fields for t in right.records(schema)]


def run_of(transactions: object, engine: str = "batch") -> object:
    return calculate(
        plan(),
        transactions,  # type: ignore[arg-type]
        ON_PLAN,
        period="FY2027-M01",
        ledger=Ledger(),
        engine=engine,  # type: ignore[arg-type]
    )


# -- the same data, three ways ----------------------------------------------------------


def test_an_arrow_table_has_the_columns_of_the_frame_and_records_of_the_same_data():
    data, splits = arrow_data()
    from_arrow = TransactionTable.from_arrow(data, splits, currency=C, fields=FIELDS)
    frame, frame_splits = frame_data()
    from_frame = TransactionTable.from_frame(frame, frame_splits, currency=C, fields=FIELDS)
    from_records = TransactionTable.from_records(records())
    assert_same_columns(from_arrow, from_frame)
    assert_same_columns(from_arrow, from_records)
    # owners first, then the split payees new to them: the order of first appearance
    assert from_arrow.payees == from_frame.payees == from_records.payees == ("ann", "bo", "cy")
    assert from_arrow.amounts.tolist() == [1000_50, 300_00, 99_99]  # fen


def test_an_arrow_table_gives_the_run_its_records_give():
    data, splits = arrow_data()
    run = run_of(TransactionTable.from_arrow(data, splits, currency=C, fields=FIELDS))
    assert run == run_of(records()) == run_of(records(), engine="reference")
    frame, frame_splits = frame_data()
    assert run == run_of(
        TransactionTable.from_frame(frame, frame_splits, currency=C, fields=FIELDS)
    )
    # ann: 1000.50 x 5% = 50.025 -> 50.03 (half up); 99.99 x 5% = 4.9995 -> 5.00;
    #      t1 is SaaS with 1.5 seats > 1: 1000.50 x 1% = 10.005 -> 10.01;
    #      t3 has no product, so it is not big SaaS. 50.03 + 5.00 + 10.01 = 65.04.
    # bo: 60% of 300.00 = 180.00 x 5% = 9.00; cy: 40% = 120.00 x 5% = 6.00.
    assert {s.payee: str(s.total) for s in run.statements} == {
        "ann": "65.04 CNY",
        "bo": "9.00 CNY",
        "cy": "6.00 CNY",
    }


def test_a_record_batch_and_a_stream_are_read_as_the_table():
    data, splits = arrow_data()
    table = TransactionTable.from_arrow(data, splits, currency=C, fields=FIELDS)

    class Stream:  # only the Arrow PyCapsule stream interface, as polars or DuckDB offer
        def __init__(self, table: object) -> None:
            self.table = table

        def __arrow_c_stream__(self, requested_schema: object = None) -> object:
            return self.table.__arrow_c_stream__(requested_schema)  # type: ignore[attr-defined]

    batch = data.to_batches()[0]  # type: ignore[attr-defined]
    assert_same_columns(
        TransactionTable.from_arrow(batch, splits, currency=C, fields=FIELDS), table
    )
    assert_same_columns(
        TransactionTable.from_arrow(Stream(data), Stream(splits), currency=C, fields=FIELDS),
        table,
    )


def test_chunked_columns_with_their_own_dictionaries_read_as_one_chunk():
    data, splits = arrow_data()
    whole = TransactionTable.from_arrow(data, splits, currency=C, fields=FIELDS)
    # three chunks of one row each; each owner chunk encodes its own dictionary
    pieces = [data.slice(i, 1) for i in range(3)]  # type: ignore[attr-defined]
    pieces = [
        p.set_column(3, "owner", pa.array(p.column("owner").to_pylist()).dictionary_encode())
        for p in pieces
    ]
    chunked = pa.concat_tables(pieces)
    assert chunked.column("owner").num_chunks == 3
    assert chunked.column("amount").num_chunks == 3
    parted = TransactionTable.from_arrow(chunked, splits, currency=C, fields=FIELDS)
    assert_same_columns(parted, whole)
    assert parted.payees == ("ann", "bo", "cy")


# -- each type --------------------------------------------------------------------------


def small(**columns: object) -> object:
    """Two deals of ann's on 2027-01-05 and 2027-01-06, 10.00 and 2.50 CNY, with
    ``columns`` replacing the defaults."""
    defaults = {
        "id": pa.array(["t1", "t2"]),
        "date": pa.array([dt.date(2027, 1, 5), dt.date(2027, 1, 6)]),
        "amount": pa.array([1000, 250]),
        "owner": pa.array(["ann", "ann"]),
    }
    return pa.table({**defaults, **columns})


@pytest.mark.parametrize(
    ("ids", "expected"),
    [
        (pa.array(["t1", "t2"]), ["t1", "t2"]),
        (pa.array(["t1", "t2"], pa.large_string()), ["t1", "t2"]),
        (pa.array(["t1", "t2"], pa.string_view()), ["t1", "t2"]),
        (pa.array(["t1", "t2"]).dictionary_encode(), ["t1", "t2"]),
        (pa.array([7, 8], pa.int64()), [7, 8]),
        (pa.array([7, 8], pa.uint32()), [7, 8]),
    ],
    ids=["string", "large_string", "string_view", "dictionary", "int64", "uint32"],
)
def test_ids_are_strings_or_integers(ids, expected):
    table = TransactionTable.from_arrow(small(id=ids), currency=C)
    assert table.ids.tolist() == expected


@pytest.mark.parametrize(
    "owners",
    [
        pa.array(["ann", "bo"]),
        pa.array(["ann", "bo"], pa.large_string()),
        pa.array(["ann", "bo"], pa.string_view()),
        pa.array(["ann", "bo"]).dictionary_encode(),
    ],
    ids=["string", "large_string", "string_view", "dictionary"],
)
def test_owners_are_strings_of_any_arrow_string_type(owners):
    table = TransactionTable.from_arrow(small(owner=owners), currency=C)
    assert table.payees == ("ann", "bo")
    assert table.owners.tolist() == [0, 1]


@pytest.mark.parametrize(
    "dates",
    [
        pa.array([dt.date(2027, 1, 5), dt.date(2027, 1, 6)], pa.date32()),
        pa.array([dt.date(2027, 1, 5), dt.date(2027, 1, 6)], pa.date64()),
        pa.array([naive(2027, 1, 5, 23, 59, 59), naive(2027, 1, 6)], pa.timestamp("s")),
        pa.array([naive(2027, 1, 5, 12), naive(2027, 1, 6)], pa.timestamp("ms")),
        pa.array([naive(2027, 1, 5, 0, 0, 1), naive(2027, 1, 6)], pa.timestamp("us")),
        pa.array([naive(2027, 1, 5, 18), naive(2027, 1, 6, 1)], pa.timestamp("ns")),
    ],
    ids=["date32", "date64", "timestamp_s", "timestamp_ms", "timestamp_us", "timestamp_ns"],
)
def test_dates_and_naive_timestamps_count_on_their_own_day(dates):
    table = TransactionTable.from_arrow(small(date=dates), currency=C)
    assert table.dates.tolist() == [dt.date(2027, 1, 5), dt.date(2027, 1, 6)]


# -- tz-aware timestamps count on their local day -----------------------------------------
#
# A deal closed at 07:00 on 1 January in Shanghai (+08:00) is, as an instant, 23:00 on
# 31 December UTC; one closed at 23:30 on 31 December in New York (-05:00) is 04:30 on
# 1 January UTC. Each counts on the day of its wall-clock time in its own zone:
#   2027-01-01 07:00+08:00 -> 2027-01-01 (UTC day: 2026-12-31)
#   2026-12-31 23:30-05:00 -> 2026-12-31 (UTC day: 2027-01-01)
# The same instants given naive in UTC count on their UTC days:
#   2026-12-31 23:00 -> 2026-12-31;  2027-01-01 04:30 -> 2027-01-01

NEW_YORK = dt.timezone(dt.timedelta(hours=-5))
SHANGHAI_CLOSE = dt.datetime(2027, 1, 1, 7, tzinfo=SHANGHAI)
NEW_YORK_CLOSE = dt.datetime(2026, 12, 31, 23, 30, tzinfo=NEW_YORK)
NEW_YEAR = dt.date(2027, 1, 1)
NEW_YEARS_EVE = dt.date(2026, 12, 31)


def utc_naive(moment: dt.datetime) -> dt.datetime:
    """The instant's UTC wall-clock time, without a zone."""
    return moment.astimezone(dt.UTC).replace(tzinfo=None)


def two_deals(**columns: object) -> object:
    """The Shanghai deal (t1, 1,000.00 CNY) and the New York one (t2, 300.00 CNY)."""
    return pa.table(
        {
            "id": ["t1", "t2"],
            "amount": pa.array([100000, 30000]),
            "owner": pa.array(["ann", "ann"]),
            **columns,
        }
    )


@pytest.mark.parametrize("unit", ["s", "ms", "us", "ns"])
@pytest.mark.parametrize(
    ("shanghai", "new_york"),
    [("+08:00", "-05:00"), ("Asia/Shanghai", "America/New_York")],
    ids=["offsets", "named_zones"],
)
def test_a_tz_aware_arrow_timestamp_counts_on_its_local_day(unit, shanghai, new_york):
    # one zone a column: each deal in a chunk of its own zone's column
    for moment, zone, day in [
        (SHANGHAI_CLOSE, shanghai, NEW_YEAR),
        (NEW_YORK_CLOSE, new_york, NEW_YEARS_EVE),
    ]:
        kind = pa.timestamp(unit, tz=zone)
        column = pa.chunked_array([pa.array([moment], kind), pa.array([moment], kind)])
        gone = pa.array([None, moment], kind)
        table = TransactionTable.from_arrow(two_deals(date=column, cancelled=gone), currency=C)
        assert table.dates.tolist() == [day, day]
        assert table.cancelled.tolist() == [None, day]


def test_the_same_instants_naive_in_utc_count_on_their_utc_days():
    # 2027-01-01 07:00+08:00 is 2026-12-31 23:00 UTC; 2026-12-31 23:30-05:00 is
    # 2027-01-01 04:30 UTC: naive, each counts on that day
    utc = [utc_naive(SHANGHAI_CLOSE), utc_naive(NEW_YORK_CLOSE)]
    assert utc == [naive(2026, 12, 31, 23), naive(2027, 1, 1, 4, 30)]
    arrow = TransactionTable.from_arrow(
        two_deals(date=pa.array(utc, pa.timestamp("us"))), currency=C
    )
    frame = TransactionTable.from_frame(
        two_deals(date=pa.array(utc, pa.timestamp("us"))).to_pandas(), currency=C
    )
    assert arrow.dates.tolist() == frame.dates.tolist() == [NEW_YEARS_EVE, NEW_YEAR]


@pytest.mark.parametrize(
    "column",
    [
        pytest.param(
            lambda moment, zone: pd.Series([moment, moment]).dt.tz_convert(zone), id="datetime64"
        ),
        pytest.param(lambda moment, _: pd.Series([moment, moment], dtype=object), id="objects"),
        pytest.param(
            lambda moment, zone: pd.Series(
                [moment, moment], dtype=pd.ArrowDtype(pa.timestamp("us", tz=zone))
            ),
            id="arrow_dtype",
        ),
    ],
)
def test_a_tz_aware_frame_column_counts_on_its_local_day_as_from_arrow_counts_it(column):
    for moment, zone, day in [
        (SHANGHAI_CLOSE, "Asia/Shanghai", NEW_YEAR),
        (NEW_YORK_CLOSE, "America/New_York", NEW_YEARS_EVE),
    ]:
        frame = two_deals().to_pandas().assign(date=column(moment, zone))
        table = TransactionTable.from_frame(frame, currency=C)
        assert table.dates.tolist() == [day, day]


def test_a_frame_column_of_datetimes_in_several_zones_counts_each_on_its_local_day():
    # no datetime64 dtype holds two offsets: the objects are read one by one
    frame = (
        two_deals()
        .to_pandas()
        .assign(
            date=pd.Series([SHANGHAI_CLOSE, NEW_YORK_CLOSE], dtype=object),
            cancelled=pd.Series([None, NEW_YORK_CLOSE], dtype=object),
        )
    )
    table = TransactionTable.from_frame(frame, currency=C)
    assert table.dates.tolist() == [NEW_YEAR, NEW_YEARS_EVE]
    assert table.cancelled.tolist() == [None, NEW_YEARS_EVE]


def test_a_record_refuses_a_datetime_and_its_local_date_is_the_readers_day():
    with pytest.raises(InvalidValueError) as caught:
        Transaction("t1", SHANGHAI_CLOSE, Money("1000.00", C), "ann")  # type: ignore[arg-type]
    assert "take .date() in the time zone you mean" in caught.value.message
    # .date() of a tz-aware datetime is the day of its wall-clock time: its local day
    local = [SHANGHAI_CLOSE.date(), NEW_YORK_CLOSE.date()]
    assert local == [NEW_YEAR, NEW_YEARS_EVE]
    from_records = TransactionTable.from_records(
        [
            Transaction("t1", local[0], Money("1000.00", C), "ann"),
            Transaction("t2", local[1], Money("300.00", C), "ann"),
        ]
    )
    frame = two_deals().to_pandas().assign(date=[SHANGHAI_CLOSE, NEW_YORK_CLOSE])
    assert (
        from_records.dates.tolist() == TransactionTable.from_frame(frame, currency=C).dates.tolist()
    )


@pytest.mark.parametrize(
    ("dates", "january"),
    [
        # local days: the Shanghai deal on 2027-01-01, in January; the New York one on
        # 2026-12-31, before the plan's year: 1,000.00 x 5% = 50.00
        ([SHANGHAI_CLOSE, NEW_YORK_CLOSE], "50.00 CNY"),
        # naive in UTC: the Shanghai deal on 2026-12-31, before the year; the New York
        # one on 2027-01-01: 300.00 x 5% = 15.00
        ([utc_naive(SHANGHAI_CLOSE), utc_naive(NEW_YORK_CLOSE)], "15.00 CNY"),
    ],
    ids=["local_days", "naive_utc"],
)
@pytest.mark.parametrize("engine", ["batch", "reference"])
def test_only_the_deal_whose_day_is_in_the_plans_year_is_paid_in_january(dates, january, engine):
    frame = two_deals().to_pandas().assign(date=pd.Series(dates, dtype=object))
    table = TransactionTable.from_frame(frame, currency=C)
    assert str(run_of(table, engine).statement("ann").total) == january


@pytest.mark.parametrize(
    ("amounts", "currency", "expected"),
    [
        # 10.00 and 2.50 CNY are 1000 and 250 fen
        (pa.array([Decimal("10.00"), Decimal("2.50")], pa.decimal128(12, 2)), C, [1000, 250]),
        (pa.array([Decimal("10.00"), Decimal("2.50")], pa.decimal256(40, 2)), C, [1000, 250]),
        # scale 0: 10 and 2 yuan are 1000 and 200 fen
        (pa.array([Decimal(10), Decimal(2)], pa.decimal128(12, 0)), C, [1000, 200]),
        # scale 4 on the fen grid: 10.5000 is 1050 fen, -2.5000 is -250
        (pa.array([Decimal("10.5"), Decimal("-2.5")], pa.decimal128(12, 4)), C, [1050, -250]),
        # JPY has no minor unit: 1500 yen is 1500
        (pa.array([Decimal(1500), Decimal(7)], pa.decimal128(12, 0)), "JPY", [1500, 7]),
        # scale 30 in decimal256: unscaled beyond int64, read exactly: 1.00 and 0.01 CNY
        (
            pa.array([Decimal(1), Decimal("0.01")], pa.decimal256(60, 30)),
            C,
            [100, 1],
        ),
        # int64 minor units, as from_frame reads integers
        (pa.array([1000, 250], pa.int64()), C, [1000, 250]),
        (pa.array([1000, 250], pa.int32()), C, [1000, 250]),
        # decimal strings are amounts, as from_frame reads them
        (pa.array(["10.00", "2.5"]), C, [1000, 250]),
    ],
    ids=[
        "decimal128",
        "decimal256",
        "scale0",
        "scale4_on_grid",
        "jpy",
        "scale30",
        "int64_minor_units",
        "int32_minor_units",
        "decimal_strings",
    ],
)
def test_amounts_are_read_exactly(amounts, currency, expected):
    table = TransactionTable.from_arrow(small(amount=amounts), currency=currency)
    assert table.amounts.tolist() == expected
    assert table.currencies[0].code == currency


def test_a_currency_column_gives_each_row_its_minor_units():
    # 10.50 CNY = 1050 fen; 2.01 USD = 201 cents; 300 JPY = 300 yen
    data = pa.table(
        {
            "id": ["t1", "t2", "t3"],
            "date": pa.array([dt.date(2027, 1, 5)] * 3),
            "amount": pa.array(
                [Decimal("10.50"), Decimal("2.01"), Decimal(300)], pa.decimal128(12, 2)
            ),
            "owner": ["ann", "ann", "bo"],
            "currency": pa.array(["CNY", "USD", "JPY"]).dictionary_encode(),
        }
    )
    table = TransactionTable.from_arrow(data)
    assert table.amounts.tolist() == [1050, 201, 300]
    assert [table.currencies[c].code for c in table.currency.tolist()] == ["CNY", "USD", "JPY"]
    one = TransactionTable.from_arrow(data.set_column(4, "currency", pa.array(["USD"] * 3)))
    assert [c.code for c in one.currencies] == ["USD"]
    assert one.currency.tolist() == [0, 0, 0]


def test_a_dictionary_owner_column_is_read_through_its_indices_and_dictionary():
    # indices 2, 0, 2 into [bo, ann, ann, zed]: "ann" twice in the dictionary, "zed" unused
    owners = pa.DictionaryArray.from_arrays(
        pa.array([1, 0, 2], pa.int8()), pa.array(["bo", "ann", "ann", "zed"])
    )
    data = small(
        id=pa.array(["t1", "t2", "t3"]),
        date=pa.array([dt.date(2027, 1, 5)] * 3),
        amount=pa.array([1, 2, 3]),
        owner=owners,
    )
    table = TransactionTable.from_arrow(data, currency=C)
    assert table.payees == ("bo", "ann")  # dictionary order; the repeat merged, zed dropped
    assert [table.payees[o] for o in table.owners.tolist()] == ["ann", "bo", "ann"]


def test_fields_are_typed_columns_with_nulls_masked():
    data = small(
        flag=pa.array([True, None]),
        count=pa.array([3, None], pa.int32()),
        ratio=pa.array([0.5, None]),
        seats=pa.array([Decimal("1.5"), None], pa.decimal128(5, 1)),
        signed=pa.array([dt.date(2027, 1, 2), None]),
        seen=pa.array([naive(2027, 1, 2, 3, 4, 5), None], pa.timestamp("ms")),
        wait=pa.array([dt.timedelta(days=2), None], pa.duration("s")),
        product=pa.array(["saas", None]).dictionary_encode(),
    )
    names = ["flag", "count", "ratio", "seats", "signed", "seen", "wait", "product"]
    table = TransactionTable.from_arrow(data, currency=C, fields=names)
    assert dict(table.field_types) == {
        "flag": "bool",
        "count": "int",
        "ratio": "double",
        "seats": "decimal(1)",  # int64 in tenths: 1.5 is 15
        "signed": "date",
        "seen": "timestamp",
        "wait": "duration",
    }
    assert table.fields["seats"].tolist() == [15, None]
    assert table.fields["seen"].dtype == np.dtype("datetime64[us]")
    assert table.fields["product"].tolist() == ["saas", None]  # typed by the plan when read
    first, second = (t.fields for t in table)
    assert first == {
        "flag": True,
        "count": 3,
        "ratio": 0.5,
        "seats": Decimal("1.5"),
        "signed": dt.date(2027, 1, 2),
        "seen": dt.datetime(2027, 1, 2, 3, 4, 5, tzinfo=dt.UTC),
        "wait": dt.timedelta(days=2),
        "product": "saas",
    }
    assert set(second.values()) == {None}


def test_a_declared_decimal_scale_is_the_column_scale_when_exact_else_decimals_are_kept():
    seats = pa.array([Decimal("1.5"), Decimal(2)], pa.decimal128(5, 1))
    wider = TransactionTable.from_arrow(
        small(seats=seats), currency=C, fields=["seats"], field_types={"seats": "decimal(2)"}
    )
    assert wider.fields["seats"].tolist() == [150, 200]  # hundredths
    # 1.5 has no exact whole number: the Decimals are kept, typed by the plan when read
    whole = TransactionTable.from_arrow(
        small(seats=seats), currency=C, fields=["seats"], field_types={"seats": "decimal(0)"}
    )
    assert whole.fields["seats"].tolist() == [Decimal("1.5"), Decimal("2.0")]


# -- bad input, named where it is ---------------------------------------------------------


def error_of(build: object) -> tuple[object, ...]:
    with pytest.raises(SalesflowError) as caught:
        build()  # type: ignore[operator]
    err = caught.value
    return (type(err), err.code, err.path, err.message)


NULL_ROWS = {
    # column: (the Arrow column with row 1 null, the frame column with row 1 missing)
    "id": (pa.array(["t1", None]), ["t1", None]),
    "date": (pa.array([dt.date(2027, 1, 5), None]), [pd.Timestamp("2027-01-05"), pd.NaT]),
    "amount": (
        pa.array([Decimal("10.00"), None], pa.decimal128(12, 2)),
        [Decimal("10.00"), None],
    ),
    "owner": (pa.array(["ann", None]), ["ann", None]),
    "currency": (pa.array(["CNY", None]), ["CNY", None]),
}


@pytest.mark.parametrize(
    ("column", "path", "message"),
    [
        ("id", "transactions[1].id", "transactions[1].id is missing"),
        ("date", "transactions[1].date", "transactions[1].date is missing"),
        ("amount", "transactions[1].amount", "transactions[1].amount is missing"),
        ("owner", "transactions[1].owner", "transactions[1].owner is missing"),
        ("currency", "transactions[1].currency", "transactions[1].currency is missing"),
    ],
)
def test_a_null_where_a_value_is_required_is_refused_naming_the_row(column, path, message):
    arrow, frame_column = NULL_ROWS[column]
    frame = pd.DataFrame(
        {
            "id": ["t1", "t2"],
            "date": pd.to_datetime(["2027-01-05", "2027-01-06"]),
            "amount": [Decimal("10.00"), Decimal("2.50")],
            "owner": ["ann", "ann"],
            "currency": ["CNY", "CNY"],
        }
    )
    frame[column] = frame_column
    data = small(**{"currency": pa.array(["CNY", "CNY"]), column: arrow})
    expected = (InvalidValueError, "incentives.invalid_field", path, message)
    assert error_of(lambda: TransactionTable.from_arrow(data)) == expected
    assert error_of(lambda: TransactionTable.from_frame(frame)) == expected


def test_a_null_in_a_later_chunk_is_named_by_its_row_in_the_whole_column():
    pieces = [small(), small(owner=pa.array(["ann", None]))]
    data = pa.concat_tables(pieces)  # rows 0-1, then 2-3: the null is row 3
    assert error_of(lambda: TransactionTable.from_arrow(data, currency=C))[2:] == (
        "transactions[3].owner",
        "transactions[3].owner is missing",
    )


def test_a_null_in_an_owner_dictionary_is_a_missing_owner():
    owners = pa.DictionaryArray.from_arrays(pa.array([0, 1]), pa.array(["ann", None]))
    assert error_of(lambda: TransactionTable.from_arrow(small(owner=owners), currency=C))[2] == (
        "transactions[1].owner"
    )


def test_an_empty_owner_is_refused_naming_the_row():
    assert error_of(
        lambda: TransactionTable.from_arrow(small(owner=pa.array(["ann", ""])), currency=C)
    ) == (
        InvalidValueError,
        "incentives.invalid_field",
        "transactions[1].owner",
        "transactions[1].owner must be a non-empty string, not ''",
    )


@pytest.mark.parametrize(
    ("arrow", "decimal", "currency"),
    [
        # 10.005 CNY is between two fen
        (pa.array([Decimal(1), Decimal("10.005")], pa.decimal128(12, 3)), "10.005", C),
        # 300.5 JPY is between two yen
        (pa.array([Decimal(1), Decimal("300.5")], pa.decimal128(12, 1)), "300.5", "JPY"),
    ],
    ids=["cny_three_places", "jpy_one_place"],
)
def test_more_places_than_minor_units_gets_from_frames_error(arrow, decimal, currency):
    frame = pd.DataFrame(
        {
            "id": ["t1", "t2"],
            "date": pd.to_datetime(["2027-01-05", "2027-01-06"]),
            "amount": [Decimal(1), Decimal(decimal)],
            "owner": ["ann", "ann"],
        }
    )
    expected = error_of(lambda: TransactionTable.from_frame(frame, currency=currency))
    got = error_of(lambda: TransactionTable.from_arrow(small(amount=arrow), currency=currency))
    assert got == expected
    assert got[1:3] == ("incentives.invalid_amount", "transactions[1].amount")


def test_an_amount_beyond_int64_minor_units_gets_from_frames_overflow_error():
    # 10**17 yuan is 10**19 fen, beyond int64's 9.22 x 10**18
    huge = Decimal(10**17)
    arrow = pa.array([Decimal(1), huge], pa.decimal128(30, 0))
    frame = pd.DataFrame(
        {
            "id": ["t1", "t2"],
            "date": pd.to_datetime(["2027-01-05", "2027-01-06"]),
            "amount": [Decimal(1), huge],
            "owner": ["ann", "ann"],
        }
    )
    got = error_of(lambda: TransactionTable.from_arrow(small(amount=arrow), currency=C))
    assert got == error_of(lambda: TransactionTable.from_frame(frame, currency=C))
    assert got[:3] == (MoneyOverflowError, "incentives.int64_overflow", "transactions[1].amount")


def test_float_amounts_are_refused_as_from_frame_refuses_them():
    frame = pd.DataFrame(
        {
            "id": ["t1"],
            "date": pd.to_datetime(["2027-01-05"]),
            "amount": [10.5],
            "owner": ["ann"],
        }
    )
    got = error_of(
        lambda: TransactionTable.from_arrow(small(amount=pa.array([10.5, 2.5])), currency=C)
    )
    assert got == error_of(lambda: TransactionTable.from_frame(frame, currency=C))
    assert got[1] == "incentives.float_amount"


@pytest.mark.parametrize(
    ("columns", "path"),
    [
        ({"date": pa.array(["2027-01-05", "2027-01-06"])}, "date"),
        ({"amount": pa.array([True, False])}, "amount"),
        ({"id": pa.array([1.5, 2.5])}, "id"),
        # its local day cannot be told without the zone's rules
        (
            {
                "cancelled": pa.array(
                    [None, naive(2027, 1, 7)], pa.timestamp("us", tz="Mars/Olympus_Mons")
                )
            },
            "cancelled",
        ),
    ],
    ids=["date_as_text", "bool_amount", "float_id", "unknown_zone"],
)
def test_a_column_of_the_wrong_type_is_refused_naming_the_column(columns, path):
    got = error_of(lambda: TransactionTable.from_arrow(small(**columns), currency=C))
    assert got[:3] == (InvalidValueError, "incentives.invalid_array", path)


def test_a_field_of_a_type_no_field_holds_is_refused_naming_the_field():
    data = small(tags=pa.array([["a"], ["b"]]))
    got = error_of(lambda: TransactionTable.from_arrow(data, currency=C, fields=["tags"]))
    assert got[:3] == (InvalidValueError, "incentives.invalid_array", "fields.tags")


def test_a_missing_column_and_a_non_arrow_input_are_refused():
    assert error_of(lambda: TransactionTable.from_arrow(small(), currency=C, fields=["x"]))[2:] == (
        "x",
        "the table has no column 'x'",
    )
    assert error_of(lambda: TransactionTable.from_arrow([1, 2], currency=C))[2] == "data"  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("splits", "path", "message"),
    [
        (
            {"transaction": ["t2", "t9"], "payee": ["bo", "cy"], "share": ["1", "1"]},
            "splits[1].transaction",
            "splits[1] names transaction 't9', not in the table",
        ),
        (
            {"transaction": ["t2", "t1"], "payee": pa.array(["bo", None]), "share": ["1", "1"]},
            "splits[1].payee",
            "splits[1].payee is missing",
        ),
        (
            {"transaction": ["t2", "t1"], "payee": ["bo", "cy"], "share": pa.array([1.0, 1.0])},
            "splits[0].share",
            "splits[0].share must be a Decimal, decimal string or int, not 1.0",
        ),
        (
            {
                "transaction": ["t2", "t1"],
                "payee": ["bo", "cy"],
                "share": ["1", "1"],
                "overlay": pa.array([False, None]),
            },
            "splits[1].overlay",
            "splits[1].overlay is missing",
        ),
        (
            {"transaction": ["t2"], "share": ["1"]},
            "splits.payee",
            "the splits table has no column 'payee'",
        ),
    ],
    ids=["unknown_transaction", "null_payee", "float_share", "null_overlay", "no_payee"],
)
def test_a_bad_split_is_refused_naming_the_split(splits, path, message):
    got = error_of(lambda: TransactionTable.from_arrow(small(), pa.table(splits), currency=C))
    assert got[2:] == (path, message)


def test_split_ids_of_another_string_type_find_their_transactions():
    splits = pa.table(
        {
            "transaction": pa.array(["t2"], pa.large_string()),
            "payee": ["bo"],
            "share": ["1"],
            "overlay": [True],
        }
    )
    table = TransactionTable.from_arrow(small(), splits, currency=C)
    assert table.splits.transaction.tolist() == [1]
    assert table.payees == ("ann", "bo")
    assert table.splits.overlay.tolist() == [True]


@pytest.mark.parametrize(
    ("ids", "rows", "payees"),
    [
        # 20 is row 1, 30 row 2
        (pa.array([10, 20, 30], pa.int64()), [1, 2], ["bo", "cy"]),
        # 30 is row 0, 20 row 2: the splits come in row order, cy's first
        (pa.array([30, 10, 20], pa.int64()), [0, 2], ["cy", "bo"]),
    ],
    ids=["in_order", "out_of_order"],
)
def test_splits_find_their_transactions_by_integer_id(ids, rows, payees):
    data = small(
        id=ids,
        date=pa.array([dt.date(2027, 1, 5)] * 3),
        amount=pa.array([1, 2, 3]),
        owner=pa.array(["ann"] * 3),
    )
    # the split ids are int32, the table's int64
    splits = pa.table(
        {"transaction": pa.array([20, 30], pa.int32()), "payee": ["bo", "cy"], "share": ["1", "1"]}
    )
    table = TransactionTable.from_arrow(data, splits, currency=C)
    assert table.splits.transaction.tolist() == rows
    assert [table.payees[p] for p in table.splits.payee.tolist()] == payees
    unknown = pa.table({"transaction": [20, 40], "payee": ["bo", "cy"], "share": ["1", "1"]})
    assert error_of(lambda: TransactionTable.from_arrow(data, unknown, currency=C))[2:] == (
        "splits[1].transaction",
        "splits[1] names transaction 40, not in the table",
    )


# -- pandas columns of Arrow types ------------------------------------------------------


def test_a_frame_of_arrow_dtypes_gives_the_table_the_arrow_data_gives():
    data, splits = arrow_data()
    frame = data.to_pandas(types_mapper=pd.ArrowDtype)  # type: ignore[attr-defined]
    assert isinstance(frame["amount"].dtype, pd.ArrowDtype)
    table = TransactionTable.from_frame(frame, splits.to_pandas(), currency=C, fields=FIELDS)  # type: ignore[attr-defined]
    assert_same_columns(table, TransactionTable.from_records(records()))


def test_a_frame_of_pyarrow_strings_and_nullable_arrow_columns_is_read():
    frame = pd.DataFrame(
        {
            "id": pd.Series(["t1", "t2"], dtype="string[pyarrow]"),
            "date": pd.Series(
                [dt.date(2027, 1, 5), dt.date(2027, 1, 6)], dtype=pd.ArrowDtype(pa.date32())
            ),
            "amount": pd.Series([1000, 250], dtype=pd.ArrowDtype(pa.int64())),
            "owner": pd.Series(["ann", "bo"], dtype="string[pyarrow]"),
            "cancelled": pd.Series([None, dt.date(2027, 2, 1)], dtype=pd.ArrowDtype(pa.date32())),
        }
    )
    table = TransactionTable.from_frame(frame, currency=C)
    assert table.ids.tolist() == ["t1", "t2"]
    assert table.amounts.tolist() == [1000, 250]
    assert table.payees == ("ann", "bo")
    assert table.cancelled.tolist() == [None, dt.date(2027, 2, 1)]
    frame["amount"] = pd.Series([1000, None], dtype=pd.ArrowDtype(pa.int64()))
    assert error_of(lambda: TransactionTable.from_frame(frame, currency=C))[2] == (
        "transactions[1].amount"
    )


# -- fields at the plan's scale ---------------------------------------------------------


def test_an_integer_field_column_is_read_at_the_plans_decimal_scale():
    # seats 5 and 15 under the plan's decimal(1): 5 and 15 seats, both above 1.0 - the
    # big-SaaS commission pays 1% of 100.00 + 200.00 = 3.00 (read as tenths, 0.5 and
    # 1.5 seats, only the second would count: 2.00).
    table = TransactionTable.from_arrays(
        ids=np.array(["t1", "t2"]),
        dates=np.array(["2027-01-05", "2027-01-06"], dtype="datetime64[D]"),
        amounts=np.array([100_00, 200_00]),
        currency=C,
        owners=np.array(["ann", "ann"]),
        fields={"product": np.array(["saas", "saas"], dtype=object), "seats": np.array([5, 15])},
    )
    assert table.field_types["seats"] == "int"
    run = run_of(table)
    assert run == run_of(list(table), engine="reference")
    earned = {key[1]: str(money) for key, money in run.earned.items()}
    assert earned == {"commission": "15.00 CNY", "saas": "3.00 CNY"}  # 5% of 300.00 = 15.00


def test_a_decimal_field_with_more_places_than_the_plan_gets_the_error_its_records_get():
    # 1.55 seats under the plan's decimal(1) has one place too many
    data = small(
        product=pa.array(["saas", "saas"]),
        seats=pa.array([Decimal("1.50"), Decimal("1.55")], pa.decimal128(5, 2)),
    )
    table = TransactionTable.from_arrow(data, currency=C, fields=FIELDS)
    assert table.field_types["seats"] == "decimal(2)"
    got = error_of(lambda: run_of(table))
    assert got == error_of(lambda: run_of(list(table)))  # records, typed when read
    assert got[:3] == error_of(lambda: run_of(list(table), engine="reference"))[:3]
    assert got[:3] == (InvalidValueError, "incentives.invalid_field", "transactions[1].fields")


# -- nothing is narrowed with a silent wrap --------------------------------------------------
#
# int64 stops at 2**63 - 1 = 9,223,372,036,854,775,807; 2**63 + 1 = 9,223,372,036,854,775,809
# cast to int64 wraps to 2**63 + 1 - 2**64 = -9,223,372,036,854,775,807.

BEYOND_INT64 = 2**63 + 1


def one_field_plan(kind: str, where: str) -> Plan:
    """10% of each deal whose field ``f`` (of type ``kind``) passes ``where``."""
    return load_plan(
        {
            "id": "ae",
            "currency": C,
            "fiscal_year": 2027,
            "rounding": "half_up",
            "fields": {"f": kind},
            "measures": {"m": {"where": where}},
            "components": [
                {
                    "kind": "commission",
                    "id": "c",
                    "measure": "m",
                    "rating": "individual",
                    "accumulate": "period",
                    "table": {"tiers": [{"start": 0, "rate": "0.1"}]},
                }
            ],
        }
    )


def paid(transactions: object, plan: Plan, engine: str = "batch") -> str:
    """What ann is paid in January 2027."""
    run = calculate(
        plan,
        transactions,  # type: ignore[arg-type]
        [Assignment("ann", "ae")],
        period="FY2027-M01",
        ledger=Ledger(),
        engine=engine,  # type: ignore[arg-type]
    )
    return str(run.total)


def arrays_with(**fields: object) -> TransactionTable:
    """`small`'s two deals from arrays, with ``fields``."""
    return TransactionTable.from_arrays(
        ids=np.array(["t1", "t2"]),
        dates=np.array(["2027-01-05", "2027-01-06"], dtype="datetime64[D]"),
        amounts=np.array([1000, 250]),
        currency=C,
        owners=np.array(["ann", "ann"]),
        fields=fields,  # type: ignore[arg-type]
    )


def test_a_uint64_field_beyond_int64_is_refused_naming_its_row_as_its_record_is():
    # t2's 2**63 + 1 seats, wrapped, would be -9,223,372,036,854,775,807: `f > 3` false,
    # the run paying 0.00 without a word
    seats = np.array([5, BEYOND_INT64], dtype=np.uint64)
    message = (
        "field 'f' (int): expected an int within int64 (not a bool), found int 9223372036854775809"
    )
    expected = (
        InvalidValueError,
        "incentives.invalid_field",
        "transactions[1].fields",
        f"transactions[1]: {message}",
    )
    arrow = small(f=pa.array(seats, pa.uint64()))
    assert error_of(lambda: TransactionTable.from_arrow(arrow, currency=C, fields=["f"])) == (
        expected
    )
    frame = small().to_pandas().assign(f=seats)
    assert error_of(lambda: TransactionTable.from_frame(frame, currency=C, fields=["f"])) == (
        expected
    )
    assert error_of(lambda: arrays_with(f=seats)) == expected
    # a record of that value is refused with the same words when its plan reads it
    record = Transaction(
        "t2", dt.date(2027, 1, 6), Money("2.50", C), "ann", fields={"f": 2**63 + 1}
    )
    got = error_of(lambda: paid([record], one_field_plan("int", "f > 3"), "reference"))
    assert got[:3] == (InvalidValueError, "incentives.invalid_field", "transactions[0].fields")
    assert got[3].endswith(message)


def test_a_uint64_field_within_int64_is_read_as_int64_by_every_reader():
    # seats 5 and 2: only t1 has more than 3 - 10% of its 10.00 = 1.00
    # (a frame's or an array's uint64 column was refused at calculate, naming t1)
    seats = np.array([5, 2], dtype=np.uint64)
    plan = one_field_plan("int", "f > 3")
    tables = [
        TransactionTable.from_arrow(small(f=pa.array(seats)), currency=C, fields=["f"]),
        TransactionTable.from_frame(small().to_pandas().assign(f=seats), currency=C, fields=["f"]),
        arrays_with(f=seats),
    ]
    for table in tables:
        assert table.fields["f"].dtype == np.int64
        assert table.fields["f"].tolist() == [5, 2]
        assert table.field_types["f"] == "int"
        assert paid(table, plan) == paid(list(table), plan, "reference") == "1.00 CNY"


@pytest.mark.parametrize("dtype", ["uint64", "UInt64"], ids=["numpy", "nullable"])
def test_a_frame_uint64_amount_beyond_int64_gets_from_arrows_overflow_error(dtype):
    # 2**63 + 1 fen wrapped would be a refund of -92,233,720,368,547,758.07 yuan
    units = [1000, BEYOND_INT64]
    arrow = small(amount=pa.array(units, pa.uint64()))
    expected = error_of(lambda: TransactionTable.from_arrow(arrow, currency=C))
    assert expected == (
        MoneyOverflowError,
        "incentives.int64_overflow",
        "transactions[1].amount",
        "transactions[1].amount does not fit int64 minor units",
    )
    frame = small().to_pandas().assign(amount=pd.Series(units, dtype=dtype))
    assert error_of(lambda: TransactionTable.from_frame(frame, currency=C)) == expected


# 10000-01-01 is one day after dt.date.max, 9999-12-31: a day number that fits every
# unit, but no datetime.date or datetime.datetime holds it.
AFTER_9999 = (dt.date.max - dt.date(1970, 1, 1)).days + 1


@pytest.mark.parametrize(
    ("column", "message"),
    [
        # 10**15 s is 10**21 us, beyond int64's 9.2 x 10**18: cast, it would wrap
        (
            pa.array([0, 10**15], pa.duration("s")),
            "field 'f' (duration): 1000000000000000 seconds is outside the duration range",
        ),
        (
            pa.array([0, AFTER_9999 * 86_400], pa.timestamp("s")),
            "field 'f' (timestamp): 10000-01-01T00:00:00 is outside the timestamp range",
        ),
        (
            pa.array([0, AFTER_9999], pa.date32()),
            "field 'f' (date): 10000-01-01 is outside the date range",
        ),
    ],
    ids=["duration_overflow", "timestamp_after_9999", "date_after_9999"],
)
def test_a_temporal_field_no_record_can_hold_is_refused_naming_its_row(column, message):
    got = error_of(lambda: TransactionTable.from_arrow(small(f=column), currency=C, fields=["f"]))
    assert got == (
        InvalidValueError,
        "incentives.invalid_field",
        "transactions[1].fields",
        f"transactions[1]: {message}",
    )


@pytest.mark.parametrize(("column", "path"), [("date", "date"), ("cancelled", "cancelled")])
def test_a_day_no_record_can_hold_is_refused_not_read_as_its_int32_day_number(column, path):
    # 1970-01-01 to 2027-01-01 is 57 years with 14 leap days (1972 ... 2024): 20,819
    # days; 2027-01-05 is day 20,823. 2**32 + 20,823 days as an int32 day number (the
    # engine's) is 20,823: 2027-01-05, in the plan's January.
    day = 2**32 + 20_823
    seconds = pa.array([20_823 * 86_400, day * 86_400], pa.timestamp("s"))
    data = small(**{column: seconds})
    got = error_of(lambda: TransactionTable.from_arrow(data, currency=C))
    assert got[:3] == (InvalidValueError, "incentives.invalid_field", f"transactions[1].{path}")
    assert got[3].endswith(" is outside the dates a record holds (0001-01-01 to 9999-12-31)")
    assert "2027-01-05" not in got[3]
    frame = data.to_pandas()
    assert frame[column].dtype == np.dtype("datetime64[s]")
    assert error_of(lambda: TransactionTable.from_frame(frame, currency=C)) == got


def test_a_frame_date_after_2262_is_its_own_day_not_wrapped_through_nanoseconds():
    # datetime64[ns] ends in 2262: cast to it, 3000-01-01 wrapped to a day of 1830
    dates = pd.Series(np.array(["2027-01-05", "3000-01-01"], dtype="datetime64[s]"))
    table = TransactionTable.from_frame(small().to_pandas().assign(date=dates), currency=C)
    assert table.dates.tolist() == [dt.date(2027, 1, 5), dt.date(3000, 1, 1)]


# -- temporal fields from a frame, as from Arrow ---------------------------------------------


def test_a_naive_datetime_frame_column_is_a_timestamp_field_as_from_arrow_reads_it():
    # naive times are UTC instants: t1's 13:00 passes `f >= 12:00Z`, t2's 11:00 does not:
    # 10% of 10.00 = 1.00 (from_frame cut both to 2027-01-15, refused at calculate)
    frame = small().to_pandas().assign(f=pd.to_datetime(["2027-01-15 13:00", "2027-01-15 11:00"]))
    plan = one_field_plan("timestamp", 'f >= timestamp("2027-01-15T12:00:00Z")')
    from_frame = TransactionTable.from_frame(frame, currency=C, fields=["f"])
    from_arrow = TransactionTable.from_arrow(pa.Table.from_pandas(frame), currency=C, fields=["f"])
    assert from_frame.field_types["f"] == from_arrow.field_types["f"] == "timestamp"
    assert from_frame.fields["f"].dtype == np.dtype("datetime64[us]")
    assert (
        from_frame.fields["f"].tolist()
        == from_arrow.fields["f"].tolist()
        == [
            naive(2027, 1, 15, 13),
            naive(2027, 1, 15, 11),
        ]
    )
    assert paid(from_frame, plan) == paid(from_arrow, plan) == "1.00 CNY"
    assert paid(list(from_frame), plan, "reference") == "1.00 CNY"


@pytest.mark.parametrize("unit", ["s", "ms", "us", "ns"])
def test_a_timedelta_frame_column_of_any_unit_is_a_duration_field_in_microseconds(unit):
    # t1 waited 2 days, more than `1d`; t2 12 hours: 10% of t1's 10.00 = 1.00
    # (a timedelta64[s] column was kept in seconds and refused at calculate, naming t1)
    waits = pd.Series(pd.to_timedelta(["2D", "12h"])).astype(f"timedelta64[{unit}]")
    frame = small().to_pandas().assign(f=waits)
    plan = one_field_plan("duration", 'f > duration("1d")')
    from_frame = TransactionTable.from_frame(frame, currency=C, fields=["f"])
    from_arrow = TransactionTable.from_arrow(pa.Table.from_pandas(frame), currency=C, fields=["f"])
    assert from_frame.field_types["f"] == from_arrow.field_types["f"] == "duration"
    assert from_frame.fields["f"].dtype == np.dtype("timedelta64[us]")
    assert (
        from_frame.fields["f"].tolist()
        == from_arrow.fields["f"].tolist()
        == [
            dt.timedelta(days=2),
            dt.timedelta(hours=12),
        ]
    )
    assert paid(from_frame, plan) == paid(from_arrow, plan) == "1.00 CNY"
    assert paid(list(from_frame), plan, "reference") == "1.00 CNY"


def test_a_datetime_column_declared_a_date_counts_on_its_wall_clock_day_in_both_readers():
    # 2027-01-15 07:00 in Shanghai (+08:00) is 2027-01-14 23:00 UTC; its wall-clock day,
    # as the date column counts it, is 15 January. 2027-01-14 23:00 is 14 January in
    # either. `f >= 2027-01-15` passes t1 only: 10% of 10.00 = 1.00
    times = pd.to_datetime(["2027-01-15 07:00", "2027-01-14 23:00"])
    plan = one_field_plan("date", 'f >= date("2027-01-15")')
    days = [dt.date(2027, 1, 15), dt.date(2027, 1, 14)]
    for column in (times, times.tz_localize("Asia/Shanghai")):
        frame = small().to_pandas().assign(f=column)
        tables = [
            TransactionTable.from_frame(frame, currency=C, fields=["f"], field_types={"f": "date"}),
            TransactionTable.from_arrow(
                pa.Table.from_pandas(frame), currency=C, fields=["f"], field_types={"f": "date"}
            ),
        ]
        for table in tables:
            assert table.fields["f"].tolist() == days
            assert paid(table, plan) == paid(list(table), plan, "reference") == "1.00 CNY"
    # undeclared, the tz-aware column holds its UTC instants, as from_arrow reads them
    aware = small().to_pandas().assign(f=times.tz_localize("Asia/Shanghai"))
    table = TransactionTable.from_frame(aware, currency=C, fields=["f"])
    assert table.fields["f"].tolist() == [naive(2027, 1, 14, 23), naive(2027, 1, 14, 15)]


def small_records(f: list[object]) -> list[Transaction]:
    """`small`'s two deals as records, with field ``f``."""
    return [
        Transaction("t1", dt.date(2027, 1, 5), Money("10.00", C), "ann", fields={"f": f[0]}),
        Transaction("t2", dt.date(2027, 1, 6), Money("2.50", C), "ann", fields={"f": f[1]}),
    ]


def paid_by_both_engines(table: TransactionTable, plan: Plan) -> tuple[str, str]:
    """What the batch engine pays from ``table``, and the reference engine from its
    records typed by the plan's schema; the reference engine given the table itself
    types its records so (it must pay the same)."""
    reference = paid(list(table.records(plan.filter_schema())), plan, "reference")
    assert paid(table, plan, "reference") == reference
    return paid(table, plan), reference


DAYS_PLAN = ("date?", 'f >= date("2027-01-15")')  # 10% of a deal whose f is 15 Jan or later


def test_a_frame_datetime_column_of_midnights_feeds_a_date_field_as_its_days():
    # pandas holds dates as datetime64 midnights. t1's 15 Jan passes, t2's 14 Jan does
    # not: 10% of 10.00 = 1.00, by both engines, as the records with dt.date values pay
    # (the column, read as timestamps, was refused for the date field)
    frame = small().to_pandas().assign(f=pd.to_datetime(["2027-01-15", "2027-01-14"]))
    plan = one_field_plan(*DAYS_PLAN)
    table = TransactionTable.from_frame(frame, currency=C, fields=["f"])
    assert table.field_types["f"] == "timestamp"  # a timestamp field still reads the instant
    days = [dt.date(2027, 1, 15), dt.date(2027, 1, 14)]
    schema = plan.filter_schema()
    assert table.filter_columns(schema, ["f"], np.arange(2))["f"].tolist() == days
    assert [t.fields["f"] for t in table.records(schema)] == days
    assert paid_by_both_engines(table, plan) == ("1.00 CNY", "1.00 CNY")
    records = small_records(days)  # type: ignore[arg-type]
    assert paid(records, plan) == paid(records, plan, "reference") == "1.00 CNY"


@pytest.mark.parametrize("unit", ["s", "ms", "us", "ns"])
def test_an_arrow_timestamp_column_of_midnights_feeds_a_date_field_as_its_days(unit):
    # t1's 15 Jan passes; t2's null does not (a null never passes a comparison):
    # 10% of 10.00 = 1.00, by both engines, as the records pay
    times = pa.array([naive(2027, 1, 15), None], pa.timestamp(unit))
    plan = one_field_plan(*DAYS_PLAN)
    table = TransactionTable.from_arrow(small(f=times), currency=C, fields=["f"])
    assert paid_by_both_engines(table, plan) == ("1.00 CNY", "1.00 CNY")
    records = small_records([dt.date(2027, 1, 15), None])
    assert paid(records, plan) == paid(records, plan, "reference") == "1.00 CNY"


def test_a_time_of_day_read_for_a_date_field_is_refused_naming_its_row():
    # t2's 10:30 is not a whole day: refused at row 1 by both engines and both readers;
    # declared a date it is floored to 14 Jan, which does not pass: 10% of 10.00 = 1.00
    frame = small().to_pandas().assign(f=pd.to_datetime(["2027-01-15 00:00", "2027-01-14 10:30"]))
    plan = one_field_plan(*DAYS_PLAN)
    expected = (
        InvalidValueError,
        "incentives.invalid_field",
        "transactions[1].fields",
        (
            "transactions[1]: field 'f' (date?): the table holds it as timestamps, and this "
            "one has a time of day; build the table with field_types={'f': 'date'} to read "
            "each as its wall-clock day, or floor the column to whole days"
        ),
    )
    for table in (
        TransactionTable.from_frame(frame, currency=C, fields=["f"]),
        TransactionTable.from_arrow(pa.Table.from_pandas(frame), currency=C, fields=["f"]),
    ):
        assert error_of(lambda table=table: paid(table, plan)) == expected
        assert error_of(lambda table=table: list(table.records(plan.filter_schema()))) == expected
    declared = TransactionTable.from_frame(
        frame, currency=C, fields=["f"], field_types={"f": "date"}
    )
    assert paid_by_both_engines(declared, plan) == ("1.00 CNY", "1.00 CNY")


def test_a_tz_aware_midnight_column_counts_on_its_local_day_for_a_date_field():
    # 2027-01-15 00:00+08:00 is 2027-01-14 16:00 UTC: a timestamp field reads that
    # instant, a date field 15 Jan, its local day, which passes; 14 Jan does not:
    # 10% of 10.00 = 1.00 (read by its UTC instant it had a time of day, refused)
    local = pd.to_datetime(["2027-01-15", "2027-01-14"]).tz_localize(SHANGHAI)
    frame = small().to_pandas().assign(f=local)
    plan = one_field_plan(*DAYS_PLAN)
    for table in (
        TransactionTable.from_frame(frame, currency=C, fields=["f"]),
        TransactionTable.from_arrow(pa.Table.from_pandas(frame), currency=C, fields=["f"]),
    ):
        assert table.fields["f"].tolist() == [naive(2027, 1, 14, 16), naive(2027, 1, 13, 16)]
        assert [t.fields["f"] for t in table.records(plan.filter_schema())] == [
            dt.date(2027, 1, 15),
            dt.date(2027, 1, 14),
        ]
        assert paid_by_both_engines(table, plan) == ("1.00 CNY", "1.00 CNY")
    # a zone Arrow cannot read: its instants are a timestamp field, its days unknown
    unknown = small(f=pa.array([naive(2027, 1, 15), None], pa.timestamp("s", tz="Mars/Olympus")))
    table = TransactionTable.from_arrow(unknown, currency=C, fields=["f"])
    assert error_of(lambda: paid(table, plan))[:3] == (
        InvalidValueError,
        "incentives.invalid_array",
        "f",
    )


def test_a_date_column_read_for_a_timestamp_field_names_the_field_types_to_give():
    data = small(f=pa.array([dt.date(2027, 1, 15), dt.date(2027, 1, 14)]))
    plan = one_field_plan("timestamp", 'f >= timestamp("2027-01-15T00:00:00Z")')
    table = TransactionTable.from_arrow(data, currency=C, fields=["f"])
    got = error_of(lambda: paid(table, plan))
    assert got == (
        InvalidValueError,
        "incentives.invalid_field",
        "transactions[0].fields",
        (
            "transactions[0]: field 'f' (timestamp): the table holds it as dates; build the "
            "table with field_types={'f': 'timestamp'} to read it as timestamps"
        ),
    )


# -- an unknown currency is named at the row's currency ---------------------------------------


@pytest.mark.parametrize(
    "amount",
    [
        pa.array([1000, 250]),
        pa.array([Decimal("10.00"), Decimal("2.50")], pa.decimal128(12, 2)),
        pa.array(["10.00", "2.50"]),
    ],
    ids=["minor_units", "decimals", "decimal_strings"],
)
def test_an_unknown_currency_is_named_at_its_rows_currency(amount):
    data = small(amount=amount, currency=pa.array(["CNY", "XQZ"]))
    got = error_of(lambda: TransactionTable.from_arrow(data))
    assert got[:3] == (UnknownCurrencyError, "money.unknown_currency", "transactions[1].currency")
    assert "'XQZ'" in got[3]
    assert error_of(lambda: TransactionTable.from_frame(data.to_pandas())) == got


def test_an_unknown_currency_in_one_code_column_arrays_and_the_keyword_is_named_where_it_is():
    one_code = small(currency=pa.array(["XQZ", "XQZ"]))
    assert error_of(lambda: TransactionTable.from_arrow(one_code))[2] == (
        "transactions[0].currency"
    )
    assert error_of(lambda: TransactionTable.from_frame(one_code.to_pandas()))[2] == (
        "transactions[0].currency"
    )
    per_row = TransactionTable.from_arrays
    assert error_of(
        lambda: per_row(
            ids=np.array(["t1", "t2"]),
            dates=np.array(["2027-01-05", "2027-01-06"], dtype="datetime64[D]"),
            amounts=np.array([1000, 250]),
            currency=np.array(["CNY", "XQZ"]),
            owners=np.array(["ann", "ann"]),
        )
    )[2] == ("transactions[1].currency")
    assert error_of(lambda: TransactionTable.from_arrow(small(), currency="XQZ"))[2] == "currency"


def test_an_amount_that_is_not_a_decimal_is_named_at_its_rows_amount():
    frame = small().to_pandas().assign(amount=["10.00", "ten"])
    assert error_of(lambda: TransactionTable.from_frame(frame, currency=C))[1:3] == (
        "money.invalid_amount",
        "transactions[1].amount",
    )
