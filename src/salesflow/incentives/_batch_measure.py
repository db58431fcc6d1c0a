"""The batch engine's measures (spec section 3), over numpy.

Which credit rows a measure counts, and its values per payee and period.

A measure's kinds and filter are those of the version in force on the row's date
(decision D5); the filter is one `Expression.mask` over the rows (or over their
transactions, when it reads no per-credit field), never a loop over rows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, final

import numpy as np

from salesflow.errors import EvaluationError, InvalidValueError, Location
from salesflow.expressions import compile_expression

from ._batch_credit import KIND_NAMES, CreditRows
from ._table_input import NO_DAY

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from numpy.typing import NDArray

    Ints = NDArray[np.signedinteger[Any]]  # index and code columns, of any width

    from ._plan import Measure, Plan
    from ._table_input import TransactionTable

__all__ = ["Calendar", "MeasureBook", "MeasureValues", "add_at"]

_PER_CREDIT: Final = frozenset({"credit", "payee"})
_BLOCK: Final = 1 << 16


def add_at(
    matrix: NDArray[np.int64],
    rows: Ints,
    columns: Ints,
    values: NDArray[np.int64],
) -> None:
    """``matrix[rows[i], columns[i]] += values[i]`` for every i, exactly (repeats add up).

    One flat index: numpy's unbuffered add is several times faster on it than on a
    pair of index arrays. Block by block, so the flat index stays in the cache.
    """
    flat = matrix.reshape(-1)
    for lo in range(0, len(rows), _BLOCK):
        cells = rows[lo : lo + _BLOCK].astype(np.int64)
        cells *= matrix.shape[1]
        cells += columns[lo : lo + _BLOCK]
        np.add.at(flat, cells, values[lo : lo + _BLOCK])


@final
@dataclass(frozen=True, slots=True, eq=False)
class Calendar:
    """The statement periods computed (the first through the statement period).

    Attributes:
        starts: int64[K], each period's first day number.
        ends: int64[K], each period's last day number.
        year: The fiscal year's first and last day numbers.
    """

    starts: NDArray[np.int64]
    ends: NDArray[np.int64]
    year: tuple[int, int]

    @property
    def count(self) -> int:
        """K, the number of periods computed."""
        return len(self.starts)

    def period_of(self, days: NDArray[np.signedinteger[Any]]) -> Ints:
        """Each day's period index; K for a day after the last period computed or never.

        One look-up per day into a table of the days computed (days before the first
        period are not asked about: credit rows are dated in it or later).
        """
        first, last = int(self.starts[0]), int(self.ends[-1])
        table = np.full(last - first + 2, self.count, dtype=np.int16)
        for index, (start, end) in enumerate(
            zip(self.starts.tolist(), self.ends.tolist(), strict=True)
        ):
            table[start - first : end - first + 1] = index
        wide = np.iinfo(days.dtype)
        if not (wide.min <= first and last + 1 <= wide.max):  # the bounds must fit its dtype
            days = days.astype(np.int64)
        periods = np.empty(len(days), dtype=np.int16)
        # Block by block, in the days' own dtype: the temporaries stay in the cache.
        for lo in range(0, len(days), _BLOCK):
            offsets = np.clip(days[lo : lo + _BLOCK], first, last + 1)
            offsets -= first
            np.take(table, offsets, out=periods[lo : lo + _BLOCK])
        return periods


@final
@dataclass(frozen=True, slots=True, eq=False)
class MeasureValues:
    """A sum or count measure per payee and period (int64[P, K], minor units or counts).

    Attributes:
        dated: what rows dated in period j add.
        cancelled: what rows cancelled in period j take away (rows of any period).
        cancelled_within: what rows dated and cancelled in period j take away.
    """

    dated: NDArray[np.int64]
    cancelled: NDArray[np.int64]
    cancelled_within: NDArray[np.int64]

    def in_period(self) -> NDArray[np.int64]:
        """The value over each period at its end (the period window)."""
        return self.dated - self.cancelled_within

    def to_date(self) -> NDArray[np.int64]:
        """The value from the year's start to each period's end (the year window)."""
        return np.cumsum(self.dated, axis=1) - np.cumsum(self.cancelled, axis=1)


@final
class MeasureBook:
    """The measures of a run over its credit rows: masks and values, each computed once."""

    __slots__ = (
        "_calendar",
        "_gone_period",
        "_masks",
        "_names",
        "_payees",
        "_plans",
        "_row_period",
        "_rows",
        "_table",
        "_units",
        "_values",
    )

    def __init__(  # noqa: PLR0913 - the run's pieces a measure reads
        self,
        rows: CreditRows,
        table: TransactionTable,
        units: NDArray[np.int64],
        plans: Sequence[Plan],
        *,
        names: Sequence[str],
        payees: int,
        calendar: Calendar,
    ) -> None:
        """Measures over ``rows`` (credit-row order) of ``table``'s transactions."""
        self._rows = rows
        self._table = table
        self._units = units
        self._plans = tuple(plans)
        self._names = names
        self._payees = payees
        self._calendar = calendar
        self._masks: dict[str, NDArray[np.bool_]] = {}
        self._values: dict[str, MeasureValues] = {}
        self._row_period = calendar.period_of(rows.day)
        self._gone_period = calendar.period_of(rows.gone)

    @property
    def row_period(self) -> Ints:
        """Each credit row's period index."""
        return self._row_period

    @property
    def gone_period(self) -> Ints:
        """Each credit row's cancellation period index (K: not cancelled by the last)."""
        return self._gone_period

    def mask(self, measure: str) -> NDArray[np.bool_]:
        """The credit rows ``measure`` counts (by the version in force on each row's date)."""
        found = self._masks.get(measure)
        if found is None:
            found = self._masks[measure] = self._compute_mask(measure)
        return found

    def mask_in_version(self, measure: str, version: int) -> NDArray[np.bool_]:
        """`mask` restricted to rows of ``version``."""
        if len(self._plans) == 1:
            return self.mask(measure)
        picked: NDArray[np.bool_] = self.mask(measure) & (self._rows.version == version)
        return picked

    def values(self, measure: str) -> MeasureValues:
        """The sum/count measure's values per payee and period."""
        found = self._values.get(measure)
        if found is None:
            found = self._values[measure] = self._compute_values(measure)
        return found

    # -- internals ----------------------------------------------------------------------

    def _compute_mask(self, name: str) -> NDArray[np.bool_]:
        rows = self._rows
        if len(self._plans) == 1:  # every row is of the one version
            measure = self._plans[0].measures.get(name)
            if measure is None:
                return np.zeros(len(rows), dtype=bool)
            return self._version_mask(self._plans[0], measure, None)
        mask = np.zeros(len(rows), dtype=bool)
        for index, plan in enumerate(self._plans):
            measure = plan.measures.get(name)
            if measure is None:
                continue
            in_version = rows.version == index
            if not in_version.any():
                continue
            mask |= in_version & self._version_mask(plan, measure, in_version)
        return mask

    def _version_mask(
        self, plan: Plan, measure: Measure, in_version: NDArray[np.bool_] | None
    ) -> NDArray[np.bool_]:
        """The rows of the measure's credit kinds (and filter) among ``in_version`` (all)."""
        kinds = self._rows.kind
        wanted = {KIND_NAMES.index(kind) for kind in measure.credit}
        # One comparison a kind: a gather by the int8 kinds would copy them to intp first.
        if len(wanted) == len(KIND_NAMES):
            selected = np.ones(len(kinds), dtype=bool)
        else:
            selected = np.zeros(len(kinds), dtype=bool)
            for kind in wanted:
                selected |= kinds == kind
        if in_version is not None:
            selected &= in_version
        if measure.where is None or not selected.any():
            return selected
        at = np.flatnonzero(selected)
        passed = filter_mask(measure.where, plan, self._rows.take(at), self._context())
        selected[at] = passed
        return selected

    def context(self) -> _Context:
        """What a filter over the rows reads."""
        return self._context()

    def _context(self) -> _Context:
        return _Context(self._table, self._units, self._names)

    def _compute_values(self, name: str) -> MeasureValues:
        rows = self._rows
        mask = self.mask(name)
        count = any(
            p.measures.get(name) is not None and p.measures[name].aggregate == "count"
            for p in self._plans
        )
        # A count adds each row's sign: +1, a refund -1, a 0 row 0 (decision D26).
        weight = np.sign(rows.amount) if count else rows.amount
        shape = (self._payees, self._calendar.count + 1)
        dated = np.zeros(shape, dtype=np.int64)
        cancelled = np.zeros(shape, dtype=np.int64)
        within = np.zeros(shape, dtype=np.int64)
        at = np.flatnonzero(mask)
        payee, period, gone = rows.payee[at], self._row_period[at], self._gone_period[at]
        add_at(dated, payee, period, weight[at])
        add_at(cancelled, payee, gone, weight[at])
        same = gone == period
        add_at(within, payee[same], period[same], weight[at][same])
        k = self._calendar.count
        return MeasureValues(dated[:, :k], cancelled[:, :k], within[:, :k])


@final
@dataclass(frozen=True, slots=True)
class _Context:
    table: TransactionTable
    units: NDArray[np.int64]
    names: Sequence[str]


def filter_mask(where: str, plan: Plan, rows: CreditRows, context: _Context) -> NDArray[np.bool_]:
    """Rows whose transaction (and credit) satisfy ``where`` under ``plan``'s schema.

    A filter that reads no per-credit field (``credit``, ``payee``) is evaluated once
    per transaction.

    Raises:
        InvalidValueError: a row fails to evaluate (``incentives.invalid_field``,
            location ``transactions[i].fields``, decision D7).
    """
    schema = plan.filter_schema()
    expression = compile_expression(where, schema, expect="bool")
    per_credit = bool(expression.names & _PER_CREDIT)
    if per_credit:
        tx = rows.tx
        unique = None
    else:
        unique, inverse = np.unique(rows.tx, return_inverse=True)
        tx = unique
    columns = _columns(expression.names, plan, tx, rows if per_credit else None, context)
    try:
        passed = expression.mask(columns, size=len(tx))
    except EvaluationError as err:
        raise _invalid(err, tx) from None
    return passed if unique is None else passed[inverse.reshape(-1)]


def _invalid(err: EvaluationError, tx: Ints) -> InvalidValueError:
    """The error of a filter over transactions ``tx``, naming the first offending one.

    A row's error (``row 3: ...``, the prefix dropped) and a column's error naming a
    row (the first null of a field that is not nullable, a value out of range) name
    that row's transaction; a column's error naming none (a wrong dtype), the first.
    """
    message = err.message
    failed = _ROW_ERROR.match(message)
    column = _COLUMN_ROW.match(message)
    row = int(failed.group(1)) if failed else int(column.group(2)) if column else 0
    index = int(tx[row]) if row < len(tx) else 0
    if failed is not None:
        message = message[failed.end() :]
    elif column is not None:
        # The column's row is a position in ``tx``: shown as the transaction it stands for.
        message = f"{message[: column.start(1)]}transactions[{index}]{message[column.end(1) :]}"
    where = f"transactions[{index}].fields"
    return InvalidValueError(
        f"transactions[{index}]: {message}",
        code="incentives.invalid_field",
        location=Location(path=where),
    )


# The row an evaluator error names: its own (``row 3: ...``), or a column's first bad
# one (``column 'f': 2 nulls (first at row 3); ...``, ``column 'f': row 3 is ...``).
_ROW_ERROR: Final = re.compile(r"row (\d+): ")
_COLUMN_ROW: Final = re.compile(
    r"column (?:'[^']*'|\"[^\"]*\"): (?:\d+ nulls \(first at )?(row (\d+))\b"
)


def _columns(
    names: frozenset[str],
    plan: Plan,
    tx: Ints,
    rows: CreditRows | None,
    context: _Context,
) -> dict[str, Any]:
    table = context.table
    columns: dict[str, Any] = {}
    fields = [n for n in names if n in plan.fields]
    if fields:
        columns.update(table_fields(table, plan, fields, tx))
    builtin: Mapping[str, Any] = {
        "amount": lambda: context.units[tx],
        "currency": lambda: np.array([c.code for c in table.currencies])[table.currency[tx]],
        "date": lambda: table.dates[tx],
        "owner": lambda: np.array(table.payees, dtype=object)[table.owners[tx]].astype(str),
        "credit": lambda: np.array(KIND_NAMES)[rows.kind] if rows is not None else None,
        "payee": lambda: np.array(context.names)[rows.payee] if rows is not None else None,
    }
    for name in names:
        if name in builtin:
            columns[name] = builtin[name]()
    return columns


def table_fields(
    table: TransactionTable, plan: Plan, names: Sequence[str], tx: Ints
) -> dict[str, Any]:
    """The fields ``names`` of transactions ``tx`` as typed columns.

    A nullable field the table lacks is null (decision D7; `prepare` refused a
    transaction lacking a field that is not nullable).
    """
    schema = plan.filter_schema()
    present = [n for n in names if n in table.fields]
    columns = table.filter_columns(schema, present, tx)
    for name in names:
        if name not in columns:
            columns[name] = _all_null(schema, name, len(tx))
    return columns


def _all_null(schema: Any, name: str, size: int) -> Any:  # noqa: ANN401 - a column of any dtype
    field = schema.fields[name]
    dtype: Any = {
        "bool": bool,
        "int": np.int64,
        "decimal": np.int64,
        "double": np.float64,
        "string": object,
        "date": "datetime64[D]",
        "timestamp": "datetime64[us]",
        "duration": "timedelta64[us]",
    }[field.type]
    if field.type == "string":
        return np.full(size, None, dtype=object)
    return np.ma.masked_array(np.zeros(size, dtype=dtype), mask=np.ones(size, dtype=bool))


__all__ += ["NO_DAY", "filter_mask", "table_fields"]
