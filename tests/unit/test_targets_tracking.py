"""Tracking actuals against targets: roll-up, pacing, projections, on a hand-checked plan."""

import datetime as dt
from fractions import Fraction

import numpy as np
import pandas as pd
import pytest

from salesflow import DefinitionError, InvalidValueError
from salesflow.money import Money
from salesflow.periods import BusinessCalendar
from salesflow.targets import (
    Actuals,
    OrgTree,
    Pace,
    TargetPlan,
    decompose,
    seasonality_from_history,
    track,
)

D = dt.date
ORG = OrgTree.from_records(
    [
        {"id": "co"},
        {"id": "east", "parent": "co"},
        {"id": "west", "parent": "co"},
        {"id": "a1", "parent": "east"},
        {"id": "a2", "parent": "east"},
        {"id": "b1", "parent": "west"},
    ]
)
# 3650.00 over 365 days: every month is its days x 10.00 for co, x 5.00 per region.
PLAN = TargetPlan.model_validate(
    {
        "name": "FY2026",
        "total": "3650.00 CNY",
        "fiscal_year": 2026,
        "calendar": {"kind": "monthly"},
        "grain": "month",
    }
)
GRID = decompose(PLAN, ORG)


def cny(text):
    return Money(text, "CNY")


BOOKED = Actuals.from_records(
    [
        ("a1", D(2026, 1, 10), cny("100.00")),
        ("a2", D(2026, 2, 3), cny("50.00")),
        ("b1", D(2026, 3, 15), cny("200.00")),  # after the day asked about
        ("zz", D(2026, 1, 5), cny("1.00")),  # not in the org
        ("a1", D(2027, 1, 5), cny("7.00")),  # outside the fiscal year
    ]
)
PIPELINE = Actuals.from_records(
    [("a2", D(2026, 3, 20), cny("80.00")), ("a2", D(2026, 4, 10), cny("500.00"))]
)
AT = D(2026, 2, 14)


def test_actuals_roll_up_the_org_up_to_the_day_asked_about():
    tracking = track(GRID, BOOKED, at=AT)
    assert tracking.status("co", "FY2026-Q1").actual == cny("150.00")
    assert tracking.status("east", "FY2026-Q1").actual == cny("150.00")
    assert tracking.status("west", "FY2026-Q1").actual == cny("0.00")
    assert tracking.status("a1", "FY2026-M01").actual == cny("100.00")


def test_expected_to_date_follows_the_phased_targets():
    row = track(GRID, BOOKED, at=AT).status("co", "FY2026-Q1")
    # January in full (310.00) and 14 of February's 28 days of 280.00.
    assert row.target == cny("900.00")
    assert row.expected == cny("450.00")
    assert row.elapsed == Fraction(45, 90)
    assert row.pace is Pace.BEHIND
    assert row.attainment == Fraction(1, 6)


def test_projection_gap_and_required_run_rate():
    row = track(GRID, BOOKED, at=AT).status("co", "FY2026-Q1")
    assert row.projected == cny("300.00")  # 150.00 in half the quarter
    assert row.gap == cny("750.00")
    assert row.remaining_days == 45
    assert row.required_per_day == cny("16.67")  # 750 / 45 = 16.666..., rounded up


def test_pipeline_counts_what_is_expected_to_close_in_the_rest_of_the_period():
    tracking = track(GRID, BOOKED, at=AT, pipeline=PIPELINE)
    assert tracking.status("co", "FY2026-Q1").projected_with_pipeline == cny("230.00")
    assert tracking.status("co").projected_with_pipeline == cny("730.00")
    assert track(GRID, BOOKED, at=AT).status("co").projected_with_pipeline is None


def test_left_out_bookings_are_reported_not_lost_silently():
    codes = {p.code for p in track(GRID, BOOKED, at=AT).problems}
    assert codes == {"targets.actual_unknown_node", "targets.actual_outside_year"}


def test_a_node_ahead_of_its_phased_target_is_ahead():
    row = track(GRID, BOOKED, at=D(2026, 1, 10)).status("a1", "FY2026-M01")
    # a1 should have 10 of 31 days of 77.50 (= 25.00) and has booked 100.00.
    assert row.expected == cny("25.00")
    assert row.pace is Pace.AHEAD
    assert row.required_per_day is None  # the month's target is already beaten
    assert row.gap == cny("-22.50")


def test_working_days_measure_elapsed_and_remaining_time_when_given():
    china = BusinessCalendar.for_country("CN", years=2026)
    row = track(GRID, BOOKED, at=AT, business=china).status("co", "FY2026-Q1")
    # Counted by hand: Feb 24-27 and the make-up Saturday Feb 28 (Spring Festival takes
    # Feb 16-23), then March's 22 weekdays.
    assert row.remaining_days == 5 + 22
    # Elapsed: January's 22 weekdays less Jan 1-2, plus the make-up Sun Jan 4 (21), and
    # Feb 2-13 plus the make-up Sat Feb 14 (11), of Q1's 21 + 16 + 22 working days.
    assert row.elapsed == Fraction(21 + 11, 21 + 16 + 22)


def test_before_the_period_starts_nothing_is_elapsed_or_projected():
    row = track(GRID, BOOKED, at=AT).status("co", "FY2026-Q3")
    assert (row.elapsed, row.projected, row.expected) == (0, None, cny("0.00"))


def test_positions_as_node_columns_give_the_same_roll_up_as_ids():
    positions = [GRID.nodes.index(n) for n in ("a1", "a2")]
    fast = Actuals.from_columns(
        np.array(positions),
        np.array(["2026-01-10", "2026-02-03"], dtype="datetime64[D]"),
        [10000, 5000],
    )
    assert track(GRID, fast, at=AT).status("co").actual == cny("150.00")


def test_rows_list_every_node_for_every_period_of_a_grain():
    rows = list(track(GRID, BOOKED, at=AT).rows("quarter"))
    assert len(rows) == 4 * len(GRID.nodes)
    assert {r.period for r in rows} == {"FY2026-Q1", "FY2026-Q2", "FY2026-Q3", "FY2026-Q4"}


def test_bad_columns_are_refused_with_a_reason():
    with pytest.raises(InvalidValueError, match="columns of 1, 2 and 2 bookings"):
        Actuals.from_columns(["a1"], ["2026-01-01", "2026-01-02"], [1, 2])
    with pytest.raises(InvalidValueError, match="must be integers"):
        Actuals.from_columns(["a1"], ["2026-01-01"], [1.5])


def test_seasonality_estimated_from_last_year_phases_next_years_plan_alike():
    last_year = Actuals.from_records(
        [("a1", D(2025, month, 15), 1000 * (2 if month == 12 else 1)) for month in range(1, 13)]
    )
    split = seasonality_from_history(last_year, PLAN.calendar, 2025)
    plan = PLAN.model_copy(update={"time": split, "total": Money("1300.00", "CNY")})
    grid = decompose(plan, ORG)
    assert grid.value("co", "FY2026-M12") == cny("200.00")
    assert grid.value("co", "FY2026-M01") == cny("100.00")


def test_seasonality_from_an_empty_or_refund_heavy_year_is_refused():
    refunds = Actuals.from_records([("a1", D(2025, 3, 1), 500), ("a1", D(2025, 4, 1), -900)])
    with pytest.raises(DefinitionError, match="FY2025 month 4 totals -900"):
        seasonality_from_history(refunds, PLAN.calendar, 2025)
    with pytest.raises(DefinitionError, match="no bookings in FY2024"):
        seasonality_from_history(refunds, PLAN.calendar, 2024)


@pytest.mark.parametrize("at", [D(2026, 1, 1), AT, D(2026, 3, 31), D(2026, 12, 31)])
@pytest.mark.parametrize("grain", ["month", "quarter", "year"])
def test_the_vectorized_frame_equals_status_row_for_row(at, grain):
    tracking = track(GRID, BOOKED, at=at, pipeline=PIPELINE)
    frame = tracking.to_frame(grain)
    for record in frame.to_dict("records"):
        row = tracking.status(record["node"], record["period"])

        def units(value):
            return None if value is None else value.to_minor_units()

        assert record["target"] == units(row.target)
        assert record["actual"] == units(row.actual)
        assert record["expected"] == units(row.expected)
        assert record["attainment"] == row.attainment
        assert record["pace"] == row.pace.value
        assert record["elapsed"] == row.elapsed
        assert _or_none(record["projected"]) == units(row.projected)
        assert _or_none(record["projected_with_pipeline"]) == units(row.projected_with_pipeline)
        assert _or_none(record["required_per_day"]) == units(row.required_per_day)
        assert record["remaining_days"] == row.remaining_days


def _or_none(value):
    return None if value is None or value is pd.NA else int(value)
