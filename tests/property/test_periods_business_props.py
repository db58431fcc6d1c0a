"""Properties of business calendars: day algebra, the vectorized count, working time."""

import datetime as dt

import numpy as np
from hypothesis import assume, given
from hypothesis import strategies as st

from salesflow.errors import CalendarError
from salesflow.periods import BusinessCalendar

from strategies.periods import aware_datetimes, business_calendars, business_dates

ONE_DAY = dt.timedelta(days=1)
UTC = dt.UTC


def _working_by_rule(cal: BusinessCalendar, day: dt.date) -> bool:
    """The definition, read literally, as an oracle."""
    if day in cal.extra_workdays:
        return True
    return day.weekday() not in cal.weekend and day not in cal.holidays


def _count_by_walking(cal, start, end):
    """Working days in (start, end], one day at a time."""
    if end < start:
        return -_count_by_walking(cal, end, start)
    days = (start + k * ONE_DAY for k in range(1, (end - start).days + 1))
    return sum(_working_by_rule(cal, d) for d in days)


# -- days -----------------------------------------------------------------------------


@given(business_calendars(), business_dates())
def test_is_business_day_follows_the_definition(cal, day):
    assert cal.is_business_day(day) == _working_by_rule(cal, day)


@given(business_calendars(), business_dates(), business_dates())
def test_business_days_between_counts_working_days_after_start_through_end(cal, a, b):
    assert cal.business_days_between(a, b) == _count_by_walking(cal, a, b)


@given(business_calendars(extra_workdays=False), business_dates(), business_dates())
def test_business_days_between_matches_numpy_busday_count_without_make_up_days(cal, a, b):
    a, b = min(a, b), max(a, b)  # numpy counts a reversed range differently: [b + 1, a]
    weekmask = [0 if day in cal.weekend else 1 for day in range(7)]
    assume(any(weekmask))
    expected = np.busday_count(
        a + ONE_DAY, b + ONE_DAY, weekmask=weekmask, holidays=list(cal.holidays)
    )
    assert cal.business_days_between(a, b) == int(expected)


@given(business_calendars(), business_dates(), st.integers(0, 60))
def test_adding_n_business_days_moves_exactly_n_working_days(cal, day, n):
    assume(cal.count_business_days(day, dt.date(2027, 12, 31)) > n + 1)
    result = cal.add_business_days(day, n)
    assert cal.business_days_between(day, result) == n
    if n > 0:
        assert cal.is_business_day(result)
        assert result > day


@given(business_calendars(), business_dates(), st.integers(-60, -1))
def test_counting_back_from_a_working_day_is_the_inverse(cal, day, n):
    assume(cal.is_business_day(day))
    assume(cal.count_business_days(dt.date(2023, 1, 1), day) > -n + 1)
    result = cal.add_business_days(day, n)
    assert cal.is_business_day(result)
    assert cal.business_days_between(day, result) == n
    assert cal.add_business_days(result, -n) == day


@given(business_calendars(), business_dates())
def test_next_business_day_skips_only_days_off(cal, day):
    assume(cal.count_business_days(day, dt.date(2027, 12, 31)) > 1)
    following = cal.next_business_day(day)
    assert cal.is_business_day(following)
    between = (day + k * ONE_DAY for k in range(1, (following - day).days))
    assert not any(cal.is_business_day(d) for d in between)


@given(
    business_calendars(),
    st.lists(st.tuples(business_dates(), business_dates()), min_size=1, max_size=30),
)
def test_business_days_between_array_equals_the_scalar_count(cal, pairs):
    starts = np.array([a for a, _ in pairs], dtype="datetime64[D]")
    ends = np.array([b for _, b in pairs], dtype="datetime64[D]")
    expected = [cal.business_days_between(a, b) for a, b in pairs]
    assert cal.business_days_between_array(starts, ends).tolist() == expected


# -- working time ---------------------------------------------------------------------


@st.composite
def calendar_and_instants(draw, count=2):
    cal = draw(business_calendars())
    zone = draw(st.sampled_from([cal.timezone, "UTC", "America/New_York"]))
    return cal, [draw(aware_datetimes(zone)) for _ in range(count)]


def _business_time_by_walking(cal: BusinessCalendar, start, end):
    """Overlap of [start, end] with each working interval, one local day at a time."""
    zone = cal._zone
    first = start.astimezone(zone).date() - ONE_DAY
    total = dt.timedelta(0)
    for k in range((end.astimezone(zone).date() - first).days + 2):
        day = first + k * ONE_DAY
        if not _working_by_rule(cal, day):
            continue
        for hours in cal.hours:
            open_ = dt.datetime.combine(day, hours.start, tzinfo=zone).astimezone(UTC)
            close_day = day + ONE_DAY if hours.end == dt.time(0) else day
            close = dt.datetime.combine(close_day, hours.end, tzinfo=zone).astimezone(UTC)
            overlap = min(close, end) - max(open_, start)
            total += max(overlap, dt.timedelta(0))
    return total


@given(calendar_and_instants())
def test_business_time_between_sums_the_overlap_with_working_hours(data):
    cal, (a, b) = data
    # Quarter-hour edges never fall inside a clock change in the DST zones used except
    # in Santiago, which changes at midnight; the walking oracle needs unambiguous edges.
    assume(cal.timezone != "America/Santiago")
    start, end = min(a, b), max(a, b)
    assert cal.business_time_between(start, end) == _business_time_by_walking(cal, start, end)


@given(calendar_and_instants(count=3))
def test_business_time_is_additive_and_antisymmetric(data):
    cal, (a, b, c) = data
    ab, bc = cal.business_time_between(a, b), cal.business_time_between(b, c)
    assert ab + bc == cal.business_time_between(a, c)
    assert cal.business_time_between(b, a) == -ab


def _room(cal, start):
    """Working time from the start of the covered years to ``start``, and from it to the end."""
    zone = cal._zone
    first = dt.datetime(2023, 1, 1, tzinfo=zone)
    last = dt.datetime(2028, 1, 1, tzinfo=zone) - dt.timedelta(microseconds=1)
    return cal.business_time_between(first, start), cal.business_time_between(start, last)


def _deadline_or_none(cal, start, delta):
    try:
        return cal.add_business_time(start, delta)
    except CalendarError:
        # Only when the covered years do not hold that much working time.
        back, forward = _room(cal, start)
        assert (forward if delta > dt.timedelta(0) else back) < abs(delta)
        return None


@given(
    calendar_and_instants(count=1),
    st.timedeltas(min_value=dt.timedelta(hours=-300), max_value=dt.timedelta(hours=300)),
)
def test_business_time_between_start_and_the_deadline_is_the_delta(data, delta):
    cal, (start,) = data
    deadline = _deadline_or_none(cal, start, delta)
    assume(deadline is not None)
    assert cal.business_time_between(start, deadline) == delta
    assert deadline.tzinfo is start.tzinfo
    assert (deadline >= start) == (delta >= dt.timedelta(0))


@given(
    calendar_and_instants(count=1),
    st.timedeltas(min_value=dt.timedelta(microseconds=1), max_value=dt.timedelta(hours=300)),
)
def test_the_deadline_is_the_earliest_instant_with_that_much_working_time(data, delta):
    cal, (start,) = data
    deadline = _deadline_or_none(cal, start, delta)
    assume(deadline is not None)
    just_before = deadline - dt.timedelta(microseconds=1)
    assert cal.business_time_between(start, just_before) < delta
