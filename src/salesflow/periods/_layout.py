"""The boundaries of every grain in one fiscal year, shared by scalar and vector paths."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import TYPE_CHECKING, final

import numpy as np

from salesflow.periods._units import Grain

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from numpy.typing import NDArray

__all__ = ["YearLayout"]

_MONTHS_PER_QUARTER = 3
_MONTHS_PER_HALF = 6


@final
@dataclass(frozen=True, slots=True)
class YearLayout:
    """Where each period of each grain starts, in one fiscal year.

    Attributes:
        fiscal_year: The year laid out.
        bounds: For each grain, the first day of every period followed by the day after
            the year's last day, as day numbers (days since 1970-01-01). Period ``i``
            (0-based) of a grain is ``[bounds[i], bounds[i + 1])``.
        arrays: The same bounds as read-only ``datetime64[D]`` arrays.
        lookup: For each grain, the 0-based position of the period holding each day of
            the year, padded with -1 on both sides: the entry for the day ``d`` days
            after the year's first is at ``d + 1``. It is derived from `bounds`.
    """

    fiscal_year: int
    bounds: Mapping[Grain, tuple[int, ...]]
    arrays: Mapping[Grain, NDArray[np.datetime64]]
    lookup: Mapping[Grain, NDArray[np.intp]]

    @property
    def first_day(self) -> int:
        """Day number of the year's first day."""
        return self.bounds[Grain.YEAR][0]

    @property
    def day_count(self) -> int:
        """The number of days in the year."""
        return self.bounds[Grain.YEAR][1] - self.bounds[Grain.YEAR][0]

    @classmethod
    def build(
        cls,
        fiscal_year: int,
        month_bounds: Sequence[int],
        week_bounds: Sequence[int],
    ) -> YearLayout:
        """Derive every grain from the months (13 bounds) and the weeks of a year.

        Halves and quarters are runs of months, so they nest by construction; weeks are
        given by the calendar, which guarantees they nest in months.
        """
        months = tuple(month_bounds)
        first, stop = months[0], months[-1]
        bounds: dict[Grain, tuple[int, ...]] = {
            Grain.YEAR: (first, stop),
            Grain.HALF: months[::_MONTHS_PER_HALF],
            Grain.QUARTER: months[::_MONTHS_PER_QUARTER],
            Grain.MONTH: months,
            Grain.WEEK: tuple(week_bounds),
            Grain.DAY: tuple(range(first, stop + 1)),
        }
        arrays = {grain: _frozen_dates(b) for grain, b in bounds.items()}
        lookup = {grain: _day_lookup(b) for grain, b in bounds.items()}
        return cls(fiscal_year, bounds, arrays, lookup)


def _frozen_dates(bounds: tuple[int, ...]) -> NDArray[np.datetime64]:
    array = np.array(bounds, dtype=np.int64).view("datetime64[D]")
    array.flags.writeable = False
    return array


def _day_lookup(bounds: tuple[int, ...]) -> NDArray[np.intp]:
    lengths = [after - before for before, after in itertools.pairwise(bounds)]
    positions = np.repeat(np.arange(len(lengths), dtype=np.intp), lengths)
    array = np.concatenate(([-1], positions, [-1])).astype(np.intp)
    array.flags.writeable = False
    return array
