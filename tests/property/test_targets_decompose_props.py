"""Decomposition properties over random orgs, plans, totals and calendars."""

from fractions import Fraction
from unittest.mock import patch

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from salesflow import DefinitionError
from salesflow.targets import Actuals, OrgTree, TargetPlan, _layout, _running, decompose, track

from strategies.targets import effective_dated_org, target_plans


def _grids(records, plan_data):
    org = OrgTree.from_records(records)
    plan = TargetPlan.model_validate(plan_data)
    try:
        fast = decompose(plan, org)
    except DefinitionError as err:
        code = err.code
    else:
        return fast, decompose(plan, org, engine="reference")
    with pytest.raises(DefinitionError) as again:  # both engines refuse alike
        decompose(plan, org, engine="reference")
    assert again.value.code == code
    return None, None


@settings(max_examples=60)
@given(effective_dated_org(), target_plans())
def test_vectorized_engine_equals_the_reference_cell_for_cell(records, plan_data):
    fast, slow = _grids(records, plan_data)
    if fast is not None:
        assert fast == slow


@settings(max_examples=60)
@given(effective_dated_org(), target_plans())
def test_every_parent_is_the_sum_of_its_reports_and_gap_in_every_period(records, plan_data):
    grid, _ = _grids(records, plan_data)
    if grid is None:
        return
    assert [p for p in grid.check() if p.code == "targets.incoherent_sum"] == []
    assert [p for p in grid.check() if p.code == "targets.absent_target"] == []


@settings(max_examples=60)
@given(effective_dated_org(), target_plans())
def test_rolling_up_the_leaves_and_gaps_returns_the_total(records, plan_data):
    grid, _ = _grids(records, plan_data)
    if grid is None:
        return
    layout = grid.layout
    has_reports = np.zeros(grid.amounts.shape, dtype=bool)
    rows, cols = np.nonzero(layout.parent >= 0)
    has_reports[rows, layout.parent[rows, cols]] = True
    leaves = (layout.parent != -2) & ~has_reports
    # A leaf whose number is all gap (empty seats) counts once, as a leaf.
    carried = int(grid.amounts[leaves].sum()) + int(grid.unassigned[has_reports].sum())
    total = grid.plan.total
    expected = total.to_minor_units() if hasattr(total, "to_minor_units") else total
    assert carried == expected
    assert grid.value(layout.nodes[layout.root]) == total


@settings(max_examples=60)
@given(effective_dated_org(), target_plans())
def test_each_cell_is_within_one_unit_of_its_exact_share(records, plan_data):
    grid, _ = _grids(records, plan_data)
    if grid is None:
        return
    for row in range(len(grid.periods)):
        for column in np.flatnonzero(grid.layout.parent[row] >= 0):
            why = grid.explain(grid.nodes[column], grid.periods[row])
            if why.source.value != "share":
                continue
            shared = (
                why.shared.to_minor_units() if hasattr(why.shared, "to_minor_units") else why.shared
            )
            amount = (
                why.amount.to_minor_units() if hasattr(why.amount, "to_minor_units") else why.amount
            )
            assert abs(amount - shared * why.share) < 1


@settings(max_examples=40)
@given(effective_dated_org(), target_plans())
def test_the_steady_node_fast_path_fills_the_same_layout_as_the_general_one(records, plan_data):
    org = OrgTree.from_records(records)
    plan = TargetPlan.model_validate(plan_data)
    try:
        fast = _layout.build_layout(plan, org)
    except DefinitionError:
        return
    nothing_steady = lambda arrays, _frame: arrays.single & False  # noqa: E731
    with patch.object(_layout, "_steady_records", nothing_steady):
        general = _layout.build_layout(plan, org)
    for name in ("parent", "depth", "weight", "gap_weight", "locked", "root_amounts"):
        assert np.array_equal(getattr(fast, name), getattr(general, name)), name


def _units(value):
    return value.to_minor_units() if hasattr(value, "to_minor_units") else value


@settings(max_examples=60)
@given(effective_dated_org(), target_plans())
def test_a_reports_running_total_stays_within_one_unit_of_its_exact_running_share(
    records, plan_data
):
    """docs/targets.md, "How decomposition works" 5: exactly, in every stretch.

    A stretch is a report's periods under one parent; it starts afresh when the report
    comes under another parent, and goes on over periods it is absent.
    """
    grid, _ = _grids(records, plan_data)
    if grid is None or not _running.plan_splits(grid.layout).repairable:
        return  # the promise excludes orgs whose reporting lines loop over the year
    for column, node in enumerate(grid.nodes):
        under, given_so_far, exact_so_far = None, 0, Fraction(0)
        for row, period in enumerate(grid.periods):
            parent = int(grid.layout.parent[row, column])
            if parent < 0:
                continue  # the root, or absent
            if parent != under:
                under, given_so_far, exact_so_far = parent, 0, Fraction(0)
            why = grid.explain(node, period)
            given_so_far += _units(why.amount)
            exact_so_far += _units(why.shared) * why.share
            assert abs(given_so_far - exact_so_far) < 1, (node, period.label)


@settings(max_examples=40)
@given(effective_dated_org(), target_plans(), st.data())
def test_rolled_up_actuals_at_the_root_are_every_booking_that_counts(records, plan_data, data):
    grid, _ = _grids(records, plan_data)
    if grid is None:
        return
    year = grid.plan.calendar.year(grid.plan.fiscal_year)
    bookings = data.draw(
        st.lists(
            st.tuples(
                st.sampled_from(grid.nodes),
                st.dates(min_value=year.start, max_value=year.end),
                st.integers(-(10**9), 10**9),
            ),
            max_size=40,
        )
    )
    at = data.draw(st.dates(min_value=year.start, max_value=year.end))
    tracking = track(grid, Actuals.from_records(bookings), at=at)
    counted = 0
    for node, day, amount in bookings:
        period = grid.plan.calendar.period_of(day, grid.plan.grain)
        row = grid.periods.index(period)
        present = grid.layout.parent[row, grid.nodes.index(node)] != -2
        counted += amount if day <= at and present else 0
    root = grid.nodes[grid.layout.root]
    assert _units(tracking.status(root).actual) == counted
