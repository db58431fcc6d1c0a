"""Bad input to targets gets a clear salesflow error naming what and where, never a crash
or a silently wrong number."""

import datetime as dt
from decimal import Decimal

import numpy as np
import pytest

from salesflow import (
    CurrencyMismatchError,
    DefinitionError,
    InvalidValueError,
    MoneyOverflowError,
)
from salesflow.money import Money
from salesflow.targets import Actuals, OrgTree, TargetHistory, TargetPlan, decompose, track

D = dt.date
ORG = OrgTree.from_records([{"id": "co"}, {"id": "a", "parent": "co"}, {"id": "b", "parent": "co"}])


def _plan(**fields):
    base = {"name": "p", "total": "1200.00 CNY", "fiscal_year": 2026}
    base |= {"calendar": {"kind": "monthly"}, "grain": "month"}
    return TargetPlan.model_validate(base | fields)


GRID = decompose(_plan(), ORG)


@pytest.mark.parametrize("total", ["92233720368547758.08 CNY", 2**63, 2**62])
def test_a_total_beyond_the_engines_int64_arithmetic_is_refused(total):
    with pytest.raises(MoneyOverflowError, match="too large"):
        decompose(_plan(total=total), ORG)


def test_weights_too_large_to_stay_exact_are_refused_not_wrapped():
    rule = [{"method": "history", "history": {"a": "72054924364740", "b": "132762829599805"}}]
    with pytest.raises(DefinitionError, match="round them to fewer significant digits"):
        decompose(_plan(org=rule), ORG)


@pytest.mark.parametrize("amount", [10.75, Decimal("10.75"), "12", True])
def test_bookings_with_ambiguous_amounts_are_refused_naming_the_record(amount):
    with pytest.raises(InvalidValueError, match="Money or an int of minor units") as caught:
        Actuals.from_records([("a", D(2026, 1, 5), 1), ("a", D(2026, 1, 5), amount)])
    assert caught.value.path == "actuals[1]"


def test_bookings_in_another_currency_than_the_plan_are_refused():
    usd = Actuals.from_records([("a", D(2026, 1, 5), Money("10.00", "USD"))])
    with pytest.raises(CurrencyMismatchError, match="actuals are in USD, the plan in CNY"):
        track(GRID, usd, at=D(2026, 2, 1))
    with pytest.raises(CurrencyMismatchError):
        Actuals.from_records(
            [("a", D(2026, 1, 5), Money("1.00", "USD")), ("a", D(2026, 1, 5), Money("1", "JPY"))]
        )


def test_booking_amounts_that_would_overflow_are_refused():
    with pytest.raises(MoneyOverflowError):
        Actuals.from_columns(["a"], ["2026-01-05"], np.array([2**63 + 5], dtype=np.uint64))
    big = Actuals.from_columns(["a", "a"], ["2026-01-05"] * 2, [2**61, 2**61])
    with pytest.raises(MoneyOverflowError, match="add up to more than 2"):
        track(GRID, big, at=D(2026, 2, 1))


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: Actuals.from_columns(["a"], ["notaday"], [1]), "booking days must be dates"),
        (lambda: Actuals.from_records([("a", "2026-13-01", 1)]), "must be a datetime.date"),
        (lambda: Actuals.from_columns([["a"]], [["2026-01-01"]], [[1]]), "one-dimensional"),
        (lambda: GRID.to_frame("fortnight"), "grain 'fortnight' is not one of"),
        (lambda: ORG.as_of("2026-01-01"), "must be a datetime.date, not str"),
        (lambda: ORG.active_days("a", "2026-01-01", D(2026, 2, 1)), "first must be"),
        (lambda: OrgTree.from_records(5), "must be a list of member records"),
        (lambda: decompose(_plan(), ORG, engine="vectorised"), "engine 'vectorised'"),
        (lambda: TargetHistory.start(_plan(), ORG).replan(effective="2026-07-01"), "effective"),
    ],
)
def test_wrong_argument_types_get_a_salesflow_error_that_says_what_was_given(call, message):
    with pytest.raises(InvalidValueError, match=message):
        call()


def test_locks_in_another_currency_or_on_the_root_or_on_an_absent_node_are_refused():
    with pytest.raises(ValueError, match="lock of 'a' is not in the unit of the total"):
        _plan(locks={"a": "100.00 USD"})
    with pytest.raises(DefinitionError, match="'co' is the root"):
        decompose(_plan(locks={"co": "5.00 CNY"}), ORG)
    gone = OrgTree.from_records(
        [
            {"id": "co"},
            {"id": "a", "parent": "co"},
            {"id": "x", "parent": "co", "end": "2025-12-31"},
        ]
    )
    with pytest.raises(DefinitionError, match="'x' is locked but not in the org in FY2026"):
        decompose(_plan(locks={"x": "5.00 CNY"}), gone)


def test_a_replan_may_not_change_what_a_count_plan_counts():
    plan = _plan(total=100, unit="customers")
    history = TargetHistory.start(plan, ORG)
    with pytest.raises(DefinitionError, match="keeps the calendar, fiscal year, grain and unit"):
        history.replan(effective=D(2026, 7, 1), plan=plan.model_copy(update={"unit": "visits"}))


def test_open_deals_expected_before_the_day_asked_about_are_reported():
    overdue = Actuals.from_records([("a", D(2026, 1, 20), Money("5.00", "CNY"))])
    tracking = track(GRID, overdue, at=D(2026, 2, 1), pipeline=overdue)
    codes = {(p.code, p.location.path) for p in tracking.problems}
    assert ("targets.pipeline_overdue", "pipeline") in codes


def test_a_root_that_starts_mid_year_gets_the_total_over_the_periods_it_exists():
    late = OrgTree.from_records(
        [{"id": "co", "start": "2026-07-01"}, {"id": "a", "parent": "co", "start": "2026-07-01"}]
    )
    grid = decompose(_plan(), late)
    assert grid.value("co", "FY2026-H1") == Money("0.00", "CNY")
    assert grid.value("co") == Money("1200.00", "CNY")
    assert grid.check() == []


def test_locks_that_exceed_their_parent_are_reported_in_money():
    with pytest.raises(DefinitionError, match=r"add up to 150\.00 CNY, more than its 100\.00 CNY"):
        decompose(_plan(locks={"a": "1800.00 CNY"}, time={"method": "equal"}), ORG)
