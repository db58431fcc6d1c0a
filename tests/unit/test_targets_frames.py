"""DataFrame interop: grids and trackings out, bookings in, exact in minor units."""

import datetime as dt
from decimal import Decimal
from fractions import Fraction

import pandas as pd
import pytest

from salesflow import InvalidValueError
from salesflow.targets import Actuals, OrgTree, TargetPlan, decompose, track

ORG = OrgTree.from_records([{"id": "co"}, {"id": "a", "parent": "co"}, {"id": "b", "parent": "co"}])
PLAN = TargetPlan.model_validate(
    {
        "name": "p",
        "total": "3650.00 CNY",
        "fiscal_year": 2026,
        "calendar": {"kind": "monthly"},
        "grain": "month",
    }
)
GRID = decompose(PLAN, ORG)


def test_grid_frame_has_one_row_per_node_and_period_in_minor_units():
    frame = GRID.to_frame("quarter")
    assert len(frame) == 4 * 3
    q1 = frame[(frame["period"] == "FY2026-Q1")].set_index("node")["target"]
    assert q1.to_dict() == {"co": 90000, "a": 45000, "b": 45000}
    assert set(frame["unit"]) == {"CNY"}
    assert frame["target"].dtype == "int64"


def test_grid_frame_sums_back_to_the_total_at_the_finest_grain():
    frame = GRID.to_frame()
    assert frame.loc[frame["node"] != "co", "target"].sum() == 365000


def test_bookings_load_from_a_frame_with_exact_amounts():
    bookings = pd.DataFrame(
        {
            "rep": ["a", "b"],
            "closed": pd.to_datetime(["2026-01-05", "2026-02-10"]),
            "value": [Decimal("100.10"), "20.05"],
        }
    )
    actuals = Actuals.from_frame(bookings, node="rep", day="closed", amount="value", currency="CNY")
    assert actuals.amounts.tolist() == [10010, 2005]
    row = track(GRID, actuals, at=dt.date(2026, 3, 31)).status("co", "FY2026-Q1")
    assert row.actual.amount == Decimal("120.15")


def test_float_amounts_in_a_frame_are_refused():
    bookings = pd.DataFrame({"node": ["a"], "day": ["2026-01-05"], "amount": [100.1]})
    with pytest.raises(InvalidValueError):
        Actuals.from_frame(bookings, currency="CNY")
    with pytest.raises(InvalidValueError, match="must be integers"):
        Actuals.from_frame(bookings)


def test_tracking_frame_keeps_exact_fractions_and_pace():
    actuals = Actuals.from_records([("a", dt.date(2026, 1, 5), 30000)])
    frame = track(GRID, actuals, at=dt.date(2026, 1, 31)).to_frame("quarter")
    row = frame[(frame["node"] == "a") & (frame["period"] == "FY2026-Q1")].iloc[0]
    assert row["attainment"] == Fraction(30000, 45000)
    assert row["pace"] == "ahead"
    assert row["expected"] == 15500


def test_an_org_loads_from_a_frame_with_empty_cells_and_extra_columns():
    frame = pd.DataFrame(
        {
            "id": ["co", "a", "b"],
            "parent": [None, "co", "co"],
            "start": [pd.NaT, pd.NaT, pd.Timestamp("2026-04-01")],
            "end": [None, "2026-06-30", None],
            "capacity": [float("nan"), 2, 3],
        }
    )
    org = OrgTree.from_frame(frame)
    assert org.member_on("b", dt.date(2026, 4, 1)).attributes == {"capacity": 3}
    assert org.member_on("b", dt.date(2026, 3, 31)) is None
    assert org.member_on("a", dt.date(2026, 7, 1)) is None
    assert org.member_on("co", dt.date(2026, 1, 1)).attributes == {}
