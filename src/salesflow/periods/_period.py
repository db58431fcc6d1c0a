"""`Period`: one stretch of days of a fiscal calendar, at one grain."""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING, final

from salesflow.errors import CalendarError, InvalidValueError
from salesflow.periods._units import Grain, check_date

if TYPE_CHECKING:
    from salesflow.periods._fiscal import FiscalCalendar

__all__ = ["Period"]

_ONE_DAY = dt.timedelta(days=1)


@final
@functools.total_ordering
@dataclass(frozen=True, slots=True, repr=False)
class Period:
    """A stretch of days of a fiscal calendar: a year, half, quarter, month, week or day.

    Build periods through a calendar (`year`, `period_of`, `periods`, `parse`,
    `custom`), not by hand.

    Attributes:
        calendar: The calendar it belongs to.
        grain: Its `Grain`; ``None`` for a custom range (a campaign).
        fiscal_year: The fiscal year it belongs to (for a custom range: the fiscal year
            of its first day).
        index: Its 1-based number among the periods of its grain in its fiscal year
            (Q3 has index 3, FY2026-W05 index 5; a monthly calendar's weeks and every
            calendar's days are numbered through the year too). 0 for a custom range.
        start: Its first day.
        end: Its last day, INCLUSIVE: a month of March ends on March 31.

    Periods of one calendar are ordered by start, then the longer first (then the
    coarser grain first), so a sorted mix of grains reads like the tree, top-down:
    FY2026, FY2026-H1, FY2026-Q1, FY2026-M01, ...

    >>> from salesflow.periods import MonthlyCalendar
    >>> q3 = MonthlyCalendar(start_month=4).parse("FY2026-Q3")
    >>> q3.start, q3.end, q3.days
    (datetime.date(2025, 10, 1), datetime.date(2025, 12, 31), 92)
    >>> [m.label for m in q3.children()]
    ['FY2026-M07', 'FY2026-M08', 'FY2026-M09']
    >>> q3.parent().label, q3.next().label
    ('FY2026-H2', 'FY2026-Q4')
    """

    calendar: FiscalCalendar
    grain: Grain | None
    fiscal_year: int
    index: int
    start: dt.date
    end: dt.date

    @property
    def days(self) -> int:
        """The number of days in the period, both ends included."""
        return (self.end - self.start).days + 1

    @property
    def label(self) -> str:
        """The period's name, which `calendar.parse` reads back to this period.

        ``FY2026``, ``FY2026-H1``, ``FY2026-Q3``, ``FY2026-M07``; weeks are
        ``FY2026-W05`` in a retail calendar and ``FY2026-M07-W2`` (the second week of
        fiscal month 7) in a monthly one; a day is its ISO date ``2025-10-15``; a
        custom range is ``2026-03-01/2026-03-31``.
        """
        return self.calendar.label(self)

    @property
    def is_custom(self) -> bool:
        """Whether this is a custom range rather than a period of a grain."""
        return self.grain is None

    def contains(self, other: dt.date | Period) -> bool:
        """Whether a date, or every day of another period, lies within this one.

        >>> from salesflow.periods import MonthlyCalendar
        >>> cal = MonthlyCalendar()
        >>> cal.parse("FY2026-Q1").contains(dt.date(2026, 3, 31))
        True
        >>> cal.parse("FY2026-Q1").contains(cal.parse("FY2026-M04"))
        False
        """
        if isinstance(other, Period):
            return self.start <= other.start and other.end <= self.end
        day = check_date(other)
        return self.start <= day <= self.end

    def children(self, grain: Grain | None = None) -> tuple[Period, ...]:
        """The periods of a finer grain that tile this one, in order.

        Args:
            grain: The grain of the children; by default the next grain down. For a
                custom range only `Grain.DAY` (the default) tiles it exactly.

        Raises:
            InvalidValueError: ``grain`` is not finer than this period's grain.
            CalendarError: A day has no children.
        """
        target = self._child_grain(grain)
        return self.calendar.periods_between(self.start, self.end, target)

    def parent(self, grain: Grain | None = None) -> Period:
        """The period of a coarser grain that contains this one.

        Args:
            grain: The grain of the parent; by default the next grain up.

        Raises:
            InvalidValueError: ``grain`` is not coarser than this period's grain.
            CalendarError: A year, or a custom range, has no parent.
        """
        if self.grain is None:
            msg = f"custom range {self.label} has no parent period"
            raise CalendarError(msg, code="periods.no_parent")
        target = self.grain.coarser if grain is None else grain
        if target is None:
            msg = f"{self.label} is a fiscal year; it has no parent period"
            raise CalendarError(msg, code="periods.no_parent")
        if not self.grain.is_finer_than(target):
            msg = f"{target.value} is not coarser than {self.grain.value}"
            raise InvalidValueError(msg, code="periods.grain_not_coarser")
        return self.calendar.period_of(self.start, target)

    def next(self) -> Period:
        """The period of the same grain that follows (into the next year if need be).

        A custom range's next is the range of the same length that follows it.

        Raises:
            CalendarError: Beyond the last supported fiscal year.
        """
        if self.grain is None:
            return self.calendar.custom(self.end + _ONE_DAY, self.end + self.days * _ONE_DAY)
        return self.calendar.period_of(self.end + _ONE_DAY, self.grain)

    def previous(self) -> Period:
        """The period of the same grain that precedes this one.

        A custom range's previous is the range of the same length before it.

        Raises:
            CalendarError: Before the first supported fiscal year.
        """
        if self.grain is None:
            return self.calendar.custom(self.start - self.days * _ONE_DAY, self.start - _ONE_DAY)
        return self.calendar.period_of(self.start - _ONE_DAY, self.grain)

    def __lt__(self, other: object) -> bool:
        """Order by start, then longer first, then coarser first; calendars must match."""
        if not isinstance(other, Period):
            return NotImplemented
        if other.calendar != self.calendar:
            msg = "periods of different calendars cannot be ordered"
            raise InvalidValueError(msg, code="periods.calendar_mismatch")
        return self._sort_key() < other._sort_key()

    def __str__(self) -> str:
        """The label."""
        return self.label

    def __repr__(self) -> str:
        """``<Period FY2026-Q3 2025-10-01..2025-12-31>``."""
        return f"<Period {self.label} {self.start}..{self.end}>"

    def _sort_key(self) -> tuple[dt.date, int, int]:
        rank = -1 if self.grain is None else tuple(Grain).index(self.grain)
        return (self.start, -self.end.toordinal(), rank)

    def _child_grain(self, grain: Grain | None) -> Grain:
        if self.grain is None:
            if grain not in {None, Grain.DAY}:
                msg = f"custom range {self.label} is tiled only by days, not {grain}"
                raise InvalidValueError(msg, code="periods.grain_not_finer")
            return Grain.DAY
        target = self.grain.finer if grain is None else grain
        if target is None:
            msg = f"{self.label} is a day; it has no children"
            raise CalendarError(msg, code="periods.no_children")
        if not target.is_finer_than(self.grain):
            msg = f"{target.value} is not finer than {self.grain.value}"
            raise InvalidValueError(msg, code="periods.grain_not_finer")
        return target
