"""Transactions as columns: the batch engine's input.

A `TransactionTable` holds the same facts as a sequence of `Transaction` records, one
numpy column per attribute, so a million transactions cost a few arrays rather than a
million objects. Build one from records (`TransactionTable.from_records`), from a
pandas DataFrame (`TransactionTable.from_frame`, the ``[dataframe]`` extra), from Arrow
data (`TransactionTable.from_arrow`, the ``[arrow]`` extra) or from arrays
(`TransactionTable.from_arrays`); the frame and Arrow readers (in `_table_readers`,
which imports this module) turn their columns into what `from_arrays` takes, and
`from_arrays` checks them. Each row is checked as a `Transaction` would be, and a bad
row is named by its index (``transactions[7].cancelled``); checks over the whole set
(duplicate ids, splits that do not sum to 1, a missing exchange rate) are the engine's,
with the same errors for records and tables.

Payees and currencies are held as codes into small tuples (``payees``,
``currencies``), like a categorical column.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Final, NoReturn, Protocol, final

import numpy as np

from salesflow.errors import EvaluationError, InvalidValueError, Location, MoneyOverflowError
from salesflow.expressions import Field, compile_expression
from salesflow.money import Currency, Money

from ._inputs import Split, Transaction

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence

    import pandas as pd
    import pyarrow as pa
    from numpy.typing import ArrayLike, NDArray

    from salesflow.expressions import Schema

    Array = NDArray[Any]  # field columns: dtypes vary by field type
    # A timestamp column's wall-clock days, the first row with a time of day, or why its
    # days cannot be told (`_whole_days`, `_with_local_times`)
    _LocalDays = Array | int | InvalidValueError

__all__ = ["MISSING", "NO_DAY", "SplitTable", "TransactionTable"]

_INT64_MAX: Final = int(np.iinfo(np.int64).max)
_INT64_MIN: Final = int(np.iinfo(np.int64).min)
_EPOCH: Final = dt.date(1970, 1, 1)
_DAY_US: Final = 86_400_000_000
_DAY: Final = np.dtype("datetime64[D]")
_DATE_MIN: Final = np.datetime64(dt.date.min, "D")  # the dates and instants a record holds
_DATE_MAX: Final = np.datetime64(dt.date.max, "D")
_INSTANT_MIN: Final = np.datetime64(dt.datetime.min, "us")  # noqa: DTZ901 - a bound, naive as UTC
_INSTANT_MAX: Final = np.datetime64(dt.datetime.max, "us")  # noqa: DTZ901 - a bound, naive as UTC
# Shares with more places than this are kept as Python ints (their sums would not fit).
_SHARE_PLACES_INT64: Final = 16
MISSING: Final = object()  # a record without a field the table has
NO_DAY: Final = int(np.iinfo(np.int32).max)
_BLOCK: Final = 1 << 20
"""The day number of "never" (a transaction not cancelled)."""
_POWERS_INT64: Final = 18  # 10**18 is the largest power of ten in int64


class _ArrowStream(Protocol):
    """Anything Arrow can read as a stream of record batches (polars, DuckDB, pandas)."""

    def __arrow_c_stream__(self, requested_schema: object | None = None) -> object:
        """An ArrowArrayStream PyCapsule (the Arrow PyCapsule interface)."""
        ...


@final
@dataclass(frozen=True, slots=True, eq=False)
class SplitTable:
    """Credit splits as columns: one row per split, grouped by transaction in split order.

    Attributes:
        transaction: intp[S], the index of the split's transaction, non-decreasing.
        payee: intp[S], the payee's code into `TransactionTable.payees`.
        share: The share's numerator over ``10**share_places``: int64[S], or an object
            array of Python ints when the shares have too many places for int64 sums.
        share_places: The power of ten the numerators are over.
        overlay: bool[S], ``True`` for an overlay split.
        given: object[S], each share as the Decimal given (shown in messages as written).
    """

    transaction: NDArray[np.intp]
    payee: NDArray[np.intp]
    share: NDArray[Any]
    share_places: int
    overlay: NDArray[np.bool_]
    given: NDArray[np.object_]

    def __len__(self) -> int:
        """The number of splits."""
        return len(self.transaction)

    def shares(self, rows: NDArray[np.intp] | None = None) -> list[Decimal]:
        """The shares of ``rows`` (every split when ``None``) as the Decimals given."""
        picked = self.given if rows is None else self.given[rows]
        return list(picked.tolist())

    def of_transaction(self, row: int) -> NDArray[np.intp]:
        """The positions of transaction ``row``'s splits, in split order."""
        lo, hi = np.searchsorted(self.transaction, [row, row + 1])
        return np.arange(lo, hi, dtype=np.intp)

    @classmethod
    def of_shares(
        cls,
        transaction: NDArray[np.intp],
        payee: NDArray[np.intp],
        shares: Sequence[Decimal],
        overlay: NDArray[np.bool_],
    ) -> SplitTable:
        """Splits already in transaction order, with their shares as Decimals."""
        numerators, places = _share_numerators(list(shares))
        given = np.empty(len(shares), dtype=object)
        given[:] = list(shares)
        return cls(transaction, payee, numerators, places, overlay, given)

    @classmethod
    def empty(cls) -> SplitTable:
        """A table of no splits."""
        return cls.of_shares(
            np.zeros(0, dtype=np.intp), np.zeros(0, dtype=np.intp), [], np.zeros(0, dtype=bool)
        )


@final
class TransactionTable:
    """Transactions as numpy columns (see the module docstring).

    Attributes:
        ids: The transaction ids, unique in a calculation: a numpy array of ``str``
            (object or unicode) or of integers (a line then shows ``str(id)``).
        dates: datetime64[D], the day each counts on.
        amounts: int64, each amount in minor units of its own currency.
        currency: int16 codes into ``currencies``.
        currencies: The currencies the codes stand for.
        owners: int32 codes into ``payees``.
        payees: The payee ids the owner and split codes stand for.
        cancelled: datetime64[D], the cancellation day, NaT when not cancelled.
        fields: The field columns by name: object arrays of Python values (from
            records), or arrays in the column format of `Expression.evaluate_columns`.
        field_types: The declared type of each typed field column (``"decimal(2)"``);
            object columns are typed by the plan's schema when read.
        splits: The `SplitTable`.
        off_grid: Rows (from records) whose amount is between two minor units of its
            currency, with that amount; ``amounts`` holds it rounded down.

    >>> import numpy as np
    >>> table = TransactionTable.from_arrays(
    ...     ids=np.array(["t1", "t2"]),
    ...     dates=np.array(["2027-01-05", "2027-02-01"], dtype="datetime64[D]"),
    ...     amounts=np.array([1_000_00, 250_00]),
    ...     currency="CNY",
    ...     owners=np.array(["ann", "bo"]),
    ...     split_transaction=np.array([1, 1]),
    ...     split_payee=np.array(["bo", "cy"]),
    ...     split_share=["0.6", "0.4"],
    ... )
    >>> len(table), table.payees, table.splits.shares()
    (2, ('ann', 'bo', 'cy'), [Decimal('0.6'), Decimal('0.4')])
    >>> [t.amount for t in table.records()]
    [Money('1000.00', 'CNY'), Money('250.00', 'CNY')]
    """

    __slots__ = (
        "_local_days",
        "amounts",
        "cancelled",
        "currencies",
        "currency",
        "dates",
        "field_types",
        "fields",
        "ids",
        "off_grid",
        "owners",
        "payees",
        "splits",
    )

    ids: Array
    dates: NDArray[np.datetime64]
    amounts: NDArray[np.int64]
    currency: NDArray[np.int16]
    currencies: tuple[Currency, ...]
    owners: NDArray[np.int32]
    payees: tuple[str, ...]
    cancelled: NDArray[np.datetime64]
    fields: Mapping[str, Array]
    field_types: Mapping[str, str]
    splits: SplitTable
    off_grid: Mapping[int, Money]
    # A timestamp field column's wall-clock days, for a plan's date field (`_days_of`).
    _local_days: dict[str, _LocalDays]

    def __init__(  # noqa: PLR0913 - the columns; build tables with the from_* constructors
        self,
        *,
        ids: Array,
        dates: NDArray[np.datetime64],
        amounts: NDArray[np.int64],
        currency: NDArray[np.intp],
        currencies: tuple[Currency, ...],
        owners: NDArray[np.intp],
        payees: tuple[str, ...],
        cancelled: NDArray[np.datetime64],
        fields: Mapping[str, Array],
        field_types: Mapping[str, str],
        splits: SplitTable,
        off_grid: Mapping[int, Money] | None = None,
    ) -> None:
        """Hold checked columns; use the ``from_*`` constructors."""
        self.ids = ids
        self.dates = dates
        self.amounts = amounts
        self.currency = currency.astype(np.int16, copy=False)
        self.currencies = currencies
        self.owners = owners.astype(np.int32, copy=False)
        self.payees = payees
        self.cancelled = cancelled
        self.fields = MappingProxyType(dict(fields))
        self.field_types = MappingProxyType(dict(field_types))
        self.splits = splits
        self.off_grid = MappingProxyType(dict(off_grid or {}))
        self._local_days = {}
        for column in (ids, dates, amounts, currency, owners, cancelled, *fields.values()):
            column.flags.writeable = False

    def __len__(self) -> int:
        """The number of transactions."""
        return len(self.dates)

    def __iter__(self) -> Iterator[Transaction]:
        """The transactions as records (`records`): a table is an iterable of them."""
        return self.records()

    def __repr__(self) -> str:
        """``TransactionTable(1000000 transactions, 10000 payees, 3 fields)``."""
        return (
            f"TransactionTable({len(self)} transactions, {len(self.payees)} payees, "
            f"{len(self.fields)} fields, {len(self.splits)} splits)"
        )

    # -- constructors -------------------------------------------------------------------

    @classmethod
    def from_records(cls, records: Iterable[Transaction]) -> TransactionTable:
        """A table of ``records``, in their order.

        Raises:
            InvalidValueError: an item is not a `Transaction` (naming its index), or an
                amount does not fit int64 minor units.

        >>> from salesflow.money import Money
        >>> t = Transaction("t1", dt.date(2027, 1, 5), Money("10.50", "CNY"), "ann")
        >>> TransactionTable.from_records([t]).amounts.tolist()
        [1050]
        """
        return _RecordColumns.of(records).table()

    @classmethod
    def from_arrays(  # noqa: PLR0913 - one keyword per column
        cls,
        *,
        ids: ArrayLike,
        dates: ArrayLike,
        amounts: ArrayLike,
        currency: str | Currency | ArrayLike,
        owners: ArrayLike,
        payees: Sequence[str] | None = None,
        cancelled: ArrayLike | None = None,
        fields: Mapping[str, ArrayLike] | None = None,
        field_types: Mapping[str, str] | None = None,
        split_transaction: ArrayLike | None = None,
        split_payee: ArrayLike | None = None,
        split_share: Sequence[Decimal | str | int] | ArrayLike | None = None,
        split_overlay: ArrayLike | None = None,
    ) -> TransactionTable:
        """A table from columns (the fastest constructor; nothing is copied needlessly).

        Args:
            ids: Unique ids: strings, or integers.
            dates: datetime64 days (any datetime64 unit is floored to the day).
            amounts: Integers: minor units of each row's currency (fen, cents).
            currency: One currency code for every row, or one per row.
            owners: Payee ids (strings), or integer codes into ``payees``.
            payees: The payee ids the integer codes of ``owners`` and ``split_payee``
                stand for; only with integer codes.
            cancelled: datetime64 days, NaT where not cancelled; ``None``: none is.
            fields: Field columns in the format of `Expression.evaluate_columns`
                (decimals as int64 scaled by ``10**scale``), or object arrays of
                Python values. Unsigned integers are read as int64, datetime64 and
                timedelta64 of any unit in microseconds (in days for a date field,
                floored); a value that does not fit, or a date or instant outside
                the years 1 to 9999 a record holds, is refused naming its row
                (``transactions[7].fields``), never wrapped.
            field_types: The type of each typed field column, as in `Plan.fields`;
                inferred from the dtype when not given (decimals must be given).
            split_transaction: The row index of each split's transaction.
            split_payee: Each split's payee (string, or code into ``payees``).
            split_share: Each split's share: Decimals, decimal strings or ints.
            split_overlay: Each split's overlay flag; ``None``: no overlays.

        Raises:
            InvalidValueError: a column of the wrong shape or dtype, a missing date
                (``transactions[3].date is missing``), a date outside the years 1 to
                9999, a cancellation before its date, an empty id or payee, an unknown
                currency (``transactions[3].currency``), a share outside (0, 1], a
                split of no transaction; each names the row
                (``transactions[3].cancelled``, ``splits[5].share``).
        """
        size = _length(dates, "dates")
        day = _days(dates, "dates", size, allow_nat=False)
        names = _PayeeNames(payees)
        owner_codes = names.codes(owners, "owner", size)
        split_table = _split_table(
            names,
            size,
            transaction=split_transaction,
            payee=split_payee,
            share=split_share,
            overlay=split_overlay,
        )
        codes, currencies = _currency_codes(currency, size)
        gone = (
            np.full(size, np.datetime64("NaT"), dtype="datetime64[D]")
            if cancelled is None
            else _days(cancelled, "cancelled", size, allow_nat=True)
        )
        _check_cancellations(day, gone)
        columns, types = _field_columns(fields or {}, field_types or {}, size)
        return cls(
            ids=_ids(ids, size),
            dates=day,
            amounts=_amounts(amounts, size),
            currency=codes,
            currencies=currencies,
            owners=owner_codes,
            payees=names.names(),
            cancelled=gone,
            fields=columns,
            field_types=types,
            splits=split_table,
        )

    @classmethod
    def from_frame(  # noqa: PLR0913 - the column names, each with its default
        cls,
        frame: pd.DataFrame,
        splits: pd.DataFrame | None = None,
        *,
        id: str = "id",  # noqa: A002 - the column's name
        date: str = "date",
        amount: str = "amount",
        currency: str = "currency",
        owner: str = "owner",
        cancelled: str | None = "cancelled",
        fields: Sequence[str] = (),
        field_types: Mapping[str, str] | None = None,
    ) -> TransactionTable:
        """A table from a pandas DataFrame (the ``[dataframe]`` extra).

        Args:
            frame: One row per transaction.
            splits: Optional, one row per split, in split order, with the columns
                ``transaction`` (the transaction's id), ``payee``, ``share`` (Decimals
                or decimal strings) and optionally ``overlay``.
            id: The id column.
            date: The date column (datetime64, or ``datetime.date`` objects); a
                tz-aware timestamp counts on its local day, the day of its wall-clock
                time in its own zone (``2027-01-01 07:00+08:00`` counts on 1 January).
            amount: The amount column: integers are minor units; ``Decimal``, decimal
                strings or `Money` are amounts (floats are refused).
            currency: The currency column, or a currency code when no such column is
                in the frame.
            owner: The owner column.
            cancelled: The cancellation-date column (``None``/NaT: not cancelled), if
                any.
            fields: The columns plan filters read. A datetime64 column is a timestamp
                field (a naive value a UTC instant, a tz-aware one its instant), a
                timedelta64 column of any unit a duration, as `from_arrow` reads them;
                declare ``field_types={"signed": "date"}`` to read a datetime column as
                dates (each value's wall-clock day, as the date column counts it).
                Undeclared, a plan's date field reads a column of whole days (each a
                wall-clock midnight) as those days (`filter_columns`).
            field_types: Their types, as in `Plan.fields` (see `from_arrays`).

        A column of a ``pd.ArrowDtype`` is read as `from_arrow` reads its Arrow array;
        ``string[pyarrow]`` and the other pandas dtypes as numpy reads them. A missing
        id, amount, owner or currency (None, NaN, NA) is refused, naming the row.

        Raises:
            ImportError: pandas is not installed.
            InvalidValueError: as `from_arrays`; a float amount; a missing value where
                one is required (``transactions[3].amount is missing``); a split naming
                no transaction of the frame.

        >>> import pandas as pd
        >>> frame = pd.DataFrame({
        ...     "id": ["t1", "t2"], "date": pd.to_datetime(["2027-01-05", "2027-02-01"]),
        ...     "amount": [100000, 25000], "owner": ["ann", "bo"]})
        >>> TransactionTable.from_frame(frame, currency="CNY").amounts.tolist()
        [100000, 25000]
        """
        from ._table_readers import frame_columns, read_columns  # noqa: PLC0415 - an import cycle

        names = (id, date, amount, currency, owner, cancelled)
        sources = frame_columns(frame, splits)
        return read_columns(cls, *sources, names=names, fields=fields, field_types=field_types)

    @classmethod
    def from_arrow(  # noqa: PLR0913 - the column names, each with its default
        cls,
        data: pa.Table | pa.RecordBatch | _ArrowStream,
        splits: pa.Table | pa.RecordBatch | _ArrowStream | None = None,
        *,
        id: str = "id",  # noqa: A002 - the column's name
        date: str = "date",
        amount: str = "amount",
        currency: str = "currency",
        owner: str = "owner",
        cancelled: str | None = "cancelled",
        fields: Sequence[str] = (),
        field_types: Mapping[str, str] | None = None,
    ) -> TransactionTable:
        """A table from Arrow data (the ``[arrow]`` extra), column by column, without pandas.

        The columns and keywords are `from_frame`'s; the Arrow type of a column says
        how it is read. Every column may be chunked.

        * ids: strings (``string``, ``large_string``, ``dictionary<string>``) or
          integers.
        * dates and cancellations: ``date32``, ``date64`` or ``timestamp`` of any unit.
          A timestamp counts on the day of its wall-clock time: a naive one on its own
          day, a tz-aware one on its local day in its own zone, as `from_frame` reads a
          tz-aware pandas column (``2027-01-01 07:00+08:00`` counts on 1 January, though
          its instant is 31 December 23:00 UTC). Cast the column to another zone
          (``pa.timestamp("us", tz="Asia/Shanghai")``) to count on that zone's days.
        * amounts: ``decimal128``/``decimal256`` are amounts, read exactly from their
          unscaled integers and scale (more places than the currency's minor units is
          refused, naming the row); integers are minor units; decimal strings are
          amounts; floats are refused, as `from_frame` refuses them.
        * owners, split payees and currencies: strings; a ``dictionary<string>``
          column is read through its indices and dictionary (the fast path).
        * fields: ``bool``, integers, floats, decimals (int64 at their scale; a plan
          field of another scale reads them exactly at its own), ``date32``/``date64``
          (dates), timestamps (UTC instants; declared a ``date`` in ``field_types``,
          each value's wall-clock day, as the date column counts it; undeclared, a
          plan's date field reads a column of wall-clock midnights as their days),
          durations and strings; a null is null. A decimal column with values that cannot be int64
          at its scale is kept as Decimals, typed by the plan's schema when read. A
          ``uint64`` value beyond int64, a duration beyond int64 microseconds, or a
          date or timestamp outside the years 1 to 9999 is refused naming its row
          (``transactions[7].fields``), as its record would be.

        A null where a value is required (an id, a date, an amount, an owner, a
        currency, a split's payee or overlay) is refused, naming the first such row.

        Args:
            data: One row per transaction: a ``pyarrow.Table``, a ``RecordBatch``, or
                anything with ``__arrow_c_stream__`` (read with ``pyarrow.table``).
            splits: Optional, one row per split, in split order: ``transaction`` (the
                transaction's id), ``payee``, ``share`` (decimals, decimal strings or
                integers) and optionally ``overlay`` (bool).
            id: The id column.
            date: The date column.
            amount: The amount column.
            currency: The currency column, or a currency code when no such column is
                in the table.
            owner: The owner column.
            cancelled: The cancellation-date column (null: not cancelled), if any.
            fields: The columns plan filters read.
            field_types: Their types, as in `Plan.fields` (see `from_arrays`).

        Raises:
            ImportError: pyarrow is not installed.
            InvalidValueError: as `from_frame`; a column of a type that cannot hold what
                it must, naming the column.
            MoneyOverflowError: an amount beyond int64 minor units, naming the row.

        >>> import pyarrow as pa
        >>> data = pa.table({
        ...     "id": ["t1", "t2"],
        ...     "date": pa.array([dt.date(2027, 1, 5), dt.date(2027, 2, 1)]),
        ...     "amount": pa.array([Decimal("1000.00"), Decimal("250.5")], pa.decimal128(12, 2)),
        ...     "owner": pa.array(["ann", "bo"]).dictionary_encode()})
        >>> table = TransactionTable.from_arrow(data, currency="CNY")
        >>> table.amounts.tolist(), table.payees
        ([100000, 25050], ('ann', 'bo'))
        """
        from ._table_readers import arrow_columns, read_columns  # noqa: PLC0415 - an import cycle

        names = (id, date, amount, currency, owner, cancelled)
        sources = arrow_columns(data, splits)
        return read_columns(cls, *sources, names=names, fields=fields, field_types=field_types)

    # -- reading ------------------------------------------------------------------------

    def day_numbers(self, rows: NDArray[np.signedinteger[Any]] | None = None) -> NDArray[np.int32]:
        """The dates of ``rows`` (every row when ``None``) as int32 days since 1970."""
        days = self.dates.view(np.int64)
        if rows is None:
            return days.astype(np.int32)
        picked = np.empty(len(rows), dtype=np.int32)
        for lo in range(0, len(rows), _BLOCK):  # no int64 copy of the whole gather
            picked[lo : lo + _BLOCK] = days[rows[lo : lo + _BLOCK]]
        return picked

    def cancelled_numbers(
        self, rows: NDArray[np.signedinteger[Any]] | None = None
    ) -> NDArray[np.int32]:
        """The cancellation days of ``rows`` as int32 days since 1970, `NO_DAY` if none."""
        size = len(self) if rows is None else len(rows)
        numbers = np.empty(size, dtype=np.int32)
        for lo in range(0, size, _BLOCK):  # no int64 copy of the whole gather
            hi = min(lo + _BLOCK, size)
            gone = self.cancelled[lo:hi] if rows is None else self.cancelled[rows[lo:hi]]
            block = gone.view(np.int64).astype(np.int32)
            block[np.isnat(gone)] = NO_DAY
            numbers[lo:hi] = block
        return numbers

    def id_of(self, row: int) -> str:
        """The id of transaction ``row`` as a line shows it."""
        value = self.ids[row]
        return (
            value
            if isinstance(value, str)
            else str(value.item() if hasattr(value, "item") else value)
        )

    def ids_of(self, rows: NDArray[np.intp]) -> list[str]:
        """The ids of transactions ``rows`` as lines show them."""
        return list(map(str, self.ids[rows].tolist()))

    def records(self, schema: Schema | None = None) -> Iterator[Transaction]:
        """The transactions as records, in order (what the reference engine reads).

        Args:
            schema: The schema that types int64 decimal field columns (their scale)
                declared without `field_types`; its date fields read timestamp
                columns of whole days as dates, as `filter_columns` does.
        """
        fields = self._field_values(schema)
        split_rows = self._split_rows()
        currencies = [c.code for c in self.currencies]
        places = [c.minor_units for c in self.currencies]
        days = self.dates.astype(object).tolist()
        gone = self.cancelled.astype(object).tolist()
        amounts = self.amounts.tolist()
        currency = self.currency.tolist()
        owners = self.owners.tolist()
        for row in range(len(self)):
            code = currency[row]
            values = {name: column[row] for name, column in fields.items()}
            exact = self.off_grid.get(row)
            yield Transaction(
                id=self.id_of(row),
                date=days[row],
                amount=exact
                or Money(Decimal(amounts[row]).scaleb(-places[code]), currencies[code]),
                owner=self.payees[owners[row]],
                fields={k: v for k, v in values.items() if v is not MISSING},
                splits=split_rows.get(row, ()),
                cancelled=gone[row],
            )

    def record(self, row: int) -> Transaction:
        """Transaction ``row`` as a record, without its fields (for messages).

        >>> import numpy as np
        >>> table = TransactionTable.from_arrays(
        ...     ids=np.array([7]), dates=np.array(["2027-01-05"], dtype="datetime64[D]"),
        ...     amounts=np.array([1050]), currency="CNY", owners=np.array(["ann"]))
        >>> table.record(0).id, table.record(0).amount
        ('7', Money('10.50', 'CNY'))
        """
        currency = self.currencies[int(self.currency[row])]
        units = int(self.amounts[row])
        positions = self.splits.of_transaction(row)
        shares = self.splits.shares(positions)
        splits = tuple(
            Split(
                self.payees[int(self.splits.payee[p])], share, overlay=bool(self.splits.overlay[p])
            )
            for p, share in zip(positions.tolist(), shares, strict=True)
        )
        gone = self.cancelled[row]
        return Transaction(
            id=self.id_of(row),
            date=self.dates[row].astype(object),
            amount=self.off_grid.get(row)
            or Money(Decimal(units).scaleb(-currency.minor_units), currency),
            owner=self.payees[int(self.owners[row])],
            splits=splits,
            cancelled=None if np.isnat(gone) else gone.astype(object),
        )

    def fields_of(self, row: int) -> dict[str, object]:
        """The fields transaction ``row`` carries (a record may lack some)."""
        values = {name: column[row] for name, column in self.fields.items()}
        return {name: value for name, value in values.items() if value is not MISSING}

    def filter_columns(
        self, schema: Schema, names: Iterable[str], rows: NDArray[np.intp]
    ) -> dict[str, Array]:
        """The field columns ``names`` of transactions ``rows``, typed for `Expression.mask`.

        Object columns (from records) are converted by the field's type in ``schema``;
        a value missing from a record is null. An int or decimal column read for a
        decimal field of another scale is rescaled to the field's, exactly (an int
        column of 5 is 5, not 0.5, under ``decimal(1)``). A value of the wrong type, or
        with more places than the field's scale, raises the scalar evaluator's error
        for it, as ``incentives.invalid_field`` naming the transaction
        (``transactions[4].fields``). A timestamp column read for a date field is read
        as days when every value is a whole day (a wall-clock midnight; a tz-aware
        source's in its own zone), else refused naming the first row with a time of
        day (`records` reads it so too). A date column read for a timestamp field is
        refused naming the first transaction and the ``field_types`` that reads the
        column as timestamps.

        Raises:
            InvalidValueError: a value of the wrong type.
        """
        columns: dict[str, Array] = {}
        for name in names:
            column = self.fields[name]
            if column.dtype == object:
                columns[name] = _typed_column(name, column, _field_of(schema, name), rows)
                continue
            days = self._days_of(name, schema)
            if days is not None:
                columns[name] = _picked(days, rows)
                continue
            picked = _picked(column, rows)
            declared = self.field_types.get(name)
            _refuse_other_time_kind(name, declared, schema, rows)
            columns[name] = _at_field_scale(name, picked, declared, schema, rows)
        return columns

    # -- internals ----------------------------------------------------------------------

    def _split_rows(self) -> dict[int, tuple[Split, ...]]:
        rows: dict[int, list[Split]] = {}
        shares = self.splits.shares()
        for index, (tx, payee, overlay) in enumerate(
            zip(
                self.splits.transaction.tolist(),
                self.splits.payee.tolist(),
                self.splits.overlay.tolist(),
                strict=True,
            )
        ):
            rows.setdefault(tx, []).append(
                Split(self.payees[payee], shares[index], overlay=overlay)
            )
        return {tx: tuple(splits) for tx, splits in rows.items()}

    def _field_values(self, schema: Schema | None) -> dict[str, list[object]]:
        values: dict[str, list[object]] = {}
        for name, column in self.fields.items():
            if column.dtype == object:
                values[name] = column.tolist()
                continue
            days = self._days_of(name, schema)
            if days is not None:
                values[name] = _python_values(days, _DATE_FIELD)
                continue
            spelled = self.field_types.get(name)
            field = Field.model_validate(spelled) if spelled else _field_of(schema, name)
            values[name] = _python_values(column, field)
        return values

    def _days_of(self, name: str, schema: Schema | None) -> Array | None:
        """Timestamp column ``name`` as the days ``schema``'s date field reads; else None.

        Each value must be a whole day, a wall-clock midnight: a timestamp column holds
        UTC instants, and a tz-aware source's wall-clock times are kept for this by its
        reader (`_with_local_times`); a naive one's are its instants. A value with a
        time of day is refused, naming the first row that has one.
        """
        declared = self.field_types.get(name)
        if declared is None or schema is None or name not in schema.fields:
            return None
        field = _field_of(schema, name)
        if field.type != "date" or _declared(name, declared).type != "timestamp":
            return None
        found = self._local_days.get(name)
        if found is None:
            found = self._local_days[name] = _whole_days(self.fields[name])
        if isinstance(found, InvalidValueError):
            raise found
        if isinstance(found, int):
            msg = (
                f"transactions[{found}]: field {name!r} ({field}): the table holds it as "
                f"timestamps, and this one has a time of day; build the table with "
                f"field_types={{{name!r}: 'date'}} to read each as its wall-clock day, or "
                f"floor the column to whole days"
            )
            where = Location(path=f"transactions[{found}].fields")
            raise InvalidValueError(msg, code="incentives.invalid_field", location=where)
        return found


# -- records ----------------------------------------------------------------------------


@dataclass(slots=True)
class _RecordColumns:
    """Columns gathered from records, one pass."""

    ids: list[str]
    days: list[dt.date]
    units: list[int]
    currency: list[int]
    owners: list[int]
    cancelled: list[dt.date | None]
    fields: dict[str, list[object]]
    split_rows: list[tuple[int, int, Decimal, bool]]
    names: _PayeeNames
    currencies: dict[Currency, int]
    off_grid: dict[int, Money]

    @classmethod
    def of(cls, records: Iterable[Transaction]) -> _RecordColumns:
        columns = cls([], [], [], [], [], [], {}, [], _PayeeNames(None), {}, {})
        for index, record in enumerate(records):
            columns.add(index, record)
        return columns

    def add(self, index: int, record: Transaction) -> None:
        if not isinstance(record, Transaction):
            msg = f"transactions[{index}] is {type(record).__name__}, not a Transaction"
            raise InvalidValueError(
                msg,
                code="incentives.invalid_field",
                location=Location(path=f"transactions[{index}]"),
            )
        self.ids.append(record.id)
        self.days.append(record.date)
        money = record.amount
        if not money.is_on_minor_unit():
            # Kept exactly: a foreign amount converts exactly, a plan-currency one is refused
            # by the engine's check (as the reference engine refuses it).
            self.off_grid[index] = money
            money = money.round(rounding="down")
        self.units.append(_units(money, index))
        self.currency.append(self.currencies.setdefault(money.currency, len(self.currencies)))
        self.owners.append(self.names.code(record.owner))
        self.cancelled.append(record.cancelled)
        for name in record.fields:
            if name not in self.fields:
                self.fields[name] = [MISSING] * index
        for name, column in self.fields.items():
            column.append(record.fields.get(name, MISSING))
        for split in record.splits:
            self.split_rows.append(
                (index, self.names.code(split.payee), split.share, split.overlay)
            )

    def table(self) -> TransactionTable:
        size = len(self.ids)
        fields = {}
        for name, values in self.fields.items():
            column = np.empty(size, dtype=object)
            column[:] = values
            fields[name] = column
        ids = np.empty(size, dtype=object)
        ids[:] = self.ids
        return TransactionTable(
            ids=ids,
            dates=np.array(self.days, dtype="datetime64[D]").reshape(size),
            amounts=np.array(self.units, dtype=np.int64).reshape(size),
            currency=np.array(self.currency, dtype=np.intp).reshape(size),
            currencies=tuple(self.currencies),
            owners=np.array(self.owners, dtype=np.intp).reshape(size),
            payees=self.names.names(),
            cancelled=np.array(
                [np.datetime64("NaT") if d is None else d for d in self.cancelled],
                dtype="datetime64[D]",
            ).reshape(size),
            fields=fields,
            field_types={},
            splits=_splits_of_rows(self.split_rows),
            off_grid=self.off_grid,
        )


def _units(money: Money, index: int) -> int:
    units = money.to_minor_units(rounding=None) if money.is_on_minor_unit() else None
    if units is None:
        msg = f"transactions[{index}].amount {money} is not a whole number of minor units"
        raise InvalidValueError(
            msg,
            code="incentives.invalid_amount",
            location=Location(path=f"transactions[{index}].amount"),
        )
    if not _INT64_MIN <= units <= _INT64_MAX:
        msg = f"transactions[{index}].amount {money} does not fit int64 minor units"
        raise MoneyOverflowError(
            msg,
            code="incentives.int64_overflow",
            location=Location(path=f"transactions[{index}].amount"),
        )
    return units


def _splits_of_rows(rows: list[tuple[int, int, Decimal, bool]]) -> SplitTable:
    if not rows:
        return SplitTable.empty()
    transaction, payee, shares, overlay = zip(*rows, strict=True)
    return SplitTable.of_shares(
        np.array(transaction, dtype=np.intp),
        np.array(payee, dtype=np.intp),
        list(shares),
        np.array(overlay, dtype=bool),
    )


def _share_numerators(shares: list[Decimal]) -> tuple[Array, int]:
    """Numerators over one power of ten, exactly: int64 when sums fit, else ints."""
    distinct = set(shares)  # a few values (0.6, 0.4, 0.5) repeated over many splits
    places = 0
    for share in distinct:
        exponent = share.normalize().as_tuple().exponent
        if isinstance(exponent, int):
            places = max(places, -exponent)
    numerator = {share: int(share.scaleb(places)) for share in distinct}
    numerators = [numerator[share] for share in shares]
    if places <= _SHARE_PLACES_INT64:
        return np.array(numerators, dtype=np.int64), places
    column = np.empty(len(numerators), dtype=object)
    column[:] = numerators
    return column, places


# -- arrays -----------------------------------------------------------------------------


class _PayeeNames:
    """Payee ids to codes, in order of first appearance (or as given)."""

    def __init__(self, given: Sequence[str] | None) -> None:
        self.given = given is not None
        self.index: dict[str, int] = {}
        for position, name in enumerate(given or ()):
            if not isinstance(name, str) or not name:
                msg = f"payees[{position}] must be a non-empty string, not {name!r}"
                raise InvalidValueError(
                    msg,
                    code="incentives.invalid_field",
                    location=Location(path=f"payees[{position}]"),
                )
            self.index.setdefault(name, position)
        self.listed = list(given or ())

    def code(self, name: str) -> int:
        found = self.index.get(name)
        if found is None:
            found = self.index[name] = len(self.listed)
            self.listed.append(name)
        return found

    def names(self) -> tuple[str, ...]:
        return tuple(self.listed)

    def codes(self, values: ArrayLike, what: str, size: int) -> NDArray[np.intp]:
        array = np.asarray(values)
        if array.shape != (size,):
            msg = f"{what}s has shape {array.shape}, expected ({size},)"
            raise InvalidValueError(
                msg, code="incentives.invalid_array", location=Location(path=f"{what}s")
            )
        if array.dtype.kind in "iu":
            return self._checked_codes(array, what)
        if array.dtype.kind not in "UO":
            msg = f"{what}s must hold payee ids (strings) or codes into payees, not {array.dtype}"
            raise InvalidValueError(
                msg, code="incentives.invalid_array", location=Location(path=f"{what}s")
            )
        uniques, inverse = np.unique(array.astype(object), return_inverse=True)
        mapped = np.array(
            [self._text_code(name, what, array) for name in uniques.tolist()], dtype=np.intp
        )
        return mapped[inverse] if len(mapped) else np.zeros(0, dtype=np.intp)

    def _checked_codes(self, array: NDArray[Any], what: str) -> NDArray[np.intp]:
        if not self.given:
            msg = f"{what}s are integer codes: give payees=, the ids they stand for"
            raise InvalidValueError(
                msg, code="incentives.invalid_array", location=Location(path="payees")
            )
        bad = np.flatnonzero((array < 0) | (array >= len(self.listed)))
        if bad.size:
            row = int(bad[0])
            msg = f"{what} code {int(array[row])} at row {row} is not an index into payees"
            raise InvalidValueError(
                msg,
                code="incentives.invalid_payee",
                location=Location(path=f"{_row_path(what, row)}"),
            )
        return array.astype(np.intp, copy=False)

    def _text_code(self, name: object, what: str, array: NDArray[Any]) -> int:
        if not isinstance(name, str) or not name:
            row = (
                int(np.flatnonzero(array.astype(object) == name)[0])
                if name is not None
                else _first_none(array)
            )
            msg = f"{_row_path(what, row)} must be a non-empty string, not {name!r}"
            raise InvalidValueError(
                msg, code="incentives.invalid_field", location=Location(path=_row_path(what, row))
            )
        return self.code(name)


def _first_none(array: NDArray[Any]) -> int:
    return next(i for i, v in enumerate(array.tolist()) if v is None)


def _row_path(what: str, row: int) -> str:
    if what.startswith("split "):  # "split payee", "split overlay"
        return f"splits[{row}].{what.removeprefix('split ')}"
    return f"transactions[{row}].{what}"


def _length(values: ArrayLike, name: str) -> int:
    array = np.asarray(values)
    if array.ndim != 1:
        msg = f"{name} must be 1-dimensional, not of shape {array.shape}"
        raise InvalidValueError(msg, code="incentives.invalid_array", location=Location(path=name))
    return len(array)


def _days(values: ArrayLike, name: str, size: int, *, allow_nat: bool) -> NDArray[np.datetime64]:
    array = np.asarray(values)
    if array.shape != (size,):
        msg = f"{name} has shape {array.shape}, expected ({size},)"
        raise InvalidValueError(msg, code="incentives.invalid_array", location=Location(path=name))
    if array.dtype.kind != "M":
        msg = f"{name} must be a datetime64 array, not {array.dtype}"
        raise InvalidValueError(msg, code="incentives.invalid_array", location=Location(path=name))
    days, fits = _in_dtype(array, _DAY)
    what = "date" if name == "dates" else name
    if not allow_nat:
        missing = np.flatnonzero(np.isnat(days))
        if missing.size:
            path = f"transactions[{int(missing[0])}].{what}"
            msg = f"{path} is missing"
            raise InvalidValueError(
                msg, code="incentives.invalid_field", location=Location(path=path)
            )
    wrong = ~fits
    wrong[_rows_outside(days, _DATE_MIN, _DATE_MAX)] = True
    outside = np.flatnonzero(wrong)
    if outside.size:  # a record cannot hold it, and day numbers are int32
        row = int(outside[0])
        path = f"transactions[{row}].{what}"
        shown = days[row] if fits[row] else array[row]  # the day, unless it overflowed
        msg = f"{path} {shown} is outside the dates a record holds ({_DATE_MIN} to {_DATE_MAX})"
        raise InvalidValueError(msg, code="incentives.invalid_field", location=Location(path=path))
    return days


def _check_cancellations(days: NDArray[np.datetime64], gone: NDArray[np.datetime64]) -> None:
    early = np.flatnonzero(~np.isnat(gone) & (gone < days))
    if early.size:
        row = int(early[0])
        msg = f"transactions[{row}] is cancelled ({gone[row]}) before its date ({days[row]})"
        raise InvalidValueError(
            msg,
            code="incentives.cancelled_before_date",
            location=Location(path=f"transactions[{row}].cancelled"),
        )


def _ids(values: ArrayLike, size: int) -> Array:
    array = np.asarray(values)
    if array.shape != (size,):
        msg = f"ids has shape {array.shape}, expected ({size},)"
        raise InvalidValueError(msg, code="incentives.invalid_array", location=Location(path="ids"))
    if array.dtype.kind in "iu":
        return array
    if array.dtype.kind == "U":
        empty = np.flatnonzero(array == "")
    elif array.dtype.kind == "O":
        items = array.tolist()
        empty = np.array(
            [i for i, v in enumerate(items) if not isinstance(v, str) or not v], dtype=np.intp
        )
    else:
        msg = f"ids must be strings or integers, not {array.dtype}"
        raise InvalidValueError(msg, code="incentives.invalid_array", location=Location(path="ids"))
    if empty.size:
        row = int(empty[0])
        msg = f"transactions[{row}].id must be a non-empty string, not {array[row]!r}"
        raise InvalidValueError(
            msg, code="incentives.invalid_field", location=Location(path=f"transactions[{row}].id")
        )
    return array


def _amounts(values: ArrayLike, size: int) -> NDArray[np.int64]:
    array = np.asarray(values)
    if array.shape != (size,) or not (array.dtype.kind in "iu" or size == 0):
        msg = (
            f"amounts must be integers (minor units) of shape ({size},), "
            f"not {array.dtype} {array.shape}"
        )
        raise InvalidValueError(
            msg, code="incentives.invalid_array", location=Location(path="amounts")
        )
    if array.dtype == np.uint64 and size and int(array.max()) > _INT64_MAX:
        row = int(np.argmax(array))
        msg = f"transactions[{row}].amount does not fit int64 minor units"
        raise MoneyOverflowError(
            msg,
            code="incentives.int64_overflow",
            location=Location(path=f"transactions[{row}].amount"),
        )
    return array.astype(np.int64, copy=False)


def _currency_codes(
    currency: str | Currency | ArrayLike, size: int
) -> tuple[NDArray[np.intp], tuple[Currency, ...]]:
    if isinstance(currency, str | Currency):
        try:
            one = Currency(currency)
        except InvalidValueError as err:  # the keyword, not a column
            where = Location(path="currency")
            raise type(err)(err.message, code=err.code, location=where) from None
        return np.zeros(size, dtype=np.intp), (one,)
    array = np.asarray(currency)
    if array.shape != (size,):
        msg = f"currency has shape {array.shape}, expected ({size},) or one code"
        raise InvalidValueError(
            msg, code="incentives.invalid_array", location=Location(path="currency")
        )
    uniques, inverse = np.unique(array.astype(str), return_inverse=True)
    currencies = []
    for code in uniques.tolist():
        try:
            currencies.append(Currency(code))
        except InvalidValueError as err:
            row = int(np.flatnonzero(array.astype(str) == code)[0])
            where = Location(path=f"transactions[{row}].currency")
            raise type(err)(err.message, code=err.code, location=where) from None
    return inverse.astype(np.intp), tuple(currencies)


def _split_table(  # noqa: PLR0913 - the split columns
    names: _PayeeNames,
    size: int,
    *,
    transaction: ArrayLike | None,
    payee: ArrayLike | None,
    share: Sequence[Decimal | str | int] | ArrayLike | None,
    overlay: ArrayLike | None,
) -> SplitTable:
    if transaction is None:
        if payee is not None or share is not None:
            msg = "split_payee and split_share need split_transaction"
            raise InvalidValueError(
                msg, code="incentives.invalid_array", location=Location(path="split_transaction")
            )
        return SplitTable.empty()
    rows = np.asarray(transaction)
    count = len(rows)
    if rows.ndim != 1 or (count and rows.dtype.kind not in "iu"):
        msg = f"split_transaction must be 1-D row indexes, not {rows.dtype} {rows.shape}"
        raise InvalidValueError(
            msg, code="incentives.invalid_array", location=Location(path="split_transaction")
        )
    bad = np.flatnonzero((rows < 0) | (rows >= size))
    if bad.size:
        at = int(bad[0])
        msg = (
            f"splits[{at}] names transaction row {int(rows[at])}, "
            f"not a row of the {size} transactions"
        )
        raise InvalidValueError(
            msg,
            code="incentives.invalid_split",
            location=Location(path=f"splits[{at}].transaction"),
        )
    payees = names.codes(
        payee if payee is not None else np.zeros(0, dtype=object), "split payee", count
    )
    shares = _checked_shares(share, count)
    flags = np.zeros(count, dtype=bool) if overlay is None else np.asarray(overlay, dtype=bool)
    if flags.shape != (count,):
        msg = f"split_overlay has shape {flags.shape}, expected ({count},)"
        raise InvalidValueError(
            msg, code="incentives.invalid_array", location=Location(path="split_overlay")
        )
    order = np.argsort(rows, kind="stable")
    return SplitTable.of_shares(
        rows[order].astype(np.intp),
        payees[order],
        [shares[i] for i in order.tolist()],
        flags[order],
    )


def _checked_shares(
    share: Sequence[Decimal | str | int] | ArrayLike | None, count: int
) -> list[Decimal]:
    items = [] if share is None else list(np.asarray(share, dtype=object).tolist())
    if len(items) != count:
        msg = f"split_share has {len(items)} entries, expected {count}"
        raise InvalidValueError(
            msg, code="incentives.invalid_array", location=Location(path="split_share")
        )
    cache: dict[object, Decimal] = {}
    shares: list[Decimal] = []
    for index, item in enumerate(items):
        value = cache.get(item) if isinstance(item, str | int | Decimal) else None
        if value is None:
            value = _share(item, index)
            if isinstance(item, str | int | Decimal):
                cache[item] = value
        shares.append(value)
    return shares


def _share(item: object, index: int) -> Decimal:
    where = Location(path=f"splits[{index}].share")
    if isinstance(item, float | bool) or not isinstance(item, str | int | Decimal):
        msg = f"splits[{index}].share must be a Decimal, decimal string or int, not {item!r}"
        raise InvalidValueError(msg, code="incentives.invalid_share", location=where)
    try:
        value = Decimal(item)
    except ArithmeticError:
        value = Decimal("NaN")
    if not value.is_finite() or not (0 < value <= 1):
        msg = f"splits[{index}].share must be in (0, 1], not {item!r}"
        raise InvalidValueError(msg, code="incentives.invalid_share", location=where)
    return value


# -- fields -----------------------------------------------------------------------------


_INFERRED: Final = {"b": "bool", "i": "int", "u": "int", "f": "double", "U": "string"}


def _field_columns(
    fields: Mapping[str, ArrayLike], types: Mapping[str, str], size: int
) -> tuple[dict[str, Array], dict[str, str]]:
    columns: dict[str, Array] = {}
    spelled: dict[str, str] = {}
    for name, raw in fields.items():
        column = raw if isinstance(raw, np.ma.MaskedArray) else np.asarray(raw)
        if column.shape != (size,):
            msg = f"field {name!r} has shape {column.shape}, expected ({size},)"
            raise InvalidValueError(
                msg, code="incentives.invalid_array", location=Location(path=f"fields.{name}")
            )
        if column.dtype != object:
            spelled[name] = types.get(name) or _inferred_type(name, column)
            column = _held(name, column, _declared(name, spelled[name]))
        columns[name] = column
    return columns, spelled


def _inferred_type(name: str, column: Array) -> str:
    kind = column.dtype.kind
    if kind == "M":
        return "date" if column.dtype == np.dtype("datetime64[D]") else "timestamp"
    if kind == "m":
        return "duration"
    inferred = _INFERRED.get(kind)
    if inferred is None:
        msg = f"field {name!r}: cannot tell its type from {column.dtype}; give field_types"
        raise InvalidValueError(
            msg, code="incentives.invalid_array", location=Location(path=f"fields.{name}")
        )
    return inferred


# The dtype a column of a numpy kind is held in for a field type, where it may differ.
_HELD_DTYPES: Final = {
    ("u", "int"): np.dtype(np.int64),
    ("u", "decimal"): np.dtype(np.int64),
    ("u", "double"): np.dtype(np.float64),
    ("M", "date"): _DAY,  # floored to the day
    ("M", "timestamp"): np.dtype("datetime64[us]"),
    ("m", "duration"): np.dtype("timedelta64[us]"),
}


def _held(name: str, column: Array, field: Field) -> Array:
    """``column`` in the dtype its field type is held in, refusing a value it cannot hold.

    Unsigned integers are read as int64 (float64 for a double), datetime64 and
    timedelta64 of any unit in microseconds (a date field's in days, floored): a value
    beyond int64 there, or an instant outside the years 1 to 9999 a record holds, is
    refused naming its row (no silent wrap). Other columns are left as they are.
    """
    target = _HELD_DTYPES.get((column.dtype.kind, field.type))
    if target is None:
        return column
    data, nulls = np.ma.getdata(column), np.ma.getmaskarray(column)
    values, fits = _in_dtype(data, target)
    wrong = ~fits
    if field.type in _RECORD_RANGE:
        wrong[_rows_outside(values, *_RECORD_RANGE[field.type])] = True
    bad = np.flatnonzero(wrong & ~nulls)
    if bad.size:
        row = int(bad[0])
        value = int(data[row]) if data.dtype.kind == "u" else data[row]
        _refuse_field_value(name, field, row, value)
    return np.ma.masked_array(values, mask=nulls) if np.ma.isMaskedArray(column) else values


_RECORD_RANGE: Final = {"date": (_DATE_MIN, _DATE_MAX), "timestamp": (_INSTANT_MIN, _INSTANT_MAX)}


def _rows_outside(values: Array, low: np.datetime64, high: np.datetime64) -> NDArray[np.intp]:
    """The rows of datetime64 ``values`` (NaT aside) before ``low`` or after ``high``."""
    if values.dtype.kind != "M" or not values.size:
        return np.zeros(0, dtype=np.intp)
    numbers = values.view(np.int64)  # int64 comparisons: datetime64 ones are slower
    lo, hi = (int(bound.astype(values.dtype).astype(np.int64)) for bound in (low, high))
    if numbers.max() <= hi and numbers.min() >= lo:
        return np.zeros(0, dtype=np.intp)  # the usual case: two reductions, no NaT
    known = numbers != _INT64_MIN  # NaT
    if numbers.min(initial=hi, where=known) >= lo and numbers.max() <= hi:
        return np.zeros(0, dtype=np.intp)
    return np.flatnonzero(known & ((numbers < lo) | (numbers > hi)))


def _in_dtype(values: Array, target: np.dtype[Any]) -> tuple[Array, NDArray[np.bool_]]:
    """``values`` cast to ``target``, and where the cast holds the value (a zero where not).

    uint64 above int64's maximum does not fit int64. A temporal cast to a finer unit
    multiplies and may overflow (caught by casting back); to a coarser one it floors.
    A timedelta64 in months or years, which no fixed unit holds, is left as it is.
    """
    fits = np.ones(len(values), dtype=bool)
    if values.dtype == target:
        return values, fits
    if values.dtype.kind == "u" and target == np.int64:
        fits = values <= _INT64_MAX
    elif values.dtype.kind in "Mm":
        widens = np.can_cast(values.dtype, target, "safe")
        if not (widens or np.can_cast(target, values.dtype, "safe")):
            return values, fits  # the evaluator refuses its dtype, naming the field
        if widens:
            fits = (values.astype(target).astype(values.dtype) == values) | np.isnat(values)
    cast = values.astype(target)
    return (cast if fits.all() else np.where(fits, cast, np.zeros((), target))), fits


def _declared(name: str, spelled: str) -> Field:
    try:
        return Field.model_validate(spelled)
    except ValueError:
        msg = f"field_types[{name!r}]: {spelled!r} is not a field type"
        raise InvalidValueError(
            msg, code="incentives.invalid_array", location=Location(path=f"field_types.{name}")
        ) from None


def _refuse_field_value(name: str, field: Field, row: int, value: object) -> NoReturn:
    """Refuse ``value`` of field ``name`` at transaction ``row``, as its record is refused.

    A Python value gets the scalar evaluator's error; a numpy temporal value beyond what
    a record holds (no Python value exists for it) is named as the column holds it.
    """
    if isinstance(value, np.datetime64 | np.timedelta64):
        text = f"{value} is outside the {field.type} range"
    else:
        _checker(name, field)(row, value)  # raises the scalar evaluator's error
        text = f"cannot hold {value!r}"
    msg = f"transactions[{row}]: field {name!r} ({field}): {text}"
    raise InvalidValueError(
        msg, code="incentives.invalid_field", location=Location(path=f"transactions[{row}].fields")
    )


def _field_of(schema: Schema | None, name: str) -> Field:
    if schema is None or name not in schema.fields:
        msg = f"no type for field {name!r}: give the plan's schema or field_types"
        raise InvalidValueError(
            msg, code="incentives.invalid_field", location=Location(path=f"fields.{name}")
        )
    found = schema.fields[name]
    return found if isinstance(found, Field) else Field.model_validate(found)


def _at_field_scale(
    name: str, column: Array, declared: str | None, schema: Schema, rows: NDArray[np.intp]
) -> Array:
    """An int or decimal column at the scale of the schema's decimal field ``name``."""
    if declared is None or name not in schema.fields:
        return column
    field = _field_of(schema, name)
    given = Field.model_validate(declared)
    if field.type != "decimal" or given.type not in {"int", "decimal"}:
        return column
    shift = (field.scale or 0) - (given.scale or 0)
    if shift == 0:
        return column
    data, nulls = np.ma.getdata(column), np.ma.getmaskarray(column)
    scaled, exact = _shifted(data.astype(np.int64, copy=False), shift)
    wrong = np.flatnonzero(~exact & ~nulls)
    if wrong.size:
        at = int(wrong[0])
        value = _python_values(data[at : at + 1], given)[0]
        _refuse_field_value(name, field, int(rows[at]), value)
    return np.ma.masked_array(scaled, mask=nulls) if np.ma.isMaskedArray(column) else scaled


def _refuse_other_time_kind(
    name: str, declared: str | None, schema: Schema, rows: NDArray[np.intp]
) -> None:
    """Refuse a date column read for a timestamp field.

    A record's value would be refused too; the message says how to build the table so
    that it holds the plan's type. (A timestamp column read for a date field is read by
    `TransactionTable._days_of`.)
    """
    if declared is None or name not in schema.fields:
        return
    given, field = _declared(name, declared).type, _field_of(schema, name)
    if given != "date" or field.type != "timestamp":
        return
    row = int(rows[0]) if len(rows) else 0
    msg = (
        f"transactions[{row}]: field {name!r} ({field}): the table holds it as {given}s; "
        f"build the table with field_types={{{name!r}: {field.type!r}}} to read it as "
        f"{field.type}s"
    )
    raise InvalidValueError(
        msg, code="incentives.invalid_field", location=Location(path=f"transactions[{row}].fields")
    )


def _picked(column: Array, rows: NDArray[np.intp]) -> Array:
    """Rows ``rows`` of ``column``, with their mask if it has one."""
    if isinstance(column, np.ma.MaskedArray):
        data, mask = np.ma.getdata(column)[rows], np.ma.getmaskarray(column)[rows]
        return np.ma.masked_array(data, mask=mask)
    return column[rows]


_DATE_FIELD: Final = Field.model_validate("date")


def _whole_days(times: Array) -> Array | int:
    """Wall-clock ``times`` as days if each known one is a midnight, else the first row not.

    ``times`` is datetime64 of a unit no coarser than a day, null as NaT or masked (a
    mask is kept).
    """
    data, mask = np.ma.getdata(times), np.ma.getmaskarray(times)
    unit, count = np.datetime_data(data.dtype)
    per_day = int(np.timedelta64(1, "D").astype(f"m8[{count}{unit}]").astype(np.int64))
    timed = np.flatnonzero((data.view(np.int64) % per_day != 0) & ~mask & ~np.isnat(data))
    if timed.size:
        return int(timed[0])
    days = data.astype(_DAY)
    return np.ma.masked_array(days, mask=mask) if np.ma.isMaskedArray(times) else days


def _with_local_times(
    table: TransactionTable, local: Mapping[str, Array | InvalidValueError]
) -> TransactionTable:
    """``table``, knowing the wall-clock times of its tz-aware timestamp field columns.

    Its columns hold UTC instants; a plan's date field reads each on its local day
    (`TransactionTable._days_of`). A value of ``local`` may be the error that says why
    a column's local times cannot be told: raised only if a date field reads it.
    """
    for name, times in local.items():
        found = times if isinstance(times, InvalidValueError) else _whole_days(times)
        table._local_days[name] = found  # noqa: SLF001 - this module's class, as built
    return table


def _shifted(values: NDArray[np.int64], shift: int) -> tuple[NDArray[np.int64], NDArray[np.bool_]]:
    """``values * 10**shift``, and where that is exact and within int64 (else 0 there)."""
    if abs(shift) > _POWERS_INT64:
        return np.zeros(len(values), dtype=np.int64), values == 0
    factor = 10 ** abs(shift)
    if shift >= 0:
        limit = _INT64_MAX // factor
        exact = (values <= limit) & (values >= -limit)
        return np.where(exact, values, 0) * factor, exact
    quotient, remainder = np.divmod(values, factor)
    return quotient, remainder == 0


def _typed_column(name: str, column: Array, field: Field, rows: NDArray[np.intp]) -> Array:
    """Rows of an object column of Python values, in the column format of ``field``."""
    values = column[rows].tolist()
    check = _checker(name, field)
    clean = [
        None if value is MISSING else check(row, value)
        for row, value in zip(rows.tolist(), values, strict=True)
    ]
    nulls = np.fromiter((v is None for v in clean), dtype=bool, count=len(clean))
    return _to_array(clean, nulls, field)


def _checker(name: str, field: Field) -> Callable[[int, object], object]:
    expression = compile_expression(name, {name: field})

    def check(row: int, value: object) -> object:
        try:
            return expression.evaluate({name: value})
        except EvaluationError as err:
            where = Location(path=f"transactions[{row}].fields")
            msg = f"transactions[{row}]: {err.message}"
            raise InvalidValueError(msg, code="incentives.invalid_field", location=where) from None

    return check


def _to_array(values: list[object], nulls: NDArray[np.bool_], field: Field) -> Array:
    kind = field.type
    if kind == "string":
        column = np.empty(len(values), dtype=object)
        column[:] = values
        return column
    filled: list[object]
    if kind == "decimal":
        scale = field.scale or 0
        filled = [0 if v is None else int(v.scaleb(scale)) for v in values]  # type: ignore[attr-defined]
        data = np.array(filled, dtype=np.int64)
    elif kind in {"date", "timestamp", "duration"}:
        data = _temporal(values, kind)
    else:
        dtype = {"bool": bool, "int": np.int64, "double": np.float64}[kind]
        filled = [dtype(0) if v is None else v for v in values]
        data = np.array(filled, dtype=dtype).reshape(len(values))
    return np.ma.masked_array(data, mask=nulls) if nulls.any() else data


def _temporal(values: list[object], kind: str) -> Array:
    if kind == "date":
        days = [None if v is None else (v - _EPOCH).days for v in values]  # type: ignore[operator]
        return np.array(
            [np.datetime64("NaT") if d is None else d for d in days], dtype="datetime64[D]"
        )
    if kind == "timestamp":
        micros = [
            None
            if v is None
            else (v - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)) // dt.timedelta(microseconds=1)  # type: ignore[operator]
            for v in values
        ]
        return np.array(
            [np.datetime64("NaT") if m is None else m for m in micros], dtype="datetime64[us]"
        )
    micros = [None if v is None else v // dt.timedelta(microseconds=1) for v in values]  # type: ignore[operator]
    return np.array(
        [np.timedelta64("NaT") if m is None else m for m in micros], dtype="timedelta64[us]"
    )


def _python_values(column: Array, field: Field) -> list[object]:
    """A typed column's values as the Python values a record holds (``None``: null)."""
    if isinstance(column, np.ma.MaskedArray):
        data, nulls = np.ma.getdata(column), np.ma.getmaskarray(column).tolist()
    else:
        data, nulls = column, None
    if field.type == "decimal":
        scale = field.scale or 0
        items: list[object] = [Decimal(v).scaleb(-scale) for v in data.tolist()]
    elif field.type == "timestamp":
        items = [
            None if v is None else v.replace(tzinfo=dt.UTC) for v in data.astype(object).tolist()
        ]
    elif data.dtype.kind in "Mm":
        items = data.astype(object).tolist()
    else:
        items = data.tolist()
    if nulls is None:
        return items
    return [None if null else item for item, null in zip(items, nulls, strict=True)]
