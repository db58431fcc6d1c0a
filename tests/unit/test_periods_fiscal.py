"""Fiscal calendars against known calendars: government fiscal years, NRF, pandas."""

import datetime as dt
import itertools
import json
import pickle

import numpy as np
import pandas as pd
import pytest
import yaml
from pandas.tseries.offsets import FY5253, FY5253Quarter

from salesflow.errors import CalendarError, DefinitionError, InvalidValueError, ParseError
from salesflow.periods import (
    Grain,
    MonthlyCalendar,
    RetailCalendar,
    Weekday,
    calendar_json_schema,
    load_calendar,
)

D = dt.date

# The US federal fiscal year runs October 1 to September 30 and is named by the
# calendar year it ends in (31 U.S.C. § 1102): FY2026 began on 2025-10-01.
US_FEDERAL = MonthlyCalendar(start_month=10)
# NRF's 4-5-4 retail calendar: the year ends on the Saturday nearest January 31 and is
# named by the year it starts in; fiscal 2023 (Jan 29, 2023 - Feb 3, 2024) had 53 weeks.
NRF = RetailCalendar(
    pattern="4-5-4",
    year_end_month=1,
    year_end_weekday="saturday",
    year_end="nearest",
    label_year="start",
)


# -- monthly calendars ----------------------------------------------------------------


def test_default_monthly_calendar_is_the_calendar_year():
    year = MonthlyCalendar().year(2026)
    assert (year.start, year.end, year.days) == (D(2026, 1, 1), D(2026, 12, 31), 365)


def test_us_federal_fiscal_year_2026_starts_october_2025():
    year = US_FEDERAL.year(2026)
    assert (year.start, year.end) == (D(2025, 10, 1), D(2026, 9, 30))
    assert US_FEDERAL.fiscal_year_of(D(2025, 9, 30)) == 2025
    assert US_FEDERAL.fiscal_year_of(D(2025, 10, 1)) == 2026


def test_us_federal_first_quarter_is_october_to_december():
    q1 = US_FEDERAL.parse("FY2026-Q1")
    assert (q1.start, q1.end) == (D(2025, 10, 1), D(2025, 12, 31))


def test_label_year_start_names_the_year_by_its_first_calendar_year():
    by_end = MonthlyCalendar(start_month=4)
    by_start = MonthlyCalendar(start_month=4, label_year="start")
    assert by_end.year(2026).start == by_start.year(2025).start == D(2025, 4, 1)


def test_label_year_makes_no_difference_when_the_year_ends_in_december():
    assert MonthlyCalendar(label_year="start").year(2026).start == D(2026, 1, 1)


def test_fiscal_month_numbers_count_from_the_start_month():
    month = MonthlyCalendar(start_month=4).parse("FY2026-M10")
    assert (month.start, month.end) == (D(2026, 1, 1), D(2026, 1, 31))


def test_halves_quarters_and_months_of_a_monthly_year():
    cal = MonthlyCalendar(start_month=7)  # Australia's July-June year
    halves = cal.periods(2026, Grain.HALF)
    assert [(h.start, h.end) for h in halves] == [
        (D(2025, 7, 1), D(2025, 12, 31)),
        (D(2026, 1, 1), D(2026, 6, 30)),
    ]
    assert [m.days for m in cal.periods(2026, Grain.MONTH)] == [
        31, 31, 30, 31, 30, 31, 31, 28, 31, 30, 31, 30,
    ]  # fmt: skip


def test_monthly_weeks_are_clipped_to_the_month():
    # January 1, 2026 is a Thursday: the first Monday-week of January is Jan 1-4.
    weeks = MonthlyCalendar().parse("FY2026-M01").children()
    assert [(w.label, w.start.day, w.end.day) for w in weeks] == [
        ("FY2026-M01-W1", 1, 4),
        ("FY2026-M01-W2", 5, 11),
        ("FY2026-M01-W3", 12, 18),
        ("FY2026-M01-W4", 19, 25),
        ("FY2026-M01-W5", 26, 31),
    ]


def test_february_2021_is_exactly_four_monday_weeks():
    # 2021-02-01 was a Monday and February 2021 had 28 days.
    weeks = MonthlyCalendar().parse("FY2021-M02").children()
    assert [w.days for w in weeks] == [7, 7, 7, 7]


def test_monthly_week_start_is_configurable():
    sunday_weeks = MonthlyCalendar(week_start="sunday").parse("FY2026-M01").children()
    # January 4, 2026 is the first Sunday.
    assert [w.start.day for w in sunday_weeks] == [1, 4, 11, 18, 25]


def test_monthly_weeks_are_numbered_through_the_year():
    cal = MonthlyCalendar()
    weeks = cal.periods(2026, Grain.WEEK)
    assert [w.index for w in weeks] == list(range(1, len(weeks) + 1))
    assert cal.parse("FY2026-M02-W1").index == 6  # after January's five


# -- retail calendars -----------------------------------------------------------------


def test_nrf_fiscal_2023_had_53_weeks_and_january_took_the_extra_one():
    year = NRF.year(2023)
    assert (year.start, year.end) == (D(2023, 1, 29), D(2024, 2, 3))
    assert len(NRF.periods(2023, Grain.WEEK)) == 53
    weeks_per_month = [m.days // 7 for m in NRF.periods(2023, Grain.MONTH)]
    assert weeks_per_month == [4, 5, 4, 4, 5, 4, 4, 5, 4, 4, 5, 5]


def test_nrf_fiscal_2024_runs_february_4_to_february_1():
    year = NRF.year(2024)
    assert (year.start, year.end) == (D(2024, 2, 4), D(2025, 2, 1))
    assert len(NRF.periods(2024, Grain.WEEK)) == 52


@pytest.mark.parametrize("year", [2012, 2017, 2023])
def test_nrf_53_week_years(year):
    assert len(NRF.periods(year, Grain.WEEK)) == 53


@pytest.mark.parametrize(
    ("pattern", "weeks"),
    [("4-4-5", [4, 4, 5]), ("4-5-4", [4, 5, 4]), ("5-4-4", [5, 4, 4])],
)
def test_retail_pattern_sets_weeks_per_month_in_a_52_week_year(pattern, weeks):
    cal = RetailCalendar(pattern=pattern, year_end_month=12, year_end_weekday="saturday")
    assert len(cal.periods(2025, Grain.WEEK)) == 52
    assert [m.days // 7 for m in cal.periods(2025, Grain.MONTH)] == weeks * 4


@pytest.mark.parametrize("quarter", [1, 2, 3, 4])
def test_leap_week_goes_to_the_last_month_of_the_chosen_quarter(quarter):
    cal = NRF.model_copy(update={"leap_week_quarter": quarter})
    months = [m.days // 7 for m in cal.periods(2023, Grain.MONTH)]
    expected = [4, 5, 4] * 4
    expected[3 * quarter - 1] += 1
    assert months == expected


def test_retail_last_variation_ends_on_the_last_weekday_of_the_month():
    # The last Saturday of December 2025 is the 27th.
    cal = RetailCalendar(year_end_month=12, year_end_weekday=Weekday.SATURDAY)
    assert cal.year(2025).end == D(2025, 12, 27)


def test_retail_nearest_variation_may_end_in_the_next_month():
    # December 31, 2025 is a Wednesday; the nearest Saturday is January 3, 2026.
    cal = RetailCalendar(year_end_month=12, year_end_weekday="sat", year_end="nearest")
    assert cal.year(2025).end == D(2026, 1, 3)
    assert cal.fiscal_year_of(D(2026, 1, 2)) == 2025


def _pandas_ends(offset, first, last):
    stamp = offset.rollforward(pd.Timestamp(first))
    ends = []
    while stamp.date() <= last:
        ends.append(stamp.date())
        stamp += offset
    return ends


@pytest.mark.parametrize("variation", ["last", "nearest"])
def test_retail_year_ends_match_pandas_fy5253_1990_to_2060(variation):
    for month, weekday in itertools.product(range(1, 13), range(7)):
        cal = RetailCalendar(year_end_month=month, year_end_weekday=weekday, year_end=variation)
        mine = [cal.year(y).end for y in range(1990, 2061)]
        offset = FY5253(weekday=weekday, startingMonth=month, variation=variation)
        assert mine == _pandas_ends(offset, mine[0], mine[-1]), (month, weekday)


def _check_quarters_against_pandas(variation, month, weekday, quarter):
    cal = RetailCalendar(
        year_end_month=month,
        year_end_weekday=weekday,
        year_end=variation,
        leap_week_quarter=quarter,
    )
    mine = [q.end for y in range(1990, 2061) for q in cal.periods(y, Grain.QUARTER)]
    offset = FY5253Quarter(
        weekday=weekday, startingMonth=month, qtr_with_extra_week=quarter, variation=variation
    )
    assert mine == _pandas_ends(offset, mine[0], mine[-1])


@pytest.mark.parametrize("quarter", [1, 2, 3, 4])
@pytest.mark.parametrize(("variation", "month", "weekday"), [("last", 12, 5), ("nearest", 1, 5)])
def test_retail_quarter_ends_match_pandas_fy5253quarter(variation, month, weekday, quarter):
    _check_quarters_against_pandas(variation, month, weekday, quarter)


@pytest.mark.slow
@pytest.mark.parametrize("variation", ["last", "nearest"])
@pytest.mark.parametrize("quarter", [1, 2, 3, 4])
def test_retail_quarter_ends_match_pandas_for_every_month_and_weekday(variation, quarter):
    for month, weekday in itertools.product(range(1, 13), range(7)):
        _check_quarters_against_pandas(variation, month, weekday, quarter)


# -- periods ----------------------------------------------------------------------------


def test_period_of_finds_the_enclosing_period_at_every_grain():
    cal = MonthlyCalendar(start_month=4)
    day = D(2025, 11, 19)  # November 1, 2025 was a Saturday: week 1 is Nov 1-2
    labels = [cal.period_of(day, grain).label for grain in Grain]
    assert labels == [
        "FY2026",
        "FY2026-H2",
        "FY2026-Q3",
        "FY2026-M08",
        "FY2026-M08-W4",
        "2025-11-19",
    ]


def test_period_end_is_inclusive():
    march = MonthlyCalendar().parse("FY2026-M03")
    assert march.end == D(2026, 3, 31)
    assert march.contains(D(2026, 3, 31))
    assert not march.contains(D(2026, 4, 1))


def test_next_and_previous_cross_the_fiscal_year():
    cal = MonthlyCalendar(start_month=4)
    assert cal.parse("FY2026-Q4").next().label == "FY2027-Q1"
    assert cal.parse("FY2026-M01").previous().label == "FY2025-M12"
    assert NRF.parse("FY2023-W53").next().label == "FY2024-W01"


def test_parent_defaults_to_the_next_grain_up_and_accepts_any_coarser():
    day = MonthlyCalendar().parse("2026-05-20")  # May 1, 2026 is a Friday
    assert day.parent().label == "FY2026-M05-W4"
    assert day.parent(Grain.HALF).label == "FY2026-H1"


def test_children_accepts_any_finer_grain():
    year = NRF.year(2024)
    assert len(year.children(Grain.WEEK)) == 52
    assert len(year.children(Grain.DAY)) == 364


def test_year_has_no_parent_and_day_has_no_children():
    cal = MonthlyCalendar()
    with pytest.raises(CalendarError) as year_err:
        cal.year(2026).parent()
    assert year_err.value.code == "periods.no_parent"
    with pytest.raises(CalendarError) as day_err:
        cal.parse("2026-01-01").children()
    assert day_err.value.code == "periods.no_children"


def test_asking_for_a_coarser_child_or_finer_parent_is_invalid():
    month = MonthlyCalendar().parse("FY2026-M05")
    with pytest.raises(InvalidValueError):
        month.children(Grain.QUARTER)
    with pytest.raises(InvalidValueError):
        month.parent(Grain.WEEK)


def test_periods_between_returns_overlapping_periods_across_years():
    cal = MonthlyCalendar()
    quarters = cal.periods_between(D(2025, 12, 15), D(2026, 4, 1), Grain.QUARTER)
    assert [q.label for q in quarters] == ["FY2025-Q4", "FY2026-Q1", "FY2026-Q2"]


def test_periods_between_refuses_an_inverted_range():
    with pytest.raises(InvalidValueError):
        MonthlyCalendar().periods_between(D(2026, 2, 1), D(2026, 1, 1), Grain.MONTH)


def test_periods_of_one_calendar_sort_in_time_order_coarser_first():
    cal = MonthlyCalendar()
    q1, m1, y = cal.parse("FY2026-Q1"), cal.parse("FY2026-M01"), cal.year(2026)
    assert sorted([m1, q1, y]) == [y, q1, m1]
    assert cal.parse("FY2026-M02") > m1


def test_periods_of_different_calendars_cannot_be_ordered():
    with pytest.raises(InvalidValueError):
        _ = MonthlyCalendar().year(2026) < NRF.year(2026)


def test_custom_range_for_a_campaign():
    cal = MonthlyCalendar()
    campaign = cal.custom(D(2026, 3, 1), D(2026, 3, 15))
    assert campaign.grain is None
    assert campaign.is_custom
    assert (campaign.days, campaign.fiscal_year, campaign.index) == (15, 2026, 0)
    assert campaign.label == "2026-03-01/2026-03-15"
    assert len(campaign.children()) == 15
    assert campaign.next() == cal.custom(D(2026, 3, 16), D(2026, 3, 30))
    assert campaign.previous() == cal.custom(D(2026, 2, 14), D(2026, 2, 28))
    with pytest.raises(CalendarError):
        campaign.parent()
    with pytest.raises(InvalidValueError):
        campaign.children(Grain.WEEK)
    with pytest.raises(InvalidValueError):
        cal.custom(D(2026, 3, 2), D(2026, 3, 1))


def test_contains_another_period():
    cal = MonthlyCalendar()
    assert cal.parse("FY2026-H1").contains(cal.parse("FY2026-Q2"))
    assert not cal.parse("FY2026-Q2").contains(cal.parse("FY2026-H1"))


# -- range and argument errors --------------------------------------------------------


@pytest.mark.parametrize("day", [D(1899, 12, 31), D(2201, 1, 1), D(1, 1, 1), D(9999, 12, 31)])
def test_dates_outside_the_supported_range_raise_calendar_error_naming_the_date(day):
    with pytest.raises(CalendarError) as err:
        MonthlyCalendar().period_of(day, Grain.MONTH)
    assert err.value.code == "periods.out_of_range"
    assert day.isoformat() in str(err.value)


@pytest.mark.parametrize("year", [1899, 2201])
def test_fiscal_years_outside_the_supported_range_raise_calendar_error(year):
    with pytest.raises(CalendarError, match=str(year)):
        NRF.year(year)


def test_a_datetime_is_not_accepted_as_a_date():
    with pytest.raises(InvalidValueError, match="time zone"):
        MonthlyCalendar().period_of(dt.datetime(2026, 1, 1, 12), Grain.DAY)  # noqa: DTZ001


def test_an_unknown_grain_is_invalid():
    with pytest.raises(InvalidValueError):
        MonthlyCalendar().periods(2026, "fortnight")


# -- labels ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "label",
    [
        "FY2026",
        "FY2026-H1",
        "FY2026-Q3",
        "FY2026-M07",
        "FY2026-M07-W2",
        "2026-01-15",
        "2026-03-01/2026-03-31",
    ],
)
def test_monthly_labels_parse_back_to_themselves(label):
    assert MonthlyCalendar(start_month=4).parse(label).label == label


def test_retail_week_label_is_numbered_through_the_year():
    assert NRF.parse("FY2024-W05").start == D(2024, 3, 3)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("fy2026", "periods.bad_label"),
        ("FY2026-Q5", "periods.no_such_period"),
        ("FY2026-M13", "periods.no_such_period"),
        ("FY2026-M00", "periods.no_such_period"),
        ("FY2026-M02-W6", "periods.no_such_period"),
        ("FY2026-W05", "periods.bad_label"),  # a monthly calendar's weeks name their month
        ("FY2026-Q3 ", "periods.bad_label"),
        ("FY1899", "periods.out_of_range"),
        ("2026-02-30", "periods.bad_label"),
        ("2026-03-02/2026-03-01", "periods.bad_label"),
        ("1800-01-01", "periods.out_of_range"),
        ("FY\uff12\uff10\uff12\uff16", "periods.bad_label"),  # full-width digits
    ],
)
def test_bad_labels_raise_parse_error_with_a_code(text, code):
    with pytest.raises(ParseError) as err:
        MonthlyCalendar().parse(text)
    assert err.value.code == code


def test_retail_rejects_monthly_week_labels_and_missing_53rd_weeks():
    with pytest.raises(ParseError):
        NRF.parse("FY2024-M01-W1")
    with pytest.raises(ParseError) as err:
        NRF.parse("FY2024-W53")
    assert err.value.code == "periods.no_such_period"


# -- vectorized index -------------------------------------------------------------------


def test_period_index_gives_positions_and_minus_one_outside_the_year():
    days = np.array(
        ["2025-03-31", "2025-04-01", "2025-12-31", "2026-03-31", "2026-04-01", "NaT"],
        dtype="datetime64[D]",
    )
    index = MonthlyCalendar(start_month=4).period_index(days, Grain.QUARTER, 2026)
    assert index.tolist() == [-1, 0, 2, 3, -1, -1]


def test_period_index_floors_datetimes_to_the_day():
    stamps = np.array(["2026-01-31T23:59:59", "2026-02-01T00:00:00"], dtype="datetime64[s]")
    assert MonthlyCalendar().period_index(stamps, Grain.MONTH, 2026).tolist() == [0, 1]


def test_period_index_refuses_non_datetime_arrays():
    with pytest.raises(InvalidValueError):
        MonthlyCalendar().period_index(np.array([1, 2]), Grain.MONTH, 2026)


def test_boundaries_are_period_starts_then_the_day_after_the_year():
    bounds = MonthlyCalendar().boundaries(2026, Grain.QUARTER)
    assert bounds.tolist() == [
        D(2026, 1, 1),
        D(2026, 4, 1),
        D(2026, 7, 1),
        D(2026, 10, 1),
        D(2027, 1, 1),
    ]
    assert not bounds.flags.writeable


# -- definitions ----------------------------------------------------------------------


@pytest.mark.parametrize("calendar", [MonthlyCalendar(start_month=4, week_start="sunday"), NRF])
def test_calendars_round_trip_through_yaml_and_json(calendar):
    as_yaml = yaml.safe_dump(calendar.model_dump(mode="json"))
    assert load_calendar(yaml.safe_load(as_yaml)) == calendar
    assert load_calendar(json.loads(calendar.model_dump_json())) == calendar


def test_weekday_names_and_numbers_load_alike():
    by_name = load_calendar({"kind": "monthly", "week_start": "Sun"})
    assert by_name == load_calendar({"kind": "monthly", "week_start": 6})


def test_json_schema_is_a_union_tagged_by_kind():
    schema = calendar_json_schema()
    assert schema["discriminator"]["propertyName"] == "kind"
    assert set(schema["discriminator"]["mapping"]) == {"monthly", "retail"}


def test_invalid_definitions_report_every_field_with_its_path():
    with pytest.raises(DefinitionError) as err:
        load_calendar({"kind": "retail", "year_end_month": 13, "pattern": "4-4-4"})
    paths = {p.location.path for p in err.value.problems}
    assert paths == {
        "calendar.retail.year_end_month",
        "calendar.retail.pattern",
        "calendar.retail.year_end_weekday",
    }


def test_unknown_kind_and_unknown_fields_are_refused():
    with pytest.raises(DefinitionError):
        load_calendar({"kind": "lunar"})
    with pytest.raises(DefinitionError):
        load_calendar({"kind": "monthly", "start": 4})


def test_calendars_are_frozen_and_hashable():
    cal = MonthlyCalendar()
    with pytest.raises(ValueError, match="frozen"):
        cal.start_month = 4
    assert hash(cal) == hash(MonthlyCalendar())


def test_periods_pickle_and_hash_by_value():
    period = NRF.parse("FY2023-W53")
    again = pickle.loads(pickle.dumps(period))  # noqa: S301 - our own bytes
    assert again == period
    assert hash(again) == hash(period)
    assert {period, again} == {period}
