"""Decomposition of a target down the org and fiscal time, on hand-checked examples."""

from fractions import Fraction

import pytest

from salesflow import CalendarError, DefinitionError, InvalidValueError
from salesflow.money import Money
from salesflow.periods import Grain
from salesflow.targets import CellSource, OrgTree, TargetPlan, decompose, load_plan


def _plan(**fields):
    base = {
        "name": "FY2026",
        "total": "3.00 CNY",
        "fiscal_year": 2026,
        "calendar": {"kind": "monthly"},
        "grain": "quarter",
        "time": {"method": "equal"},
    }
    return TargetPlan.model_validate(base | fields)


TWO_REPS = OrgTree.from_records(
    [
        {"id": "co"},
        {"id": "ann", "parent": "co", "attributes": {"capacity": 2}},
        {"id": "bob", "parent": "co", "attributes": {"capacity": 1}},
    ]
)
BY_CAPACITY = [{"method": "attribute", "attribute": "capacity"}]


@pytest.mark.parametrize("engine", ["vectorized", "reference"])
def test_equal_time_and_capacity_weights_split_exactly_by_hand(engine):
    # 300 fen: halves 150, quarters 75; ann 2/3 of 75 = 50, bob 25.
    grid = decompose(_plan(org=BY_CAPACITY), TWO_REPS, engine=engine)
    assert grid.value("ann", "FY2026-Q1") == Money("0.50", "CNY")
    assert grid.value("bob", "FY2026-Q4") == Money("0.25", "CNY")
    assert grid.value("ann") == Money("2.00", "CNY")
    assert grid.value("co", "FY2026-H2") == Money("1.50", "CNY")
    assert grid.check() == []


def test_days_method_phases_by_calendar_days_at_every_level():
    # 365 days x 100: every month gets exactly its days x 100 (no remainders anywhere).
    grid = decompose(_plan(total=36500, grain="month", time={"method": "days"}), TWO_REPS)
    for month in grid.periods:
        assert grid.value("co", month) == month.days * 100
    assert grid.value("co", "FY2026-Q1") == 9000


def test_count_targets_are_integers_that_still_add_up():
    grid = decompose(_plan(total=10, unit="new customers", grain="month"), TWO_REPS)
    assert grid.value("co") == 10
    assert grid.value("ann") + grid.value("bob") == 10
    assert all(isinstance(grid.value("ann", p), int) for p in grid.periods)


def test_seasonality_indices_weight_months_and_sum_into_quarters():
    indices = dict.fromkeys(range(1, 13), 1) | {12: 4}  # December counts four times
    plan = _plan(
        total="1500.00 CNY",
        time={"method": "seasonality", "seasonality": indices},
        grain="month",
    )
    grid = decompose(plan, TWO_REPS)
    # Year 1500 over H1 (6) and H2 (9): 600 / 900; Q4 (1+1+4=6) of H2 = 600; Dec 400.
    assert grid.value("co", "FY2026-H1") == Money("600.00", "CNY")
    assert grid.value("co", "FY2026-Q4") == Money("600.00", "CNY")
    assert grid.value("co", "FY2026-M12") == Money("400.00", "CNY")


def test_a_new_hire_ramps_and_is_absent_before_the_start():
    org = OrgTree.from_records(
        [
            {"id": "co"},
            {"id": "old", "parent": "co"},
            {"id": "new", "parent": "co", "start": "2026-07-01"},
        ]
    )
    grid = decompose(_plan(total=3000, grain="month", ramp=["0.5"]), org)
    assert grid.value("new", "FY2026-H1") == 0
    # July: new is at half weight, so 2:1 of the month's 250.
    july = grid.value("co", "FY2026-M07")
    assert abs(grid.value("new", "FY2026-M07") * 3 - july) <= 2
    assert grid.value("new", "FY2026-M08") == grid.value("old", "FY2026-M08")
    assert grid.explain("new", "FY2026-M03").source is CellSource.ABSENT


def test_a_leavers_target_goes_to_the_colleagues_when_redistributed():
    org = OrgTree.from_records(
        [
            {"id": "co"},
            {"id": "stay", "parent": "co"},
            {"id": "go", "parent": "co", "end": "2026-06-30"},
        ]
    )
    grid = decompose(_plan(total=1200, grain="month"), org)
    assert grid.value("go", "FY2026-H2") == 0
    assert grid.value("stay", "FY2026-H2") == 600
    assert grid.gap("co") == 0


def test_a_leavers_target_is_a_visible_gap_under_the_gap_policy():
    org = OrgTree.from_records(
        [
            {"id": "co"},
            {"id": "stay", "parent": "co"},
            {"id": "go", "parent": "co", "end": "2026-06-30"},
        ]
    )
    grid = decompose(_plan(total=1200, grain="month", freed="gap"), org)
    assert grid.value("stay", "FY2026-H2") == 300
    assert grid.gap("co", "FY2026-H2") == 300
    assert grid.gap("co", "FY2026-H1") == 0
    assert grid.check() == []


def test_a_ramp_shortfall_is_part_of_the_gap_under_the_gap_policy():
    org = OrgTree.from_records([{"id": "co"}, {"id": "new", "parent": "co", "start": "2026-01-01"}])
    grid = decompose(_plan(total=1200, grain="month", freed="gap", ramp=["0.25"]), org)
    assert grid.value("new", "FY2026-M01") == 25
    assert grid.gap("co", "FY2026-M01") == 75
    assert grid.gap("co", "FY2026-M02") == 0


def test_a_person_who_moves_team_carries_target_in_each_team_in_turn():
    org = OrgTree.from_records(
        [
            {"id": "co"},
            {"id": "east", "parent": "co"},
            {"id": "west", "parent": "co"},
            {"id": "e1", "parent": "east"},
            {"id": "w1", "parent": "west"},
            {"id": "mover", "parent": "east", "end": "2026-06-30"},
            {"id": "mover", "parent": "west", "start": "2026-07-01"},
        ]
    )
    grid = decompose(_plan(total=2400, grain="month"), org)
    assert grid.value("mover", "FY2026-H1") == grid.value("e1", "FY2026-H1") == 300
    assert grid.value("mover", "FY2026-H2") == grid.value("w1", "FY2026-H2") == 300
    assert grid.explain("mover", "FY2026-M02").parent == "east"
    assert grid.explain("mover", "FY2026-M08").parent == "west"
    assert grid.check() == []


def test_a_locked_node_keeps_its_number_and_the_siblings_share_the_rest():
    org = OrgTree.from_records(
        [
            {"id": "co"},
            {"id": "a", "parent": "co"},
            {"id": "b", "parent": "co"},
            {"id": "c", "parent": "co"},
        ]
    )
    grid = decompose(_plan(total="1000.00 CNY", locks={"a": "400.00 CNY"}), org)
    assert grid.value("a") == Money("400.00", "CNY")
    assert grid.value("b") == grid.value("c") == Money("300.00", "CNY")
    assert grid.explain("a", "FY2026-Q1").source is CellSource.LOCK


def test_locks_larger_than_the_parent_are_refused_with_node_and_period():
    with pytest.raises(DefinitionError, match="locks under 'co' in FY2026-Q1") as caught:
        decompose(_plan(total="1.00 CNY", locks={"ann": "2.00 CNY"}), TWO_REPS)
    assert caught.value.code == "targets.locks_exceed_parent"


def test_a_missing_weight_attribute_is_reported_for_every_node_at_once():
    org = OrgTree.from_records(
        [
            {"id": "co"},
            {"id": "a", "parent": "co"},
            {"id": "b", "parent": "co", "attributes": {"capacity": "x"}},
        ]
    )
    with pytest.raises(DefinitionError) as caught:
        decompose(_plan(org=BY_CAPACITY, locks={"ghost": "1.00 CNY"}), org)
    codes = sorted(p.code for p in caught.value.problems)
    assert codes == ["targets.missing_weight", "targets.missing_weight", "targets.unknown_lock"]


def test_a_missing_weight_can_default_when_the_rule_says_so():
    org = OrgTree.from_records(
        [
            {"id": "co"},
            {"id": "a", "parent": "co"},
            {"id": "b", "parent": "co", "attributes": {"capacity": 3}},
        ]
    )
    rule = [{"method": "attribute", "attribute": "capacity", "missing": "1"}]
    grid = decompose(_plan(total=400, org=rule), org)
    assert grid.value("b") == 300


def test_history_method_weights_by_last_years_actuals():
    rule = [{"method": "history", "history": {"ann": "750000.50", "bob": "250000.50"}}]
    grid = decompose(_plan(total=1000_000, grain="quarter", org=rule), TWO_REPS)
    assert grid.value("ann") + grid.value("bob") == 1000_000
    assert abs(grid.value("ann") - 750_000) <= 4


def test_rules_by_role_weight_each_level_differently():
    org = OrgTree.from_records(
        [
            {"id": "co"},
            {"id": "big", "parent": "co", "role": "region", "attributes": {"potential": 3}},
            {"id": "small", "parent": "co", "role": "region", "attributes": {"potential": 1}},
            {"id": "r1", "parent": "big", "role": "rep", "attributes": {"potential": 100}},
            {"id": "r2", "parent": "big", "role": "rep"},
        ]
    )
    rules = [
        {"role": "region", "method": "attribute", "attribute": "potential"},
        {"role": "rep", "method": "equal"},
    ]
    grid = decompose(_plan(total=4000, org=rules), org)
    assert grid.value("big") == 3000
    assert grid.value("r1") == grid.value("r2") == 1500


def test_retail_445_weeks_nest_in_their_months():
    plan = _plan(
        total=5200,
        calendar={
            "kind": "retail",
            "pattern": "4-4-5",
            "year_end_month": 1,
            "year_end_weekday": "saturday",
        },
        grain="week",
    )
    grid = decompose(plan, TWO_REPS)
    months = plan.calendar.periods(2026, Grain.MONTH)
    # 5200 / 4 quarters = 1300; / 3 months = 434, 433, 433 (the leftover to the first).
    assert [grid.value("co", m) for m in months[:3]] == [434, 433, 433]
    # The third month of a 4-4-5 quarter has five weeks: 433 / 5 = 87, 87, 87, 86, 86.
    weeks = months[2].children(Grain.WEEK)
    assert [grid.value("co", w) for w in weeks] == [87, 87, 87, 86, 86]
    assert sum(grid.value("co", m) for m in months) == 5200


def test_values_are_asked_for_whole_periods_of_the_plan_only():
    grid = decompose(_plan(), TWO_REPS)
    with pytest.raises(CalendarError, match="FY2026-M01 is not made of whole quarters"):
        grid.value("ann", "FY2026-M01")
    with pytest.raises(InvalidValueError, match="'zoe' is not in the plan's org"):
        grid.value("zoe")


def test_explain_gives_share_parent_and_amounts_in_words():
    grid = decompose(_plan(org=BY_CAPACITY), TWO_REPS)
    why = grid.explain("ann", "FY2026-Q2")
    assert why.source is CellSource.SHARE
    assert why.parent == "co"
    assert why.share == Fraction(2, 3)
    shown = "ann FY2026-Q2: 0.50 CNY = 2/3 (66.67%) of 0.75 CNY shared under co (0.75 CNY)"
    assert str(why) == f"{shown} [capacity 2]"


def test_long_rows_list_every_node_and_period_at_the_asked_grain():
    grid = decompose(_plan(grain="month"), TWO_REPS)
    rows = list(grid.rows("quarter"))
    assert len(rows) == 3 * 4
    assert {r.period for r in rows} == {"FY2026-Q1", "FY2026-Q2", "FY2026-Q3", "FY2026-Q4"}
    assert sum((r.amount for r in rows if r.node == "co"), Money("0", "CNY")) == Money(
        "3.00", "CNY"
    )


def test_plan_round_trips_through_json_exactly():
    plan = _plan(org=BY_CAPACITY, locks={"ann": "1.00 CNY"}, ramp=["0.25", "0.5"], freed="gap")
    assert TargetPlan.model_validate_json(plan.model_dump_json()) == plan


def test_plan_definition_errors_name_the_field():
    with pytest.raises(ValueError, match="seasonality"):
        _plan(time={"method": "seasonality"})
    with pytest.raises(ValueError, match="grain must be finer than the year"):
        _plan(grain="year")
    with pytest.raises(ValueError, match="not in the unit of the total"):
        _plan(locks={"ann": 5})


def test_working_days_method_weights_by_china_working_days():
    china = {
        "name": "CN",
        "holidays": ["2026-10-01", "2026-10-02", "2026-10-05", "2026-10-06", "2026-10-07"],
        "extra_workdays": ["2026-10-10"],
    }
    plan = _plan(
        total=10000, grain="month", time={"method": "working_days", "business_calendar": china}
    )
    grid = decompose(plan, TWO_REPS)
    october = grid.value("co", "FY2026-M10")
    september = grid.value("co", "FY2026-M09")
    # September 2026 has 22 working days; October 22 weekdays - 5 holidays + 1 make-up = 18.
    assert abs(october * 22 - september * 18) <= 22 + 18


def test_working_days_method_needs_a_business_calendar():
    with pytest.raises(ValueError, match="needs a business_calendar"):
        _plan(time={"method": "working_days"})


def test_loading_a_bad_plan_reports_every_problem_with_its_path():
    data = {
        "name": "x",
        "total": "lots",
        "fiscal_year": 2026,
        "calendar": {"kind": "monthly", "start_month": 13},
        "org": [{"method": "attribute"}],
    }
    with pytest.raises(DefinitionError) as caught:
        load_plan(data)
    paths = {p.location.path for p in caught.value.problems}
    assert "plan.calendar.monthly.start_month" in paths
    assert "plan.org[0]" in paths
    assert any(path.startswith("plan.total") for path in paths)


def test_reports_that_all_weigh_zero_are_refused_naming_the_parent():
    org = OrgTree.from_records(
        [
            {"id": "co"},
            {"id": "a", "parent": "co", "attributes": {"capacity": 0}},
            {"id": "b", "parent": "co", "attributes": {"capacity": 0}},
        ]
    )
    with pytest.raises(DefinitionError, match="every report of 'co' weighs 0") as caught:
        decompose(_plan(org=BY_CAPACITY), org)
    assert caught.value.code == "targets.zero_weights"


def test_ramp_factors_with_more_than_four_places_are_refused():
    with pytest.raises(ValueError, match="more than 4 decimal places"):
        _plan(ramp=["0.33333"])


def test_a_team_whose_reports_have_all_left_holds_its_number_and_check_warns():
    org = OrgTree.from_records(
        [
            {"id": "co"},
            {"id": "team", "parent": "co"},
            {"id": "gone", "parent": "team", "end": "2026-03-31"},
        ]
    )
    grid = decompose(_plan(total=400), org)
    assert grid.value("team", "FY2026-Q2") == 100
    assert grid.value("gone", "FY2026-Q2") == 0
    assert [p.code for p in grid.check()] == ["targets.held_without_reports"] * 3


def test_reports_that_can_carry_nothing_leave_a_gap_that_check_reports():
    org = OrgTree.from_records(
        [
            {"id": "co"},
            {"id": "team", "parent": "co"},
            {"id": "new", "parent": "team", "start": "2026-01-01"},
        ]
    )
    grid = decompose(_plan(total=1200, grain="month", ramp=["0"]), org)
    assert grid.value("new", "FY2026-M01") == 0
    assert grid.gap("team", "FY2026-M01") == 100
    assert [p.code for p in grid.check()] == ["targets.carried_by_nobody"]


def test_a_plan_loads_from_yaml_text():
    text = "name: FY2026\ntotal: 1200.00 CNY\nfiscal_year: 2026\ncalendar: {kind: monthly}\n"
    assert load_plan(text).total == Money("1200.00", "CNY")
    with pytest.raises(DefinitionError, match="a plan is a mapping of fields, not list"):
        load_plan("- 1\n- 2\n")


def _team_and_a_late_hire(freed, team_rule=None):
    org = OrgTree.from_records(
        [
            {"id": "co"},
            {"id": "T1", "parent": "co", "role": "team"},
            {"id": "T2", "parent": "co", "role": "team"},
            {"id": "a", "parent": "T1", "role": "rep"},
            {"id": "h", "parent": "T2", "role": "rep", "start": "2026-04-29"},
        ]
    )
    rules = [team_rule] if team_rule else []
    return decompose(_plan(total="12000.00 CNY", grain="month", freed=freed, org=rules), org)


def test_under_gap_a_late_hires_days_before_joining_are_a_gap_not_theirs():
    grid = _team_and_a_late_hire("gap")
    # April: T2 has 500.00; h works 2 of 30 days.
    assert grid.value("h", "FY2026-M04") == Money("33.33", "CNY")
    assert grid.gap("T2", "FY2026-M04") == Money("466.67", "CNY")
    # Before April nobody is under T2: all of T2's number is the gap.
    assert grid.gap("T2", "FY2026-Q1") == grid.value("T2", "FY2026-Q1") == Money("1500.00", "CNY")
    assert grid.check() == []


def test_teams_weighted_by_their_people_give_an_empty_teams_target_to_the_others():
    grid = _team_and_a_late_hire("redistribute", {"role": "team", "method": "reports"})
    assert grid.value("T2", "FY2026-Q1") == Money("0.00", "CNY")
    assert grid.value("T1", "FY2026-Q1") == Money("3000.00", "CNY")
    # April: h's 2 days against a's 30.
    assert grid.value("T2", "FY2026-M04") == Money("62.50", "CNY")
    assert grid.check() == []


def test_explain_says_what_the_weight_is_made_of_active_days_and_ramp():
    org = OrgTree.from_records(
        [
            {"id": "co"},
            {"id": "old", "parent": "co"},
            {"id": "new", "parent": "co", "start": "2026-04-16"},
        ]
    )
    grid = decompose(_plan(total=1200, grain="month", ramp=["0.5"]), org)
    assert grid.explain("new", "FY2026-M04").basis == "equal weight, active 15 of 30 days, ramp 50%"
    # May 16 starts month two of tenure: 15 days at 50%, 16 at 100%.
    assert (
        grid.explain("new", "FY2026-M05").basis
        == f"equal weight, ramp {(15 * 50 + 16 * 100) / 31:.4g}%"
    )
    assert grid.explain("old", "FY2026-M05").basis == "equal weight"


def _running_gaps(grid, node):
    """given - exact share, summed period by period, for a node under one parent all year."""
    given, exact, gaps = 0, Fraction(0), []
    for period in grid.periods:
        why = grid.explain(node, period)
        given += why.amount
        exact += why.shared * why.share
        gaps.append(given - exact)
    return gaps


@pytest.mark.parametrize("engine", ["vectorized", "reference"])
def test_a_leftover_unit_goes_where_the_months_to_come_need_it(engine):
    # 12 new customers, 1 a month; a, b, c, d weigh 2, 2, 2, 3; a leaves after June,
    # b after July. Every share is below 1, so each month's unit is the only leftover.
    # Jan-Jun (shares 2/9, 2/9, 2/9, 3/9), largest owed share first: d, a, b, c, d, a.
    # By June c is owed 6 * 2/9 - 1 = 1/3 and d 6 * 3/9 - 2 = 0. July (2/7, 2/7, 3/7):
    # giving b the unit would leave c owed 1/3 + 2/7 = 13/21 and d 3/7, together more
    # than August's one unit (2/5, 3/5): whoever misses it ends over a unit short
    # (c: 13/21 + 2/5 = 107/105). So July's unit goes to c; then c is owed
    # 2.019 - 2 and d 3.029 - 3 after August's goes to d, and they alternate:
    # September d (0.629 > 0.419), October c, November d, December c.
    org = OrgTree.from_records(
        [
            {"id": "team"},
            {"id": "a", "parent": "team", "attributes": {"w": 2}, "end": "2026-06-30"},
            {"id": "b", "parent": "team", "attributes": {"w": 2}, "end": "2026-07-31"},
            {"id": "c", "parent": "team", "attributes": {"w": 2}},
            {"id": "d", "parent": "team", "attributes": {"w": 3}},
        ]
    )
    plan = _plan(
        total=12,
        unit="new customers",
        grain="month",
        org=[{"method": "attribute", "attribute": "w"}],
    )
    grid = decompose(plan, org, engine=engine)
    months = grid.periods
    assert [grid.value("b", m) for m in months[:7]] == [0, 0, 1, 0, 0, 0, 0]
    assert [grid.value("c", m) for m in months] == [0, 0, 0, 1, 0, 0, 1, 0, 0, 1, 0, 1]
    assert [grid.value("d", m) for m in months] == [1, 0, 0, 0, 1, 0, 0, 1, 1, 0, 1, 0]
    assert all(abs(gap) < 1 for node in "cd" for gap in _running_gaps(grid, node))
    assert grid.check() == []


# The example Hypothesis found (tests/property/test_targets_decompose_props.py): reports
# move in and out of team "6" while "0" and "c" stay all year, by weekly seasonality.
MOVERS_IN_AND_OUT = [
    {"id": "60", "parent": None, "attributes": {"w": 0}},
    {"id": "4", "parent": "60", "attributes": {"w": "1.25"}},
    {"id": "00", "parent": "60", "attributes": {"w": 0}},
    {"id": "000000", "parent": "60", "attributes": {"w": 2}},
    {"id": "2", "parent": "4", "attributes": {"w": 3}},
    {"id": "00000", "parent": "4", "attributes": {"w": "0.5"}},
    {"id": "6", "parent": "60", "attributes": {"w": 3}, "end": "2026-01-12"},
    {"id": "6", "parent": "4", "attributes": {"w": 3}, "start": "2026-01-13"},
    {"id": "0", "parent": "6", "attributes": {"w": "0.5"}},
    {"id": "c", "parent": "6", "attributes": {"w": "0.5"}},
    {"id": "0000", "parent": "0", "attributes": {"w": 0}},
    {"id": "1", "parent": "6", "attributes": {"w": 1}, "end": "2026-01-01"},
    {"id": "1", "parent": "0", "attributes": {"w": 1}, "start": "2026-01-02", "end": "2026-01-05"},
    {"id": "1", "parent": "6", "attributes": {"w": 1}, "start": "2026-01-06"},
    {"id": "000", "parent": "c", "attributes": {"w": 1}, "end": "2026-08-05"},
    {
        "id": "000",
        "parent": "6",
        "attributes": {"w": 1},
        "start": "2026-08-06",
        "end": "2026-08-17",
    },
    {"id": "000", "parent": "c", "attributes": {"w": 1}, "start": "2026-08-18"},
]


@pytest.mark.parametrize("engine", ["vectorized", "reference"])
def test_reports_moving_in_and_out_leave_the_stayers_within_one_unit(engine):
    plan = TargetPlan.model_validate(
        {
            "name": "generated",
            "total": 138320,
            "fiscal_year": 2026,
            "calendar": {"kind": "monthly"},
            "grain": "week",
            "time": {
                "method": "seasonality",
                "seasonality": {m: m % 4 + 1 for m in range(1, 13)},
            },
            "org": [{"method": "attribute", "attribute": "w"}],
            "freed": "redistribute",
        }
    )
    grid = decompose(plan, OrgTree.from_records(MOVERS_IN_AND_OUT), engine=engine)
    # "1" and "000" move through "6", leaving "0" and "c" owing or owed a little of
    # theirs; the splits used to leave "0" 13/12 units ahead in FY2026-M11-W1.
    week = [p.label for p in grid.periods].index("FY2026-M11-W1")
    for node in ("0", "c"):
        gaps = _running_gaps(grid, node)
        assert all(abs(gap) < 1 for gap in gaps), (node, max(gaps, key=abs))
        assert abs(gaps[week]) < 1
    assert [p for p in grid.check() if p.code == "targets.incoherent_sum"] == []


@pytest.mark.parametrize("engine", ["vectorized", "reference"])
def test_reporting_lines_that_loop_over_the_year_still_split_exactly(engine):
    # b reports to a until June, a to b from July: no order puts every parent's year
    # before its reports', so the splits go period by period. 1200 equal over months
    # is 100 a month; each of a and b is the other's only report half the year.
    org = OrgTree.from_records(
        [
            {"id": "co"},
            {"id": "a", "parent": "co", "end": "2026-06-30"},
            {"id": "a", "parent": "b", "start": "2026-07-01"},
            {"id": "b", "parent": "a", "end": "2026-06-30"},
            {"id": "b", "parent": "co", "start": "2026-07-01"},
        ]
    )
    grid = decompose(_plan(total=1200, grain="month"), org, engine=engine)
    assert grid.value("a", "FY2026-H1") == grid.value("b", "FY2026-H1") == 600
    assert grid.value("a", "FY2026-H2") == grid.value("b", "FY2026-H2") == 600
    assert grid == decompose(_plan(total=1200, grain="month"), org)
    assert [p for p in grid.check() if p.code == "targets.incoherent_sum"] == []
