"""Unit tests for simulate, compare and the plots; figures worked by hand in comments."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

import numpy as np
import pytest

from salesflow.errors import CurrencyMismatchError, InvalidValueError
from salesflow.incentives import (
    Assignment,
    Bootstrap,
    History,
    Ledger,
    LogNormal,
    Normal,
    Payees,
    Samples,
    Transaction,
    Uniform,
    calculate,
    compare,
    load_plan,
    load_rate_table,
    payout,
    simulate,
)
from salesflow.incentives import _simulate as simulate_module
from salesflow.money import Money, allocate_units

PLAN = load_plan("""
id: ae
currency: CNY
fiscal_year: 2027
rounding: half_up
measures: {bookings: {quota: true}}
components:
  - kind: commission
    id: commission
    measure: bookings
    rating: cumulative
    accumulate: year
    table: {basis: attainment, tiers: [{start: 0, end: 1, rate: "0.05"}, {start: 1, rate: "0.08"}]}
    gate: {measure: bookings, attainment: "0.5"}
    cap: {target_incentive_multiple: 2}
  - kind: milestone
    id: club
    measure: bookings
    attainment: "1.2"
    amount: 10000
    accumulate: year
""")
PAYEES = Payees({"bookings": [1_000_000, 500_000]}, target_incentive=[50_000, 10_000])
# Three scenarios (rows) of two payees (columns).
GIVEN = Samples([[1.2, 0.4], [0.9, 1.5], [0.5, 2.0]])


def yuan(units: int) -> Decimal:
    return Decimal(units) / 100


def given_run(**kwargs):
    return simulate(PLAN, PAYEES, attainment=GIVEN, scenarios=3, seed=1, **kwargs)


# --- the payout of a year, exactly ----------------------------------------------------


def test_year_payout_follows_tiers_gate_cap_and_milestone():
    result = given_run(keep=True)
    # payee 0 (quota 1M, cap 2 x 50k): 1.2 -> 1M x 5% + 0.2M x 8% = 66,000 + club 10,000;
    #   0.9 -> 45,000; 0.5 -> the gate (>= 50%) passes: 25,000.
    # payee 1 (quota 500k, cap 2 x 10k = 20k): 0.4 -> gated: 0; 1.5 -> 25,000 + 20,000
    #   capped to 20,000, + club 10,000; 2.0 -> 65,000 capped to 20,000 + club 10,000.
    assert result.payouts.tolist() == [
        [7_600_000, 0],
        [4_500_000, 3_000_000],
        [2_500_000, 3_000_000],
    ]
    assert result.total.tolist() == [7_600_000, 7_500_000, 5_500_000]
    assert result.components["commission"].tolist() == [6_600_000, 6_500_000, 4_500_000]
    assert result.components["club"].tolist() == [1_000_000] * 3


def test_year_value_is_attainment_times_quota_in_minor_units():
    result = given_run(keep=True)
    # 1.2 x 1,000,000.00 CNY = 120,000,000 fen; 0.4 x 500,000.00 = 20,000,000 fen
    assert result.values["bookings"][0].tolist() == [120_000_000, 20_000_000]


MIXED_TABLE = load_rate_table("""
basis: attainment
boundary: down
tiers:
  - {start: 0, end: "0.5", rate: "0.021"}
  - {start: "0.5", end: "1.0", rate: "0.05", style: retroactive}
  - {start: "1.0", end: "1.37", rate: "0.083333"}
  - {start: "1.37", rate: "0.02", style: retroactive}
""")


@pytest.mark.parametrize("rounding", ["half_even", "half_up", "half_down", "floor", "ceiling"])
def test_simulated_commission_equals_the_scalar_payout_of_each_year_value(rounding):
    plan = PLAN.model_copy(
        update={
            "rounding": rounding,
            "components": (
                PLAN.components[0].model_copy(
                    update={"table": MIXED_TABLE, "gate": None, "cap": None}
                ),
            ),
        }
    )
    rng = np.random.default_rng(5)
    quotas = [str(Decimal(int(q)) / 100) for q in rng.integers(1_000_000, 900_000_000, 25)]
    result = simulate(
        plan,
        Payees({"bookings": quotas}),
        attainment=Normal(1.0, 0.5),
        scenarios=40,
        seed=11,
        keep=True,
    )
    for p, quota in enumerate(quotas):
        for s in range(40):
            value = Money.from_minor_units(int(result.values["bookings"][s, p]), "CNY")
            expected = payout(MIXED_TABLE, value, quota=Money(quota, "CNY")).round(
                rounding=rounding
            )
            assert int(result.payouts[s, p]) == expected.to_minor_units(), (p, s)


def test_simulated_payout_equals_the_reference_engine_on_a_year_booked_in_its_last_month():
    payees = Payees(
        {"bookings": ["1000000", "450000.37", "80000"]}, target_incentive=[50_000, 9_000, 4_000]
    )
    result = simulate(PLAN, payees, attainment=LogNormal(1.0, 0.4), scenarios=3, seed=3, keep=True)
    periods = [p.label for p in PLAN.calendar.periods(2027, PLAN.period)]
    quotas = {}
    for index, payee in enumerate(payees.ids):
        annual = int(payees.quotas["bookings"][index] * 100)
        for label, part in zip(periods, allocate_units(annual, [1] * 12), strict=True):
            quotas[(payee, label)] = Money.from_minor_units(part, "CNY")
    assignments = [
        Assignment(payee, "ae", target_incentive=Money(ti, "CNY"))
        for payee, ti in zip(payees.ids, payees.target_incentive, strict=True)
    ]
    for s in range(3):
        deals = [
            Transaction(
                f"T{p}", dt.date(2027, 12, 15), Money.from_minor_units(int(v), "CNY"), payee
            )
            for p, (payee, v) in enumerate(
                zip(payees.ids, result.values["bookings"][s], strict=True)
            )
        ]
        run = calculate(
            PLAN,
            deals,
            assignments,
            period=periods[-1],
            ledger=Ledger(),
            quotas={"bookings": quotas},
            engine="reference",
        )
        paid = [run.statement(payee).total.to_minor_units() for payee in payees.ids]
        assert paid == result.payouts[s].tolist()


CARD = load_plan("""
id: card
currency: CNY
fiscal_year: 2027
period: quarter
rounding: half_even
measures: {renewals: {quota: true}, csat: {aggregate: external}}
components:
  - kind: scorecard
    id: card
    target_incentive: "0.5"
    kpis:
      - measure: renewals
        weight: "0.5"
        curve: [{attainment: "0.5", payout: "0.5"}, {attainment: 1, payout: 1},
                {attainment: "1.5", payout: 2}]
      - measure: csat
        weight: "0.5"
        curve: [{attainment: "0.8", payout: 1}]
""")
CARD_PAYEES = Payees({"renewals": [100_000]}, target_incentive=["10000.02"])
CARD_DRAWS = {
    "renewals": Samples([[1.2], [0.4], [0.75], [1.0]]),
    "csat": Samples([[0.9], [0.75], [0.8], [0.9]]),
}


def test_scorecard_pays_every_period_at_the_year_attainment():
    result = simulate(CARD, CARD_PAYEES, attainment=CARD_DRAWS, scenarios=4, seed=1)
    # TI 1,000,002 fen over 4 quarters: 250,001 x 2, 250,000 x 2; x 0.5 share:
    # 125,000.5 and 125,000.
    # 1.2 / 0.9: c = 1 + 0.2 x 2 = 1.4 and 1 -> X = 1.2: 150,000.6 -> 150,001 (x2), 150,000 (x2)
    # 0.4 / 0.75: below both first points -> 0
    # 0.75 / 0.8: c = 0.75 and 1 -> X = 0.875: 109,375.4375 -> 109,375 and 109,375 -> 437,500
    # 1.0 / 0.9: X = 1: 125,000.5 is a half -> 125,000 (even) -> 500,000
    assert result.total.tolist() == [600_002, 0, 437_500, 500_000]


def test_scorecard_rounds_an_exact_half_by_the_plan_mode():
    plan = CARD.model_copy(update={"rounding": "half_up"})
    result = simulate(plan, CARD_PAYEES, attainment=CARD_DRAWS, scenarios=4, seed=1)
    # as above, but 125,000.5 -> 125,001 (and 150,000.6 -> 150,001): 2 x 125,001 + 2 x 125,000
    assert result.total.tolist() == [600_002, 0, 437_500, 500_002]


def test_scorecard_is_exact_on_continuous_draws():
    payees = Payees({"renewals": ["123456.78", "98765.43"]}, target_incentive=["77777.77", "123"])
    result = simulate(
        CARD,
        payees,
        attainment={"renewals": Normal(1.0, 0.5), "csat": Uniform(0.6, 1.1)},
        scenarios=300,
        seed=4,
        keep=True,
    )
    from fractions import Fraction  # noqa: PLC0415 - the independent exact computation

    def curve(a, points):
        if a < points[0][0]:
            return Fraction(0)
        for (a0, p0), (a1, p1) in itertools.pairwise(points):
            if a < a1:
                return p0 + (a - a0) * (p1 - p0) / (a1 - a0)
        return points[-1][1]

    renewals = [
        (Fraction(1, 2), Fraction(1, 2)),
        (Fraction(1), Fraction(1)),
        (Fraction(3, 2), Fraction(2)),
    ]
    for p in range(2):
        quota = int(payees.quotas["renewals"][p] * 100)
        parts = allocate_units(int(payees.target_incentive[p] * 100), [1] * 4)
        for s in range(300):
            a1 = Fraction(int(result.values["renewals"][s, p]), quota)
            a2 = Fraction(int(result.values["csat"][s, p]), 10**6)
            x = curve(a1, renewals) / 2 + curve(a2, [(Fraction(4, 5), Fraction(1))]) / 2
            expected = sum(round(part * Fraction(1, 2) * x) for part in parts)  # half-even
            assert int(result.payouts[s, p]) == expected, (p, s)


# --- summaries, checked against figures computed by hand -------------------------------


def test_summary_gives_exact_means_and_percentiles_that_occurred():
    summary = given_run().summary()
    # totals 76,000 / 75,000 / 55,000: mean 206,000 / 3 = 68,666.67 (half_up);
    # inverted CDF on [55,000, 75,000, 76,000]: p5, p25 -> 55,000; p50 -> 75,000; p75, p95 -> 76,000
    assert summary["total_cost"] == {
        "mean": Decimal("68666.67"),
        "min": Decimal("55000.00"),
        "p5": Decimal("55000.00"),
        "p25": Decimal("55000.00"),
        "p50": Decimal("75000.00"),
        "p75": Decimal("76000.00"),
        "p95": Decimal("76000.00"),
        "max": Decimal("76000.00"),
    }
    # sales: 1.4M, 1.65M, 1.5M; overall cost of sales 206,000 / 4,550,000
    assert summary["sales"]["mean"] == Decimal("1516666.67")
    assert summary["cost_of_sales"]["overall"] == pytest.approx(206_000 / 4_550_000)
    # payee-years below 100%: (0, 0.9), (0, 0.5), (1, 0.4); at or above: the other three
    assert summary["tier_shares"] == {"commission": [0.5, 0.5]}
    assert summary["components"] == {"commission": Decimal("58666.67"), "club": Decimal("10000.00")}
    # 12 payee-years... 2 payees x 3 scenarios: (146,000 + 60,000) / 6 = 34,333.33
    assert summary["payee_mean"] == Decimal("34333.33")


def test_cost_of_sales_per_scenario_is_payout_over_sales():
    ratios = given_run().cost_of_sales()
    assert ratios.tolist() == pytest.approx(
        [76_000 / 1_400_000, 75_000 / 1_650_000, 55_000 / 1_500_000]
    )


def test_tier_counts_are_payees_per_tier_per_scenario():
    # scenario 0: payee 0 at 120% (tier 2), payee 1 at 40% (tier 1); and so on
    assert given_run().tier_counts["commission"].tolist() == [[1, 1], [1, 1], [1, 1]]


def test_payee_percentiles_are_over_that_payees_scenarios():
    result = given_run(percentiles=(50, 100))
    # payee 0: 76,000 / 45,000 / 25,000; payee 1: 0 / 30,000 / 30,000
    assert result.payee_percentiles.tolist() == [[4_500_000, 7_600_000], [3_000_000, 3_000_000]]
    assert result.payee_totals.tolist() == [14_600_000, 6_000_000]


def test_frames_hold_decimal_money_per_scenario_and_per_payee():
    pytest.importorskip("pandas")
    result = given_run(percentiles=(50,))
    frame = result.to_frame()
    assert list(frame.columns) == [
        "scenario",
        "total",
        "commission",
        "club",
        "sales",
        "cost_of_sales",
    ]
    assert frame["total"].tolist() == [
        Decimal("76000.00"),
        Decimal("75000.00"),
        Decimal("55000.00"),
    ]
    payees = result.payee_frame()
    assert payees.to_dict("list") == {
        "payee": ["0", "1"],
        "mean": [Decimal("48666.67"), Decimal("20000.00")],  # 146,000 / 3; 60,000 / 3
        "p50": [Decimal("45000.00"), Decimal("30000.00")],
    }


def test_payees_from_a_frame_read_the_named_columns():
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame({"rep": ["ann", "bob"], "q": [1_000_000, 500_000], "ti": [50_000, 10_000]})
    payees = Payees.from_frame(frame, quotas={"bookings": "q"}, target_incentive="ti", payee="rep")
    result = simulate(PLAN, payees, attainment=GIVEN, scenarios=3, seed=1)
    assert payees.ids == ("ann", "bob")
    assert result.total.tolist() == [7_600_000, 7_500_000, 5_500_000]


# --- reproducibility ---------------------------------------------------------------------


def test_the_same_seed_gives_the_same_figures_and_another_seed_others():
    payees = Payees({"bookings": [1_000_000] * 30}, target_incentive=[50_000] * 30)
    first = simulate(PLAN, payees, attainment=Normal(1.0, 0.3), scenarios=500, seed=7)
    again = simulate(PLAN, payees, attainment=Normal(1.0, 0.3), scenarios=500, seed=7)
    other = simulate(PLAN, payees, attainment=Normal(1.0, 0.3), scenarios=500, seed=8)
    assert np.array_equal(first.total, again.total)
    assert np.array_equal(first.payee_percentiles, again.payee_percentiles)
    assert not np.array_equal(first.total, other.total)


def test_figures_do_not_depend_on_the_block_size(monkeypatch):
    payees = Payees({"bookings": [1_000_000] * 30}, target_incentive=[50_000] * 30)
    whole = simulate(PLAN, payees, attainment=Normal(1.0, 0.3), scenarios=500, seed=7)
    monkeypatch.setattr(simulate_module, "_BLOCK_VALUES", 1_000)  # two payees per block
    blocks = simulate(PLAN, payees, attainment=Normal(1.0, 0.3), scenarios=500, seed=7)
    assert np.array_equal(whole.total, blocks.total)
    assert np.array_equal(whole.tier_counts["commission"], blocks.tier_counts["commission"])


def test_plans_reading_the_same_measure_see_the_same_attainments():
    other = PLAN.model_copy(update={"id": "other", "components": PLAN.components[1:]})
    payees = Payees({"bookings": [1_000_000] * 5}, target_incentive=[50_000] * 5)
    one = simulate(PLAN, payees, attainment=Normal(1.0, 0.3), scenarios=50, seed=2, keep=True)
    two = simulate(other, payees, attainment=Normal(1.0, 0.3), scenarios=50, seed=2, keep=True)
    assert np.array_equal(one.values["bookings"], two.values["bookings"])


# --- distributions -------------------------------------------------------------------------


def test_normal_draws_are_clipped_at_zero():
    draws = Normal(0.0, 1.0).draw(np.random.default_rng(1), 0, 10_000)
    assert draws.min() == 0.0
    assert 0.45 < (draws == 0).mean() < 0.55  # half of a normal around 0 is negative


def test_lognormal_draws_have_the_mean_and_sd_asked_for():
    draws = LogNormal(1.1, 0.3).draw(np.random.default_rng(1), 0, 400_000)
    assert draws.min() > 0
    assert draws.mean() == pytest.approx(1.1, rel=0.01)
    assert draws.std() == pytest.approx(0.3, rel=0.02)


def test_uniform_and_per_payee_parameters():
    uniform = Uniform([0.5, 2.0], [0.6, 2.5])
    rng = np.random.default_rng(1)
    assert 0.5 <= uniform.draw(rng, 0, 1000).min() <= uniform.draw(rng, 0, 1000).max() < 0.6
    assert uniform.draw(rng, 1, 1000).min() >= 2.0


def test_bootstrap_resamples_pooled_or_each_payees_own_history():
    pooled = Bootstrap([0.8, 1.1, 1.3]).draw(np.random.default_rng(1), 0, 1000)
    assert set(pooled.tolist()) == {0.8, 1.1, 1.3}
    own = Bootstrap([[0.5, 2.0], [0.6, 2.1]])  # two years, two payees
    assert set(own.draw(np.random.default_rng(1), 1, 1000).tolist()) == {2.0, 2.1}


# --- errors ---------------------------------------------------------------------------------


def plan_with(component: str, measures: str = "{bookings: {quota: true}}", extra: str = "") -> str:
    return f"""
id: x
currency: CNY
fiscal_year: 2027
rounding: half_up
measures: {measures}
{extra}
components:
  - {component}
"""


COMMISSION = (
    "{kind: commission, id: c, measure: bookings, rating: cumulative, accumulate: year, "
    "table: {tiers: [{start: 0, rate: '0.05'}]}"
)


@pytest.mark.parametrize(
    ("component", "extra", "location"),
    [
        (
            "{kind: bonus, id: b, measure: bookings, amount: 100, per: transaction}",
            "",
            "plan.components[0]",
        ),
        (
            "{kind: pool, id: b, measure: bookings, group_by: team, amount: 100, split: equal}",
            "",
            "plan.components[0]",
        ),
        (
            "{kind: contest, id: b, measure: bookings, prizes: [1], ties: same, accumulate: year}",
            "",
            "plan.components[0]",
        ),
        (
            "{kind: milestone, id: b, measure: bookings, value: 1, amount: 1, accumulate: period}",
            "",
            "plan.components[0].accumulate",
        ),
        (COMMISSION.replace("cumulative", "individual") + "}", "", "plan.components[0].rating"),
        (COMMISSION.replace("year", "period") + "}", "", "plan.components[0].accumulate"),
        (COMMISSION + ", cap: {per_period: 10}}", "", "plan.components[0].cap.per_period"),
        (
            COMMISSION + ", cap: {per_transaction: 10}}",
            "",
            "plan.components[0].cap.per_transaction",
        ),
        (COMMISSION + ", floor: {per_period: 10}}", "", "plan.components[0].floor"),
        (COMMISSION + "}", "draw: {amount: 100, recoverable: true}", "plan.draw"),
    ],
)
def test_what_cannot_be_simulated_is_refused_by_name(component, extra, location):
    plan = load_plan(plan_with(component, extra=extra))
    with pytest.raises(InvalidValueError) as caught:
        simulate(plan, Payees({"bookings": [1]}), attainment=Normal(1, 0), scenarios=1, seed=1)
    assert caught.value.code == "incentives.not_simulable"
    assert str(caught.value.location) == location


@pytest.mark.parametrize(
    ("kwargs", "code", "location"),
    [
        ({"seed": -1}, "incentives.invalid_seed", "seed"),
        ({"seed": None}, "incentives.invalid_seed", "seed"),
        ({"scenarios": 0}, "incentives.invalid_count", "scenarios"),
        ({"percentiles": (101,)}, "incentives.invalid_percentile", "percentiles"),
        (
            {"attainment": Samples([[1.0, 1.0]])},
            "incentives.invalid_distribution",
            "attainment.bookings.values",
        ),
        (
            {"attainment": Normal([1.0, 1.0, 1.0], 0.1)},
            "incentives.invalid_distribution",
            "attainment.bookings.mean",
        ),
        (
            {"attainment": {"revenue": Normal(1, 0)}},
            "incentives.unknown_measure",
            "attainment.revenue",
        ),
        ({"attainment": {}}, "incentives.no_distribution", "attainment.bookings"),
        ({"payees": Payees({"revenue": [1, 2]})}, "incentives.no_quota", "payees.quotas.bookings"),
        (
            {"payees": Payees({"bookings": [1, 0]}, target_incentive=[1, 1])},
            "incentives.zero_quota",
            "payees.quotas.bookings[1]",
        ),
        (
            {"payees": Payees({"bookings": ["1.005", 1]}, target_incentive=[1, 1])},
            "incentives.not_on_minor_unit",
            "payees.quotas.bookings[0]",
        ),
        (
            {"payees": Payees({"bookings": [1, 1]})},
            "incentives.no_target_incentive",
            "payees.target_incentive",
        ),
        ({"sales": "club"}, "incentives.unknown_measure", "sales"),
    ],
)
def test_bad_input_is_refused_naming_where(kwargs, code, location):
    arguments = {"payees": PAYEES, "attainment": GIVEN, "scenarios": 3, "seed": 1, **kwargs}
    payees = arguments.pop("payees")
    with pytest.raises(InvalidValueError) as caught:
        simulate(PLAN, payees, **arguments)
    assert caught.value.code == code
    assert str(caught.value.location) == location


def test_keeping_too_many_values_is_refused():
    payees = Payees({"bookings": [1] * 1000}, target_incentive=[1] * 1000)
    with pytest.raises(InvalidValueError, match="at most 50,000,000"):
        simulate(PLAN, payees, attainment=Normal(1, 0), scenarios=60_000, seed=1, keep=True)


@pytest.mark.parametrize(
    ("build", "location"),
    [
        (lambda: Payees({"bookings": [1.5]}), "payees.quotas.bookings[0]"),
        (lambda: Payees({"bookings": [1, 2]}, target_incentive=[1]), "payees"),
        (lambda: Payees({"bookings": [1, 2]}, ids=["a", "a"]), "payees.ids[1]"),
        (lambda: Normal(1.0, -0.1), "sd"),
        (lambda: LogNormal(0, 0.1), "mean"),
        (lambda: Uniform(1.0, 0.5), "high"),
        (lambda: Bootstrap([1.0, float("nan")]), "history[1]"),
        (lambda: Samples([1.0, 2.0]), "values"),
    ],
)
def test_bad_payees_and_distributions_fail_where_they_are_made(build, location):
    with pytest.raises(InvalidValueError) as caught:
        build()
    assert str(caught.value.location) == location


def test_payee_amounts_in_another_currency_are_refused():
    payees = Payees({"bookings": [Money("1", "USD")]}, target_incentive=[Money("1", "USD")])
    with pytest.raises(CurrencyMismatchError):
        simulate(PLAN, payees, attainment=Normal(1, 0), scenarios=1, seed=1)


# --- compare -----------------------------------------------------------------------------------


FLAT = PLAN.model_copy(
    update={
        "id": "flat",
        "components": (
            PLAN.components[0].model_copy(
                update={
                    "table": load_rate_table({"tiers": [{"start": 0, "rate": "0.06"}]}),
                    "gate": None,
                    "cap": None,
                }
            ),
        ),
    }
)


def test_compare_on_scenarios_puts_the_plans_side_by_side():
    table = compare([PLAN, FLAT], PAYEES, attainment=GIVEN, scenarios=3, seed=1).table()
    # FLAT pays 6% of the year value: payee 0 72,000 / 54,000 / 30,000; payee 1 12,000 /
    # 45,000 / 60,000. Totals 84,000 / 99,000 / 90,000: mean 91,000.
    assert table["total cost, mean"] == {"ae": Decimal("68666.67"), "flat": Decimal("91000.00")}
    # payee means: ae 48,666.67 and 20,000; flat 52,000 and 39,000: both paid more
    assert table["payees paid more on average than under ae"] == {"ae": 0, "flat": 2}
    # payee-years paid more under flat: all but payee 0 at 120% (76,000 > 72,000): 5 of 6
    assert table["payee-years paid more than under ae"] == {
        "ae": None,
        "flat": pytest.approx(5 / 6),
    }
    assert table["payee-years in commission tier 1"] == {"ae": 0.5, "flat": 1.0}
    assert table["cost of sales"]["flat"] == pytest.approx(273_000 / 4_550_000)


def test_compare_on_history_runs_calculate_for_every_period():
    deals = [
        Transaction("T1", dt.date(2027, 2, 1), Money("700000", "CNY"), "ann"),
        Transaction("T2", dt.date(2027, 8, 1), Money("500000", "CNY"), "ann"),
        Transaction("T3", dt.date(2027, 5, 1), Money("600000", "CNY"), "bob"),
    ]
    quarterly = PLAN.model_copy(update={"period": "quarter", "components": PLAN.components[:1]})
    flat = FLAT.model_copy(update={"period": "quarter"})
    quotas = {
        (p, f"FY2027-Q{k}"): Money("250000", "CNY") for p in ("ann", "bob") for k in range(1, 5)
    }
    assignments = [
        Assignment(p, plan, target_incentive=Money("100000", "CNY"))
        for p in ("ann", "bob")
        for plan in ("ae", "flat")
    ]
    history = History(deals, assignments, quotas={"bookings": quotas}, engine="reference")
    table = compare([quarterly, flat], history=history).table()
    # ann 1.2M on an annual quota of 1M: 50,000 + 16,000; bob 600k: 30,000. Flat 6%: 72,000, 36,000
    assert table["total cost"] == {"ae": Decimal("96000.00"), "flat": Decimal("108000.00")}
    assert table["sales"] == {"ae": Decimal("1800000.00"), "flat": Decimal("1800000.00")}
    assert table["payees ending the year in commission tier 2"] == {"ae": 1, "flat": 0}
    assert table["payees paid more than under ae"] == {"ae": 0, "flat": 2}


def test_compare_needs_two_plans_and_one_basis():
    with pytest.raises(InvalidValueError, match="at least two plans"):
        compare([PLAN], PAYEES, attainment=GIVEN, scenarios=3, seed=1)
    with pytest.raises(InvalidValueError, match="history= alone"):
        compare([PLAN, FLAT], PAYEES, history=History([], []))
    with pytest.raises(InvalidValueError, match="needs payees"):
        compare([PLAN, FLAT], PAYEES, attainment=GIVEN, scenarios=3)


# --- plots -------------------------------------------------------------------------------------


@pytest.fixture
def pyplot():
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415 - after the backend is chosen

    yield plt
    plt.close("all")


def test_payout_curve_draws_each_component_the_total_and_the_tier_edges(pyplot):  # noqa: ARG001
    from salesflow.incentives import plot_payout_curve  # noqa: PLC0415

    ax = plot_payout_curve(
        PLAN, quota=1_000_000, target_incentive=50_000, attainment=(0, 2), points=201
    )
    lines = {line.get_label(): line for line in ax.get_lines()}
    assert {"commission", "club", "total"} <= set(lines)
    total = lines["total"]
    x, y = total.get_xdata(), total.get_ydata()
    # at 120%: 66,000 + the club's 10,000; at 40%: gated to 0;
    # at 200%: 50k + 80k = 130k, capped at 2 x 50k = 100k, + the club's 10k
    assert y[np.flatnonzero(np.isclose(x, 120))[0]] == 76_000
    assert y[np.flatnonzero(np.isclose(x, 40))[0]] == 0
    assert y[-1] == 110_000
    edges = sorted(line.get_xdata()[0] for line in ax.get_lines() if line.get_linestyle() == ":")
    assert edges == [50, 100, 120]  # the gate, tier 2, the club
    assert ax.get_xlabel() == "attainment (% of quota)"
    assert ax.get_ylabel() == "year payout (CNY)"


def test_distribution_plot_marks_the_mean_and_percentiles(pyplot):  # noqa: ARG001
    from salesflow.incentives import plot_distribution  # noqa: PLC0415

    ax = plot_distribution(given_run(percentiles=(50,)), bins=10)
    assert len(ax.patches) == 10
    marks = {line.get_label(): line.get_xdata()[0] for line in ax.get_lines()}
    assert marks["mean"] == pytest.approx(206_000 / 3)
    assert marks["p50"] == 75_000
    assert ax.get_xlabel() == "total year payout (CNY)"


def test_plots_without_matplotlib_name_the_extra(monkeypatch):
    import importlib.util  # noqa: PLC0415

    from salesflow.incentives import plot_distribution  # noqa: PLC0415

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "matplotlib" else real(name, *a),
    )
    with pytest.raises(ImportError, match=r"salesflow\[plot\]"):
        plot_distribution(given_run())


def test_a_milestone_on_a_count_is_reached_at_the_next_whole_count():
    plan = load_plan(
        plan_with(
            "{kind: milestone, id: m, measure: deals, value: '2.5', amount: 100, accumulate: year}",
            measures="{deals: {aggregate: count}}",
        )
    )
    payees = Payees({"deals": [10]})
    result = simulate(plan, payees, attainment=Samples([[0.2], [0.3]]), scenarios=2, seed=1)
    # 0.2 x 10 deals = 2 deals: below 2.5; 0.3 x 10 = 3 deals: reached, pays 100.00
    assert result.total.tolist() == [0, 10_000]


# --- regressions from the review of the simulation -------------------------------------------


CSAT_CLUB = """
id: csat
currency: CNY
fiscal_year: 2027
period: quarter
rounding: half_up
measures: {csat: {aggregate: external}}
components:
  - {kind: milestone, id: club, measure: csat, value: "4.5", amount: 1000, accumulate: year}
"""


def test_a_milestone_value_on_an_external_kpi_is_compared_with_the_kpi_itself():
    plan = load_plan(CSAT_CLUB)
    draws = Samples([[3.0], [0.2], [4.6], [4.5], [4.499999]])
    result = simulate(plan, Payees({}, target_incentive=[0]), attainment=draws, scenarios=5, seed=1)
    # a CSAT of 4.5 or more earns 1,000.00: 3.0, 0.2 and 4.499999 fall short; 4.6 and 4.5 reach
    assert result.total.tolist() == [0, 0, 100_000, 100_000, 0]


VERSION = """
id: h2
currency: CNY
fiscal_year: 2027
rounding: half_up
{dates}
measures: {{bookings: {{}}}}
components:
  - {{kind: commission, id: c, measure: bookings, rating: cumulative, accumulate: year,
     table: {{tiers: [{{start: 0, rate: "0.05"}}]}}}}
"""


@pytest.mark.parametrize(
    ("dates", "location"),
    [
        ("effective_from: 2027-07-01", "plan.effective_from"),
        ("effective_to: 2027-06-30", "plan.effective_to"),
        ("effective_from: 2027-01-01\neffective_to: 2027-12-30", "plan.effective_to"),
    ],
)
def test_a_plan_version_for_part_of_the_year_is_refused(dates, location):
    plan = load_plan(VERSION.format(dates=dates))
    with pytest.raises(InvalidValueError) as caught:
        simulate(plan, Payees({"bookings": [1]}), attainment=Normal(1, 0), scenarios=1, seed=1)
    assert caught.value.code == "incentives.not_simulable"
    assert str(caught.value.location) == location
    assert "'h2'" in caught.value.message


def test_a_plan_version_for_the_whole_year_is_simulated():
    plan = load_plan(VERSION.format(dates="effective_from: 2027-01-01\neffective_to: 2027-12-31"))
    result = simulate(
        plan, Payees({"bookings": [1_200_000]}), attainment=Samples([[1.0]]), scenarios=1, seed=1
    )
    assert result.total.tolist() == [6_000_000]  # 5% of 1,200,000.00


def test_several_versions_of_a_plan_are_refused_naming_the_plan():
    first = load_plan(VERSION.format(dates="effective_to: 2027-06-30"))
    second = load_plan(VERSION.format(dates="effective_from: 2027-07-01"))
    payees = Payees({"bookings": [1]})
    with pytest.raises(InvalidValueError) as caught:
        simulate([first, second], payees, attainment=Normal(1, 0), scenarios=1, seed=1)
    assert caught.value.code == "incentives.not_simulable"
    assert str(caught.value.location) == "plan"
    assert "'h2'" in caught.value.message
    with pytest.raises(InvalidValueError) as caught:
        compare([PLAN, second], payees, attainment=Normal(1, 0), scenarios=1, seed=1)
    assert caught.value.code == "incentives.not_simulable"
    assert str(caught.value.location) == "plan.effective_from"


NPS_GATE = """
id: g
currency: CNY
fiscal_year: 2027
period: quarter
rounding: half_up
measures: {bookings: {}, nps: {aggregate: external, quota: true}}
components:
  - {component}
"""

NPS_MILESTONE = (
    "{kind: milestone, id: m, measure: nps, attainment: '0.8', amount: 1, accumulate: year}"
)


@pytest.mark.parametrize(
    ("component", "location"),
    [
        (COMMISSION + ", gate: {measure: nps, attainment: '0.8'}}", "plan.components[0].gate"),
        (NPS_MILESTONE, "plan.components[0].attainment"),
    ],
)
def test_attainment_of_an_external_measure_against_its_quotas_is_refused(component, location):
    # The engines divide the KPI by its quota period by period; one annual draw gives neither.
    plan = load_plan(NPS_GATE.replace("{component}", component))
    payees = Payees({"bookings": [100_000], "nps": [50]})
    draws = {"bookings": Samples([[1.0]]), "nps": Samples([[45]])}
    with pytest.raises(InvalidValueError) as caught:
        simulate(plan, payees, attainment=draws, scenarios=1, seed=1)
    assert caught.value.code == "incentives.not_simulable"
    assert str(caught.value.location) == location
    assert "'nps'" in caught.value.message


def test_quotas_given_for_an_external_measure_are_refused_not_ignored():
    payees = Payees({"renewals": [100_000], "csat": [5]}, target_incentive=[10_000])
    with pytest.raises(InvalidValueError) as caught:
        simulate(CARD, payees, attainment=CARD_DRAWS, scenarios=4, seed=1)
    assert caught.value.code == "incentives.unused_quota"
    assert str(caught.value.location) == "payees.quotas.csat"


def test_overall_cost_of_sales_adds_sales_over_scenarios_without_wrapping():
    plan = load_plan("""
id: idr
currency: IDR
fiscal_year: 2027
rounding: half_up
measures: {bookings: {quota: true}}
components:
  - {kind: commission, id: c, measure: bookings, rating: cumulative, accumulate: year,
     table: {basis: attainment, tiers: [{start: 0, rate: "0.05"}]}}
""")
    payees = Payees({"bookings": [9 * 10**13] * 100})  # IDR has no minor unit
    draws = Samples([[1.0] * 100] * 1_100)
    result = simulate(plan, payees, attainment=draws, scenarios=1_100, seed=1)
    # sales 9e15 a scenario, 9.9e18 over 1,100 scenarios: beyond int64 (9.22e18); 5% paid
    assert sum(result.sales.tolist()) == 99 * 10**17
    assert result.summary()["cost_of_sales"]["overall"] == 0.05


RENEWALS = PLAN.model_copy(
    update={
        "id": "renewals",
        "measures": {"bookings": PLAN.measures["bookings"], "renewals": PLAN.measures["bookings"]},
        "components": (
            PLAN.components[0],
            PLAN.components[1].model_copy(update={"measure": "renewals"}),
        ),
    }
)
TWO_MEASURES = {"bookings": [1_000_000, 500_000], "renewals": [300_000, 300_000]}


def test_compare_of_plans_reading_several_money_measures_asks_for_the_sales_measure():
    payees = Payees(TWO_MEASURES, target_incentive=[50_000, 10_000])
    draws = {"bookings": GIVEN, "renewals": Samples([[1.0, 1.0]] * 3)}
    with pytest.raises(InvalidValueError) as caught:
        compare([PLAN, RENEWALS], payees, attainment=draws, scenarios=3, seed=1)
    assert caught.value.code == "incentives.no_sales_measure"
    assert "sales=" in caught.value.message
    table = compare(
        [PLAN, RENEWALS], payees, attainment=draws, scenarios=3, seed=1, sales="bookings"
    ).table()
    # ae as before: 206,000 over bookings of 4,550,000; renewals: the same commission,
    # 176,000 (206,000 less ae's three clubs of 10,000), and no club (renewals at 100% are
    # short of 120%), over the same bookings
    assert table["cost of sales"] == {
        "ae": pytest.approx(206_000 / 4_550_000),
        "renewals": pytest.approx(176_000 / 4_550_000),
    }


def test_compare_counts_winners_on_exact_means_not_rounded_ones():
    def flat(rate):
        return load_plan(
            plan_with(COMMISSION.replace("0.05", rate) + "}").replace("id: x", f"id: r{rate}")
        )

    payees = Payees({"bookings": ["10000.20"]})
    draws = Samples([[1.0], [0.0], [0.0]])
    table = compare(
        [flat("0.05"), flat("0.050001")], payees, attainment=draws, scenarios=3, seed=1
    ).table()
    # 1,000,020 fen x 5% = 50,001 fen; x 5.0001% = 50,002.00002 -> 50,002. Over 3 scenarios
    # both means round to 16,667 fen, but the second is exactly 1/3 fen more.
    assert table["payees paid more on average than under r0.05"] == {"r0.05": 0, "r0.050001": 1}


def test_numpy_integers_are_accepted_as_seed_and_scenarios():
    result = given_run_with(seed=np.int64(1), scenarios=np.int32(3))
    assert result.total.tolist() == [7_600_000, 7_500_000, 5_500_000]


def given_run_with(**kwargs):
    return simulate(PLAN, PAYEES, attainment=GIVEN, **kwargs)


def test_scorecard_pay_beyond_int64_is_refused_as_an_overflow():
    from salesflow.errors import MoneyOverflowError  # noqa: PLC0415

    plan = load_plan("""
id: card
currency: VND
fiscal_year: 2027
rounding: half_up
measures: {csat: {aggregate: external}}
components:
  - kind: scorecard
    id: card
    target_incentive: 1
    kpis:
      - measure: csat
        weight: 1
        curve: [{attainment: 1, payout: 1}, {attainment: 3, payout: 400000}]
""")
    # 2**52 x 400,000 is about 1.8e21 units: beyond int64
    with pytest.raises(MoneyOverflowError) as caught:
        simulate(
            plan,
            Payees({}, target_incentive=[2**52]),
            attainment=Samples([[2.0]]),
            scenarios=1,
            seed=1,
        )
    assert caught.value.code == "incentives.int64_overflow"


def test_cost_of_sales_plot_without_any_sales_is_refused(pyplot):  # noqa: ARG001
    from salesflow.incentives import plot_distribution  # noqa: PLC0415

    result = simulate(PLAN, PAYEES, attainment=Samples([[0.0, 0.0]] * 2), scenarios=2, seed=1)
    with pytest.raises(InvalidValueError) as caught:
        plot_distribution(result, what="cost_of_sales")
    assert caught.value.code == "incentives.invalid_plot"
