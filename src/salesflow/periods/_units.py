"""The small vocabularies calendars are written in: grains, weekdays, day numbers.

Days are handled internally as integers counted from 1970-01-01 (the same numbers a
``datetime64[D]`` array holds), so the scalar paths (``bisect`` on tuples) and the
vectorized ones (``np.searchsorted`` on arrays) share one set of boundaries.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Annotated, Final

from pydantic import BeforeValidator, WithJsonSchema

from salesflow._values import check_date as _check_date
from salesflow.errors import CalendarError, InvalidValueError

__all__ = [
    "FIRST_FISCAL_YEAR",
    "LAST_FISCAL_YEAR",
    "Grain",
    "Weekday",
    "WeekdayField",
    "check_date",
    "check_fiscal_year",
    "from_days",
    "to_days",
]

FIRST_FISCAL_YEAR: Final = 1900
LAST_FISCAL_YEAR: Final = 2200

_EPOCH_ORDINAL: Final = dt.date(1970, 1, 1).toordinal()


@enum.unique
class Grain(enum.Enum):
    """How coarse a period is, from the fiscal year down to the day.

    Each grain tiles the one above it exactly (no gap, no overlap), in every calendar,
    so a number allocated to a period can always be split over its children.

    >>> Grain.QUARTER.finer, Grain.QUARTER.coarser
    (<Grain.MONTH: 'month'>, <Grain.HALF: 'half'>)
    """

    YEAR = "year"  # the fiscal year
    HALF = "half"  # two per year, of two quarters each
    QUARTER = "quarter"  # four per year, of three months each
    MONTH = "month"  # twelve per year: calendar months, or 4/5-week retail months
    WEEK = "week"  # 7 days in a retail calendar; in a monthly one, clipped to the month
    DAY = "day"  # one date

    @property
    def finer(self) -> Grain | None:
        """The next grain down (``None`` for `DAY`)."""
        order = _ORDER.index(self)
        return _ORDER[order + 1] if order + 1 < len(_ORDER) else None

    @property
    def coarser(self) -> Grain | None:
        """The next grain up (``None`` for `YEAR`)."""
        order = _ORDER.index(self)
        return _ORDER[order - 1] if order > 0 else None

    def is_finer_than(self, other: Grain) -> bool:
        """Whether periods of this grain nest inside periods of ``other``.

        >>> Grain.WEEK.is_finer_than(Grain.MONTH), Grain.YEAR.is_finer_than(Grain.YEAR)
        (True, False)
        """
        return _ORDER.index(self) > _ORDER.index(other)


_ORDER: Final = tuple(Grain)


@enum.unique
class Weekday(enum.IntEnum):
    """A day of the week, numbered as `datetime.date.weekday` numbers it.

    Definitions may name it (``"saturday"``, ``"Sat"``) or give the number (``5``).
    """

    MONDAY = 0
    TUESDAY = 1
    WEDNESDAY = 2
    THURSDAY = 3
    FRIDAY = 4
    SATURDAY = 5
    SUNDAY = 6


def _coerce_weekday(value: object) -> object:
    if isinstance(value, Weekday):
        return value
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 6:  # noqa: PLR2004 - Sunday
        return Weekday(value)
    if isinstance(value, str):
        key = value.strip().lower()
        for day in Weekday:
            if key in {day.name.lower(), day.name.lower()[:3]}:
                return day
    msg = f"not a weekday: {value!r} (use 0=Monday..6=Sunday or a name such as 'saturday')"
    raise ValueError(msg)


_WEEKDAY_NAMES: Final = [d.name.lower() for d in Weekday] + [d.name.lower()[:3] for d in Weekday]

WeekdayField = Annotated[
    Weekday,
    BeforeValidator(_coerce_weekday),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "integer", "minimum": 0, "maximum": 6},
                {"type": "string", "enum": _WEEKDAY_NAMES},
            ],
            "description": "0=Monday .. 6=Sunday, or the day's name",
        }
    ),
]
"""A `Weekday` in a definition: a number 0..6 or a name; serialized as the number."""


def to_days(day: dt.date) -> int:
    """Days since 1970-01-01 (the integer a ``datetime64[D]`` holds)."""
    return day.toordinal() - _EPOCH_ORDINAL


def from_days(days: int) -> dt.date:
    """The date ``days`` after 1970-01-01."""
    return dt.date.fromordinal(days + _EPOCH_ORDINAL)


def check_date(value: object, what: str = "day") -> dt.date:
    """Return ``value`` if it is a plain `datetime.date`, else raise `InvalidValueError`."""
    return _check_date(value, what, code="periods.not_a_date")


def check_fiscal_year(fiscal_year: object) -> int:
    """Return ``fiscal_year`` if it is an int in the supported range, else raise."""
    if isinstance(fiscal_year, bool) or not isinstance(fiscal_year, int):
        msg = f"fiscal year must be an int, not {type(fiscal_year).__name__} {fiscal_year!r}"
        raise InvalidValueError(msg, code="periods.not_a_year")
    if not FIRST_FISCAL_YEAR <= fiscal_year <= LAST_FISCAL_YEAR:
        msg = (
            f"fiscal year {fiscal_year} is outside the supported range "
            f"{FIRST_FISCAL_YEAR}..{LAST_FISCAL_YEAR}"
        )
        raise CalendarError(msg, code="periods.out_of_range")
    return fiscal_year
