"""Re-planning: new versions keep the past, re-plan the rest, and diff against each other."""

import datetime as dt

import pytest

from salesflow import CalendarError, DefinitionError, InvalidValueError
from salesflow.money import Money
from salesflow.targets import OrgTree, TargetHistory, TargetPlan

D = dt.date
ORG = OrgTree.from_records(
    [
        {"id": "co"},
        {"id": "east", "parent": "co"},
        {"id": "west", "parent": "co"},
        {"id": "ann", "parent": "east"},
        {"id": "bob", "parent": "west"},
    ]
)
PLAN = TargetPlan.model_validate(
    {
        "name": "FY2026",
        "total": "1200.00 CNY",
        "fiscal_year": 2026,
        "calendar": {"kind": "monthly"},
        "grain": "month",
        "time": {"method": "equal"},
    }
)


def cny(text):
    return Money(text, "CNY")


def test_a_new_total_keeps_the_past_and_replans_the_rest():
    history = TargetHistory.start(PLAN, ORG, reason="budget")
    raised = PLAN.model_copy(update={"total": cny("1500.00")})
    history = history.replan(effective=D(2026, 7, 1), plan=raised, reason="H2 raise")
    first, second = history.version(1).grid, history.current.grid
    for month in range(1, 7):
        label = f"FY2026-M{month:02d}"
        assert second.value("ann", label) == first.value("ann", label)
    assert second.value("co") == cny("1500.00")
    assert second.value("co", "FY2026-H2") == cny("900.00")
    assert second.check() == []
    assert (history.current.number, history.current.reason) == (2, "H2 raise")


def test_a_replan_effective_mid_month_replans_that_whole_month():
    history = TargetHistory.start(PLAN, ORG).replan(
        effective=D(2026, 7, 15), plan=PLAN.model_copy(update={"total": cny("1300.00")})
    )
    assert history.current.grid.value("co", "FY2026-M07") != history.version(1).grid.value(
        "co", "FY2026-M07"
    )
    assert history.current.grid.value("co", "FY2026-H1") == cny("600.00")


def test_a_reorg_recorded_from_the_effective_day_moves_only_the_future():
    moved = OrgTree.from_records(
        [
            {"id": "co"},
            {"id": "east", "parent": "co"},
            {"id": "west", "parent": "co"},
            {"id": "ann", "parent": "east"},
            {"id": "bob", "parent": "west", "end": "2026-09-30"},
            {"id": "bob", "parent": "east", "start": "2026-10-01"},
        ]
    )
    history = TargetHistory.start(PLAN, ORG).replan(effective=D(2026, 10, 1), org=moved)
    grid = history.current.grid
    before = history.version(1).grid
    assert grid.value("bob", "FY2026-Q3") == before.value("bob", "FY2026-Q3")
    assert grid.explain("bob", "FY2026-M11").parent == "east"
    # The regions still split the company equally; east's share now feeds two reps.
    assert grid.value("ann", "FY2026-Q4") + grid.value("bob", "FY2026-Q4") == cny("150.00")
    assert grid.value("west", "FY2026-Q4") == cny("150.00")  # kept by west, report-less
    assert {p.code for p in grid.check()} == {"targets.held_without_reports"}


def test_diff_lists_every_changed_number_with_before_and_after():
    history = TargetHistory.start(PLAN, ORG).replan(
        effective=D(2026, 7, 1), plan=PLAN.model_copy(update={"total": cny("1500.00")})
    )
    changes = history.diff(1, 2, grain="half")
    assert {(c.node, c.period) for c in changes} == {
        (node, "FY2026-H2") for node in ("co", "east", "west", "ann", "bob")
    }
    ann = next(c for c in changes if c.node == "ann")
    assert (ann.before, ann.after, ann.delta) == (cny("300.00"), cny("450.00"), cny("150.00"))


def test_a_node_new_in_the_later_version_diffs_from_zero():
    grown = OrgTree.from_records(
        [
            *({"id": m.id, "parent": m.parent} for m in ORG.members),
            {"id": "cat", "parent": "east", "start": "2026-07-01"},
        ]
    )
    history = TargetHistory.start(PLAN, ORG).replan(effective=D(2026, 7, 1), org=grown)
    cat = [c for c in history.diff(1, 2, grain="half") if c.node == "cat"]
    assert [(c.period, c.before) for c in cat] == [("FY2026-H2", cny("0.00"))]


def test_both_engines_replan_alike():
    raised = PLAN.model_copy(update={"total": cny("1777.77")})
    fast = TargetHistory.start(PLAN, ORG).replan(effective=D(2026, 5, 1), plan=raised)
    slow = TargetHistory.start(PLAN, ORG, engine="reference").replan(
        effective=D(2026, 5, 1), plan=raised, engine="reference"
    )
    assert fast.current.grid == slow.current.grid


def test_cutting_the_total_below_what_is_past_leaves_negative_cells_that_check_reports():
    cut = PLAN.model_copy(update={"total": cny("500.00")})
    history = TargetHistory.start(PLAN, ORG).replan(effective=D(2026, 7, 1), plan=cut)
    assert history.current.grid.value("co", "FY2026-H2") == cny("-100.00")
    assert "targets.negative_cell" in {p.code for p in history.current.grid.check()}


def test_a_replan_cannot_change_the_calendar_or_leave_the_year():
    history = TargetHistory.start(PLAN, ORG)
    weekly = PLAN.model_copy(update={"grain": PLAN.grain.finer})
    with pytest.raises(DefinitionError, match="keeps the calendar"):
        history.replan(effective=D(2026, 7, 1), plan=weekly)
    with pytest.raises(CalendarError, match="2027-01-01 is outside FY2026"):
        history.replan(effective=D(2027, 1, 1))
    with pytest.raises(InvalidValueError, match="there is no version 3"):
        history.version(3)


def test_a_lock_set_or_changed_in_a_replan_is_the_nodes_number_for_the_year():
    history = TargetHistory.start(PLAN, ORG)
    locked = PLAN.model_copy(update={"locks": {"ann": cny("500.00")}})
    history = history.replan(effective=D(2026, 7, 1), plan=locked)
    assert history.current.grid.value("ann") == cny("500.00")
    # Jan-Sep hold 300.00 + 100.00; the 150.00 left fills east's last quarter exactly.
    relocked = locked.model_copy(update={"locks": {"ann": cny("550.00")}})
    history = history.replan(effective=D(2026, 10, 1), plan=relocked)
    assert history.current.grid.value("ann") == cny("550.00")
    assert history.current.grid.value("ann", "FY2026-H1") == cny("300.00")  # kept
    # In Q3 ann (east's only rep) was locked below east's number: the rest was a gap.
    flagged = [p.location.path for p in history.current.grid.check()]
    assert flagged == [f"cells.east.FY2026-M0{m}" for m in (7, 8, 9)]


def test_a_replanned_lock_that_its_parent_cannot_hold_is_refused():
    history = TargetHistory.start(PLAN, ORG)
    greedy = PLAN.model_copy(update={"locks": {"ann": cny("900.00")}})
    with pytest.raises(DefinitionError, match="locks under 'east'"):
        history.replan(effective=D(2026, 10, 1), plan=greedy)
