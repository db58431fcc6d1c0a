"""The pandas and Arrow readers behind `TransactionTable.from_frame` and `from_arrow`.

What lives where:

* ``_table_input``: `TransactionTable` and `SplitTable`, `from_records` and
  `from_arrays` (which checks every column), and the helpers both share (minor units,
  currency codes, row paths). `from_frame` and `from_arrow` are thin classmethods there:
  `read_columns` of `frame_columns` or `arrow_columns` here.
* ``_table_readers`` (this module): reading a DataFrame's or an Arrow table's columns
  into what `from_arrays` takes: `_FrameColumns` (pandas; a ``pd.ArrowDtype`` column
  is read as Arrow), `_ArrowColumns` (pyarrow, without pandas), and `read_columns`,
  which reads either through the `_Columns` protocol.

Imports go one way: this module imports ``_table_input`` at import time; the table
module imports this one only inside its classmethods. pandas and pyarrow are imported
when a reader is used (the ``[dataframe]`` and ``[arrow]`` extras).

A timestamp counts on the day of its wall-clock time: a tz-aware one on its local day
in its own zone (``2027-01-01 07:00+08:00`` on 1 January, though its instant is
31 December 23:00 UTC), a naive one on its own day.

Integer and temporal columns are handed over in their own dtype (``uint64``,
``datetime64[s]``, ``timedelta64[ns]``): `from_arrays` casts them, refusing a value the
cast cannot hold, so no reader narrows one with a silent wrap.
"""

from __future__ import annotations

import datetime as dt
import sys
from typing import TYPE_CHECKING, Any, Final, Protocol

import numpy as np

from salesflow._interop import require_pandas, require_pyarrow
from salesflow.errors import InvalidValueError, Location, UnknownCurrencyError
from salesflow.expressions import Field
from salesflow.money import Currency, Money

from ._table_input import (
    TransactionTable,
    _currency_codes,
    _declared,
    _row_path,
    _shifted,
    _units,
    _with_local_times,
)

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

    import pandas as pd
    from numpy.typing import NDArray

    Array = NDArray[Any]  # field columns: dtypes vary by field type
    ColumnNames = tuple[str, str, str, str, str, str | None]  # id, date, amount, ..., cancelled
    Sources = tuple["_Columns", "_Columns | None"]  # the transactions' columns, the splits'

__all__ = ["arrow_columns", "frame_columns", "read_columns"]


def frame_columns(frame: pd.DataFrame, splits: pd.DataFrame | None) -> Sources:
    """``frame`` and ``splits`` as `read_columns` reads them (the ``[dataframe]`` extra)."""
    require_pandas()
    import pandas as pd  # noqa: PLC0415 - the [dataframe] extra, imported when used

    return _FrameColumns(pd, frame), None if splits is None else _FrameColumns(pd, splits)


def arrow_columns(data: object, splits: object | None) -> Sources:
    """``data`` and ``splits`` as `read_columns` reads them (the ``[arrow]`` extra)."""
    require_pyarrow()
    return _ArrowColumns(data, "data"), None if splits is None else _ArrowColumns(splits, "splits")


# -- frames and Arrow tables ------------------------------------------------------------


class _Columns(Protocol):
    """A frame's or an Arrow table's columns, read as `from_arrays` takes them."""

    kind: str  # "frame" or "table", for messages

    def has(self, name: str) -> bool: ...
    def ids(self, name: str) -> Array: ...
    def days(self, name: str) -> NDArray[np.datetime64]: ...
    def currency(self, name: str) -> str | Array: ...
    def amounts(
        self, name: str, currency: str | Array
    ) -> tuple[NDArray[np.int64], str | Array]: ...
    def payees(self, name: str, what: str) -> tuple[NDArray[np.intp], list[str]]: ...
    def field(self, name: str, declared: str | None) -> tuple[Array, str | None]: ...
    def local_times(self, name: str) -> Array | InvalidValueError | None: ...
    def rows_of(self, name: str, keys: Any, key: str) -> NDArray[np.intp]: ...  # noqa: ANN401 - the same reader class
    def values(self, name: str) -> list[Any]: ...
    def flags(self, name: str) -> NDArray[np.bool_]: ...


def read_columns(  # noqa: PLR0913 - the frame and Arrow constructors' pieces
    cls: type[TransactionTable],
    source: _Columns,
    splits: _Columns | None,
    *,
    names: ColumnNames,
    fields: Sequence[str],
    field_types: Mapping[str, str] | None,
) -> TransactionTable:
    id_, date, amount, currency, owner, cancelled = names
    _require_columns(source, (id_, date, amount, owner, *fields), "")
    ids = source.ids(id_)
    units, currencies = source.amounts(
        amount, source.currency(currency) if source.has(currency) else currency
    )
    owners, payees = source.payees(owner, "owner")
    gone = None
    if cancelled is not None and source.has(cancelled):
        gone = source.days(cancelled)
    declared = dict(field_types or {})
    typed = {name: source.field(name, declared.get(name)) for name in fields}
    split_columns = {} if splits is None else _split_columns(source, splits, id_, payees)
    table = cls.from_arrays(
        ids=ids,
        dates=source.days(date),
        amounts=units,
        currency=currencies,
        owners=owners,
        payees=payees,
        cancelled=gone,
        fields={name: column for name, (column, _) in typed.items()},
        field_types=declared | {name: kind for name, (_, kind) in typed.items() if kind},
        **split_columns,
    )
    return _with_local_times(table, _local_times(source, table, fields))


def _local_times(
    source: _Columns, table: TransactionTable, fields: Sequence[str]
) -> dict[str, Array | InvalidValueError]:
    """The wall-clock times of the tz-aware columns ``table`` holds as timestamp fields.

    The table holds their UTC instants; a plan's date field reads each on its local day.
    """
    local: dict[str, Array | InvalidValueError] = {}
    for name in fields:
        spelled = table.field_types.get(name)
        if spelled is not None and _declared(name, spelled).type == "timestamp":
            times = source.local_times(name)
            if times is not None:
                local[name] = times
    return local


def _require_columns(source: _Columns, names: Iterable[str], prefix: str) -> None:
    for name in names:
        if not source.has(name):
            owner = f"the splits {source.kind}" if prefix else f"the {source.kind}"
            msg = f"{owner} has no column {name!r}"
            raise InvalidValueError(
                msg, code="incentives.invalid_array", location=Location(path=f"{prefix}{name}")
            )


def _split_columns(
    source: _Columns, splits: _Columns, id_: str, payees: list[str]
) -> dict[str, Any]:
    """The split keywords of `from_arrays`; ``payees`` gains the split payees it lacks."""
    _require_columns(splits, ("transaction", "payee", "share"), "splits.")
    rows = splits.rows_of("transaction", source, id_)
    unknown = np.flatnonzero(rows < 0)
    if unknown.size:
        at = int(unknown[0])
        named = splits.values("transaction")[at]
        msg = f"splits[{at}] names transaction {named!r}, not in the {source.kind}"
        raise InvalidValueError(
            msg,
            code="incentives.invalid_split",
            location=Location(path=f"splits[{at}].transaction"),
        )
    codes, names = splits.payees("payee", "split payee")
    index = {name: code for code, name in enumerate(payees)}
    mapped = np.array([index.setdefault(name, len(index)) for name in names], dtype=np.intp)
    payees.extend(list(index)[len(payees) :])
    return {
        "split_transaction": rows,
        "split_payee": mapped[codes] if len(mapped) else np.zeros(len(codes), dtype=np.intp),
        "split_share": splits.values("share"),
        "split_overlay": splits.flags("overlay") if splits.has("overlay") else None,
    }


def _missing(what: str, row: int) -> InvalidValueError:
    path = _row_path(what, row)
    return InvalidValueError(
        f"{path} is missing", code="incentives.invalid_field", location=Location(path=path)
    )


def _refuse_missing(nulls: NDArray[np.bool_], what: str) -> None:
    if nulls.any():
        raise _missing(what, int(np.argmax(nulls)))


def _named_codes(
    codes: NDArray[np.integer[Any]], names: Sequence[object], what: str
) -> tuple[NDArray[np.intp], list[str]]:
    """Codes into distinct names: unused names dropped, repeated ones merged.

    A null or empty name is refused at the first row that has it.
    """
    used = np.bincount(codes, minlength=len(names)) > 0 if len(codes) else np.zeros(0, bool)
    index: dict[str, int] = {}
    remap = np.zeros(len(names), dtype=np.intp)
    for position in np.flatnonzero(used).tolist():
        name = names[position]
        if name is None or name == "":
            row = int(np.argmax(codes == position))
            if name is None:
                raise _missing(what, row)
            msg = f"{_row_path(what, row)} must be a non-empty string, not {name!r}"
            raise InvalidValueError(
                msg, code="incentives.invalid_field", location=Location(path=_row_path(what, row))
            )
        remap[position] = index.setdefault(str(name), len(index))
    return remap[codes], list(index)


def _object_amounts(items: list[Any], currencies: str | Array) -> tuple[NDArray[np.int64], Any]:
    """Amounts given as `Money`, Decimals or decimal strings, in minor units, exactly."""
    per_row = isinstance(currencies, np.ndarray)
    units: list[int] = []
    codes: list[str] = []
    for row, item in enumerate(items):
        if isinstance(item, float):
            msg = f"transactions[{row}].amount is a float; give a Decimal or a string"
            raise InvalidValueError(
                msg,
                code="incentives.float_amount",
                location=Location(path=f"transactions[{row}].amount"),
            )
        code = str(currencies[row]) if per_row else str(currencies)
        money = item if isinstance(item, Money) else _money(item, code, row)
        units.append(_units(money, row))
        codes.append(money.currency.code)
    return np.array(units, dtype=np.int64), np.array(codes, dtype=object) if items else currencies


def _money(item: object, code: str, row: int) -> Money:
    """``item`` in currency ``code``; an error names the row's currency or amount."""
    try:
        return Money(item, code)  # type: ignore[arg-type]
    except UnknownCurrencyError as err:
        where = Location(path=f"transactions[{row}].currency")
        raise type(err)(err.message, code=err.code, location=where) from None
    except InvalidValueError as err:
        where = Location(path=f"transactions[{row}].amount")
        raise type(err)(err.message, code=err.code, location=where) from None


def _known_currencies(codes: NDArray[np.integer[Any]], names: Sequence[str]) -> None:
    """Refuse a currency code no `Currency` has, at the first row that has it."""
    for position, name in enumerate(names):
        try:
            Currency(name)
        except InvalidValueError as err:
            row = int(np.argmax(codes == position))
            where = Location(path=f"transactions[{row}].currency")
            raise type(err)(err.message, code=err.code, location=where) from None


def _is_date(name: str, declared: str | None) -> bool:
    """Whether ``declared`` (field ``name``'s type in `field_types`) is a date."""
    return declared is not None and _declared(name, declared).type == "date"


def _wall_clock(value: object) -> object:
    """A datetime's wall-clock time without its zone; any other value as it is."""
    return value.replace(tzinfo=None) if isinstance(value, dt.datetime) else value


def _refuse_float_amounts() -> None:
    msg = "float amounts cannot hold money exactly; give minor units (int) or Decimals"
    raise InvalidValueError(msg, code="incentives.float_amount", location=Location(path="amount"))


# -- frames -----------------------------------------------------------------------------


class _FrameColumns:
    """A pandas DataFrame's columns; ``pd.ArrowDtype`` columns are read as Arrow."""

    kind = "frame"

    def __init__(self, pd: Any, frame: Any) -> None:  # noqa: ANN401 - pandas, untyped at runtime
        self.pd = pd
        self.frame = frame

    def has(self, name: str) -> bool:
        return name in self.frame.columns

    def arrow(self, name: str) -> Any:  # noqa: ANN401 - a pyarrow ChunkedArray, or None
        series = self.frame[name]
        if not isinstance(series.dtype, self.pd.ArrowDtype):
            return None
        import pyarrow as pa  # noqa: PLC0415 - there, since the column is Arrow-backed

        return pa.chunked_array([pa.array(series)])

    def ids(self, name: str) -> Array:
        series = self.frame[name]
        _refuse_missing(series.isna().to_numpy(), "id")
        ids: Array = series.to_numpy()
        return ids if ids.dtype.kind in "iu" else ids.astype(object)

    def days(self, name: str) -> NDArray[np.datetime64]:
        arrow = self.arrow(name)
        if arrow is not None:
            return _arrow_days(arrow, name)
        series = self.frame[name]
        if series.dtype == object:
            try:
                series = self.pd.to_datetime(series)
            except ValueError:  # tz-aware datetimes of several offsets: no one dtype holds them
                series = self.pd.to_datetime(series.map(_wall_clock))
        if isinstance(series.dtype, self.pd.DatetimeTZDtype):
            series = series.dt.tz_localize(None)  # the wall-clock times: each one's local day
        if series.dtype.kind != "M":
            converted: NDArray[np.datetime64] = series.to_numpy(dtype="datetime64[ns]")
            return converted
        # In its own unit: from_arrays floors it to the day (a cast to ns would wrap after 2262)
        days: NDArray[np.datetime64] = series.to_numpy()
        return days

    def currency(self, name: str) -> str | Array:
        series = self.frame[name]
        _refuse_missing(series.isna().to_numpy(), "currency")
        codes: Array = series.to_numpy()
        return codes

    def amounts(self, name: str, currency: str | Array) -> tuple[NDArray[np.int64], str | Array]:
        arrow = self.arrow(name)
        if arrow is not None:
            return _arrow_amounts(arrow, name, currency)
        series = self.frame[name]
        _refuse_missing(series.isna().to_numpy(), "amount")
        if series.dtype.kind in "iu":  # uint64 as it is: from_arrays refuses what int64 lacks
            units = series.to_numpy(dtype=getattr(series.dtype, "numpy_dtype", series.dtype))
            return units, currency
        if series.dtype.kind == "f":
            _refuse_float_amounts()
        return _object_amounts(series.tolist(), currency)

    def payees(self, name: str, what: str) -> tuple[NDArray[np.intp], list[str]]:
        codes, uniques = self.pd.factorize(self.frame[name], use_na_sentinel=True)
        _refuse_missing(codes < 0, what)
        return _named_codes(codes, uniques.tolist(), what)

    def field(self, name: str, declared: str | None) -> tuple[Array, str | None]:
        arrow = self.arrow(name)
        if arrow is not None:
            return _arrow_field(arrow, name, declared)
        series = self.frame[name]
        if isinstance(series.dtype, self.pd.DatetimeTZDtype):
            # a date counts on its wall-clock day, as the date column; else its UTC instant
            local = series.dt.tz_localize(None)
            series = (
                local
                if _is_date(name, declared)
                else series.dt.tz_convert("UTC").dt.tz_localize(None)
            )
        # datetime64 and timedelta64 in their own unit: from_arrays casts them to the
        # field's (microseconds, or days for a date), as from_arrow's
        values: Array = series.to_numpy()
        if values.dtype == object:  # pandas' missing value (NaN, NA, NaT) is null
            missing = series.isna().to_numpy()
            if missing.any():
                values = values.copy()
                values[missing] = None
        return values, declared

    def local_times(self, name: str) -> Array | InvalidValueError | None:
        arrow = self.arrow(name)
        if arrow is not None:
            return _arrow_local_times(arrow, name)
        series = self.frame[name]
        if not isinstance(series.dtype, self.pd.DatetimeTZDtype):
            return None
        local: Array = series.dt.tz_localize(None).to_numpy()
        return local

    def rows_of(self, name: str, keys: _FrameColumns, key: str) -> NDArray[np.intp]:
        rows: NDArray[np.intp] = self.pd.Index(keys.frame[key]).get_indexer(self.frame[name])
        return rows

    def values(self, name: str) -> list[Any]:
        return list(self.frame[name].tolist())

    def flags(self, name: str) -> NDArray[np.bool_]:
        flags: NDArray[np.bool_] = self.frame[name].to_numpy(dtype=bool)
        return flags


# -- Arrow ------------------------------------------------------------------------------


class _ArrowColumns:
    """An Arrow table's columns (pyarrow is imported: `require_pyarrow` said it is there)."""

    kind = "table"

    def __init__(self, data: object, what: str) -> None:
        import pyarrow as pa  # noqa: PLC0415 - the [arrow] extra, imported when used

        if isinstance(data, pa.RecordBatch):
            data = pa.Table.from_batches([data])
        elif not isinstance(data, pa.Table):
            if not hasattr(data, "__arrow_c_stream__"):
                msg = (
                    f"{what} must be a pyarrow Table or RecordBatch, or have "
                    f"__arrow_c_stream__; not {type(data).__name__}"
                )
                raise InvalidValueError(
                    msg, code="incentives.invalid_array", location=Location(path=what)
                )
            data = pa.table(data)
        self.table: Any = data  # a pyarrow Table

    def has(self, name: str) -> bool:
        return name in self.table.column_names

    def column(self, name: str) -> Any:  # noqa: ANN401 - a pyarrow ChunkedArray
        return self.table.column(name)

    def ids(self, name: str) -> Array:
        import pyarrow as pa  # noqa: PLC0415

        column = _decoded(self.column(name))
        _refuse_arrow_nulls(column, "id")
        if pa.types.is_integer(column.type):
            return _arrow_numpy(column)
        if not _is_text(column.type):
            raise _arrow_type_error(name, column.type, "ids are strings or integers")
        ids: Array = column.to_numpy()
        return ids

    def days(self, name: str) -> NDArray[np.datetime64]:
        return _arrow_days(self.column(name), name)

    def currency(self, name: str) -> str | Array:
        codes, names = _arrow_codes(self.column(name), "currency")
        _known_currencies(codes, names)
        if len(names) == 1:
            return names[0]
        return np.array(names, dtype=object)[codes]

    def amounts(self, name: str, currency: str | Array) -> tuple[NDArray[np.int64], str | Array]:
        return _arrow_amounts(self.column(name), name, currency)

    def payees(self, name: str, what: str) -> tuple[NDArray[np.intp], list[str]]:
        return _arrow_codes(self.column(name), what)

    def field(self, name: str, declared: str | None) -> tuple[Array, str | None]:
        return _arrow_field(self.column(name), name, declared)

    def local_times(self, name: str) -> Array | InvalidValueError | None:
        return _arrow_local_times(self.column(name), name)

    def rows_of(self, name: str, keys: _ArrowColumns, key: str) -> NDArray[np.intp]:
        import pyarrow as pa  # noqa: PLC0415
        import pyarrow.compute as pc  # noqa: PLC0415

        ids, named = _decoded(keys.column(key)), _decoded(self.column(name))
        if named.type != ids.type:
            try:
                named = named.cast(ids.type)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                msg = f"splits.{name} is {named.type}; the ids are {ids.type}"
                raise InvalidValueError(
                    msg, code="incentives.invalid_array", location=Location(path=f"splits.{name}")
                ) from None
        if pa.types.is_integer(ids.type) and not named.null_count:
            return _sorted_rows(_arrow_numpy(ids), _arrow_numpy(named))
        rows = pc.index_in(named, value_set=ids).fill_null(-1)
        return _arrow_numpy(rows).astype(np.intp)

    def values(self, name: str) -> list[Any]:
        import pyarrow.compute as pc  # noqa: PLC0415

        column = self.column(name)
        if column.null_count or not len(column):
            return list(column.to_pylist())
        # Python objects for the distinct values only (shares repeat: 0.6, 0.4, 0.5)
        codes, distinct = _dictionary_parts(pc.dictionary_encode(column))
        return list(np.array(distinct, dtype=object)[codes].tolist())

    def flags(self, name: str) -> NDArray[np.bool_]:
        column = self.column(name)
        _refuse_arrow_nulls(column, "split overlay")
        return np.asarray(column.to_numpy(), dtype=bool)


def _sorted_rows(ids: Array, keys: Array) -> NDArray[np.intp]:
    """The row of each key in integer ``ids`` (the first if repeated), -1 if none."""
    if not len(ids):
        return np.full(len(keys), -1, dtype=np.intp)
    in_order = bool(np.all(ids[1:] > ids[:-1]))  # the usual case: no sort
    order = np.arange(len(ids)) if in_order else np.argsort(ids, kind="stable")
    ordered = ids[order]
    at = np.minimum(np.searchsorted(ordered, keys), len(ids) - 1)
    return np.where(ordered[at] == keys, order[at], -1).astype(np.intp)


def _decoded(column: Any) -> Any:  # noqa: ANN401 - pyarrow ChunkedArrays
    """A dictionary column as its values, string views as strings, others as they are."""
    import pyarrow as pa  # noqa: PLC0415

    if pa.types.is_dictionary(column.type):
        column = column.cast(column.type.value_type)
    is_view = getattr(pa.types, "is_string_view", None)  # pyarrow 16 may lack it
    if is_view is not None and is_view(column.type):  # what newer polars and DuckDB export
        column = column.cast(pa.large_string())
    return column


def _is_text(kind: Any) -> bool:  # noqa: ANN401 - a pyarrow DataType
    import pyarrow as pa  # noqa: PLC0415

    return bool(pa.types.is_string(kind) or pa.types.is_large_string(kind))


def _arrow_numpy(column: Any) -> Array:  # noqa: ANN401 - a pyarrow ChunkedArray
    """A column without nulls as one numpy array (no copy when it is one chunk)."""
    if column.num_chunks == 1:
        values: Array = column.chunk(0).to_numpy(zero_copy_only=False)
        return values
    everything: Array = column.to_numpy()
    return everything


def _refuse_arrow_nulls(column: Any, what: str) -> None:  # noqa: ANN401 - a ChunkedArray
    if column.null_count:
        _refuse_missing(column.is_null().to_numpy(), what)


def _arrow_type_error(name: str, kind: object, expected: str) -> InvalidValueError:
    msg = f"column {name!r} is {kind}: {expected}"
    return InvalidValueError(msg, code="incentives.invalid_array", location=Location(path=name))


def _arrow_days(column: Any, name: str) -> NDArray[np.datetime64]:  # noqa: ANN401 - a ChunkedArray
    """Days, NaT where null.

    A timestamp's day is the day of its wall-clock time: a tz-aware one's local day in
    its own zone (its values are UTC instants, so they are shifted to local time
    first), a naive one's own day.
    """
    import pyarrow as pa  # noqa: PLC0415
    import pyarrow.compute as pc  # noqa: PLC0415

    kind = column.type
    if not (pa.types.is_date(kind) or pa.types.is_timestamp(kind)):
        raise _arrow_type_error(name, kind, "dates are date32, date64 or timestamp")
    if pa.types.is_timestamp(kind) and kind.tz is not None:
        try:
            column = pc.local_timestamp(column)
        except pa.ArrowInvalid as err:  # a zone Arrow's time zone database lacks
            raise _arrow_type_error(name, kind, f"its zone cannot be read ({err})") from None
    days: NDArray[np.datetime64] = column.to_numpy().astype("datetime64[D]", copy=False)
    return days


def _arrow_codes(column: Any, what: str) -> tuple[NDArray[np.intp], list[str]]:  # noqa: ANN401
    """Codes into distinct names, through the column's dictionary (encoded if plain)."""
    import pyarrow as pa  # noqa: PLC0415
    import pyarrow.compute as pc  # noqa: PLC0415

    _refuse_arrow_nulls(column, what)
    if not pa.types.is_dictionary(column.type):
        column = pc.dictionary_encode(_decoded(column))
    codes, names = _dictionary_parts(column)
    return _named_codes(codes, names, what)


def _dictionary_parts(column: Any) -> tuple[NDArray[np.integer[Any]], list[Any]]:  # noqa: ANN401
    """A dictionary column without null indices as its indices into one dictionary."""
    chunks = column.unify_dictionaries().chunks
    if not chunks:
        return np.zeros(0, dtype=np.intp), []
    codes = np.concatenate([chunk.indices.to_numpy(zero_copy_only=False) for chunk in chunks])
    return codes, chunks[0].dictionary.to_pylist()


def _arrow_amounts(
    column: Any,  # noqa: ANN401 - a pyarrow ChunkedArray
    name: str,
    currency: str | Array,
) -> tuple[NDArray[np.int64], str | Array]:
    import pyarrow as pa  # noqa: PLC0415

    _refuse_arrow_nulls(column, "amount")
    kind = column.type
    if pa.types.is_integer(kind):
        return _arrow_numpy(column), currency
    if pa.types.is_floating(kind):
        _refuse_float_amounts()
    if pa.types.is_decimal(kind):
        return _decimal_units(column, currency), currency
    if _is_text(_decoded(column).type):
        return _object_amounts(_decoded(column).to_pylist(), currency)
    raise _arrow_type_error(
        name, kind, "amounts are decimals, integers (minor units) or decimal strings"
    )


def _decimal_units(column: Any, currency: str | Array) -> NDArray[np.int64]:  # noqa: ANN401
    """A decimal column in minor units of each row's currency, exactly.

    Vectorized on the unscaled integers; a row that is not a whole number of minor
    units, or not within int64, is read as `Money` and gets `from_frame`'s error.
    """
    unscaled, fits = _arrow_unscaled(column)
    codes, currencies = _currency_codes(currency, len(unscaled))
    scale = column.type.scale
    units = np.zeros(len(unscaled), dtype=np.int64)
    for code, each in enumerate(currencies):
        rows = slice(None) if len(currencies) == 1 else codes == code
        units[rows], exact = _shifted(unscaled[rows], each.minor_units - scale)
        fits[rows] &= exact
    for row in np.flatnonzero(~fits).tolist():
        units[row] = _units(Money(column[row].as_py(), currencies[codes[row]]), row)
    return units


def _arrow_unscaled(column: Any) -> tuple[NDArray[np.int64], NDArray[np.bool_]]:  # noqa: ANN401
    """A decimal column's unscaled integers, and where they fit int64 (0 where not)."""
    parts = [_unscaled_chunk(chunk) for chunk in column.chunks if len(chunk)]
    if not parts:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=bool)
    if len(parts) == 1:
        return parts[0]
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


def _unscaled_chunk(chunk: Any) -> tuple[NDArray[np.int64], NDArray[np.bool_]]:  # noqa: ANN401
    """Read the data buffer: 4, 8, 16 or 32 bytes a value, two's complement, native order."""
    size, width, start = len(chunk), chunk.type.byte_width, chunk.offset
    if sys.byteorder != "little":  # the words below are little-endian; read exactly instead
        return np.zeros(size, dtype=np.int64), np.zeros(size, dtype=bool)
    buffer = chunk.buffers()[1]
    if width <= 8:  # noqa: PLR2004 - decimal32 and decimal64 fit int64 as they are
        small = np.frombuffer(buffer, dtype=f"<i{width}", count=start + size)[start:]
        return small.astype(np.int64), np.ones(size, dtype=bool)
    words = np.frombuffer(buffer, dtype="<i8", count=(start + size) * (width // 8))
    words = words.reshape(-1, width // 8)[start:]
    low = np.ascontiguousarray(words[:, 0])
    fits = np.all(words[:, 1:] == (low >> 63)[:, None], axis=1)  # the sign, extended
    return np.where(fits, low, 0), fits


def _arrow_field(column: Any, name: str, declared: str | None) -> tuple[Array, str | None]:  # noqa: ANN401
    """A field column in the format of `Expression.evaluate_columns`, and its type."""
    import pyarrow as pa  # noqa: PLC0415

    column = _decoded(column)
    kind = column.type
    if _is_text(kind):
        strings: Array = column.to_numpy()  # objects, None where null
        return strings, declared
    if pa.types.is_decimal(kind):
        return _decimal_field(column, declared)
    dtype, zero, spelled = _arrow_field_dtype(pa, kind)
    if dtype is None:
        msg = f"field {name!r} is {kind}, which no field type holds"
        raise InvalidValueError(
            msg, code="incentives.invalid_array", location=Location(path=f"fields.{name}")
        )
    nulls = column.is_null().to_numpy() if column.null_count else None
    if zero is not None and nulls is not None:
        column = column.fill_null(zero)
    if spelled == "timestamp" and _is_date(name, declared):
        values = _arrow_days(column, name)  # its wall-clock day, as the date column's
    else:
        values = column.to_numpy()
        if values.dtype.kind not in "uMm":  # from_arrays casts these, refusing what cannot fit
            values = values.astype(dtype, copy=False)
    return (values if nulls is None else np.ma.masked_array(values, mask=nulls)), (
        declared or spelled
    )


def _arrow_local_times(column: Any, name: str) -> Array | InvalidValueError | None:  # noqa: ANN401
    """A tz-aware timestamp column's wall-clock times (NaT where null); else None.

    A zone Arrow cannot read gives the error `_arrow_days` raises for it, for a plan's
    date field to raise (a timestamp field reads the instants, which need no zone).
    """
    import pyarrow as pa  # noqa: PLC0415
    import pyarrow.compute as pc  # noqa: PLC0415

    kind = column.type
    if not (pa.types.is_timestamp(kind) and kind.tz is not None):
        return None
    try:
        local: Array = pc.local_timestamp(column).to_numpy()
    except pa.ArrowInvalid as err:
        return _arrow_type_error(name, kind, f"its zone cannot be read ({err})")
    return local


_ARROW_FIELDS: Final = (
    # (pyarrow.types test, numpy dtype, the value under a null, the field type)
    ("is_boolean", "bool", False, "bool"),
    ("is_integer", "int64", 0, "int"),
    ("is_floating", "float64", 0, "double"),
    ("is_date", "datetime64[D]", None, "date"),  # NaT under a null
    ("is_timestamp", "datetime64[us]", None, "timestamp"),  # UTC instants; naive as UTC
    ("is_duration", "timedelta64[us]", None, "duration"),
)


def _arrow_field_dtype(pa: Any, kind: Any) -> tuple[str | None, object, str]:  # noqa: ANN401
    """The numpy dtype a field of Arrow type ``kind`` is held in, the null fill, its type."""
    for test, dtype, zero, spelled in _ARROW_FIELDS:
        if getattr(pa.types, test)(kind):
            return dtype, zero, spelled
    return None, None, ""


def _decimal_field(column: Any, declared: str | None) -> tuple[Array, str | None]:  # noqa: ANN401
    """int64 at the declared decimal scale (or the column's); Decimals when that is not exact."""
    scale = column.type.scale
    target = Field.model_validate(declared) if declared else None
    places = target.scale if target is not None and target.type == "decimal" else scale
    if (target is None or target.type == "decimal") and places is not None and 0 <= places <= 18:  # noqa: PLR2004
        unscaled, fits = _arrow_unscaled(column)
        values, exact = _shifted(unscaled, places - scale)
        nulls = column.is_null().to_numpy() if column.null_count else np.zeros(len(values), bool)
        if bool(np.all((fits & exact) | nulls)):
            spelled = f"decimal({places})"
            return (np.ma.masked_array(values, mask=nulls) if nulls.any() else values), spelled
    decimals = np.empty(len(column), dtype=object)
    decimals[:] = column.to_pylist()  # typed by the plan's schema when read
    return decimals, declared
