"""Properties of fiscal calendars: exact nesting, labels, the vectorized index, pacing."""

import calendar
import datetime as dt
import itertools
from fractions import Fraction

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from salesflow.errors import ParseError
from salesflow.periods import Grain, RetailCalendar, fraction_elapsed

from strategies.periods import (
    SAFE_LAST,
    dates,
    fiscal_calendars,
    fiscal_years,
    grains,
    label_like_text,
    mutated,
    retail_calendars,
)

ONE_DAY = dt.timedelta(days=1)
PARENTS = [g for g in Grain if g is not Grain.DAY]


def _tiles(parent, children):
    """Children start at the parent's start, follow each other day by day, end at its end."""
    assert children[0].start == parent.start
    assert children[-1].end == parent.end
    for before, after in itertools.pairwise(children):
        assert after.start == before.end + ONE_DAY


@given(fiscal_calendars(), fiscal_years(), st.sampled_from(PARENTS))
def test_every_period_is_tiled_exactly_by_its_children_at_every_finer_grain(cal, year, grain):
    for parent in cal.periods(year, grain):
        for finer in (g for g in Grain if g.is_finer_than(grain)):
            children = parent.children(finer)
            _tiles(parent, children)
            assert all(c.parent(grain) == parent for c in children)


@given(fiscal_calendars(), fiscal_years(), grains)
def test_the_periods_of_a_year_tile_the_year_and_are_numbered_from_one(cal, year, grain):
    periods = cal.periods(year, grain)
    _tiles(cal.year(year), periods)
    assert [p.index for p in periods] == list(range(1, len(periods) + 1))
    assert all(p.fiscal_year == year and p.grain is grain for p in periods)


@given(fiscal_calendars(), fiscal_years())
def test_consecutive_fiscal_years_leave_no_gap(cal, year):
    assert cal.year(year + 1).start == cal.year(year).end + ONE_DAY
    assert cal.year(year).next() == cal.year(year + 1)


@given(fiscal_calendars(), dates(), grains)
def test_period_of_contains_the_date_and_agrees_with_coarser_grains(cal, day, grain):
    period = cal.period_of(day, grain)
    assert period.contains(day)
    assert cal.fiscal_year_of(day) == period.fiscal_year
    for coarser in (g for g in Grain if grain.is_finer_than(g)):
        assert period.parent(coarser) == cal.period_of(day, coarser)


@given(fiscal_calendars(), dates(), grains)
def test_next_and_previous_are_inverse_and_adjacent(cal, day, grain):
    period = cal.period_of(day, grain)
    assert period.next().previous() == period
    assert period.next().start == period.end + ONE_DAY
    assert period < period.next()


@given(retail_calendars(), fiscal_years())
def test_retail_years_are_whole_weeks_ending_on_the_chosen_weekday(cal: RetailCalendar, year):
    span = cal.year(year)
    assert span.days in {364, 371}
    assert span.end.weekday() == cal.year_end_weekday
    months = [m.days for m in cal.periods(year, Grain.MONTH)]
    assert set(months) <= {28, 35, 42}
    # Only a 5-week month can take the 53rd week and become a 6-week one.
    assert (42 in months) == (span.days == 371 and cal.pattern == "4-4-5")


@given(retail_calendars(), fiscal_years())
def test_retail_year_end_is_at_the_end_of_its_month(cal: RetailCalendar, year):
    end = cal.year(year).end
    if cal.year_end == "last":
        assert end.month == cal.year_end_month
        assert (end + dt.timedelta(days=7)).month != cal.year_end_month
    else:
        month_ends = [
            dt.date(y, cal.year_end_month, calendar.monthrange(y, cal.year_end_month)[1])
            for y in (end.year - 1, end.year)
        ]
        assert min(abs((end - last).days) for last in month_ends) <= 3


# -- labels ---------------------------------------------------------------------------


@given(fiscal_calendars(), dates(), grains)
def test_every_label_parses_back_to_the_same_period(cal, day, grain):
    period = cal.period_of(day, grain)
    assert cal.parse(period.label) == period


@given(fiscal_calendars(), dates(), st.integers(0, 400))
def test_custom_range_labels_parse_back(cal, day, length):
    end = min(day + dt.timedelta(days=length), SAFE_LAST)
    period = cal.custom(day, end)
    assert cal.parse(period.label) == period


@given(fiscal_calendars(), label_like_text())
def test_parse_returns_a_period_with_that_label_or_raises_parse_error(cal, text):
    try:
        period = cal.parse(text)
    except ParseError:
        return
    assert period.label == text


@given(fiscal_calendars(), dates(), grains, st.data())
def test_a_mutated_label_parses_to_its_own_label_or_raises_parse_error(cal, day, grain, data):
    text = data.draw(mutated(cal.period_of(day, grain).label))
    try:
        period = cal.parse(text)
    except ParseError:
        return
    assert period.label == text


# -- vectorized index -----------------------------------------------------------------


@given(
    fiscal_calendars(),
    fiscal_years(),
    grains,
    st.lists(st.integers(-400, 800), min_size=1, max_size=50),
)
def test_period_index_equals_period_of_position(cal, year, grain, offsets):
    first = cal.year(year).start
    days = [first + dt.timedelta(days=k) for k in offsets]
    index = cal.period_index(np.array(days, dtype="datetime64[D]"), grain, year)
    for day, position in zip(days, index.tolist(), strict=True):
        period = cal.period_of(day, grain)
        expected = period.index - 1 if period.fiscal_year == year else -1
        assert position == expected


# -- pacing ---------------------------------------------------------------------------


@given(fiscal_calendars(), dates(), grains, st.integers(-40, 400))
def test_fraction_elapsed_is_monotone_and_between_zero_and_one(cal, day, grain, shift):
    period = cal.period_of(day, grain)
    at = day + dt.timedelta(days=shift)
    share = fraction_elapsed(period, at)
    later = fraction_elapsed(period, at + ONE_DAY)
    assert Fraction(0) <= share <= later <= Fraction(1)
    elapsed_days = sum(period.start + k * ONE_DAY <= at for k in range(period.days))
    assert share == Fraction(elapsed_days, period.days)
