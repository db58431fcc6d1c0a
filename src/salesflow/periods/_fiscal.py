"""Fiscal calendars: calendar-month years and 52/53-week retail years, as data.

Both kinds reduce a fiscal year to its twelve month boundaries and its week boundaries
(`YearLayout`); halves and quarters are runs of three and six months, so every grain
nests in the one above by construction. Everything else (finding a date's period,
children, labels, the vectorized index) works on those boundaries and is shared.
"""

from __future__ import annotations

import abc
import calendar as _gregorian
import datetime as dt
import functools
from bisect import bisect_right
from typing import TYPE_CHECKING, Annotated, Final, Literal, cast, final

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, StrictInt, TypeAdapter, ValidationError

from salesflow._definitions import validation_problems
from salesflow.errors import CalendarError, DefinitionError, InvalidValueError
from salesflow.periods import _labels
from salesflow.periods._layout import YearLayout
from salesflow.periods._period import Period
from salesflow.periods._units import (
    FIRST_FISCAL_YEAR,
    LAST_FISCAL_YEAR,
    Grain,
    Weekday,
    WeekdayField,
    check_date,
    check_fiscal_year,
    from_days,
    to_days,
)

if TYPE_CHECKING:
    from collections.abc import Mapping

    from numpy.typing import ArrayLike, NDArray

__all__ = [
    "FiscalCalendar",
    "LabelYear",
    "MonthlyCalendar",
    "RetailCalendar",
    "calendar_json_schema",
    "load_calendar",
]

LabelYear = Literal["end", "start"]
"""Which calendar year names a fiscal year: the one it ends in, or the one it starts in.

Precisely: a fiscal year nominally runs over twelve calendar months, from month
``year_end_month + 1`` of one year to ``year_end_month`` of the next. ``"end"`` labels
it by the later of those calendar years, ``"start"`` by the earlier. When the year ends
in December both are the same year.
"""

_DAYS_PER_WEEK: Final = 7
_DECEMBER: Final = 12
_NEAREST_REACH: Final = 3  # "nearest" picks the weekday at most 3 days from month end
_RETAIL_PATTERNS: Final[Mapping[str, tuple[int, int, int]]] = {
    "4-4-5": (4, 4, 5),
    "4-5-4": (4, 5, 4),
    "5-4-4": (5, 4, 4),
}


class _FiscalCalendarBase(BaseModel, abc.ABC):
    """What every fiscal calendar does; subclasses say where years and months fall."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    if TYPE_CHECKING:
        # Declared by each subclass, after its `kind`, so definitions read kind first.
        label_year: LabelYear

    @abc.abstractmethod
    def _end_month(self) -> int:
        """The calendar month (1..12) in which the fiscal year nominally ends."""

    @abc.abstractmethod
    def _year_end_day(self, end_year: int) -> int:
        """Day number of the last day of the fiscal year that ends in ``end_year``."""

    @abc.abstractmethod
    def _month_bounds(self, first: int, stop: int) -> tuple[int, ...]:
        """The 13 month boundaries of the fiscal year ``[first, stop)``."""

    @abc.abstractmethod
    def _week_bounds(self, months: tuple[int, ...]) -> tuple[int, ...]:
        """The week boundaries of the fiscal year with these month boundaries."""

    # -- years ----------------------------------------------------------------------

    def fiscal_year_of(self, day: dt.date) -> int:
        """The fiscal year ``day`` falls in.

        Raises:
            CalendarError: ``day`` is outside fiscal years 1900..2200.

        >>> MonthlyCalendar(start_month=4).fiscal_year_of(dt.date(2025, 4, 1))
        2026
        """
        day = check_date(day)
        if not FIRST_FISCAL_YEAR - 1 <= day.year <= LAST_FISCAL_YEAR + 1:
            raise _date_out_of_range(day)
        number = to_days(day)
        end_year = day.year
        while number > self._year_end_day(end_year):
            end_year += 1
        while number <= self._year_end_day(end_year - 1):
            end_year -= 1
        fiscal_year = self._fiscal_year_ending_in(end_year)
        if not FIRST_FISCAL_YEAR <= fiscal_year <= LAST_FISCAL_YEAR:
            raise _date_out_of_range(day)
        return fiscal_year

    def year(self, fiscal_year: int) -> Period:
        """The whole fiscal year as a period.

        >>> y = MonthlyCalendar(start_month=4).year(2026)
        >>> y.label, y.start, y.end
        ('FY2026', datetime.date(2025, 4, 1), datetime.date(2026, 3, 31))
        """
        return self.periods(fiscal_year, Grain.YEAR)[0]

    # -- periods --------------------------------------------------------------------

    def periods(self, fiscal_year: int, grain: Grain) -> tuple[Period, ...]:
        """Every period of ``grain`` in the fiscal year, in order (cached).

        Raises:
            CalendarError: The fiscal year is outside 1900..2200.
        """
        return _periods(self, check_fiscal_year(fiscal_year), _check_grain(grain))

    def period_of(self, day: dt.date, grain: Grain) -> Period:
        """The period of ``grain`` that contains ``day``.

        Raises:
            CalendarError: ``day`` is outside fiscal years 1900..2200.

        >>> MonthlyCalendar().period_of(dt.date(2026, 8, 15), Grain.QUARTER).label
        'FY2026-Q3'
        """
        grain = _check_grain(grain)
        fiscal_year = self.fiscal_year_of(day)
        bounds = _layout(self, fiscal_year).bounds[grain]
        position = bisect_right(bounds, to_days(day)) - 1
        return _periods(self, fiscal_year, grain)[position]

    def periods_between(self, start: dt.date, end: dt.date, grain: Grain) -> tuple[Period, ...]:
        """The periods of ``grain`` that overlap ``start..end`` (both inclusive), in order.

        The first one contains ``start`` and the last one ``end``, so they may reach
        beyond the range; across fiscal years the periods simply continue.

        Raises:
            InvalidValueError: ``end`` is before ``start``.
            CalendarError: A date is outside fiscal years 1900..2200.

        >>> cal = MonthlyCalendar()
        >>> [p.label for p in cal.periods_between(
        ...     dt.date(2025, 11, 20), dt.date(2026, 2, 1), Grain.MONTH)]
        ['FY2025-M11', 'FY2025-M12', 'FY2026-M01', 'FY2026-M02']
        """
        grain = _check_grain(grain)
        first = self.period_of(start, grain)
        last = self.period_of(check_date(end, "end"), grain)
        if end < start:
            msg = f"end {end} is before start {start}"
            raise InvalidValueError(msg, code="periods.end_before_start")
        found: list[Period] = []
        for fiscal_year in range(first.fiscal_year, last.fiscal_year + 1):
            year = _periods(self, fiscal_year, grain)
            low = first.index - 1 if fiscal_year == first.fiscal_year else 0
            high = last.index if fiscal_year == last.fiscal_year else len(year)
            found.extend(year[low:high])
        return tuple(found)

    def custom(self, start: dt.date, end: dt.date) -> Period:
        """A custom range of days (a campaign), ``start..end`` both inclusive.

        Its grain is ``None`` and its index 0; it belongs to the fiscal year of its
        first day; it is tiled by days; its label is ``"<start>/<end>"``.

        Raises:
            InvalidValueError: ``end`` is before ``start``.
            CalendarError: A date is outside fiscal years 1900..2200.

        >>> MonthlyCalendar().custom(dt.date(2026, 3, 1), dt.date(2026, 3, 15)).label
        '2026-03-01/2026-03-15'
        """
        fiscal_year = self.fiscal_year_of(start)
        self.fiscal_year_of(end)
        if end < start:
            msg = f"end {end} is before start {start}"
            raise InvalidValueError(msg, code="periods.end_before_start")
        return Period(_as_calendar(self), None, fiscal_year, 0, start, end)

    # -- labels ---------------------------------------------------------------------

    def label(self, period: Period) -> str:
        """The label of ``period`` (see `Period.label`); `parse` is its inverse."""
        return _labels.format_label(period)

    def parse(self, text: str) -> Period:
        """Read a label back into its period; the exact inverse of `Period.label`.

        Only the canonical spelling is accepted (``FY2026-Q3``, not ``fy2026q3``), so
        ``cal.parse(s).label == s`` for every ``s`` it accepts.

        Raises:
            ParseError: ``text`` is not a label of a period of this calendar (code
                ``periods.bad_label``, ``periods.no_such_period`` or
                ``periods.out_of_range``).

        >>> RetailCalendar(year_end_month=1, year_end_weekday="saturday",
        ...                year_end="nearest").parse("FY2024-W53").end
        datetime.date(2024, 2, 3)
        """
        return _labels.parse_label(_as_calendar(self), text)

    # -- vectorized -----------------------------------------------------------------

    def boundaries(self, fiscal_year: int, grain: Grain) -> NDArray[np.datetime64]:
        """The first day of each period of ``grain`` in the year, then the day after it.

        A read-only ``datetime64[D]`` array of ``len(periods(fiscal_year, grain)) + 1``
        days: period ``i`` (0-based) is ``[b[i], b[i + 1])``.
        """
        return _layout(self, check_fiscal_year(fiscal_year)).arrays[_check_grain(grain)]

    def period_index(self, dates: ArrayLike, grain: Grain, fiscal_year: int) -> NDArray[np.intp]:
        """Each date's 0-based position among ``periods(fiscal_year, grain)``.

        Dates outside the fiscal year, and NaT, get -1 (so a year of actuals with a few
        stray rows rolls up without an exception; check ``(result < 0).any()``). Note
        the position is `Period.index` minus one. Runs as one lookup into a table of
        the year's days (built from the same boundaries as `periods`): 10 million
        dates take well under a tenth of a second.

        Args:
            dates: An array of ``datetime64`` values (any unit; times are floored to
                the day).
            grain: The grain to index by.
            fiscal_year: The fiscal year whose periods are counted.

        Raises:
            InvalidValueError: ``dates`` is not a datetime64 array.

        >>> import numpy as np
        >>> days = np.array(["2026-01-31", "2026-02-01", "2027-01-01"], dtype="datetime64[D]")
        >>> MonthlyCalendar().period_index(days, Grain.MONTH, 2026).tolist()
        [0, 1, -1]
        """
        layout = _layout(self, check_fiscal_year(fiscal_year))
        lookup = layout.lookup[_check_grain(grain)]
        values = np.asarray(dates)
        if values.dtype.kind != "M":
            msg = f"dates must be a datetime64 array, not {values.dtype}"
            raise InvalidValueError(msg, code="periods.not_datetime64")
        # Days before the year clip to the -1 pad at lookup[0], days after (and NaT,
        # the smallest int64) to a -1 pad as well; the rest index their period.
        offsets = values.astype("datetime64[D]", copy=False).view(np.int64) - (layout.first_day - 1)
        np.clip(offsets, 0, layout.day_count + 1, out=offsets)
        return lookup[offsets]

    # -- helpers for subclasses -------------------------------------------------------

    def _fiscal_year_ending_in(self, end_year: int) -> int:
        if self.label_year == "end" or self._end_month() == _DECEMBER:
            return end_year
        return end_year - 1

    def _end_year_of(self, fiscal_year: int) -> int:
        if self.label_year == "end" or self._end_month() == _DECEMBER:
            return fiscal_year
        return fiscal_year + 1

    def _build_layout(self, fiscal_year: int) -> YearLayout:
        end_year = self._end_year_of(fiscal_year)
        first = self._year_end_day(end_year - 1) + 1
        stop = self._year_end_day(end_year) + 1
        months = self._month_bounds(first, stop)
        return YearLayout.build(fiscal_year, months, self._week_bounds(months))


@final
class MonthlyCalendar(_FiscalCalendarBase):
    """A fiscal year of twelve calendar months, starting in any month.

    Attributes:
        kind: Always ``"monthly"`` (the tag in a definition).
        start_month: The calendar month the fiscal year starts in, 1..12 (default 1:
            the fiscal year is the calendar year).
        label_year: Which year names the fiscal year (`LabelYear`, default ``"end"``:
            with ``start_month=4``, April 2025 - March 2026 is FY2026).
        week_start: The weekday weeks start on (default Monday). Calendar weeks do not
            nest in months, so a WEEK here is a week *of the month*: weeks start on
            ``week_start`` and are clipped at the month's first and last day, so a
            month's first and last weeks may be short. They are labelled by month:
            ``FY2026-M07-W1``.

    >>> cal = MonthlyCalendar(start_month=4)
    >>> [q.label for q in cal.periods(2026, Grain.QUARTER)]
    ['FY2026-Q1', 'FY2026-Q2', 'FY2026-Q3', 'FY2026-Q4']
    >>> [(w.label, w.start.day, w.end.day) for w in cal.parse("FY2026-M01").children()]
    ... # doctest: +NORMALIZE_WHITESPACE
    [('FY2026-M01-W1', 1, 6), ('FY2026-M01-W2', 7, 13), ('FY2026-M01-W3', 14, 20),
     ('FY2026-M01-W4', 21, 27), ('FY2026-M01-W5', 28, 30)]
    """

    kind: Literal["monthly"] = "monthly"
    start_month: Annotated[StrictInt, Field(ge=1, le=12)] = 1
    label_year: LabelYear = "end"
    week_start: WeekdayField = Weekday.MONDAY

    def _end_month(self) -> int:
        return (self.start_month - 2) % 12 + 1

    def _year_end_day(self, end_year: int) -> int:
        month = self._end_month()
        last = _gregorian.monthrange(end_year, month)[1]
        return to_days(dt.date(end_year, month, last))

    def _month_bounds(self, first: int, stop: int) -> tuple[int, ...]:
        start = from_days(first)
        bounds = []
        for offset in range(12):
            year, month = divmod(start.month - 1 + offset, 12)
            bounds.append(to_days(dt.date(start.year + year, month + 1, 1)))
        return (*bounds, stop)

    def _week_bounds(self, months: tuple[int, ...]) -> tuple[int, ...]:
        first, stop = months[0], months[-1]
        # Day number 0 (1970-01-01) was a Thursday.
        first_start = first + (int(self.week_start) - (first + 3)) % _DAYS_PER_WEEK
        week_starts = range(first_start, stop, _DAYS_PER_WEEK)
        return tuple(sorted({*months, *week_starts}))


RetailPattern = Literal["4-4-5", "4-5-4", "5-4-4"]
"""Weeks in the three months of each quarter of a retail calendar."""

YearEnd = Literal["last", "nearest"]
"""How a retail year's last day is found: the last given weekday of the year-end month,
or the given weekday nearest that month's last day (which may fall early in the next
month)."""


@final
class RetailCalendar(_FiscalCalendarBase):
    """A 52/53-week fiscal year of whole weeks (4-4-5 and the like; NRF style).

    The year ends on a fixed weekday near the end of a fixed month, so it has 52 weeks,
    or 53 every five or six years. Months are 4 or 5 weeks by the `pattern`; in a
    53-week year the extra week goes to the last month of `leap_week_quarter`.

    Attributes:
        kind: Always ``"retail"``.
        pattern: Weeks per month in each quarter (`RetailPattern`), default ``"4-4-5"``.
        year_end_month: The calendar month the year ends in (or near), 1..12. Required.
        year_end_weekday: The weekday the year ends on, 0..6 or a name. Required.
        year_end: ``"last"`` (default): the last such weekday of the month;
            ``"nearest"``: the one nearest the month's last day.
        leap_week_quarter: The quarter whose last month takes the 53rd week (1..4,
            default 4).
        label_year: Which year names the fiscal year (`LabelYear`, default ``"end"``).
            The National Retail Federation names a year by the year it starts in: use
            ``label_year="start"`` to match it.

    >>> nrf = RetailCalendar(pattern="4-5-4", year_end_month=1, year_end_weekday="saturday",
    ...                      year_end="nearest", label_year="start")
    >>> y = nrf.year(2023)
    >>> y.start, y.end, len(nrf.periods(2023, Grain.WEEK))
    (datetime.date(2023, 1, 29), datetime.date(2024, 2, 3), 53)
    """

    kind: Literal["retail"] = "retail"
    pattern: RetailPattern = "4-4-5"
    year_end_month: Annotated[StrictInt, Field(ge=1, le=12)]
    year_end_weekday: WeekdayField
    year_end: YearEnd = "last"
    leap_week_quarter: Annotated[StrictInt, Field(ge=1, le=4)] = 4
    label_year: LabelYear = "end"

    def _end_month(self) -> int:
        return self.year_end_month

    def _year_end_day(self, end_year: int) -> int:
        month = self.year_end_month
        last = dt.date(end_year, month, _gregorian.monthrange(end_year, month)[1])
        ahead = (int(self.year_end_weekday) - last.weekday()) % _DAYS_PER_WEEK
        if self.year_end == "nearest" and ahead <= _NEAREST_REACH:
            return to_days(last) + ahead
        return to_days(last) - (_DAYS_PER_WEEK - ahead) % _DAYS_PER_WEEK

    def _month_bounds(self, first: int, stop: int) -> tuple[int, ...]:
        weeks = list(_RETAIL_PATTERNS[self.pattern] * 4)
        if (stop - first) // _DAYS_PER_WEEK == sum(weeks) + 1:
            weeks[3 * self.leap_week_quarter - 1] += 1
        bounds = [first]
        for count in weeks:
            bounds.append(bounds[-1] + count * _DAYS_PER_WEEK)
        return tuple(bounds)

    def _week_bounds(self, months: tuple[int, ...]) -> tuple[int, ...]:
        return tuple(range(months[0], months[-1] + 1, _DAYS_PER_WEEK))


FiscalCalendar = Annotated[MonthlyCalendar | RetailCalendar, Field(discriminator="kind")]
"""Any fiscal calendar; in a definition the ``kind`` field says which."""

_ADAPTER: Final[TypeAdapter[MonthlyCalendar | RetailCalendar]] = TypeAdapter(FiscalCalendar)


def load_calendar(data: Mapping[str, object] | MonthlyCalendar | RetailCalendar) -> FiscalCalendar:
    """Load a fiscal calendar definition (a mapping read from YAML or JSON).

    Raises:
        DefinitionError: The definition is invalid; its `problems` name every field
            at fault, e.g. ``calendar.start_month``.

    >>> load_calendar({"kind": "monthly", "start_month": 4})
    MonthlyCalendar(kind='monthly', start_month=4, label_year='end', week_start=<Weekday.MONDAY: 0>)
    """
    if isinstance(data, MonthlyCalendar | RetailCalendar):
        return data
    try:
        return _ADAPTER.validate_python(data)
    except ValidationError as err:
        raise DefinitionError.from_problems(
            validation_problems(err, path="calendar", code="calendar")
        ) from None


def calendar_json_schema() -> dict[str, object]:
    """The JSON Schema of a fiscal calendar definition (both kinds, tagged by ``kind``)."""
    return _ADAPTER.json_schema()


@functools.lru_cache(maxsize=256)
def _layout(calendar: _FiscalCalendarBase, fiscal_year: int) -> YearLayout:
    return calendar._build_layout(fiscal_year)  # noqa: SLF001 - the cache is the calendar's own


@functools.lru_cache(maxsize=256)
def _periods(calendar: _FiscalCalendarBase, fiscal_year: int, grain: Grain) -> tuple[Period, ...]:
    bounds = _layout(calendar, fiscal_year).bounds[grain]
    owner = _as_calendar(calendar)
    return tuple(
        Period(owner, grain, fiscal_year, i + 1, from_days(bounds[i]), from_days(bounds[i + 1] - 1))
        for i in range(len(bounds) - 1)
    )


def _as_calendar(calendar: _FiscalCalendarBase) -> FiscalCalendar:
    # Every concrete calendar is one of the union's members (the base is private).
    return cast("FiscalCalendar", calendar)


def _check_grain(grain: object) -> Grain:
    if isinstance(grain, Grain):
        return grain
    try:
        return Grain(grain)
    except ValueError:
        msg = f"not a grain: {grain!r} (one of {', '.join(g.value for g in Grain)})"
        raise InvalidValueError(msg, code="periods.not_a_grain") from None


def _date_out_of_range(day: dt.date) -> CalendarError:
    msg = (
        f"date {day.isoformat()} is outside the supported range "
        f"(fiscal years {FIRST_FISCAL_YEAR}..{LAST_FISCAL_YEAR})"
    )
    return CalendarError(msg, code="periods.out_of_range")
