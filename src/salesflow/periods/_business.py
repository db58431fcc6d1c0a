"""Business-day calendars: weekends, holidays, make-up working days, working hours.

One table answers every day question: a flag per day of the covered years and the
running count of working days, so ``is_business_day``, ``add_business_days`` and the
vectorized ``business_days_between_array`` read the same numbers (``np.busday_count``
cannot express a working Saturday, which China's make-up days need). Working time is
laid out a year at a time in exact microseconds (`YearTimes`).
"""

from __future__ import annotations

import datetime as dt
import itertools
import zoneinfo
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Final, Literal, Self, final

import numpy as np
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictInt,
    ValidationError,
    field_validator,
    model_validator,
)

from salesflow._definitions import validation_problems
from salesflow.errors import (
    CalendarError,
    DefinitionError,
    InvalidValueError,
    Location,
    Problem,
    Severity,
)
from salesflow.periods._business_time import EPOCH, MICROSECOND, YearTimes, micros
from salesflow.periods._units import (
    FIRST_FISCAL_YEAR,
    LAST_FISCAL_YEAR,
    Weekday,
    WeekdayField,
    check_date,
    from_days,
    to_days,
)

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from numpy.typing import ArrayLike, NDArray

__all__ = [
    "DEFAULT_HOURS",
    "BusinessCalendar",
    "UnpublishedYears",
    "WorkingHours",
    "load_business_calendar",
]

_MIDNIGHT: Final = dt.time(0)
# Not a method's name: an instance-dict entry would shadow it.
_MEMO_KEY: Final = "_derived_tables"

UnpublishedYears = Literal["raise", "estimate"]
"""What `BusinessCalendar.for_country` does with a year whose official schedule is not in
the ``holidays`` data: refuse it (``"raise"``, the default) or build it from the
holiday rules and mark it estimated (``"estimate"``)."""

# Countries whose working weekends are decreed year by year, so a year the data has
# no make-up days for is not yet published (China: a State Council notice each autumn).
_DECREED_COUNTRIES: Final = frozenset({"CN"})
_COUNTRY_ZONES: Final = {"CN": "Asia/Shanghai"}


@final
class WorkingHours(BaseModel):
    """One working interval of a day, in wall-clock time of the calendar's zone.

    Attributes:
        start: When work starts.
        end: When it stops (exclusive); ``00:00`` (or ``"24:00"`` on input) means
            midnight at the end of the day.

    Accepts the short form ``"09:00-12:00"`` wherever a definition lists hours.

    >>> WorkingHours.model_validate("13:00-18:00")
    WorkingHours(start=datetime.time(13, 0), end=datetime.time(18, 0))
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    start: dt.time
    end: dt.time

    @model_validator(mode="before")
    @classmethod
    def _from_text(cls, data: object) -> object:
        if isinstance(data, str):
            start, sep, end = data.partition("-")
            if not sep:
                msg = f"working hours must look like '09:00-12:00', not {data!r}"
                raise ValueError(msg)
            return {"start": start.strip(), "end": end.strip()}
        return data

    @field_validator("end", mode="before")
    @classmethod
    def _midnight(cls, value: object) -> object:
        return "00:00" if value in {"24:00", "24:00:00"} else value

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.start.tzinfo is not None or self.end.tzinfo is not None:
            msg = "working hours are wall-clock times; give the zone on the calendar"
            raise ValueError(msg)
        if self.end != _MIDNIGHT and self.end <= self.start:
            msg = f"end {self.end} is not after start {self.start}"
            raise ValueError(msg)
        return self

    @property
    def length(self) -> dt.timedelta:
        """The wall-clock length of the interval."""
        end = dt.timedelta(days=1) if self.end == _MIDNIGHT else _since_midnight(self.end)
        return end - _since_midnight(self.start)


DEFAULT_HOURS: Final = (
    WorkingHours(start=dt.time(9), end=dt.time(12)),
    WorkingHours(start=dt.time(13), end=dt.time(18)),
)
"""09:00-12:00 and 13:00-18:00: the 8-hour office day with a lunch hour."""


@final
class BusinessCalendar(BaseModel):
    """Which days are working days, and which hours of them, in one time zone.

    A day is a working day when it is listed in `extra_workdays`, or when it is
    neither a `weekend` day nor in `holidays`. Every question about a date outside
    `years` raises `CalendarError`: the calendar does not guess holidays it was not
    given.

    Attributes:
        name: A display name, e.g. ``"CN"``.
        timezone: The IANA zone working hours are in (default ``"Asia/Shanghai"``).
        weekend: The weekly days off (default Saturday and Sunday).
        holidays: Dates off (public holidays, company days off).
        extra_workdays: Dates worked although they fall on a weekend: China's make-up
            working days (调休上班).
        hours: The working intervals of every working day (default `DEFAULT_HOURS`).
        years: The first and last calendar year the holidays are known for, both
            inclusive; ``None`` (the default) means the holidays given are complete for
            the whole supported range, 1900..2200.
        estimated_years: Years whose holidays were estimated from rules, not taken from
            a published schedule (see `problems`).

    >>> cal = BusinessCalendar(holidays=["2025-10-01"], extra_workdays=["2025-09-28"],
    ...                        years=(2025, 2025))
    >>> cal.is_business_day(dt.date(2025, 9, 28)), cal.is_business_day(dt.date(2025, 10, 1))
    (True, False)
    >>> cal.add_business_days(dt.date(2025, 9, 30), 1)
    datetime.date(2025, 10, 2)
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = ""
    timezone: str = "Asia/Shanghai"
    weekend: tuple[WeekdayField, ...] = (Weekday.SATURDAY, Weekday.SUNDAY)
    holidays: tuple[dt.date, ...] = ()
    extra_workdays: tuple[dt.date, ...] = ()
    hours: Annotated[tuple[WorkingHours, ...], Field(min_length=1)] = DEFAULT_HOURS
    years: tuple[StrictInt, StrictInt] | None = None
    estimated_years: tuple[StrictInt, ...] = ()

    @field_validator("weekend", "holidays", "extra_workdays", "estimated_years")
    @classmethod
    def _sorted_unique(cls, value: tuple[object, ...]) -> tuple[object, ...]:
        return tuple(sorted(set(value)))  # type: ignore[type-var]

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            zoneinfo.ZoneInfo(value)
        except (ValueError, KeyError, OSError):
            msg = f"not an IANA time zone: {value!r} (e.g. 'Asia/Shanghai')"
            raise ValueError(msg) from None
        return value

    @field_validator("hours")
    @classmethod
    def _disjoint(cls, value: tuple[WorkingHours, ...]) -> tuple[WorkingHours, ...]:
        ordered = tuple(sorted(value, key=lambda h: h.start))
        for before, after in itertools.pairwise(ordered):
            if before.end == _MIDNIGHT or before.end > after.start:
                msg = f"working hours {before.start}-{before.end} overlap {after.start}"
                raise ValueError(msg)
        return ordered

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        clash = sorted(set(self.holidays) & set(self.extra_workdays))
        if clash:
            msg = f"dates both holidays and extra working days: {[str(d) for d in clash]}"
            raise ValueError(msg)
        first, last = self.covered_years
        if not FIRST_FISCAL_YEAR <= first <= last <= LAST_FISCAL_YEAR:
            msg = f"years must be ordered and within {FIRST_FISCAL_YEAR}..{LAST_FISCAL_YEAR}"
            raise ValueError(msg)
        stray = [y for y in self.estimated_years if not first <= y <= last]
        if stray:
            msg = f"estimated years {stray} are outside years {first}..{last}"
            raise ValueError(msg)
        return self

    # -- construction -------------------------------------------------------------------

    @classmethod
    def for_country(  # noqa: PLR0913 - keyword options, each with a documented default
        cls,
        country: str,
        years: int | Iterable[int],
        *,
        subdiv: str | None = None,
        timezone: str | None = None,
        hours: Iterable[WorkingHours | str] = DEFAULT_HOURS,
        unpublished: UnpublishedYears = "raise",
    ) -> BusinessCalendar:
        """Build a country's calendar from the ``holidays`` package.

        China's calendar has its public holidays and its make-up working days
        (``holidays.China(...).weekend_workdays``), which the State Council decrees
        each year; a Chinese year for which the data lists no make-up day has not been
        published yet (or predates the data, 2001).

        Args:
            country: ISO 3166 alpha-2 code, e.g. ``"CN"``, ``"US"``.
            years: The calendar years to cover; every year from the smallest to the
                largest given is covered.
            subdiv: A subdivision code the package knows (a US state, ...).
            timezone: The IANA zone of the working hours. Defaults to
                ``"Asia/Shanghai"`` for China; required for any other country.
            hours: The working intervals (default `DEFAULT_HOURS`).
            unpublished: What to do with a year whose official schedule is not in the
                data (`UnpublishedYears`, default ``"raise"``).

        Raises:
            InvalidValueError: Unknown country or subdivision, no years, or no zone.
            CalendarError: A year is unpublished and ``unpublished="raise"``, or it is
                outside 1900..2200.

        >>> cn = BusinessCalendar.for_country("CN", years=2025)
        >>> cn.is_business_day(dt.date(2025, 1, 26)), cn.is_business_day(dt.date(2025, 1, 28))
        (True, False)
        """
        from salesflow.periods._country import country_calendar_fields  # noqa: PLC0415 - imports holidays only when used

        fields = country_calendar_fields(
            country, years, subdiv=subdiv, decreed=_DECREED_COUNTRIES, unpublished=unpublished
        )
        code = str(fields["name"]).split("-", maxsplit=1)[0]
        zone = timezone or _COUNTRY_ZONES.get(code)
        if zone is None:
            msg = f"give timezone= for {code}: the working hours' zone is not implied"
            raise InvalidValueError(msg, code="business.timezone_required")
        return load_business_calendar({**fields, "timezone": zone, "hours": tuple(hours)})

    # -- days -----------------------------------------------------------------------

    @property
    def covered_years(self) -> tuple[int, int]:
        """`years`, or the whole supported range 1900..2200 when it is ``None``."""
        return self.years or (FIRST_FISCAL_YEAR, LAST_FISCAL_YEAR)

    def is_business_day(self, day: dt.date) -> bool:
        """Whether ``day`` is a working day.

        Raises:
            CalendarError: ``day`` is outside the covered years.
        """
        return bool(self._days.working[self._position(day)])

    def next_business_day(self, day: dt.date) -> dt.date:
        """The first working day strictly after ``day``."""
        return self.add_business_days(day, 1)

    def previous_business_day(self, day: dt.date) -> dt.date:
        """The last working day strictly before ``day``."""
        return self.add_business_days(day, -1)

    def add_business_days(self, day: dt.date, count: int) -> dt.date:
        """The ``count``-th working day after ``day`` (before it when negative).

        ``day`` itself is never counted, so one business day after a Saturday is the
        Monday; ``count=0`` returns ``day`` unchanged. For ``count >= 0``, and for any
        ``count`` from a working day, ``business_days_between(day, result) == count``.

        Raises:
            CalendarError: The result, or ``day``, is outside the covered years.
        """
        if isinstance(count, bool) or not isinstance(count, int):
            msg = f"count must be an int, not {type(count).__name__}"
            raise InvalidValueError(msg, code="business.not_an_int")
        position = self._position(day)
        if count == 0:
            return day
        cumulative = self._days.cumulative
        # The answer r is the working day where the running count reaches `wanted`.
        wanted = int(cumulative[position + 1] if count > 0 else cumulative[position] + 1) + count
        if not 1 <= wanted <= int(cumulative[-1]):
            msg = f"{count:+d} business days from {day} leaves years {self._years_text()}"
            raise CalendarError(msg, code="business.not_covered")
        found = int(np.searchsorted(cumulative, wanted, side="left"))
        return from_days(self._days.first + found - 1)

    def business_days_between(self, start: dt.date, end: dt.date) -> int:
        """How many working days come after ``start``, up to and including ``end``.

        The half-open range ``(start, end]``: the business days that have passed from
        ``start`` to the end of ``end`` (``numpy.busday_count(start + 1, end + 1)`` with
        this calendar's holidays). Negative when ``end`` is before ``start``.

        >>> cal = BusinessCalendar(years=(2026, 2026))
        >>> cal.business_days_between(dt.date(2026, 3, 6), dt.date(2026, 3, 9))  # Fri -> Mon
        1
        """
        cumulative = self._days.cumulative
        return int(cumulative[self._position(end) + 1] - cumulative[self._position(start) + 1])

    def count_business_days(self, first: dt.date, last: dt.date) -> int:
        """How many working days there are from ``first`` to ``last``, both included.

        Raises:
            InvalidValueError: ``last`` is before ``first``.
        """
        low, high = self._position(first), self._position(last)
        if high < low:
            msg = f"last {last} is before first {first}"
            raise InvalidValueError(msg, code="business.end_before_start")
        cumulative = self._days.cumulative
        return int(cumulative[high + 1] - cumulative[low])

    def business_days_between_array(self, start: ArrayLike, end: ArrayLike) -> NDArray[np.int64]:
        """`business_days_between` element-wise over ``datetime64`` arrays (broadcast).

        Raises:
            InvalidValueError: An input is not a datetime64 array, or holds NaT.
            CalendarError: A date is outside the covered years.

        >>> import numpy as np
        >>> cal = BusinessCalendar(years=(2026, 2026))
        >>> fri = np.array(["2026-03-06", "2026-03-06"], dtype="datetime64[D]")
        >>> cal.business_days_between_array(fri, fri + np.array([3, 7])).tolist()
        [1, 5]
        """
        low, high = self._positions(start, "start"), self._positions(end, "end")
        cumulative = self._days.cumulative
        result: NDArray[np.int64] = cumulative[high + 1] - cumulative[low + 1]
        return result

    # -- working time ---------------------------------------------------------------

    def business_time_between(self, start: dt.datetime, end: dt.datetime) -> dt.timedelta:
        """The working time between two aware instants (negative if ``end`` < ``start``).

        Counts only the working hours of working days, in the calendar's zone, as
        elapsed physical time: on a day the clocks change, an interval that spans the
        change counts the hours that actually pass.

        Raises:
            InvalidValueError: A datetime is naive.
            CalendarError: An instant is outside the covered years.

        >>> from zoneinfo import ZoneInfo
        >>> cal, tz = BusinessCalendar(years=(2026, 2026)), ZoneInfo("Asia/Shanghai")
        >>> friday_5pm = dt.datetime(2026, 3, 6, 17, tzinfo=tz)
        >>> str(cal.business_time_between(friday_5pm, dt.datetime(2026, 3, 9, 10, tzinfo=tz)))
        '2:00:00'
        """
        if _instant(end, "end") < _instant(start, "start"):
            return -self.business_time_between(end, start)
        first_year, before = self._elapsed(start)
        last_year, after = self._elapsed(end)
        years = sum(self._year(y).total for y in range(first_year, last_year))
        return (years + after - before) * MICROSECOND

    def add_business_time(self, start: dt.datetime, delta: dt.timedelta) -> dt.datetime:
        """The instant at which ``delta`` of working time has passed since ``start``.

        A deadline of N working hours: the earliest such instant, so a deadline that
        uses up a day's hours is that day's closing time, not the next opening. A
        negative ``delta`` counts back (the latest instant ``-delta`` before). The
        result is in ``start``'s time zone, and
        ``business_time_between(start, result) == delta``.

        Raises:
            InvalidValueError: ``start`` is naive.
            CalendarError: The result is outside the covered years.

        >>> from zoneinfo import ZoneInfo
        >>> cal, tz = BusinessCalendar(years=(2026, 2026)), ZoneInfo("Asia/Shanghai")
        >>> cal.add_business_time(dt.datetime(2026, 3, 6, 17, tzinfo=tz), dt.timedelta(hours=2))
        datetime.datetime(2026, 3, 9, 10, 0, tzinfo=zoneinfo.ZoneInfo(key='Asia/Shanghai'))
        """
        _instant(start, "start")
        amount = delta // MICROSECOND
        if amount == 0:
            return start
        year, target = self._elapsed(start)
        target += amount
        if amount > 0:
            while target > self._year(year).total:
                target -= self._year(year).total
                year += 1
            instant = self._year(year).earliest(target)
        else:
            while target < 0:
                year -= 1
                target += self._year(year).total
            instant = self._year(year).latest(target)
        return (EPOCH + instant * MICROSECOND).astimezone(start.tzinfo)

    # -- findings -------------------------------------------------------------------

    def problems(self) -> tuple[Problem, ...]:
        """Warnings about the calendar's data: one per estimated year.

        >>> BusinessCalendar(years=(2030, 2030), estimated_years=(2030,)).problems()[0].code
        'business.estimated_year'
        """
        return tuple(
            Problem(
                "business.estimated_year",
                Severity.WARNING,
                f"{self.name or 'calendar'} {year}: holidays estimated from rules; the "
                "official schedule (with any make-up working days) was not in the data",
                Location(path=f"estimated_years[{i}]"),
            )
            for i, year in enumerate(self.estimated_years)
        )

    # -- internals ------------------------------------------------------------------

    @property
    def _zone(self) -> zoneinfo.ZoneInfo:
        return self._memo().zone

    @property
    def _days(self) -> _DayTable:
        return self._memo().days

    def _memo(self) -> _Memo:
        # The model is frozen, so derived tables go straight into the instance dict,
        # tagged with the dict they were built for: model_copy(update=...) makes a new
        # dict, so a copy with other holidays rebuilds instead of reusing stale tables.
        memo = self.__dict__.get(_MEMO_KEY)
        if not isinstance(memo, _Memo) or memo.owner != id(self.__dict__):
            memo = _Memo(id(self.__dict__), zoneinfo.ZoneInfo(self.timezone), _DayTable.build(self))
            self.__dict__[_MEMO_KEY] = memo
        return memo

    def _year(self, year: int) -> YearTimes:
        years = self._memo().years
        cached = years.get(year)
        if cached is None:
            first, last = self.covered_years
            if not first <= year <= last:
                msg = f"working time in {year} is outside years {self._years_text()}"
                raise CalendarError(msg, code="business.not_covered")
            table = self._days
            low = to_days(dt.date(year, 1, 1)) - table.first
            high = to_days(dt.date(year, 12, 31)) - table.first + 1
            hours = [(h.start, h.end) for h in self.hours]
            cached = YearTimes.build(year, table.working[low:high].tolist(), hours, self._zone)
            years[year] = cached
        return cached

    def _elapsed(self, instant: dt.datetime) -> tuple[int, int]:
        """The local year of ``instant`` and the working time (µs) in it before then."""
        moment = _instant(instant, "instant")
        local_day = instant.astimezone(self._zone).date()
        self._position(local_day)
        times = self._year(local_day.year)
        return local_day.year, times.elapsed(to_days(local_day) - times.first_day, moment)

    def _position(self, day: dt.date) -> int:
        number = to_days(check_date(day))
        table = self._days
        if not table.first <= number <= table.last:
            msg = f"{day} is outside the years this calendar covers ({self._years_text()})"
            raise CalendarError(msg, code="business.not_covered")
        return number - table.first

    def _positions(self, dates: ArrayLike, what: str) -> NDArray[np.int64]:
        values = np.asarray(dates)
        if values.dtype.kind != "M":
            msg = f"{what} must be a datetime64 array, not {values.dtype}"
            raise InvalidValueError(msg, code="business.not_datetime64")
        values = values.astype("datetime64[D]")
        if np.isnat(values).any():
            msg = f"{what} holds NaT"
            raise InvalidValueError(msg, code="business.nat")
        numbers = values.view(np.int64) - self._days.first
        outside = (numbers < 0) | (numbers > self._days.last - self._days.first)
        if outside.any():
            day = values[outside].flat[0]
            msg = f"{what} {day} is outside the years this calendar covers ({self._years_text()})"
            raise CalendarError(msg, code="business.not_covered")
        return numbers

    def _years_text(self) -> str:
        first, last = self.covered_years
        return f"{first}..{last}"


def load_business_calendar(data: Mapping[str, object] | BusinessCalendar) -> BusinessCalendar:
    """Load a business calendar definition (a mapping read from YAML or JSON).

    Raises:
        DefinitionError: The definition is invalid; its `problems` name every field.

    >>> load_business_calendar({"weekend": ["friday", "saturday"]}).weekend
    (<Weekday.FRIDAY: 4>, <Weekday.SATURDAY: 5>)
    """
    if isinstance(data, BusinessCalendar):
        return data
    try:
        return BusinessCalendar.model_validate(data)
    except ValidationError as err:
        raise DefinitionError.from_problems(
            validation_problems(err, path="business", code="business")
        ) from None


@final
class _Memo:
    """Tables derived from one calendar's fields: never part of its identity.

    All memos compare equal, so pydantic's ``__dict__`` comparison still compares only
    the fields; pickling and deep copies drop the memo (it is rebuilt on first use).
    """

    __slots__ = ("days", "owner", "years", "zone")

    def __init__(self, owner: int, zone: zoneinfo.ZoneInfo, days: _DayTable) -> None:
        self.owner = owner
        self.zone = zone
        self.days = days
        self.years: dict[int, YearTimes] = {}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Memo)

    def __hash__(self) -> int:
        return 0

    def __reduce__(self) -> tuple[type[dict[str, object]], tuple[()]]:
        return (dict, ())


@final
@dataclass(frozen=True, slots=True)
class _DayTable:
    """Working-day flags and their running count over the covered years."""

    first: int  # day number of January 1 of the first covered year
    last: int  # day number of December 31 of the last
    working: NDArray[np.bool_]
    cumulative: NDArray[np.int64]  # cumulative[i]: working days in [first, first + i)

    @classmethod
    def build(cls, calendar: BusinessCalendar) -> _DayTable:
        first_year, last_year = calendar.covered_years
        first = to_days(dt.date(first_year, 1, 1))
        last = to_days(dt.date(last_year, 12, 31))
        numbers = np.arange(first, last + 1, dtype=np.int64)
        # Day number 0 (1970-01-01) was a Thursday.
        working = ~np.isin((numbers + 3) % 7, [int(d) for d in calendar.weekend])
        working[_inside(calendar.holidays, first, last)] = False
        working[_inside(calendar.extra_workdays, first, last)] = True
        working.flags.writeable = False
        cumulative = np.concatenate(([0], np.cumsum(working, dtype=np.int64)))
        cumulative.flags.writeable = False
        return cls(first, last, working, cumulative)


def _inside(days: tuple[dt.date, ...], first: int, last: int) -> list[int]:
    return [n - first for n in map(to_days, days) if first <= n <= last]


def _instant(value: object, what: str) -> int:
    if not isinstance(value, dt.datetime):
        msg = f"{what} must be a datetime, not {type(value).__name__}"
        raise InvalidValueError(msg, code="business.not_a_datetime")
    if value.tzinfo is None or value.utcoffset() is None:
        msg = f"{what} {value} is naive; give it a time zone"
        raise InvalidValueError(msg, code="business.naive_datetime")
    return micros(value)


def _since_midnight(moment: dt.time) -> dt.timedelta:
    return dt.timedelta(
        hours=moment.hour,
        minutes=moment.minute,
        seconds=moment.second,
        microseconds=moment.microsecond,
    )
