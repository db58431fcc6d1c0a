"""Proration of target incentive by days on the plan (`Plan.proration`, decision D31).

Every case runs both engines and asserts equal runs (and equal JSON); the figures are
worked by hand in the comments. Days are calendar days, both ends inclusive, of an
assignment clipped to the period (or to the fiscal year, for a yearly cap).

The scorecard plan pays 100% of the period's target-incentive share: two external
KPIs of weight 0.5 each, on a one-point curve paying 1 at any attainment >= 0, so each
KPI line pays half of the period's (prorated) share, and the second line rounds the
running sum (the first line rounds its half).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from salesflow.errors import InvalidValueError
from salesflow.incentives import (
    Assignment,
    Ledger,
    Line,
    Payees,
    PayoutRun,
    Plan,
    Samples,
    Transaction,
    calculate,
    load_plan,
    simulate,
)
from salesflow.money import Money
from salesflow.periods import Grain, RetailCalendar

C = "CNY"
YEAR = 2027
ONE_POINT = [{"attainment": 0, "payout": 1}]


def cny(amount: str | int) -> Money:
    return Money(str(amount), C)


def day(month: int, dom: int) -> dt.date:
    return dt.date(YEAR, month, dom)


def scorecard_plan(proration: str, **extra: object) -> Plan:
    kpis = [{"measure": m, "weight": "0.5", "curve": ONE_POINT} for m in ("nps", "csat")]
    return load_plan(
        {
            "id": "ae",
            "currency": C,
            "fiscal_year": YEAR,
            "rounding": "half_up",
            "proration": proration,
            "measures": {"nps": {"aggregate": "external"}, "csat": {"aggregate": "external"}},
            "components": [
                {"kind": "scorecard", "id": "card", "target_incentive": 1, "kpis": kpis}
            ],
            **extra,
        }
    )


def commission_plan(
    proration: str, *, component_cap: object = None, plan_cap: object = None
) -> Plan:
    """10% of every deal, rated individually per period; caps on target incentive."""
    commission: dict[str, object] = {
        "kind": "commission",
        "id": "commission",
        "measure": "bookings",
        "rating": "individual",
        "accumulate": "period",
        "table": {"tiers": [{"start": 0, "rate": "0.1"}]},
    }
    if component_cap is not None:
        commission["cap"] = {"target_incentive_multiple": component_cap}
    data: dict[str, object] = {
        "id": "ae",
        "currency": C,
        "fiscal_year": YEAR,
        "rounding": "half_up",
        "proration": proration,
        "measures": {"bookings": {}},
        "components": [commission],
    }
    if plan_cap is not None:
        data["cap"] = {"target_incentive_multiple": plan_cap}
    return load_plan(data)


def kpis(plan: Plan, payee: str = "ann") -> dict[str, dict[tuple[str, str], Decimal]]:
    labels = [p.label for p in plan.calendar.periods(YEAR, plan.period)]
    return {m: {(payee, label): Decimal(1) for label in labels} for m in ("nps", "csat")}


def both(
    plan: Plan | list[Plan],
    assignments: list[Assignment],
    period: str,
    *,
    deals: tuple[Transaction, ...] = (),
) -> PayoutRun:
    """The reference run of ``period``, each earlier period run and recorded first.

    Every run is checked equal (and equal as JSON) to the batch engine's. Recording the
    earlier periods keeps recalculation lines out of the statement.
    """
    first = plan[0] if isinstance(plan, list) else plan
    given = kpis(first) if "nps" in first.measures else None
    ledger = Ledger()
    for label in [p.label for p in first.calendar.periods(YEAR, first.period)]:
        runs = [
            calculate(
                plan, deals, assignments, period=label, ledger=ledger, kpis=given, engine=engine
            )
            for engine in ("reference", "batch")
        ]
        assert runs[0] == runs[1]
        assert runs[0].to_dict() == runs[1].to_dict()
        if label == period:
            return runs[0]
        ledger = ledger.record(runs[0])
    raise AssertionError(period)


def rows(run: PayoutRun, payee: str = "ann") -> list[tuple[str, str | None, str]]:
    return [(line.kind, _kpi(line), str(line.amount)) for line in run.statement(payee).lines]


def _kpi(line: Line) -> str | None:
    """The KPI of a scorecard line, with the days on the plan when prorated: "nps (16/31 days)"."""
    if line.days is None:
        return line.note
    return f"{line.note} ({line.days[0]}/{line.days[1]} days)"


def ann(start: dt.date | None, end: dt.date | None, target: int) -> Assignment:
    return Assignment("ann", "ae", start, end, target_incentive=cny(target))


# -- scorecard -------------------------------------------------------------------------


def test_a_july_16_joiner_is_paid_16_of_31_days_of_the_july_share() -> None:
    # TI 12,000 over 12 months: 1,000 a month. On the plan July 16-31: 16 of July's 31
    # days: 1,000 x 16/31 = 516.129032...; the nps line pays half, 258.064516... ->
    # 258.06; the running sum 516.129032... -> 516.13, so the csat line pays
    # 516.13 - 258.06 = 258.07. Rounded once: not 258.06 + 258.06.
    run = both(scorecard_plan("days"), [ann(day(7, 16), None, 12000)], "FY2027-M07")
    assert rows(run) == [
        ("scorecard", "nps (16/31 days)", "258.06 CNY"),
        ("scorecard", "csat (16/31 days)", "258.07 CNY"),
    ]
    assert str(run.statement("ann").total) == "516.13 CNY"
    line = run.statement("ann").lines[0]
    assert line.explain() == (
        "Scorecard 'card', KPI nps: attainment 100%; pays CN¥258.06 (16 of 31 days on the plan)."
    )
    assert line.explain("zh") == (
        "计分卡「card」 指标 nps\uff1a达成率 100%\uff0c发放 ¥258.06"
        "\uff08本期 31 天中在计划内 16 天\uff09\u3002"
    )


def test_without_proration_a_july_16_joiner_is_paid_the_whole_july_share() -> None:
    # proration: none (the default): the whole 1,000, 500 a KPI; the notes are the
    # measures alone, as before proration existed.
    run = both(scorecard_plan("none"), [ann(day(7, 16), None, 12000)], "FY2027-M07")
    assert rows(run) == [("scorecard", "nps", "500.00 CNY"), ("scorecard", "csat", "500.00 CNY")]
    assert run.statement("ann").lines[0].explain() == (
        "Scorecard 'card', KPI nps: attainment 100%; pays CN¥500.00."
    )


def test_a_payee_on_the_plan_all_month_is_not_prorated() -> None:
    # August, whole month: 1,000 x 31/31 = 1,000, no days in the notes.
    run = both(scorecard_plan("days"), [ann(day(7, 16), None, 12000)], "FY2027-M08")
    assert rows(run) == [("scorecard", "nps", "500.00 CNY"), ("scorecard", "csat", "500.00 CNY")]


@pytest.mark.parametrize(
    ("proration", "expected"),
    [
        # June has 30 days. June 1-10 at TI 24,000 (2,000 a month): 2,000 x 10/30 =
        # 666.666...; June 11-30 at TI 36,000 (3,000 a month): 3,000 x 20/30 = 2,000.
        # 2,666.666...: nps half 1,333.333... -> 1,333.33, the sum -> 2,666.67, csat
        # 2,666.67 - 1,333.33 = 1,333.34. On the plan all 30 days: no days noted.
        ("days", [("scorecard", "nps", "1333.33 CNY"), ("scorecard", "csat", "1333.34 CNY")]),
        # none: the assignment in force on June 30, TI 36,000: 3,000, 1,500 a KPI.
        ("none", [("scorecard", "nps", "1500.00 CNY"), ("scorecard", "csat", "1500.00 CNY")]),
    ],
)
def test_a_target_incentive_change_on_the_11th_blends_the_two_shares_by_days(
    proration: str, expected: list[tuple[str, str | None, str]]
) -> None:
    assignments = [ann(None, day(6, 10), 24000), ann(day(6, 11), None, 36000)]
    run = both(scorecard_plan(proration), assignments, "FY2027-M06")
    assert rows(run) == expected


def test_a_leavers_last_month_pays_the_days_worked_and_nothing_after() -> None:
    # Left on September 20: 20 of September's 30 days: 1,000 x 20/30 = 666.666...;
    # nps 333.333... -> 333.33, the sum -> 666.67, csat 333.34.
    plan = scorecard_plan("days")
    leaver = [ann(None, day(9, 20), 12000)]
    run = both(plan, leaver, "FY2027-M09")
    assert rows(run) == [
        ("scorecard", "nps (20/30 days)", "333.33 CNY"),
        ("scorecard", "csat (20/30 days)", "333.34 CNY"),
    ]
    # October: off the plan, a statement with nothing earned (decision D2).
    october = both(plan, leaver, "FY2027-M10")
    assert rows(october) == []
    assert str(october.statement("ann").total) == "0.00 CNY"


def test_a_4_4_5_period_is_prorated_by_its_own_days_not_a_calendar_months() -> None:
    # A 4-4-5 year ending on the last Saturday of December: FY2027 runs 2026-12-27 ..
    # 2027-12-25 (364 days); M03 is the 5-week month 2027-02-21 .. 2027-03-27 (35
    # days). The TI is split evenly over the 12 periods all the same: 12,000 -> 1,000.
    # Joined March 6: March 6-27 is 22 of M03's 35 days: 1,000 x 22/35 = 628.571428...;
    # nps 314.285714... -> 314.29, the sum -> 628.57, csat 628.57 - 314.29 = 314.28.
    calendar = RetailCalendar(pattern="4-4-5", year_end_month=12, year_end_weekday="saturday")
    march = calendar.periods(YEAR, Grain.MONTH)[2]
    assert (march.start, march.end, march.days) == (dt.date(2027, 2, 21), day(3, 27), 35)
    plan = scorecard_plan("days", calendar=calendar.model_dump(mode="json"))
    run = both(plan, [ann(day(3, 6), None, 12000)], "FY2027-M03")
    assert rows(run) == [
        ("scorecard", "nps (22/35 days)", "314.29 CNY"),
        ("scorecard", "csat (22/35 days)", "314.28 CNY"),
    ]


def test_a_calendar_month_joiner_on_march_6_is_paid_26_of_31_days() -> None:
    # The monthly calendar's March: March 6-31 is 26 of 31 days: 1,000 x 26/31 =
    # 838.709677...; nps 419.354838... -> 419.35, the sum -> 838.71, csat 419.36.
    run = both(scorecard_plan("days"), [ann(day(3, 6), None, 12000)], "FY2027-M03")
    assert rows(run) == [
        ("scorecard", "nps (26/31 days)", "419.35 CNY"),
        ("scorecard", "csat (26/31 days)", "419.36 CNY"),
    ]


@pytest.mark.parametrize("engine", ["reference", "batch"])
def test_every_assignment_in_a_prorated_period_needs_its_target_incentive(engine: str) -> None:
    # June 1-10 without a TI: proration reads it; without proration only the one in
    # force on June 30 is read, which has one (3,000 for June, 1,500 a KPI).
    assignments = [
        Assignment("ann", "ae", day(6, 1), day(6, 10)),
        ann(day(6, 11), None, 36000),
    ]
    unprorated = both(scorecard_plan("none"), assignments, "FY2027-M06")
    assert str(unprorated.statement("ann").total) == "3000.00 CNY"
    plan = scorecard_plan("days")
    with pytest.raises(InvalidValueError) as caught:
        calculate(
            plan, [], assignments, period="FY2027-M06", ledger=Ledger(), kpis=kpis(plan),
            engine=engine,
        )  # fmt: skip
    assert caught.value.code == "incentives.no_target_incentive"
    assert str(caught.value.location) == "assignments[0].target_incentive"


# -- yearly caps on target incentive ---------------------------------------------------


def july_deal(amount: int) -> tuple[Transaction, ...]:
    return (Transaction("t1", day(7, 5), cny(amount), "ann"),)


@pytest.mark.parametrize(
    ("proration", "cut"),
    [
        # Joined July 1, 2027 (not a leap year): July 1 - December 31 is
        # 31 + 31 + 30 + 31 + 30 + 31 = 184 of 365 days: 36,500 x 184/365 = 18,400.
        # A 200,000 deal pays 20,000, held to 18,400: a cut of -1,600.
        ("days", "-1600.00 CNY"),
        # none: the whole TI, 36,500: 20,000 is under it, no cut.
        ("none", None),
    ],
)
def test_a_july_1_joiners_component_cap_is_184_of_365_days_of_the_target_incentive(
    proration: str, cut: str | None
) -> None:
    plan = commission_plan(proration, component_cap=1)
    run = both(plan, [ann(day(7, 1), None, 36500)], "FY2027-M07", deals=july_deal(200000))
    expected = [("credit", None, "20000.00 CNY")]
    if cut is not None:
        expected.append(("cap", "per_year", cut))
    assert rows(run) == expected


@pytest.mark.parametrize(
    ("proration", "cut"),
    [
        # 0.5 x 36,500 x 184/365 = 9,200: 20,000 is cut by -10,800.
        ("days", "-10800.00 CNY"),
        # 0.5 x 36,500 = 18,250: cut by -1,750.
        ("none", "-1750.00 CNY"),
    ],
)
def test_a_july_1_joiners_plan_cap_is_prorated_too(proration: str, cut: str) -> None:
    plan = commission_plan(proration, plan_cap="0.5")
    run = both(plan, [ann(day(7, 1), None, 36500)], "FY2027-M07", deals=july_deal(200000))
    assert rows(run) == [("credit", None, "20000.00 CNY"), ("cap", "plan_per_year", cut)]


def test_a_prorated_target_incentive_cap_is_rounded_once_by_the_plan_mode() -> None:
    # 10,000 x 184/365 = 5,041.095890... -> 5,041.10 (half_up, at the fen). A 100,000
    # deal pays 10,000: cut by 5,041.10 - 10,000 = -4,958.90.
    plan = commission_plan("days", component_cap=1)
    run = both(plan, [ann(day(7, 1), None, 10000)], "FY2027-M07", deals=july_deal(100000))
    assert rows(run) == [("credit", None, "10000.00 CNY"), ("cap", "per_year", "-4958.90 CNY")]


@pytest.mark.parametrize(
    ("proration", "cut"),
    [
        # days: the cap is the year's, so a future assignment counts from March on:
        # January 1 - June 30 is 31 + 28 + 31 + 30 + 31 + 30 = 181 days at TI 36,500
        # (100 a day): 18,100; October 1 - December 31 is 31 + 30 + 31 = 92 days at TI
        # 109,500 (300 a day): 27,600. Limit 45,700; a 500,000 deal pays 50,000: -4,300.
        ("days", "-4300.00 CNY"),
        # none: the assignment used for March, TI 36,500: -13,500.
        ("none", "-13500.00 CNY"),
    ],
)
def test_future_days_of_a_later_assignment_count_toward_the_years_cap(
    proration: str, cut: str
) -> None:
    plan = commission_plan(proration, component_cap=1)
    assignments = [ann(None, day(6, 30), 36500), ann(day(10, 1), None, 109500)]
    deals = (Transaction("t1", day(3, 5), cny(500000), "ann"),)
    run = both(plan, assignments, "FY2027-M03", deals=deals)
    assert rows(run) == [("credit", None, "50000.00 CNY"), ("cap", "per_year", cut)]


def test_a_4_4_5_year_prorates_the_cap_over_its_364_days() -> None:
    # FY2027 of the 4-4-5 calendar: 2026-12-27 .. 2027-12-25, 364 days. Joined March
    # 6: March 6-31 26, April-November 30 + 31 + 30 + 31 + 31 + 30 + 31 + 30 = 244,
    # December 1-25 25: 295 days. TI 36,400 (100 a day): 29,500. A 400,000 deal in
    # M03 pays 40,000: cut by -10,500.
    calendar = RetailCalendar(pattern="4-4-5", year_end_month=12, year_end_weekday="saturday")
    year = calendar.year(YEAR)
    assert (year.start, year.end, year.days) == (dt.date(2026, 12, 27), day(12, 25), 364)
    data = commission_plan("days", component_cap=1).model_dump(mode="json")
    plan = load_plan({**data, "calendar": calendar.model_dump(mode="json")})
    deals = (Transaction("t1", day(3, 20), cny(400000), "ann"),)
    run = both(plan, [ann(day(3, 6), None, 36400)], "FY2027-M03", deals=deals)
    assert rows(run) == [("credit", None, "40000.00 CNY"), ("cap", "per_year", "-10500.00 CNY")]


# -- versions, the default, simulation -------------------------------------------------


def test_proration_defaults_to_none_and_round_trips() -> None:
    data = scorecard_plan("none").model_dump(mode="json")
    del data["proration"]
    plan = load_plan(data)
    assert plan.proration == "none"
    days = scorecard_plan("days")
    assert Plan.model_validate_json(days.model_dump_json()) == days


def test_an_unknown_proration_is_refused_at_its_path() -> None:
    with pytest.raises(ValueError, match="proration"):
        scorecard_plan("months")


@pytest.mark.parametrize("engine", ["reference", "batch"])
def test_versions_with_different_proration_are_refused(engine: str) -> None:
    first = scorecard_plan("days", effective_to="2027-06-30")
    second = scorecard_plan("none", effective_from="2027-07-01")
    with pytest.raises(InvalidValueError) as caught:
        calculate(
            [first, second], [], [ann(None, None, 12000)], period="FY2027-M01",
            ledger=Ledger(), kpis=kpis(first), engine=engine,
        )  # fmt: skip
    assert caught.value.code == "incentives.version_mismatch"
    assert str(caught.value.location) == "plan[1].proration"


def test_versions_sharing_days_proration_prorate_a_joiner() -> None:
    # Two versions, both "days": the joiner of July 16 is paid 16/31 of 1,000 in July
    # under the second version, as in the single-version case: 258.06 + 258.07.
    first = scorecard_plan("days", effective_to="2027-06-30")
    second = scorecard_plan("days", effective_from="2027-07-01")
    run = both([first, second], [ann(day(7, 16), None, 12000)], "FY2027-M07")
    assert str(run.statement("ann").total) == "516.13 CNY"


def test_simulate_gives_the_same_figures_under_days_and_none() -> None:
    # A simulated payee is on the plan the whole year with one TI: every period is whole
    # and the year's TI is all of it. TI 12,000 x 1.5 = 18,000: ann's 120% of 1,000,000
    # at 10% = 120,000 is held to 18,000; bob's 20,000 too.
    found = []
    for proration in ("days", "none"):
        data = commission_plan(proration, component_cap="1.5").model_dump(mode="json")
        data["measures"] = {"bookings": {"quota": True}}
        data["components"][0].update({"rating": "cumulative", "accumulate": "year"})
        payees = Payees({"bookings": [1_000_000, 200_000]}, target_incentive=[12000, 12000])
        result = simulate(
            load_plan(data), payees, attainment=Samples([[1.2, 1.0]]), scenarios=1, seed=1
        )
        found.append([result.money(v) for v in result.payee_totals])
    assert found[0] == found[1] == [cny("18000"), cny("18000")]
