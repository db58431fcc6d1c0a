"""Hypothesis strategies for fiscal calendars, periods and business calendars."""

import datetime as dt
from zoneinfo import ZoneInfo

from hypothesis import strategies as st

from salesflow.periods import (
    BusinessCalendar,
    Grain,
    MonthlyCalendar,
    RetailCalendar,
    Weekday,
    WorkingHours,
)

# Every calendar puts these dates, and the periods before and after theirs at any grain,
# inside fiscal years 1900..2200, whatever its settings.
SAFE_FIRST = dt.date(1902, 1, 1)
SAFE_LAST = dt.date(2198, 6, 30)

# Zones with and without daylight saving, including a half-hour shift (Lord Howe) and a
# southern-hemisphere one, so business-time properties meet every kind of clock change.
ZONES = (
    "Asia/Shanghai",
    "America/New_York",
    "Europe/London",
    "Australia/Lord_Howe",
    "America/Santiago",
    "UTC",
)

# Business calendars cover these years; the strategies keep dates inside them.
BUSINESS_FIRST_YEAR = 2023
BUSINESS_LAST_YEAR = 2027

grains = st.sampled_from(Grain)
weekdays = st.sampled_from(Weekday)


def monthly_calendars() -> st.SearchStrategy[MonthlyCalendar]:
    """Any calendar-month fiscal calendar."""
    return st.builds(
        MonthlyCalendar,
        start_month=st.integers(1, 12),
        label_year=st.sampled_from(["end", "start"]),
        week_start=weekdays,
    )


def retail_calendars() -> st.SearchStrategy[RetailCalendar]:
    """Any 52/53-week fiscal calendar."""
    return st.builds(
        RetailCalendar,
        pattern=st.sampled_from(["4-4-5", "4-5-4", "5-4-4"]),
        year_end_month=st.integers(1, 12),
        year_end_weekday=weekdays,
        year_end=st.sampled_from(["last", "nearest"]),
        leap_week_quarter=st.integers(1, 4),
        label_year=st.sampled_from(["end", "start"]),
    )


def fiscal_calendars() -> st.SearchStrategy[MonthlyCalendar | RetailCalendar]:
    """Either kind of fiscal calendar."""
    return st.one_of(monthly_calendars(), retail_calendars())


def dates(first: dt.date = SAFE_FIRST, last: dt.date = SAFE_LAST) -> st.SearchStrategy[dt.date]:
    """Dates every calendar supports (by default)."""
    return st.dates(min_value=first, max_value=last)


def fiscal_years() -> st.SearchStrategy[int]:
    """Fiscal years whose neighbours are supported too."""
    return st.integers(1902, 2198)


@st.composite
def working_hours(draw: st.DrawFn) -> tuple[WorkingHours, ...]:
    """One to three disjoint intervals on whole quarter hours, possibly up to 24:00."""
    marks = sorted(draw(st.sets(st.integers(0, 96), min_size=2, max_size=6)))
    if len(marks) % 2:
        marks = marks[:-1]
    hours = []
    for start, end in zip(marks[::2], marks[1::2], strict=True):
        end_text = "24:00" if end == 96 else f"{end // 4:02d}:{end % 4 * 15:02d}"
        hours.append(
            WorkingHours.model_validate(f"{start // 4:02d}:{start % 4 * 15:02d}-{end_text}")
        )
    return tuple(hours)


@st.composite
def business_calendars(
    draw: st.DrawFn, *, extra_workdays: bool = True, zones: tuple[str, ...] = ZONES
) -> BusinessCalendar:
    """A business calendar over 2023..2027 with random weekend, holidays and hours."""
    days = st.dates(dt.date(BUSINESS_FIRST_YEAR, 1, 1), dt.date(BUSINESS_LAST_YEAR, 12, 31))
    weekend = draw(st.sets(weekdays, max_size=3))
    holidays = draw(st.sets(days, max_size=40))
    extra = draw(st.sets(days, max_size=15)) - holidays if extra_workdays else set()
    return BusinessCalendar(
        timezone=draw(st.sampled_from(zones)),
        weekend=tuple(weekend),
        holidays=tuple(holidays),
        extra_workdays=tuple(extra),
        hours=draw(working_hours()),
        years=(BUSINESS_FIRST_YEAR, BUSINESS_LAST_YEAR),
    )


def business_dates() -> st.SearchStrategy[dt.date]:
    """Dates inside the years `business_calendars` cover, away from their edges."""
    return st.dates(dt.date(BUSINESS_FIRST_YEAR, 3, 1), dt.date(BUSINESS_LAST_YEAR, 10, 31))


@st.composite
def aware_datetimes(draw: st.DrawFn, zone: str) -> dt.datetime:
    """An aware instant inside the covered years, expressed in ``zone``."""
    naive = draw(
        st.datetimes(
            min_value=dt.datetime(BUSINESS_FIRST_YEAR, 3, 1),  # noqa: DTZ001 - made aware below
            max_value=dt.datetime(BUSINESS_LAST_YEAR, 10, 31),  # noqa: DTZ001 - made aware below
        )
    )
    # Through UTC so that every instant, including those in a gap or a repeated hour
    # of the zone, is a real one.
    return naive.replace(tzinfo=dt.UTC).astimezone(ZoneInfo(zone))


def label_like_text() -> st.SearchStrategy[str]:
    """Text that is often almost a label: the fuzz input for ``parse``."""
    pieces = st.sampled_from(
        ["FY", "fy", "-", "H", "Q", "M", "W", "D", "/", "0", "1", "2", "9", "12", "53", "٣", " "]
    )
    near_labels = st.lists(pieces, max_size=8).map("".join)
    years = st.integers(0, 9999).map(lambda y: f"FY{y:04d}")
    return st.one_of(st.text(max_size=30), near_labels, years, years.map(lambda s: s + "-W53"))


@st.composite
def mutated(draw: st.DrawFn, text: str) -> str:
    """``text`` with one character inserted, deleted or replaced (or left alone)."""
    edit = draw(st.sampled_from(["keep", "insert", "delete", "replace"]))
    if edit == "keep" or not text:
        return text
    at = draw(st.integers(0, len(text) - 1))
    char = draw(st.sampled_from("0123456789-/FYHQMWD x\n٣"))
    if edit == "insert":
        return text[:at] + char + text[at:]
    if edit == "delete":
        return text[:at] + text[at + 1 :]
    return text[:at] + char + text[at + 1 :]
