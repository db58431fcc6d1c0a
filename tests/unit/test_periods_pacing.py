"""Pacing: the exact share of a period elapsed, by calendar days or working days."""

import datetime as dt
from fractions import Fraction

import pytest

from salesflow.errors import CalendarError, InvalidValueError
from salesflow.periods import BusinessCalendar, MonthlyCalendar, fraction_elapsed

D = dt.date
CAL = MonthlyCalendar()
MARCH = CAL.parse("FY2026-M03")


@pytest.fixture(scope="module")
def china():
    return BusinessCalendar.for_country("CN", years=2025)


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (D(2026, 2, 28), Fraction(0)),
        (D(2026, 3, 1), Fraction(1, 31)),  # the end of the first day counts
        (D(2026, 3, 10), Fraction(10, 31)),
        (D(2026, 3, 30), Fraction(30, 31)),
        (D(2026, 3, 31), Fraction(1)),
        (D(2027, 1, 1), Fraction(1)),
    ],
)
def test_fraction_elapsed_by_calendar_days_counts_the_day_at(at, expected):
    result = fraction_elapsed(MARCH, at)
    assert result == expected
    assert isinstance(result, Fraction)


def test_fraction_elapsed_of_a_year_is_exact():
    assert fraction_elapsed(CAL.year(2024), D(2024, 2, 29)) == Fraction(60, 366)


def test_fraction_elapsed_by_working_days_skips_golden_week(china):
    october = CAL.parse("FY2025-M10")  # 18 working days in China, Oct 1-8 off
    assert fraction_elapsed(october, D(2025, 10, 8), business=china) == 0
    assert fraction_elapsed(october, D(2025, 10, 9), business=china) == Fraction(1, 18)
    # Saturday October 11 was a make-up working day.
    assert fraction_elapsed(october, D(2025, 10, 11), business=china) == Fraction(3, 18)


def test_period_without_working_days_is_zero_until_its_last_day(china):
    golden_week = CAL.custom(D(2025, 10, 1), D(2025, 10, 8))
    assert fraction_elapsed(golden_week, D(2025, 10, 7), business=china) == 0
    assert fraction_elapsed(golden_week, D(2025, 10, 8), business=china) == 1


def test_working_day_pacing_outside_the_business_calendar_raises(china):
    with pytest.raises(CalendarError):
        fraction_elapsed(CAL.parse("FY2026-M03"), D(2026, 3, 10), business=china)


def test_fraction_elapsed_wants_a_date():
    with pytest.raises(InvalidValueError):
        fraction_elapsed(MARCH, dt.datetime(2026, 3, 10, 12))  # noqa: DTZ001
