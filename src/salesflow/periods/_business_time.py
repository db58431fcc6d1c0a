"""Working time within one local calendar year, as exact integer microseconds.

A year's table holds, for each working day, the UTC instants (microseconds since the
epoch) where its working intervals start and end, and the running total of working
time before each day. Elapsed working time is then a table lookup plus at most a few
intervals of one day; a deadline is a binary search. Wall-clock times are resolved to
instants with the zone's rules (PEP 495 ``fold=0``), so a day on which clocks change
counts the hours that actually elapse.
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from itertools import accumulate
from typing import TYPE_CHECKING, Final, final

from salesflow.periods._units import from_days, to_days

if TYPE_CHECKING:
    from collections.abc import Sequence
    from zoneinfo import ZoneInfo

__all__ = ["EPOCH", "MICROSECOND", "YearTimes", "micros"]

EPOCH: Final = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
MICROSECOND: Final = dt.timedelta(microseconds=1)
_ONE_DAY: Final = dt.timedelta(days=1)


def micros(instant: dt.datetime) -> int:
    """Microseconds from the epoch to an aware ``instant`` (exact, no float)."""
    return (instant - EPOCH) // MICROSECOND


@final
@dataclass(frozen=True, slots=True)
class YearTimes:
    """The working time of one local calendar year.

    Attributes:
        year: The calendar year (in the business calendar's zone).
        first_day: Day number (days since 1970-01-01) of its January 1.
        edges: Per day of the year, the instants ``(start, end, start, end, ...)`` of
            its working intervals in microseconds since the epoch; empty on a day off.
        cumulative: ``cumulative[i]`` is the working time (µs) in the year before day
            ``i``; the last entry is the year's total.
    """

    year: int
    first_day: int
    edges: tuple[tuple[int, ...], ...]
    cumulative: tuple[int, ...]

    @classmethod
    def build(
        cls,
        year: int,
        working: Sequence[bool],
        hours: Sequence[tuple[dt.time, dt.time]],
        zone: ZoneInfo,
    ) -> YearTimes:
        """Lay out ``year`` given which of its days are working days.

        Args:
            year: The calendar year.
            working: One flag per day of the year, January 1 first.
            hours: The working intervals of a day, sorted, wall-clock; an end of
                ``00:00`` means midnight at the end of the day.
            zone: The zone the wall-clock times are in.
        """
        first_day = to_days(dt.date(year, 1, 1))
        edges = tuple(
            _day_edges(from_days(first_day + i), hours, zone) if flag else ()
            for i, flag in enumerate(working)
        )
        lengths = (sum(e[k + 1] - e[k] for k in range(0, len(e), 2)) for e in edges)
        return cls(year, first_day, edges, (0, *accumulate(lengths)))

    @property
    def total(self) -> int:
        """The year's working time in microseconds."""
        return self.cumulative[-1]

    def elapsed(self, day_index: int, instant: int) -> int:
        """Working time from the start of the year to ``instant`` on day ``day_index``."""
        edges = self.edges[day_index]
        within = sum(
            min(max(instant - edges[k], 0), edges[k + 1] - edges[k])
            for k in range(0, len(edges), 2)
        )
        return self.cumulative[day_index] + within

    def earliest(self, target: int) -> int:
        """The first instant at which ``target`` µs (0 < target <= total) have elapsed."""
        day = bisect_left(self.cumulative, target) - 1
        remaining = target - self.cumulative[day]
        edges = self.edges[day]
        for k in range(0, len(edges), 2):
            length = edges[k + 1] - edges[k]
            if remaining <= length:
                return edges[k] + remaining
            remaining -= length
        raise AssertionError  # pragma: no cover - the table sums the same lengths

    def latest(self, target: int) -> int:
        """The last instant at which ``target`` µs (0 <= target < total) have elapsed."""
        day = bisect_right(self.cumulative, target) - 1
        remaining = target - self.cumulative[day]
        edges = self.edges[day]
        for k in range(0, len(edges), 2):
            length = edges[k + 1] - edges[k]
            if remaining < length:
                return edges[k] + remaining
            remaining -= length
        raise AssertionError  # pragma: no cover - the table sums the same lengths


def _day_edges(
    day: dt.date, hours: Sequence[tuple[dt.time, dt.time]], zone: ZoneInfo
) -> tuple[int, ...]:
    edges: list[int] = []
    for start, end in hours:
        end_day = day + _ONE_DAY if end == dt.time(0) else day
        edges.append(micros(dt.datetime.combine(day, start, tzinfo=zone)))
        edges.append(micros(dt.datetime.combine(end_day, end, tzinfo=zone)))
    # A wall time inside a spring-forward gap resolves past the gap, which can put it
    # after the next edge; clamping keeps the instants in order and lengths >= 0.
    return tuple(accumulate(edges, max))
