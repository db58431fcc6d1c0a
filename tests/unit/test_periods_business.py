"""Business calendars: China's official schedules, US contrast, day and hour arithmetic."""

import datetime as dt
import json
import pickle
from zoneinfo import ZoneInfo

import numpy as np
import pytest
import yaml

from salesflow.errors import CalendarError, DefinitionError, InvalidValueError, Severity
from salesflow.periods import BusinessCalendar, Weekday, WorkingHours, load_business_calendar

D = dt.date
H = dt.timedelta(hours=1)
SHANGHAI = ZoneInfo("Asia/Shanghai")
NEW_YORK = ZoneInfo("America/New_York")

# China's holidays as decreed by the General Office of the State Council: the days off
# (first, last inclusive) and the make-up working days, transcribed from the notices.
CN_OFFICIAL = {
    # 国务院办公厅关于2024年部分节假日安排的通知, 国办发明电〔2023〕7号, 2023-10-25  # noqa: RUF003
    # https://www.gov.cn/gongbao/2023/issue_10806/202311/content_6913823.html
    2024: {
        "off": [
            (D(2024, 1, 1), D(2024, 1, 1)),  # 元旦, with the weekend
            (D(2024, 2, 10), D(2024, 2, 17)),  # 春节
            (D(2024, 4, 4), D(2024, 4, 6)),  # 清明节
            (D(2024, 5, 1), D(2024, 5, 5)),  # 劳动节
            (D(2024, 6, 10), D(2024, 6, 10)),  # 端午节, with the weekend
            (D(2024, 9, 15), D(2024, 9, 17)),  # 中秋节
            (D(2024, 10, 1), D(2024, 10, 7)),  # 国庆节
        ],
        "worked": [
            D(2024, 2, 4), D(2024, 2, 18), D(2024, 4, 7), D(2024, 4, 28),
            D(2024, 5, 11), D(2024, 9, 14), D(2024, 9, 29), D(2024, 10, 12),
        ],
    },
    # 国务院办公厅关于2025年部分节假日安排的通知, 国办发明电〔2024〕12号, 2024-11-12  # noqa: RUF003
    # https://www.gov.cn/gongbao/2024/issue_11726/202411/content_6989767.html
    2025: {
        "off": [
            (D(2025, 1, 1), D(2025, 1, 1)),  # 元旦
            (D(2025, 1, 28), D(2025, 2, 4)),  # 春节
            (D(2025, 4, 4), D(2025, 4, 6)),  # 清明节
            (D(2025, 5, 1), D(2025, 5, 5)),  # 劳动节
            (D(2025, 5, 31), D(2025, 6, 2)),  # 端午节
            (D(2025, 10, 1), D(2025, 10, 8)),  # 国庆节、中秋节
        ],
        "worked": [
            D(2025, 1, 26), D(2025, 2, 8), D(2025, 4, 27), D(2025, 9, 28), D(2025, 10, 11),
        ],
    },
    # 国务院办公厅关于2026年部分节假日安排的通知, 2025-11-04
    # https://www.gov.cn/gongbao/2025/issue_12406/202511/content_7048922.html
    2026: {
        "off": [
            (D(2026, 1, 1), D(2026, 1, 3)),  # 元旦
            (D(2026, 2, 15), D(2026, 2, 23)),  # 春节
            (D(2026, 4, 4), D(2026, 4, 6)),  # 清明节
            (D(2026, 5, 1), D(2026, 5, 5)),  # 劳动节
            (D(2026, 6, 19), D(2026, 6, 21)),  # 端午节
            (D(2026, 9, 25), D(2026, 9, 27)),  # 中秋节
            (D(2026, 10, 1), D(2026, 10, 7)),  # 国庆节
        ],
        "worked": [
            D(2026, 1, 4), D(2026, 2, 14), D(2026, 2, 28), D(2026, 5, 9),
            D(2026, 9, 20), D(2026, 10, 10),
        ],
    },
}  # fmt: skip

# US federal holidays 2025 (OPM, https://www.opm.gov/policy-data-oversight/pay-leave/
# federal-holidays/): no make-up working days in the US.
US_2025 = [
    D(2025, 1, 1), D(2025, 1, 20), D(2025, 2, 17), D(2025, 5, 26), D(2025, 6, 19),
    D(2025, 7, 4), D(2025, 9, 1), D(2025, 10, 13), D(2025, 11, 11), D(2025, 11, 27),
    D(2025, 12, 25),
]  # fmt: skip


@pytest.fixture(scope="module")
def china():
    return BusinessCalendar.for_country("CN", years=range(2024, 2027))


def _days_of(year):
    day = D(year, 1, 1)
    while day.year == year:
        yield day
        day += dt.timedelta(days=1)


def _expected_working(year, day):
    schedule = CN_OFFICIAL[year]
    if day in schedule["worked"]:
        return True
    if any(first <= day <= last for first, last in schedule["off"]):
        return False
    return day.weekday() < 5


@pytest.mark.parametrize("year", [2024, 2025, 2026])
def test_china_every_day_of_the_year_matches_the_state_council_notice(china, year):
    wrong = [d for d in _days_of(year) if china.is_business_day(d) != _expected_working(year, d)]
    assert wrong == []


def test_china_2025_spring_festival_and_national_day(china):
    assert not any(china.is_business_day(D(2025, 1, 28) + dt.timedelta(days=i)) for i in range(8))
    assert china.is_business_day(D(2025, 1, 26))  # a Sunday, worked
    assert china.is_business_day(D(2025, 2, 8))  # a Saturday, worked
    assert china.is_business_day(D(2025, 9, 28))
    assert china.is_business_day(D(2025, 10, 11))
    assert not china.is_business_day(D(2025, 10, 8))  # a Wednesday, off


def test_china_calendar_defaults():
    cal = BusinessCalendar.for_country("cn", years=2025)
    assert cal.name == "CN"
    assert cal.timezone == "Asia/Shanghai"
    assert cal.weekend == (Weekday.SATURDAY, Weekday.SUNDAY)
    assert cal.years == (2025, 2025)
    assert cal.problems() == ()


def test_china_year_without_a_published_schedule_raises_by_default():
    with pytest.raises(CalendarError) as err:
        BusinessCalendar.for_country("CN", years=[2026, 2099])
    assert err.value.code == "business.schedule_not_published"
    assert "2099" in str(err.value)


def test_china_unpublished_year_can_be_estimated_with_a_warning():
    cal = BusinessCalendar.for_country("CN", years=2099, unpublished="estimate")
    assert cal.estimated_years == (2099,)
    (problem,) = cal.problems()
    assert (problem.code, problem.severity) == ("business.estimated_year", Severity.WARNING)
    assert not cal.is_business_day(D(2099, 10, 1))  # National Day is fixed by law


def test_us_federal_holidays_2025_and_no_working_weekends():
    us = BusinessCalendar.for_country("US", years=2025, timezone="America/New_York")
    assert us.holidays == tuple(US_2025)
    assert us.extra_workdays == ()
    off_weekdays = [d for d in _days_of(2025) if d.weekday() < 5 and not us.is_business_day(d)]
    assert off_weekdays == US_2025
    assert not any(us.is_business_day(d) for d in _days_of(2025) if d.weekday() >= 5)


def test_a_country_other_than_china_needs_a_time_zone():
    with pytest.raises(InvalidValueError) as err:
        BusinessCalendar.for_country("US", years=2025)
    assert err.value.code == "business.timezone_required"


@pytest.mark.parametrize(
    ("country", "years", "subdiv"),
    [("XX", 2025, None), ("US", 2025, "ZZ"), ("US", [], None), ("US", 1800, None)],
)
def test_bad_for_country_arguments_raise(country, years, subdiv):
    with pytest.raises((InvalidValueError, CalendarError)):
        BusinessCalendar.for_country(country, years, subdiv=subdiv, timezone="UTC")


# -- days -----------------------------------------------------------------------------


def test_add_business_days_skips_golden_week_and_counts_make_up_days(china):
    # 2025-09-30 (Tue) + 1: Oct 1-8 are off, Oct 9 is the next working day.
    assert china.add_business_days(D(2025, 9, 30), 1) == D(2025, 10, 9)
    # Counting back from Oct 9: Sep 30, Sep 29, then Sunday Sep 28 (worked).
    assert china.add_business_days(D(2025, 10, 9), -3) == D(2025, 9, 28)


def test_one_business_day_after_a_weekend_day_is_the_next_working_day(china):
    assert china.add_business_days(D(2025, 3, 8), 1) == D(2025, 3, 10)  # Sat -> Mon
    assert china.add_business_days(D(2025, 3, 8), -1) == D(2025, 3, 7)  # Sat -> Fri
    assert china.add_business_days(D(2025, 3, 8), 0) == D(2025, 3, 8)


def test_next_and_previous_business_day_are_strict(china):
    assert china.next_business_day(D(2025, 3, 10)) == D(2025, 3, 11)
    assert china.previous_business_day(D(2025, 3, 10)) == D(2025, 3, 7)


def test_business_days_between_is_half_open_after_start_through_end(china):
    assert china.business_days_between(D(2025, 3, 7), D(2025, 3, 10)) == 1  # Fri -> Mon
    assert china.business_days_between(D(2025, 3, 10), D(2025, 3, 7)) == -1
    assert china.business_days_between(D(2025, 3, 10), D(2025, 3, 10)) == 0
    # October 2025: 23 weekdays, Oct 1-3 and 6-8 off, Saturday Oct 11 worked.
    assert china.business_days_between(D(2025, 9, 30), D(2025, 10, 31)) == 18


def test_count_business_days_includes_both_ends(china):
    assert china.count_business_days(D(2025, 10, 1), D(2025, 10, 31)) == 18
    assert china.count_business_days(D(2025, 3, 10), D(2025, 3, 10)) == 1
    with pytest.raises(InvalidValueError):
        china.count_business_days(D(2025, 3, 11), D(2025, 3, 10))


def test_china_2025_has_248_working_days(china):
    # 2025 has 261 weekdays; the notice takes 18 of them off (Jan 1; Jan 28-31, Feb 3-4;
    # Apr 4; May 1, 2, 5; Jun 2; Oct 1-3, 6-8) and works 5 weekend days.
    assert china.count_business_days(D(2025, 1, 1), D(2025, 12, 31)) == 261 - 18 + 5


def test_dates_outside_the_covered_years_raise(china):
    with pytest.raises(CalendarError) as err:
        china.is_business_day(D(2023, 12, 31))
    assert err.value.code == "business.not_covered"
    assert "2023-12-31" in str(err.value)
    with pytest.raises(CalendarError):
        china.add_business_days(D(2026, 12, 31), 1)
    with pytest.raises(CalendarError):
        china.add_business_days(D(2024, 1, 2), -2)


def test_business_days_between_array_matches_numpy_where_numpy_can_express_it():
    cal = BusinessCalendar(holidays=[D(2026, 1, 1), D(2026, 5, 1)], years=(2026, 2026))
    start = np.datetime64("2026-01-01") + np.arange(0, 300, 7)
    end = start + np.arange(len(start)) % 40
    expected = np.busday_count(start + 1, end + 1, holidays=["2026-01-01", "2026-05-01"])
    assert cal.business_days_between_array(start, end).tolist() == expected.tolist()


def test_business_days_between_array_counts_make_up_days(china):
    start = np.array(["2025-01-24", "2025-02-07"], dtype="datetime64[D]")
    end = np.array(["2025-02-10", "2025-02-08"], dtype="datetime64[D]")
    # After Jan 24: Jan 26 (Sun), Jan 27, Feb 5, 6, 7, Feb 8 (Sat) and Feb 10 are worked.
    assert china.business_days_between_array(start, end).tolist() == [7, 1]


def test_business_days_between_array_refuses_nat_and_uncovered_dates(china):
    with pytest.raises(InvalidValueError):
        china.business_days_between_array(
            np.array(["NaT"], "datetime64[D]"), np.array(["2025-01-01"], "datetime64[D]")
        )
    with pytest.raises(CalendarError, match="2030-01-01"):
        china.business_days_between_array(
            np.array(["2030-01-01"], "datetime64[D]"), np.array(["2025-01-01"], "datetime64[D]")
        )
    with pytest.raises(InvalidValueError):
        china.business_days_between_array(np.array([1]), np.array([2]))


# -- working time ---------------------------------------------------------------------


def test_default_day_is_eight_hours_with_a_lunch_break():
    cal = BusinessCalendar(years=(2026, 2026))
    monday = dt.datetime(2026, 3, 9, tzinfo=SHANGHAI)
    assert cal.business_time_between(monday, monday + dt.timedelta(days=1)) == 8 * H
    noon = monday.replace(hour=12, minute=30)
    assert cal.business_time_between(monday.replace(hour=11), noon) == H


def test_business_time_over_golden_week(china):
    start = dt.datetime(2025, 9, 30, 17, tzinfo=SHANGHAI)
    end = dt.datetime(2025, 10, 9, 11, tzinfo=SHANGHAI)
    assert china.business_time_between(start, end) == 3 * H
    assert china.add_business_time(start, 3 * H) == end


def test_deadline_that_uses_up_the_day_is_closing_time_not_next_opening(china):
    start = dt.datetime(2025, 3, 10, 9, tzinfo=SHANGHAI)
    assert china.add_business_time(start, 8 * H) == dt.datetime(2025, 3, 10, 18, tzinfo=SHANGHAI)
    assert china.add_business_time(start, 3 * H) == dt.datetime(2025, 3, 10, 12, tzinfo=SHANGHAI)


def test_counting_back_lands_on_the_latest_instant(china):
    end = dt.datetime(2025, 3, 11, 10, tzinfo=SHANGHAI)
    assert china.add_business_time(end, -H) == dt.datetime(2025, 3, 11, 9, tzinfo=SHANGHAI)
    assert china.add_business_time(end, -2 * H) == dt.datetime(2025, 3, 10, 17, tzinfo=SHANGHAI)


def test_business_time_from_outside_hours_starts_at_the_next_opening(china):
    saturday = dt.datetime(2025, 3, 8, 10, tzinfo=SHANGHAI)
    assert china.add_business_time(saturday, H) == dt.datetime(2025, 3, 10, 10, tzinfo=SHANGHAI)


def test_business_time_accepts_any_zone_and_answers_in_the_callers_zone(china):
    start = dt.datetime(2025, 3, 10, 1, tzinfo=dt.UTC)  # 09:00 in Shanghai
    deadline = china.add_business_time(start, 2 * H)
    assert deadline.tzinfo is dt.UTC
    assert deadline == dt.datetime(2025, 3, 10, 3, tzinfo=dt.UTC)


def test_business_time_is_negative_when_end_precedes_start(china):
    a = dt.datetime(2025, 3, 10, 9, tzinfo=SHANGHAI)
    assert china.business_time_between(a + 2 * H, a) == -2 * H


def test_business_time_spans_years():
    cal = BusinessCalendar(weekend=[], hours=["00:00-24:00"], timezone="UTC", years=(2025, 2027))
    start = dt.datetime(2025, 12, 31, 12, tzinfo=dt.UTC)
    end = dt.datetime(2027, 1, 1, 12, tzinfo=dt.UTC)
    assert cal.business_time_between(start, end) == dt.timedelta(days=366)
    assert cal.add_business_time(start, dt.timedelta(days=366)) == end


def test_round_the_clock_time_in_new_york_follows_daylight_saving():
    cal = BusinessCalendar(weekend=[], hours=["00:00-24:00"], timezone="America/New_York")
    # Clocks sprang forward on 2026-03-08 and fall back on 2026-11-01.
    spring = dt.datetime(2026, 3, 7, tzinfo=NEW_YORK), dt.datetime(2026, 3, 9, tzinfo=NEW_YORK)
    autumn = dt.datetime(2026, 10, 31, tzinfo=NEW_YORK), dt.datetime(2026, 11, 2, tzinfo=NEW_YORK)
    assert cal.business_time_between(*spring) == 47 * H
    assert cal.business_time_between(*autumn) == 49 * H
    assert cal.add_business_time(spring[0], 47 * H) == spring[1]


def test_night_shift_across_the_spring_gap_counts_real_hours():
    cal = BusinessCalendar(weekend=[], hours=["01:00-04:00"], timezone="America/New_York")
    day = dt.datetime(2026, 3, 8, tzinfo=NEW_YORK)
    # 01:00 EST to 04:00 EDT is two hours of elapsed time.
    assert cal.business_time_between(day, day + dt.timedelta(hours=12)) == 2 * H


def test_naive_datetimes_are_refused(china):
    naive = dt.datetime(2025, 3, 10, 9)  # noqa: DTZ001 - the point of the test
    with pytest.raises(InvalidValueError) as err:
        china.business_time_between(naive, naive)
    assert err.value.code == "business.naive_datetime"
    with pytest.raises(InvalidValueError):
        china.add_business_time(naive, H)
    with pytest.raises(InvalidValueError):
        china.add_business_time(D(2025, 3, 10), H)


def test_deadline_beyond_the_covered_years_raises(china):
    start = dt.datetime(2026, 12, 31, 9, tzinfo=SHANGHAI)
    with pytest.raises(CalendarError):
        china.add_business_time(start, 9 * H)


# -- definitions ----------------------------------------------------------------------


def test_business_calendar_round_trips_through_yaml_and_json(china):
    assert (
        load_business_calendar(yaml.safe_load(yaml.safe_dump(china.model_dump(mode="json"))))
        == china
    )
    assert load_business_calendar(json.loads(china.model_dump_json())) == china


def test_working_hours_accept_the_short_form_and_24_00():
    hours = WorkingHours.model_validate("22:00-24:00")
    assert hours.end == dt.time(0)
    assert hours.length == 2 * H


@pytest.mark.parametrize(
    ("data", "path"),
    [
        ({"hours": ["09:00-12:00", "11:00-13:00"]}, "business.hours"),
        ({"hours": ["12:00-09:00"]}, "business.hours[0]"),
        ({"hours": []}, "business.hours"),
        ({"timezone": "Mars/Olympus"}, "business.timezone"),
        ({"weekend": ["caturday"]}, "business.weekend[0]"),
        ({"holidays": ["2025-10-01"], "extra_workdays": ["2025-10-01"]}, "business"),
        ({"years": (2030, 2020)}, "business"),
        ({"overtime": True}, "business.overtime"),
    ],
)
def test_invalid_business_calendars_name_the_field(data, path):
    with pytest.raises(DefinitionError) as err:
        load_business_calendar(data)
    assert err.value.problems[0].location.path == path


def test_holidays_are_stored_sorted_and_unique():
    cal = BusinessCalendar(holidays=["2025-10-02", "2025-10-01", "2025-10-02"])
    assert cal.holidays == (D(2025, 10, 1), D(2025, 10, 2))


def test_a_copy_with_other_holidays_does_not_reuse_the_originals_tables():
    cal = BusinessCalendar(years=(2025, 2025))
    assert cal.is_business_day(D(2025, 10, 1))
    copy = cal.model_copy(update={"holidays": (D(2025, 10, 1),)})
    assert not copy.is_business_day(D(2025, 10, 1))
    assert cal.is_business_day(D(2025, 10, 1))


def test_calendars_in_use_still_compare_by_their_fields_and_pickle(china):
    china.is_business_day(D(2025, 1, 1))
    again = pickle.loads(pickle.dumps(china))  # noqa: S301 - our own bytes
    assert again == china
    assert again.is_business_day(D(2025, 1, 26))
    assert again == china  # both now hold derived tables
    assert hash(again) == hash(china)
