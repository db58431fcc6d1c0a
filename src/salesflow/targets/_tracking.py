"""Tracking: actuals rolled up against the targets, with pacing and projections.

Actual results (a booking of an amount by a node on a day) are added into the plan's
finest periods and rolled up the org as it stood in each period. For any node and
period, `Tracking.status` then gives target, actual, attainment, what should have
been reached by now (by the targets' own phasing, so seasonality counts), whether
the node is ahead or behind, projections to the end of the period, the gap, and the
run-rate needed per remaining day to close it.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import TYPE_CHECKING, Any, final

import numpy as np

from salesflow._interop import require_pandas
from salesflow._values import check_date, check_enum
from salesflow.errors import (
    CurrencyMismatchError,
    DefinitionError,
    InvalidValueError,
    Location,
    MoneyOverflowError,
    Problem,
    Severity,
)
from salesflow.money import Currency, Money, to_minor_units_array
from salesflow.periods import Grain, fraction_elapsed
from salesflow.targets._layout import ABSENT, UNIT_LIMIT
from salesflow.targets._plan import TimeMethod, TimeSplit

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Sequence

    import pandas as pd
    from numpy.typing import ArrayLike, NDArray

    from salesflow.periods import BusinessCalendar, FiscalCalendar, Period
    from salesflow.targets._grid import TargetGrid

__all__ = ["Actuals", "Pace", "TrackRow", "Tracking", "seasonality_from_history", "track"]


@enum.unique
class Pace(enum.Enum):
    """Where a node stands against what it should have reached by now."""

    AHEAD = "ahead"  # actual >= expected to date
    BEHIND = "behind"  # actual < expected to date


@final
@dataclass(frozen=True, slots=True, eq=False)
class Actuals:
    """Amounts booked by nodes on days, in the plan's unit (minor units for money).

    Build with `from_records` (readable) or `from_columns` (fast: numpy arrays).

    Attributes:
        nodes: The node of each booking: ids (str) or positions in `TargetGrid.nodes`.
        days: ``datetime64[D]`` day of each booking.
        amounts: int64 amount of each booking, in minor units (or counts).
        currency: The currency the amounts are minor units of, when known (bookings
            given as `Money`, or a frame read with ``currency=``); `track` refuses
            bookings in another currency than the plan's.
    """

    nodes: NDArray[np.object_] | NDArray[np.intp]
    days: NDArray[np.datetime64]
    amounts: NDArray[np.int64]
    currency: Currency | None = None

    @classmethod
    def from_records(cls, records: Iterable[tuple[str, dt.date, Money | int]]) -> Actuals:
        """Bookings as ``(node, day, amount)``.

        Amounts are `Money` (on the minor unit, all in one currency) or ints in minor
        units (or counts); floats, Decimals and text are refused as ambiguous.

        Raises:
            InvalidValueError: a record is malformed (its position is in the path).
            CurrencyMismatchError: Money amounts in more than one currency.

        >>> import datetime as dt
        >>> a = Actuals.from_records([("ann", dt.date(2026, 1, 5), Money("10.50", "CNY"))])
        >>> a.amounts.tolist(), a.currency
        ([1050], Currency('CNY'))
        """
        nodes: list[str] = []
        days: list[dt.date] = []
        amounts: list[int] = []
        currencies: set[Currency] = set()
        for i, record in enumerate(records):
            node, day, amount = _booking(i, record)
            if isinstance(amount, Money):
                currencies.add(amount.currency)
                amount = amount.to_minor_units()
            nodes.append(node)
            days.append(day)
            amounts.append(amount)
        if len(currencies) > 1:
            msg = f"bookings in {len(currencies)} currencies: {sorted(currencies)}"
            raise CurrencyMismatchError(msg, code="targets.actuals_currencies")
        return cls.from_columns(
            np.array(nodes, dtype=object),
            np.array(days, dtype="datetime64[D]"),
            np.array(amounts, dtype=object),
            currency=currencies.pop() if currencies else None,
        )

    @classmethod
    def from_columns(
        cls,
        nodes: ArrayLike,
        days: ArrayLike,
        amounts: ArrayLike,
        *,
        currency: Currency | str | None = None,
    ) -> Actuals:
        """Bookings as columns; ``nodes`` may be positions in `TargetGrid.nodes` (fastest).

        Raises:
            InvalidValueError: the columns are not one-dimensional, differ in length,
                have the wrong kind, or hold days that are not dates.
            MoneyOverflowError: an amount's size reaches 2**62 minor units.
        """
        nodes_, days_, amounts_ = (np.asarray(c) for c in (nodes, days, amounts))
        if not (nodes_.ndim == days_.ndim == amounts_.ndim == 1):
            msg = "bookings must be one-dimensional columns"
            raise InvalidValueError(msg, code="targets.actuals_shape")
        if not (len(nodes_) == len(days_) == len(amounts_)):
            msg = f"columns of {len(nodes_)}, {len(days_)} and {len(amounts_)} bookings"
            raise InvalidValueError(msg, code="targets.actuals_shape")
        kind = nodes_.dtype.kind
        return cls(
            nodes_.astype(np.intp) if kind in "iu" else nodes_.astype(object),
            _days(days_),
            _amounts(amounts_),
            None if currency is None else Currency(currency),
        )

    @classmethod
    def from_frame(
        cls,
        frame: pd.DataFrame,
        *,
        node: str = "node",
        day: str = "day",
        amount: str = "amount",
        currency: str | None = None,
    ) -> Actuals:
        """Bookings from a pandas DataFrame (the [dataframe] extra).

        Args:
            frame: One row per booking.
            node: The column of node ids (or positions in `TargetGrid.nodes`).
            day: The column of booking days (dates, or anything ``datetime64`` reads).
            amount: The column of amounts: integers in minor units; or, with
                ``currency``, exact amounts (``Decimal``, ``str``, ``Money``) converted
                to minor units exactly (floats are refused).
            currency: The currency of a column of exact amounts.

        Raises:
            InvalidValueError: an amount is not exact, not on the minor unit, or the
                columns have the wrong kind.
        """
        values = frame[amount].to_numpy()
        if currency is not None:
            values = to_minor_units_array(list(values), currency)
        return cls.from_columns(
            frame[node].to_numpy(), frame[day].to_numpy(), values, currency=currency
        )


@final
@dataclass(frozen=True, slots=True)
class TrackRow:
    """A node's standing in a period, at the end of day `at`.

    Attributes:
        node: The node.
        period: The period's label.
        at: The day whose end is "now".
        target: The node's target for the period.
        actual: What it booked in the period up to `at`, its reports' included.
        expected: What it should have booked by now: each finest period's target times
            the share of it elapsed (by days, or working days), rounded half-even.
        elapsed: The share of the period elapsed, exactly.
        projected: The run-rate projection: ``actual / elapsed`` (``None`` before the
            period starts), rounded half-even.
        projected_with_pipeline: ``actual`` plus the weighted open pipeline expected to
            close in the rest of the period (``None`` without a pipeline).
        gap: ``target - actual`` (negative once the target is beaten).
        required_per_day: What each remaining day (or working day) must bring to close
            the gap, rounded up; ``None`` when no day remains or the gap is closed.
        remaining_days: Days (or working days) left after `at`.
    """

    node: str
    period: str
    at: dt.date
    target: Money | int
    actual: Money | int
    expected: Money | int
    elapsed: Fraction
    projected: Money | int | None
    projected_with_pipeline: Money | int | None
    gap: Money | int
    required_per_day: Money | int | None
    remaining_days: int

    @property
    def attainment(self) -> Fraction | None:
        """``actual / target`` exactly, or ``None`` for a zero target."""
        target, actual = _units(self.target), _units(self.actual)
        return Fraction(actual, target) if target else None

    @property
    def pace(self) -> Pace:
        """Ahead or behind what it should have reached by now."""
        return Pace.AHEAD if _units(self.actual) >= _units(self.expected) else Pace.BEHIND


@final
class Tracking:
    """Actuals rolled up against a `TargetGrid`, asked of at the end of day ``at``."""

    __slots__ = ("actual", "at", "business", "direct", "grid", "pipeline", "problems")

    def __init__(  # noqa: PLR0913 - the inputs of a tracking, each documented on `track`
        self,
        grid: TargetGrid,
        actual: NDArray[np.int64],
        pipeline: NDArray[np.int64] | None,
        *,
        at: dt.date,
        business: BusinessCalendar | None,
        problems: Sequence[Problem],
    ) -> None:
        """Hold the rolled-up cells (use `track` to make one)."""
        self.grid = grid
        self.actual = actual
        self.pipeline = pipeline
        self.at = at
        self.business = business
        self.problems = tuple(problems)

    def status(self, node: str, period: Period | str | None = None) -> TrackRow:
        """The standing of ``node`` in ``period`` (default: the fiscal year)."""
        grid = self.grid
        column = grid._column(node)  # noqa: SLF001 - one module family
        rows = grid._rows(period)  # noqa: SLF001
        wanted = grid._period(period)  # noqa: SLF001
        target = int(grid.amounts[rows, column].sum())
        actual = int(self.actual[rows, column].sum())
        expected = _round(
            sum(
                (int(grid.amounts[r, column]) * self._elapsed(grid.periods[r]) for r in rows),
                Fraction(0),
            )
        )
        elapsed = self._elapsed(wanted)
        remaining = self._remaining_days(wanted)
        pipeline = (
            None if self.pipeline is None else actual + int(self.pipeline[rows, column].sum())
        )
        unit = grid._unit  # noqa: SLF001
        gap = target - actual
        return TrackRow(
            node=node,
            period=wanted.label,
            at=self.at,
            target=unit(target),
            actual=unit(actual),
            expected=unit(expected),
            elapsed=elapsed,
            projected=unit(_round(actual / elapsed)) if elapsed else None,
            projected_with_pipeline=None if pipeline is None else unit(pipeline),
            gap=unit(gap),
            required_per_day=unit(_ceiling(Fraction(gap, remaining)))
            if remaining and gap > 0
            else None,
            remaining_days=remaining,
        )

    def rows(self, grain: str | None = None) -> Iterator[TrackRow]:
        """The standing of every node in every period of ``grain`` (default: finest)."""
        plan = self.grid.plan
        level = check_enum(Grain, grain, "grain") if grain else plan.grain
        for period in plan.calendar.periods(plan.fiscal_year, level):
            for node in self.grid.nodes:
                yield self.status(node, period)

    def to_frame(self, grain: str | None = None) -> pd.DataFrame:
        """Every node's standing in every period of ``grain``, as a pandas DataFrame.

        The fast path for many rows (the [dataframe] extra): computed with numpy over
        all nodes at once, equal to `status` row for row. Amounts are exact int64 minor
        units (or counts) with a ``unit`` column; ``projected``,
        ``projected_with_pipeline`` and ``required_per_day`` are nullable integers;
        ``attainment`` and ``elapsed`` are exact `Fraction` objects (``None`` for a
        zero target); ``pace`` is ``"ahead"`` or ``"behind"``.
        """
        require_pandas()
        import pandas as pd  # noqa: PLC0415 - an optional dependency, imported on use

        plan = self.grid.plan
        level = check_enum(Grain, grain, "grain") if grain else plan.grain
        frames = [
            pd.DataFrame(self._columns(period))
            for period in plan.calendar.periods(plan.fiscal_year, level)
        ]
        frame = pd.concat(frames, ignore_index=True)
        for name in ("projected", "projected_with_pipeline", "required_per_day"):
            frame[name] = frame[name].astype("Int64")
        currency = plan.currency
        frame["unit"] = str(currency) if currency is not None else plan.unit
        return frame

    def _columns(self, period: Period) -> dict[str, object]:
        """The standing of every node in one period, as columns (see `to_frame`)."""
        grid = self.grid
        rows = grid._rows(period)  # noqa: SLF001 - one module family
        target = grid.amounts[rows].sum(axis=0)
        actual = self.actual[rows].sum(axis=0)
        expected = self._expected(rows)
        elapsed = self._elapsed(period)
        remaining = self._remaining_days(period)
        gap = target - actual
        count = len(grid.nodes)
        missing = np.full(count, None, dtype=object)
        projected = (
            _round_div(actual * elapsed.denominator, elapsed.numerator) if elapsed else missing
        )
        pipeline = missing if self.pipeline is None else actual + self.pipeline[rows].sum(axis=0)
        required = missing.copy()
        if remaining:
            owed = gap > 0
            required[owed] = -((-gap[owed]) // remaining)
        return {
            "node": np.array(grid.nodes, dtype=object),
            "period": period.label,
            "target": target,
            "actual": actual,
            "expected": expected,
            "attainment": [
                Fraction(int(a), int(t)) if t else None for a, t in zip(actual, target, strict=True)
            ],
            "pace": np.where(actual >= expected, Pace.AHEAD.value, Pace.BEHIND.value),
            "elapsed": elapsed,
            "projected": projected,
            "projected_with_pipeline": pipeline,
            "gap": gap,
            "required_per_day": required,
            "remaining_days": remaining,
        }

    def _expected(self, rows: NDArray[np.intp]) -> NDArray[np.int64]:
        """Each node's expected-to-date over the finest ``rows``, rounded half-even."""
        amounts = self.grid.amounts
        full = np.zeros(amounts.shape[1], dtype=np.int64)
        partial: tuple[int, Fraction] | None = None
        for row in rows:
            share = self._elapsed(self.grid.periods[row])
            if share == 1:
                full += amounts[row]
            elif share:
                partial = (int(row), share)
        if partial is None:
            return full
        row, share = partial
        numerator = full * share.denominator + amounts[row] * share.numerator
        return _round_div(numerator, share.denominator)

    def _elapsed(self, period: Period) -> Fraction:
        return fraction_elapsed(period, self.at, business=self.business)

    def _remaining_days(self, period: Period) -> int:
        if self.at >= period.end:
            return 0
        first = max(period.start, self.at + dt.timedelta(days=1))
        if self.business is None:
            return (period.end - first).days + 1
        return self.business.count_business_days(first, period.end)


def track(
    grid: TargetGrid,
    actuals: Actuals,
    *,
    at: dt.date,
    pipeline: Actuals | None = None,
    business: BusinessCalendar | None = None,
) -> Tracking:
    """Roll ``actuals`` up ``grid``'s org and periods, for questions at the end of ``at``.

    Bookings dated after ``at`` are left out (they have not happened yet); so are
    bookings outside the fiscal year, for nodes not in the plan, or for a node not in
    the org in that period, each kind reported once in `Tracking.problems`.

    Args:
        grid: The decomposed targets.
        actuals: The bookings.
        at: The day whose end is "now".
        pipeline: Weighted open pipeline (amount x probability) by expected close day;
            only what is expected after ``at`` and within the period counts.
        business: Measure elapsed and remaining time in working days of this calendar
            instead of calendar days.

    >>> import datetime as dt
    >>> from salesflow.targets import OrgTree, TargetPlan, decompose
    >>> org = OrgTree.from_records([{"id": "co"}, {"id": "ann", "parent": "co"}])
    >>> plan = TargetPlan.model_validate({"name": "p", "total": "3650.00 CNY",
    ...     "fiscal_year": 2026, "calendar": {"kind": "monthly"}, "grain": "month"})
    >>> booked = Actuals.from_records([("ann", dt.date(2026, 1, 20), Money("400.00", "CNY"))])
    >>> tracking = track(decompose(plan, org), booked, at=dt.date(2026, 1, 31))
    >>> row = tracking.status("ann", "FY2026-Q1")
    >>> row.target, row.actual, row.expected, row.pace.value
    (Money('900.00', 'CNY'), Money('400.00', 'CNY'), Money('310.00', 'CNY'), 'ahead')
    """
    at = check_date(at, "at")
    for name, bookings in (("actuals", actuals), ("pipeline", pipeline)):
        _check_unit(grid, bookings, name)
    direct, problems = _direct_cells(grid, actuals, at, source="actuals")
    rolled = _roll_up(grid, direct)
    open_pipeline = None
    if pipeline is not None:
        future, more = _direct_cells(grid, pipeline, None, after=at, source="pipeline")
        problems += more
        open_pipeline = _roll_up(grid, future)
    return Tracking(grid, rolled, open_pipeline, at=at, business=business, problems=problems)


def _check_unit(grid: TargetGrid, bookings: Actuals | None, name: str) -> None:
    if bookings is None:
        return
    if bookings.currency is not None and bookings.currency != grid.plan.currency:
        msg = f"{name} are in {bookings.currency}, the plan in {grid.plan.currency or 'counts'}"
        raise CurrencyMismatchError(msg, code="targets.actuals_currency")
    if float(np.abs(bookings.amounts).sum(dtype=np.float64)) >= UNIT_LIMIT:
        msg = f"{name} add up to more than 2**62 minor units"
        raise MoneyOverflowError(msg, code="targets.too_large")


def _direct_cells(
    grid: TargetGrid,
    bookings: Actuals,
    at: dt.date | None,
    *,
    after: dt.date | None = None,
    source: str,
) -> tuple[NDArray[np.int64], list[Problem]]:
    """Add bookings into (finest period, node) cells; report what was left out."""
    plan = grid.plan
    rows = plan.calendar.period_index(bookings.days, plan.grain, plan.fiscal_year)
    columns = _positions(grid, bookings.nodes)
    keep = (rows >= 0) & (columns >= 0)
    if at is not None:
        keep &= bookings.days <= np.datetime64(at, "D")
    problems = _left_out(rows, columns, bookings, source)
    if after is not None:
        overdue = keep & (bookings.days <= np.datetime64(after, "D"))
        if overdue.any():
            problems.append(
                Problem(
                    "targets.pipeline_overdue",
                    Severity.WARNING,
                    f"{int(overdue.sum())} open deals were expected to close by {after}; "
                    "they are not projected",
                    Location(path=source),
                )
            )
        keep &= ~overdue
    present = np.zeros(len(keep), dtype=bool)
    present[keep] = grid.layout.parent[rows[keep], columns[keep]] != ABSENT
    if (keep & ~present).any():
        problems.append(
            Problem(
                "targets.actual_for_absent_node",
                Severity.WARNING,
                f"{int((keep & ~present).sum())} bookings are for nodes not in the org in "
                "their period; they are not rolled up",
                Location(path=source),
            )
        )
    keep &= present
    periods, size = grid.amounts.shape
    cells = np.zeros(periods * size, dtype=np.int64)
    np.add.at(cells, rows[keep] * size + columns[keep], bookings.amounts[keep])
    return cells.reshape(periods, size), problems


def _left_out(
    rows: NDArray[np.intp], columns: NDArray[np.intp], bookings: Actuals, source: str
) -> list[Problem]:
    problems = []
    outside = int((rows < 0).sum())
    if outside:
        problems.append(
            Problem(
                "targets.actual_outside_year",
                Severity.INFO,
                f"{outside} bookings fall outside the plan's fiscal year",
                Location(path=source),
            )
        )
    unknown = int((columns < 0).sum())
    if unknown:
        first = bookings.nodes[int(np.flatnonzero(columns < 0)[0])]
        problems.append(
            Problem(
                "targets.actual_unknown_node",
                Severity.WARNING,
                f"{unknown} bookings are for nodes not in the plan's org (first: {first!r})",
                Location(path=source),
            )
        )
    return problems


def _positions(grid: TargetGrid, nodes: NDArray[np.object_] | NDArray[np.intp]) -> NDArray[np.intp]:
    """Each booking's column; -1 for a node not in the plan."""
    if nodes.dtype.kind in "iu":
        positions = nodes.astype(np.intp)
        return np.where((positions >= 0) & (positions < len(grid.nodes)), positions, -1)
    index = {node: i for i, node in enumerate(grid.nodes)}
    distinct, inverse = np.unique(nodes.astype(str), return_inverse=True)
    lookup = np.array([index.get(str(n), -1) for n in distinct], dtype=np.intp)
    return lookup[inverse.reshape(-1)]


def _roll_up(grid: TargetGrid, direct: NDArray[np.int64]) -> NDArray[np.int64]:
    """Add every cell into its parent's, deepest level first, in every period."""
    layout = grid.layout
    periods, size = direct.shape
    rolled = direct.copy().reshape(-1)
    depth = layout.depth.reshape(-1)
    parent = layout.parent.reshape(-1)
    for level in range(layout.max_depth, 0, -1):
        cells = np.flatnonzero(depth == level)
        np.add.at(rolled, (cells // size) * size + parent[cells], rolled[cells])
    return rolled.reshape(periods, size)


def _units(value: Money | int) -> int:
    return value.to_minor_units() if isinstance(value, Money) else value


def _round(value: Fraction) -> int:
    """Round half to even, exactly (``round`` on a Fraction does exactly that)."""
    return round(value)


def _ceiling(value: Fraction) -> int:
    return -((-value.numerator) // value.denominator)


def seasonality_from_history(
    history: Actuals, calendar: FiscalCalendar, fiscal_year: int, *, grain: Grain | None = None
) -> TimeSplit:
    """A seasonality `TimeSplit` estimated from a past year's bookings.

    Each period of ``grain`` (default month) of ``fiscal_year`` gets its booked total
    as its index, so next year's plan is phased in the same proportions.

    Raises:
        DefinitionError: a period's total is negative (refunds exceed bookings), or
            the year has no bookings at all, naming the period or the year.

    >>> import datetime as dt
    >>> from salesflow.periods import MonthlyCalendar
    >>> last_year = Actuals.from_records([(n, dt.date(2025, m, 10), 100 * m)
    ...                                   for n in ("a", "b") for m in (1, 2, 12)])
    >>> split = seasonality_from_history(last_year, MonthlyCalendar(), 2025)
    >>> split.seasonality[1], split.seasonality[2], split.seasonality[3], split.seasonality[12]
    (Decimal('200'), Decimal('400'), Decimal('0'), Decimal('2400'))
    """
    level = grain or Grain.MONTH
    count = len(calendar.periods(fiscal_year, level))
    rows = calendar.period_index(history.days, level, fiscal_year)
    inside = rows >= 0
    totals = np.zeros(count, dtype=np.int64)
    np.add.at(totals, rows[inside], history.amounts[inside])
    problems = [
        Problem(
            "targets.negative_history",
            Severity.ERROR,
            f"FY{fiscal_year} {level.value} {i + 1} totals {int(t)}: a negative index",
            Location(path=f"history.{level.value}[{i + 1}]"),
        )
        for i, t in enumerate(totals)
        if t < 0
    ]
    if not totals.any():
        problems.append(
            Problem(
                "targets.empty_history",
                Severity.ERROR,
                f"no bookings in FY{fiscal_year} to estimate seasonality from",
                Location(path="history"),
            )
        )
    if problems:
        raise DefinitionError.from_problems(problems)
    indices = {i + 1: Decimal(int(t)) for i, t in enumerate(totals)}
    return TimeSplit(method=TimeMethod.SEASONALITY, seasonality=indices, seasonality_grain=level)


def _booking(index: int, record: object) -> tuple[str, dt.date, Money | int]:
    where = Location(path=f"actuals[{index}]")
    if not isinstance(record, tuple | list) or len(record) != _BOOKING_FIELDS:
        msg = f"a booking is (node, day, amount), not {record!r}"
        raise InvalidValueError(msg, code="targets.actuals_record", location=where)
    node, day, amount = record
    if isinstance(day, dt.datetime) or not isinstance(day, dt.date):
        msg = f"the day of a booking must be a datetime.date, not {day!r}"
        raise InvalidValueError(msg, code="targets.actuals_day", location=where)
    if isinstance(amount, bool) or not isinstance(amount, Money | int):
        msg = (
            f"the amount of a booking must be Money or an int of minor units, not "
            f"{type(amount).__name__} {amount!r}"
        )
        raise InvalidValueError(msg, code="targets.actuals_amount", location=where)
    return str(node), day, amount


_BOOKING_FIELDS = 3


def _days(days: NDArray[Any]) -> NDArray[np.datetime64]:
    try:
        return days.astype("datetime64[D]")
    except (ValueError, TypeError) as err:
        msg = f"booking days must be dates: {err}"
        raise InvalidValueError(msg, code="targets.actuals_day") from None


def _amounts(amounts: NDArray[Any]) -> NDArray[np.int64]:
    if amounts.dtype.kind == "O" and all(
        isinstance(a, int) and not isinstance(a, bool) for a in amounts
    ):
        too_big = [a for a in amounts if abs(a) >= UNIT_LIMIT]
        if too_big:
            msg = f"booking amount {too_big[0]} is too large (2**62 minor units or more)"
            raise MoneyOverflowError(msg, code="targets.too_large")
        return amounts.astype(np.int64)
    if amounts.dtype.kind not in "iu":
        msg = f"amounts must be integers (minor units), not {amounts.dtype}"
        raise InvalidValueError(msg, code="targets.actuals_dtype")
    low = int(amounts.min()) if len(amounts) else 0
    high = int(amounts.max()) if len(amounts) else 0
    if max(high, -low) >= UNIT_LIMIT:
        msg = "a booking amount is too large (2**62 minor units or more)"
        raise MoneyOverflowError(msg, code="targets.too_large")
    return amounts.astype(np.int64)


def _round_div(numerator: NDArray[np.int64], denominator: int) -> NDArray[np.int64]:
    """``numerator / denominator`` rounded half to even, exactly, element by element."""
    quotient = numerator // denominator
    twice = 2 * (numerator - quotient * denominator)
    up = (twice > denominator) | ((twice == denominator) & (quotient % 2 == 1))
    rounded: NDArray[np.int64] = quotient + up
    return rounded
