"""Incentive plans through the reference engine: every mechanic on a small case whose
figures are worked out by hand in the comments, the period-close loop, and every error
bad input gets (its code and where). Tests parametrized by ``engine`` (decisions D24 to
D27: clawbacks across windows, refunds, external attainments) run on both engines."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest

from salesflow.errors import CurrencyMismatchError, DefinitionError, InvalidValueError, Severity
from salesflow.incentives import (
    Adjustment,
    Assignment,
    Ledger,
    Line,
    PayoutRun,
    Plan,
    Split,
    Statement,
    Transaction,
    calculate,
    explain,
    load_plan,
)
from salesflow.money import Money
from salesflow.targets import OrgTree

C = "CNY"
JAN, FEB, MAR = "FY2027-M01", "FY2027-M02", "FY2027-M03"
FLAT_5 = {"tiers": [{"start": 0, "rate": "0.05"}]}
FLAT_10 = {"tiers": [{"start": 0, "rate": "0.1"}]}
# 5% up to 100,000, 8% on the part above.
ACCELERATOR = {
    "tiers": [{"start": 0, "end": 100000, "rate": "0.05"}, {"start": 100000, "rate": "0.08"}]
}
ON_PLAN = (Assignment("ann", "ae"), Assignment("bob", "ae"))


def cny(amount: str | int) -> Money:
    return Money(str(amount), C)


def day(month: int, dom: int) -> dt.date:
    return dt.date(2027, month, dom)


def deal(
    tid: str, on: dt.date, amount: str | int, owner: str = "ann", **extra: object
) -> Transaction:
    return Transaction(tid, on, cny(amount), owner, **extra)  # type: ignore[arg-type]


def make_plan(*components: dict[str, object], **fields: object) -> Plan:
    data: dict[str, object] = {
        "id": "ae",
        "currency": C,
        "fiscal_year": 2027,
        "rounding": "half_up",
        "measures": {"bookings": {}},
        "components": list(components),
    }
    data.update(fields)
    return load_plan(data)


def commission(**fields: object) -> dict[str, object]:
    base: dict[str, object] = {
        "kind": "commission",
        "id": "commission",
        "measure": "bookings",
        "rating": "cumulative",
        "accumulate": "year",
        "table": FLAT_5,
    }
    return base | fields


def run(
    plan: Plan | list[Plan],
    transactions: list[Transaction],
    period: str = JAN,
    assignments: tuple[Assignment, ...] = ON_PLAN,
    ledger: Ledger | None = None,
    **options: object,
) -> PayoutRun:
    """`calculate` on the reference engine, unless ``engine=`` names another."""
    options.setdefault("engine", "reference")
    return calculate(
        plan,
        transactions,
        assignments,
        period=period,
        ledger=ledger or Ledger(),
        **options,  # type: ignore[arg-type]
    )


def lines(statement: Statement, kind: str | None = None) -> list[Line]:
    return [line for line in statement.lines if kind is None or line.kind == kind]


def paid(statement: Statement, kind: str | None = None) -> list[Money]:
    return [line.amount for line in lines(statement, kind)]


def monthly(amount: int, payees: tuple[str, ...] = ("ann", "bob")) -> dict[tuple[str, str], Money]:
    return {(p, f"FY2027-M{m:02d}"): cny(amount) for p in payees for m in range(1, 13)}


# --- crediting ----------------------------------------------------------------------------


def test_splits_divide_credit_by_largest_remainder_so_the_parts_sum_to_the_deal():
    splits = (
        Split("ann", Decimal("0.5")),
        Split("bob", Decimal("0.3")),
        Split("cy", Decimal("0.2")),
    )
    result = run(
        make_plan(commission(rating="individual", table=FLAT_10)),
        [deal("T1", day(1, 5), "100.01", splits=splits)],
        assignments=(*ON_PLAN, Assignment("cy", "ae")),
    )
    # 10001 fen x 0.5 / 0.3 / 0.2 = 5000.5 / 3000.3 / 2000.2: floors sum to 10000, the one
    # fen left goes to the largest remainder (.5, ann): 50.01 / 30.00 / 20.00.
    rows = {s.payee: lines(s, "credit")[0] for s in result.statements}
    assert [rows[p].basis for p in ("ann", "bob", "cy")] == [
        cny("50.01"),
        cny("30.00"),
        cny("20.00"),
    ]
    # 10%: 5.001 -> 5.00 (half up), 3.00, 2.00.
    assert [rows[p].amount for p in ("ann", "bob", "cy")] == [
        cny("5.00"),
        cny("3.00"),
        cny("2.00"),
    ]


def test_overlay_credit_is_on_top_of_the_hundred_percent_and_counts_only_when_asked():
    splits = (Split("ann", Decimal(1)), Split("sam", Decimal("0.25"), overlay=True))
    transactions = [deal("T1", day(1, 5), 1000, splits=splits)]
    assignments = (*ON_PLAN, Assignment("sam", "ae"))
    direct_only = run(make_plan(commission()), transactions, assignments=assignments)
    # the default measure counts direct credit only: sam's statement has no line.
    assert lines(direct_only.statement("sam")) == []
    overlay_plan = make_plan(commission(), measures={"bookings": {"credit": ["direct", "overlay"]}})
    with_overlay = run(overlay_plan, transactions, assignments=assignments)
    (line,) = lines(with_overlay.statement("sam"), "credit")
    # 1000 x 0.25 = 250 overlay credit, x 5% = 12.50; ann still has the whole 1000 (50.00).
    assert (line.credit, line.basis, line.amount) == ("overlay", cny(250), cny("12.50"))
    assert paid(with_overlay.statement("ann")) == [cny("50.00")]


ORG = OrgTree.from_records(
    [
        {"id": "co"},
        {"id": "mia", "parent": "co"},
        {"id": "ann", "parent": "mia"},
        {"id": "bob", "parent": "mia"},
    ]
)


def test_override_credit_goes_to_the_managers_above_each_direct_holder():
    plan = make_plan(
        commission(),
        crediting={"override_levels": 1},
        measures={"bookings": {"credit": ["direct", "override"]}},
    )
    splits = (Split("ann", Decimal("0.6")), Split("bob", Decimal("0.4")))
    result = run(
        plan,
        [deal("T1", day(1, 5), 1000, splits=splits)],
        assignments=(*ON_PLAN, Assignment("mia", "ae")),
        org=ORG,
    )
    # mia manages both holders: one override row per direct row, 600 and 400, cumulative
    # at 5%: 30.00 then 20.00.
    mia = lines(result.statement("mia"), "credit")
    assert [(line.credit, line.basis, line.amount) for line in mia] == [
        ("override", cny(600), cny("30.00")),
        ("override", cny(400), cny("20.00")),
    ]
    assert result.problems == ()


def test_override_to_every_level_reports_the_node_that_is_not_on_the_plan():
    plan = make_plan(commission(), crediting={"override_levels": None})
    result = run(
        plan,
        [deal("T1", day(1, 5), 1000)],
        assignments=(*ON_PLAN, Assignment("mia", "ae")),
        org=ORG,
    )
    (problem,) = result.problems
    assert (problem.code, problem.severity) == ("incentives.uncredited", Severity.WARNING)
    assert str(problem.location) == "transactions[0]"
    assert "'co'" in problem.message


def test_a_filter_selects_the_deals_a_measure_counts():
    plan = make_plan(
        commission(),
        fields={"product": "string"},
        measures={"bookings": {"where": 'product == "saas" && amount >= 500'}},
    )
    result = run(
        plan,
        [
            deal("T1", day(1, 5), 1000, fields={"product": "saas"}),
            deal("T2", day(1, 6), 1000, fields={"product": "hardware"}),
            deal("T3", day(1, 7), 400, fields={"product": "saas"}),
        ],
    )
    assert [line.transaction for line in lines(result.statement("ann"))] == ["T1"]


def test_a_deal_in_another_currency_is_converted_and_rounded_once():
    result = run(
        make_plan(commission()),
        [Transaction("T1", day(1, 5), Money("100.05", "USD"), "ann")],
        fx={"USD": Decimal("7.1")},
    )
    # 100.05 x 7.1 = 710.355 -> 710.36 (half up); x 5% = 35.518 -> 35.52.
    (line,) = lines(result.statement("ann"))
    assert (line.basis, line.amount) == (cny("710.36"), cny("35.52"))


def test_a_conversion_and_an_overlay_are_rounded_once_from_the_exact_product():
    tiny = Decimal("0.0049999999999999999999999999999")  # 31 significant digits
    plan = make_plan(
        commission(rating="individual", table={"tiers": [{"start": 0, "rate": "1"}]}),
        measures={"bookings": {"credit": ["direct", "overlay"]}},
    )
    splits = (Split("bob", Decimal(1)), Split("sam", tiny, overlay=True))
    result = run(
        plan,
        [
            Transaction("T1", day(1, 5), Money("1.00", "USD"), "ann"),
            deal("T2", day(1, 6), "1.00", owner="bob", splits=splits),
        ],
        assignments=(*ON_PLAN, Assignment("sam", "ae")),
        fx={"USD": tiny},
    )
    # 1.00 x 0.00499...9 is exactly 0.00499...9 CNY: half up to the fen, 0.00. Rounded
    # to 28 digits first it would be 0.005000..., then 0.01 (double rounding).
    assert lines(result.statement("ann"))[0].basis == cny("0.00")
    assert lines(result.statement("sam"))[0].basis == cny("0.00")


def test_overlay_credit_is_rounded_with_the_plans_rounding_mode():
    splits = (Split("ann", Decimal(1)), Split("sam", Decimal("0.25"), overlay=True))
    plan = make_plan(
        commission(rating="individual"), measures={"bookings": {"credit": ["direct", "overlay"]}}
    )
    result = run(
        plan,
        [deal("T1", day(1, 5), "100.10", splits=splits)],
        assignments=(*ON_PLAN, Assignment("sam", "ae")),
    )
    # 100.10 x 0.25 = 25.025: half up (the plan's mode) 25.03; rounding down would give 25.02.
    (line,) = lines(result.statement("sam"))
    assert (line.credit, line.basis) == ("overlay", cny("25.03"))


def test_credit_for_a_payee_off_the_plan_is_reported_not_given():
    result = run(make_plan(commission()), [deal("T1", day(1, 5), 1000, owner="zoe")])
    (problem,) = result.problems
    assert (problem.code, str(problem.location)) == ("incentives.uncredited", "transactions[0]")
    assert result.payees == ("ann", "bob")
    assert result.total == cny(0)


def test_deals_outside_the_fiscal_year_are_ignored():
    result = run(make_plan(commission()), [deal("T0", dt.date(2026, 12, 31), 1000)])
    assert lines(result.statement("ann")) == []
    assert result.problems == ()


# --- commission -----------------------------------------------------------------------------


def test_cumulative_rating_splits_a_deal_across_the_tiers_it_crosses():
    result = run(
        make_plan(commission(table=ACCELERATOR)),
        [deal("T1", day(1, 5), 80000), deal("T2", day(1, 9), 40000)],
    )
    first, second = lines(result.statement("ann"))
    # R(80,000) = 4,000; R(120,000) = 100,000 x 5% + 20,000 x 8% = 6,600; line 2,600.
    assert (first.amount, second.amount) == (cny(4000), cny(2600))
    assert (second.before, second.tiers, second.rates) == (
        cny(80000),
        (0, 1),
        (Decimal("0.05"), Decimal("0.08")),
    )


def test_individual_rating_rates_each_deal_on_its_own_amount():
    result = run(
        make_plan(commission(table=ACCELERATOR, rating="individual")),
        [deal("T1", day(1, 5), 80000), deal("T2", day(1, 9), 40000)],
    )
    # 80,000 x 5% = 4,000; 40,000 x 5% = 2,000 (no running total).
    assert paid(result.statement("ann")) == [cny(4000), cny(2000)]


def test_rates_are_explained_exactly_to_the_sixth_decimal():
    table = {
        "tiers": [
            {"start": 0, "end": 100000, "rate": "0.00125"},
            {"start": 100000, "rate": "0.000001"},
        ]
    }
    result = run(make_plan(commission(table=table)), [deal("T1", day(1, 5), 200000)])
    (line,) = lines(result.statement("ann"))
    # 100,000 x 0.125% = 125 and 100,000 x 0.0001% = 0.10: 125.10.
    assert line.amount == cny("125.10")
    assert "tier 1 at 0.125%, tier 2 at 0.0001%; pays CN¥125.10." in line.explain()
    assert "第1档 0.125%、第2档 0.0001%" in line.explain("zh")


def test_an_attainment_table_rates_against_the_period_quota():
    table = {
        "basis": "attainment",
        "tiers": [{"start": 0, "end": 1, "rate": "0.05"}, {"start": 1, "rate": "0.1"}],
    }
    plan = make_plan(
        commission(table=table, accumulate="period"), measures={"bookings": {"quota": True}}
    )
    result = run(plan, [deal("T1", day(1, 5), 120000)], quotas={"bookings": monthly(100000)})
    # quota 100,000: 100,000 x 5% + 20,000 x 10% = 7,000.
    assert paid(result.statement("ann")) == [cny(7000)]


def test_a_year_attainment_table_rates_against_the_annual_quota():
    table = {
        "basis": "attainment",
        "tiers": [{"start": 0, "end": 1, "rate": "0.05"}, {"start": 1, "rate": "0.1"}],
    }
    plan = make_plan(commission(table=table), measures={"bookings": {"quota": True}})
    result = run(plan, [deal("T1", day(1, 5), 150000)], quotas={"bookings": monthly(10000)})
    # annual quota 12 x 10,000 = 120,000: 120,000 x 5% + 30,000 x 10% = 6,000 + 3,000.
    # (Against January's quota alone: 10,000 x 5% + 140,000 x 10% = 14,500.)
    assert paid(result.statement("ann")) == [cny(9000)]


def test_a_per_deal_cap_cuts_the_credit_line_and_shows_what_it_was():
    plan = make_plan(commission(cap={"per_transaction": 1000}))
    result = run(plan, [deal("T1", day(1, 5), 30000)])
    (line,) = lines(result.statement("ann"))
    # 30,000 x 5% = 1,500, capped at 1,000.
    assert (line.amount, line.capped_from) == (cny(1000), cny(1500))


def test_a_cancellation_within_the_window_claws_back_what_the_deal_earned():
    table = {"tiers": [{"start": 0, "end": 50000, "rate": "0.05"}, {"start": 50000, "rate": "0.1"}]}
    plan = make_plan(commission(table=table, clawback={"within_days": 90}))
    transactions = [
        deal("T1", day(1, 10), 40000, cancelled=day(2, 1)),
        deal("T2", day(2, 10), 20000),
    ]
    january = run(plan, transactions, JAN)
    assert paid(january.statement("ann")) == [cny(2000)]  # 40,000 x 5%
    february = run(plan, transactions, FEB, ledger=Ledger().record(january))
    clawback, credit = (
        lines(february.statement("ann"), "clawback")[0],
        lines(february.statement("ann"), "credit")[0],
    )
    assert (clawback.amount, clawback.transaction, clawback.date) == (cny(-2000), "T1", day(2, 1))
    assert clawback.explain() == (
        "Clawback on 'commission': deal T1 was cancelled on 2027-02-01, within the clawback "
        "window; takes back the CN¥2,000.00 it earned (credit CN¥40,000.00)."
    )
    assert "追回其所得 ¥2,000.00" in clawback.explain("zh")
    # the cancellation left the running total: T2 is rated from 0, all at 5% (1,000),
    # not from 40,000 across the 50,000 edge (10,000 x 5% + 10,000 x 10% = 1,500).
    assert (credit.before, credit.amount) == (cny(0), cny(1000))
    # credit lines come before clawbacks.
    assert [line.kind for line in lines(february.statement("ann"))] == ["credit", "clawback"]


def test_a_cancellation_on_the_last_day_of_the_window_is_clawed_back():
    plan = make_plan(commission(clawback={"within_days": 30}))
    transactions = [deal("T1", day(1, 10), 40000, cancelled=day(2, 9))]  # 21 + 9 = 30 days
    result = run(plan, transactions, FEB, ledger=Ledger().record(run(plan, transactions, JAN)))
    # exactly within_days: still inside the window; 40,000 x 5% = 2,000 back.
    assert paid(result.statement("ann"), "clawback") == [cny(-2000)]


def test_on_one_day_a_sale_is_rated_before_a_cancellation():
    transactions = [
        deal("T1", day(1, 5), 100000, cancelled=day(1, 20)),
        deal("T2", day(1, 20), 50000),
    ]
    result = run(make_plan(commission(table=ACCELERATOR)), transactions)
    t2 = lines(result.statement("ann"))[1]
    # on Jan 20 T2 lands on the running total 100,000 before T1 leaves it: 150,000 is
    # all above the edge, 50,000 x 8% = 4,000 (rated from 0 it would be 2,500).
    assert (t2.transaction, t2.before, t2.amount) == ("T2", cny(100000), cny(4000))


def test_a_cancellation_outside_the_window_pays_nothing_back():
    plan = make_plan(commission(clawback={"within_days": 30}))
    transactions = [deal("T1", day(1, 10), 40000, cancelled=day(3, 1))]  # 50 days
    result = run(plan, transactions, MAR)
    assert lines(result.statement("ann"), "clawback") == []


def test_a_period_gate_withholds_pay_below_the_threshold():
    plan = make_plan(
        commission(accumulate="period", gate={"measure": "bookings", "attainment": "0.5"}),
        measures={"bookings": {"quota": True}},
    )
    result = run(plan, [deal("T1", day(1, 5), 40000)], quotas={"bookings": monthly(100000)})
    credit, gate = lines(result.statement("ann"))
    # 40,000 x 5% = 2,000; 40% of quota < 50%: the gate withholds all of it.
    assert (credit.amount, gate.kind, gate.amount, gate.attainment, gate.threshold) == (
        cny(2000),
        "gate",
        cny(-2000),
        Decimal("0.4"),
        Decimal("0.5"),
    )
    assert result.statement("ann").total == cny(0)
    assert gate.explain() == (
        "Gate on 'commission': attainment 40% (bookings) is below the 50% threshold; "
        "withholds this period's CN¥2,000.00."
    )
    assert gate.explain("zh") == (
        "门槛「commission」\uff1a达成率 40%\uff08bookings\uff09未达到门槛 50%\uff1b"
        "暂扣本期的 ¥2,000.00\u3002"
    )


def test_a_year_gate_releases_what_it_withheld_once_attainment_to_date_passes():
    plan = make_plan(
        commission(gate={"measure": "bookings", "attainment": "0.5"}),
        measures={"bookings": {"quota": True}},
    )
    transactions = [deal("T1", day(1, 5), 40000), deal("T2", day(2, 5), 80000)]
    quotas = {"bookings": monthly(100000)}
    january = run(plan, transactions, JAN, quotas=quotas)
    assert january.statement("ann").total == cny(0)  # 40,000 of 100,000: 40% < 50%
    february = run(plan, transactions, FEB, quotas=quotas, ledger=Ledger().record(january))
    # to date 120,000 of 200,000 = 60%: G = T = 2,000 + 4,000 = 6,000; g = 6,000 - 0;
    # gate line = g - t = 6,000 - 4,000 = +2,000 (January's pay released).
    gate = lines(february.statement("ann"), "gate")[0]
    assert (gate.amount, gate.attainment) == (cny(2000), Decimal("0.6"))
    assert gate.explain() == (
        "Gate on 'commission': attainment 60% (bookings) reaches the 50% threshold; "
        "releases CN¥2,000.00 withheld earlier."
    )
    assert february.statement("ann").total == cny(6000)
    march = run(
        plan,
        [*transactions, deal("T3", day(3, 5), 40000)],
        MAR,
        quotas=quotas,
        ledger=Ledger().record(january).record(february),
    )
    # 160,000 of 300,000 = 53%: G = 8,000, of which 6,000 was paid: g = 2,000 = t, no gate line.
    assert [line.kind for line in lines(march.statement("ann"))] == ["credit"]
    assert march.statement("ann").total == cny(2000)


def test_a_year_gate_that_falls_back_takes_back_what_it_paid_and_says_so():
    plan = make_plan(
        commission(gate={"measure": "bookings", "attainment": "0.5"}),
        measures={"bookings": {"quota": True}},
    )
    transactions = [deal("T1", day(1, 5), 100000, cancelled=day(2, 3))]  # no clawback
    quotas = {"bookings": monthly(100000)}
    january = run(plan, transactions, JAN, quotas=quotas)
    february = run(plan, transactions, FEB, quotas=quotas, ledger=Ledger().record(january))
    # January: 100% passes, pays 5,000. February: 0 of 200,000 is below 50%: g = 0 - 5,000
    # paid to date; t = 0: the gate line is -5,000 on a basis of 0.
    (gate,) = lines(february.statement("ann"))
    assert (gate.kind, gate.amount, gate.basis) == ("gate", cny(-5000), cny(0))
    assert gate.explain() == (
        "Gate on 'commission': attainment 0% (bookings) is below the 50% threshold; "
        "takes back CN¥5,000.00 paid earlier."
    )
    assert gate.explain("zh") == (
        "门槛「commission」\uff1a达成率 0%\uff08bookings\uff09未达到门槛 50%\uff1b"
        "收回此前已发的 ¥5,000.00\u3002"
    )


def test_an_attainment_just_below_a_threshold_is_never_shown_as_reaching_it():
    plan = make_plan(
        commission(accumulate="period", gate={"measure": "bookings", "attainment": "1"}),
        measures={"bookings": {"quota": True}},
    )
    quotas = {"bookings": {("ann", JAN): cny("100000.01"), ("bob", JAN): cny(1)}}
    result = run(plan, [deal("T1", day(1, 5), 100000)], quotas=quotas)
    gate = lines(result.statement("ann"), "gate")[0]
    # 100,000 / 100,000.01 = 0.99999990000001...: shown rounded down to 99.9999%, marked
    # approximate; rounded to nearest it would read 100%, the threshold it missed.
    assert gate.explain() == (
        "Gate on 'commission': attainment ~99.9999% (bookings) is below the 100% threshold; "
        "withholds this period's CN¥5,000.00."
    )


def gate_line(amount: int, basis: int, attainment: Decimal, threshold: str) -> Line:
    return Line(
        kind="gate",
        amount=cny(amount),
        component="commission",
        basis=cny(basis),
        attainment=attainment,
        threshold=Decimal(threshold),
        note="bookings",
    )


GATE_WORDS = [
    pytest.param(
        # a period gate closed over a clawback of January's deal: t = -5,000, g = 0.
        gate_line(5000, -5000, Decimal(0), "0.5"),
        "attainment 0% (bookings) is below the 50% threshold; "
        "pays CN¥0.00 this period instead of -CN¥5,000.00.",
        "达成率 0%\uff08bookings\uff09未达到门槛 50%\uff1b"
        "本期实发 ¥0.00\uff0c而非 -¥5,000.00\u3002",
        id="closed-over-a-clawback",
    ),
    pytest.param(
        # a year gate falling back: t = 3,000 held, and the 5,000 paid earlier taken back.
        gate_line(-8000, 3000, Decimal("0.2"), "0.5"),
        "attainment 20% (bookings) is below the 50% threshold; "
        "withholds this period's CN¥3,000.00 and takes back CN¥5,000.00 paid earlier.",
        "达成率 20%\uff08bookings\uff09未达到门槛 50%\uff1b"
        "暂扣本期的 ¥3,000.00\uff0c收回此前已发的 ¥5,000.00\u3002",
        id="falls-back",
    ),
    pytest.param(
        # 1/3 (28 digits) >= 0.333333: shown rounded down, still on the passing side.
        gate_line(2000, 4000, Decimal(1) / Decimal(3), "0.333333"),
        "attainment ~33.3333% (bookings) reaches the 33.3333% threshold; "
        "releases CN¥2,000.00 withheld earlier.",
        "达成率 ~33.3333%\uff08bookings\uff09已达到门槛 33.3333%\uff1b"
        "补发此前暂扣的 ¥2,000.00\u3002",
        id="passes-just",
    ),
]


@pytest.mark.parametrize(("line", "english", "chinese"), GATE_WORDS)
def test_a_gate_line_says_whether_the_gate_passed_and_what_it_did(line, english, chinese):
    assert line.explain() == f"Gate on 'commission': {english}"
    assert line.explain("zh") == f"门槛「commission」\uff1a{chinese}"


def test_a_period_cap_cuts_and_a_floor_tops_up():
    plan = make_plan(
        commission(accumulate="period", cap={"per_period": 3000}, floor={"per_period": 500})
    )
    result = run(plan, [deal("T1", day(1, 5), 80000)])
    # 80,000 x 5% = 4,000 > 3,000: cap line -1,000.
    assert [(line.kind, line.amount, line.note) for line in lines(result.statement("ann"))][1:] == [
        ("cap", cny(-1000), "per_period")
    ]
    # bob sold nothing: the floor pays 500.
    assert [(line.kind, line.amount) for line in lines(result.statement("bob"))] == [
        ("floor", cny(500))
    ]


def test_a_yearly_cap_stops_pay_once_the_year_total_reaches_it():
    plan = make_plan(commission(cap={"per_year": 5000}))
    transactions = [deal("T1", day(1, 5), 80000), deal("T2", day(2, 5), 80000)]
    january = run(plan, transactions, JAN)
    february = run(plan, transactions, FEB, ledger=Ledger().record(january))
    # Jan 4,000 (S = 4,000 <= 5,000); Feb t = 4,000, S = 8,000, C = 5,000: y = 1,000.
    assert paid(february.statement("ann")) == [cny(4000), cny(-3000)]
    cap = lines(february.statement("ann"), "cap")[0]
    assert cap.note == "per_year"
    assert cap.explain() == (
        "Yearly cap on 'commission': CN¥4,000.00 before the cap; cut by CN¥3,000.00."
    )
    assert cap.explain("zh") == (
        "年度封顶「commission」\uff1a封顶前 ¥4,000.00\uff0c扣减 ¥3,000.00\u3002"
    )


def test_a_yearly_cap_gives_back_when_a_clawback_takes_pay_below_it():
    plan = make_plan(commission(clawback={"within_days": 90}, cap={"per_year": 6000}))
    transactions = [
        deal("T1", day(1, 10), 100000, cancelled=day(3, 5)),
        deal("T2", day(2, 10), 100000),
    ]
    ledger = Ledger()
    for period in (JAN, FEB):
        ledger = ledger.record(run(plan, transactions, period, ledger=ledger))
    march = run(plan, transactions, MAR, ledger=ledger)
    # S: 5,000, 10,000, 5,000; C = min(S, 6,000): 5,000, 6,000, 5,000. March: clawback
    # -5,000, y = 5,000 - 6,000 = -1,000: the cap line is y - p = +4,000.
    clawback, cap = lines(march.statement("ann"))
    assert (clawback.amount, cap.amount, cap.basis) == (cny(-5000), cny(4000), cny(-5000))
    assert cap.explain() == (
        "Yearly cap on 'commission': -CN¥5,000.00 before the cap; gives back CN¥4,000.00 "
        "cut earlier (the cap now holds back less of the pay to date)."
    )
    assert "退回此前扣减的 ¥4,000.00" in cap.explain("zh")


def test_a_cap_as_a_multiple_of_target_incentive_uses_the_assignment():
    plan = make_plan(commission(cap={"target_incentive_multiple": "0.3"}))
    assignments = (Assignment("ann", "ae", target_incentive=cny(10000)),)
    result = run(plan, [deal("T1", day(1, 5), 80000)], assignments=assignments)
    # Y = 0.3 x 10,000 = 3,000; t = 4,000: cap line -1,000.
    assert result.statement("ann").total == cny(3000)


def test_a_target_incentive_cap_is_rounded_to_the_fen():
    plan = make_plan(commission(cap={"target_incentive_multiple": "0.3"}))
    assignments = (Assignment("ann", "ae", target_incentive=cny("10000.01")),)
    result = run(plan, [deal("T1", day(1, 5), 80000)], assignments=assignments)
    # Y = 0.3 x 10,000.01 = 3,000.003 -> 3,000.00 (half up); t = 4,000: cap line -1,000.00.
    assert paid(result.statement("ann")) == [cny(4000), cny("-1000.00")]
    assert result.statement("ann").total == cny("3000.00")


def test_a_rate_change_mid_year_rates_each_deal_by_the_version_in_force_on_its_date():
    first = make_plan(commission(), effective_to=day(1, 31))
    second = make_plan(commission(table=FLAT_10), effective_from=day(2, 1))
    transactions = [deal("T1", day(1, 5), 1000), deal("T2", day(2, 5), 1000)]
    january = run([second, first], transactions, JAN)
    assert paid(january.statement("ann")) == [cny(50)]  # T1 at 5%
    result = run([second, first], transactions, FEB, ledger=Ledger().record(january))
    # T2 at 10% in February: 100; the running total carries across the versions.
    (line,) = lines(result.statement("ann"))
    assert (line.amount, line.before) == (cny(100), cny(1000))


# --- clawbacks across windows, refunds, external attainment (D24-D27), both engines -------

ENGINES = pytest.mark.parametrize("engine", ["reference", "batch"])
LOGOS = {"bookings": {}, "logos": {"aggregate": "count", "where": "new_logo"}}


def close(plan: Plan, transactions: list[Transaction], last: str, **options: object) -> PayoutRun:
    """Run and record every period from January through ``last``; the last run."""
    ledger = Ledger()
    for month in range(1, int(last[-2:]) + 1):
        result = run(plan, transactions, f"FY2027-M{month:02d}", ledger=ledger, **options)
        ledger = ledger.record(result)
    return result


@ENGINES
def test_a_period_gate_does_not_absorb_the_clawback_of_an_earlier_periods_deal(engine):
    plan = make_plan(
        commission(
            accumulate="period",
            rating="individual",
            clawback={"within_days": 90},
            gate={"measure": "bookings", "attainment": "0.5"},
        ),
        measures={"bookings": {"quota": True}},
    )
    transactions = [deal("T1", day(1, 10), 100000, cancelled=day(2, 5))]
    quotas = {"bookings": monthly(100000)}
    january = run(plan, transactions, JAN, quotas=quotas, engine=engine)
    assert january.statement("ann").total == cny(5000)  # 100% of quota: 100,000 x 5%
    february = close(plan, transactions, FEB, quotas=quotas, engine=engine)
    # February: attainment 0 < 50%, but its own credit t = 0: nothing to withhold.
    # T1 was credited in January's window: its clawback -5,000 comes after the gate.
    statement = february.statement("ann")
    assert [(line.kind, line.amount) for line in statement.lines] == [("clawback", cny(-5000))]
    assert statement.total == cny(-5000)
    assert february.earned[("ann", "commission", FEB)] == cny(-5000)


@ENGINES
def test_a_floor_tops_up_the_period_and_leaves_an_earlier_deals_clawback_whole(engine):
    plan = make_plan(
        commission(
            accumulate="period",
            rating="individual",
            clawback={"within_days": 90},
            floor={"per_period": 1000},
        )
    )
    transactions = [deal("T1", day(1, 10), 100000, cancelled=day(2, 5))]
    february = close(plan, transactions, FEB, engine=engine)
    # February's own pay is 0: the floor tops it up to 1,000 (basis 0); January's T1
    # is clawed back after the floor: 1,000 - 5,000 = -4,000.
    statement = february.statement("ann")
    assert [(line.kind, line.amount, line.basis) for line in statement.lines] == [
        ("clawback", cny(-5000), cny(100000)),
        ("floor", cny(1000), cny(0)),
    ]
    assert statement.total == cny(-4000)


@ENGINES
def test_a_period_cap_cuts_the_periods_own_pay_before_an_earlier_deals_clawback(engine):
    plan = make_plan(
        commission(
            accumulate="period",
            rating="individual",
            clawback={"within_days": 90},
            cap={"per_period": 6000},
        )
    )
    transactions = [
        deal("T1", day(1, 10), 100000, cancelled=day(2, 5)),
        deal("T2", day(2, 10), 200000),
    ]
    february = close(plan, transactions, FEB, engine=engine)
    # February: T2 pays 200,000 x 5% = 10,000, capped at 6,000 (cap line -4,000);
    # then January's T1 is clawed back: 6,000 - 5,000 = 1,000 (not min(5,000, 6,000)).
    statement = february.statement("ann")
    assert [(line.kind, line.amount) for line in statement.lines] == [
        ("credit", cny(10000)),
        ("clawback", cny(-5000)),
        ("cap", cny(-4000)),
    ]
    assert lines(statement, "cap")[0].basis == cny(10000)
    assert statement.total == cny(1000)


@ENGINES
def test_a_period_cap_still_sees_a_clawback_of_a_deal_of_the_same_period(engine):
    plan = make_plan(
        commission(
            accumulate="period",
            rating="individual",
            clawback={"within_days": 90},
            cap={"per_period": 6000},
        )
    )
    transactions = [
        deal("T1", day(1, 10), 100000, cancelled=day(1, 25)),
        deal("T2", day(1, 12), 200000),
    ]
    january = run(plan, transactions, JAN, engine=engine)
    # Both in January's window: t = 5,000 + 10,000 - 5,000 = 10,000, capped at 6,000.
    assert paid(january.statement("ann")) == [cny(5000), cny(10000), cny(-5000), cny(-4000)]
    assert january.statement("ann").total == cny(6000)


@ENGINES
def test_an_earlier_windows_clawback_counts_toward_the_yearly_cap(engine):
    plan = make_plan(
        commission(
            accumulate="period",
            rating="individual",
            clawback={"within_days": 90},
            cap={"per_year": 6000},
        )
    )
    transactions = [
        deal("T1", day(1, 10), 100000, cancelled=day(3, 5)),
        deal("T2", day(2, 10), 100000),
    ]
    march = close(plan, transactions, MAR, engine=engine)
    # p: 5,000, 5,000, 0 and the clawback -5,000 after it: S = 5,000, 10,000, 5,000;
    # C = min(S, 6,000) = 5,000, 6,000, 5,000. March: y = -1,000, cap line y - p' =
    # -1,000 - (-5,000) = +4,000. Paid in all 5,000 + 1,000 - 1,000 = T2's 5,000.
    clawback, cap = lines(march.statement("ann"))
    assert (clawback.amount, cap.amount, cap.basis, cap.note) == (
        cny(-5000),
        cny(4000),
        cny(-5000),
        "per_year",
    )


@ENGINES
@pytest.mark.parametrize("rating", ["cumulative", "individual"])
def test_a_refund_takes_back_at_most_the_per_deal_cap(engine, rating):
    plan = make_plan(commission(rating=rating, cap={"per_transaction": 12000}))
    transactions = [deal("T1", day(1, 5), 300000), deal("R1", day(1, 20), -300000)]
    result = run(plan, transactions, engine=engine)
    # T1: 300,000 x 5% = 15,000, capped at 12,000. R1 (its refund): -15,000 (cumulative:
    # R(0) - R(300,000); individual: P(-300,000)), bounded at -12,000. Net sales 0, pay 0.
    sale, refund = lines(result.statement("ann"))
    assert (sale.amount, sale.capped_from) == (cny(12000), cny(15000))
    assert (refund.amount, refund.capped_from) == (cny(-12000), cny(-15000))
    assert result.statement("ann").total == cny(0)


@ENGINES
def test_a_refund_reverses_a_per_deal_spif_and_counts_minus_one(engine):
    logo_bonus = {"kind": "bonus", "id": "logo", "measure": "logos", "amount": 1000}
    plan = make_plan(
        logo_bonus | {"per": "transaction"},
        {"kind": "bonus", "id": "month", "measure": "logos", "amount": 300, "per": "period"},
        {"kind": "milestone", "id": "two", "measure": "logos", "value": 2, "amount": 500}
        | {"accumulate": "period"},
        measures=LOGOS,
        fields={"new_logo": "bool"},
    )
    logo = {"new_logo": True}
    transactions = [
        deal("T1", day(1, 5), 300000, fields=logo),
        deal("T2", day(1, 8), 100000, fields=logo),
        deal("R1", day(1, 20), -300000, fields=logo),  # T1 refunded
        deal("T3", day(1, 9), 50000, owner="bob", fields=logo),
        deal("R3", day(1, 21), -50000, owner="bob", fields=logo),  # T3 refunded
    ]
    result = run(plan, transactions, engine=engine)
    # ann: SPIF +1,000 (T1), +1,000 (T2), -1,000 (R1); logos = 1 + 1 - 1 = 1 > 0: the
    # period bonus pays 300; 1 < 2: no milestone. Total 1,300.
    ann = result.statement("ann")
    assert [(line.component, line.transaction, line.amount) for line in ann.lines] == [
        ("logo", "T1", cny(1000)),
        ("logo", "T2", cny(1000)),
        ("logo", "R1", cny(-1000)),
        ("month", None, cny(300)),
    ]
    assert ann.lines[2].explain() == (
        "Bonus 'logo': deal R1 (2027-01-20) is a refund; reverses CN¥1,000.00."
    )
    assert "为退款\uff0c冲回 ¥1,000.00" in ann.lines[2].explain("zh")
    # bob: +1,000 - 1,000 and logos 1 - 1 = 0: no period bonus. Total 0.
    bob = result.statement("bob")
    assert paid(bob) == [cny(1000), cny(-1000)]
    assert bob.total == cny(0)


@ENGINES
def test_an_external_kpi_is_attained_against_the_period_quota_in_a_year_window(engine):
    plan = make_plan(
        commission(gate={"measure": "nps", "attainment": "0.8"}),
        {
            "kind": "milestone",
            "id": "loyal",
            "measure": "nps",
            "attainment": "0.85",
            "amount": 800,
            "accumulate": "year",
        },
        measures={"bookings": {}, "nps": {"aggregate": "external", "quota": True}},
    )
    transactions = [deal("T1", day(1, 5), 100000), deal("T2", day(2, 5), 100000)]
    scores = {JAN: Decimal(45), FEB: Decimal(72)}
    kpis = {"nps": {(p, label): v for p in ("ann", "bob") for label, v in scores.items()}}
    options = {"quotas": {"nps": monthly(80)}, "kpis": kpis}
    january = run(plan, transactions, JAN, engine=engine, **options)
    # January 45 / 80 = 56.25% < 80%: the year gate withholds T1's 5,000.
    assert january.statement("ann").total == cny(0)
    february = run(
        plan, transactions, FEB, ledger=Ledger().record(january), engine=engine, **options
    )
    # February 72 / 80 = 90% (a KPI is a rate for its period: not 72 / (80 + 80) = 45%):
    # the gate releases T = 10,000 (gate line +5,000 on t = 5,000); the milestone
    # (85%) pays 800 at 90%. Total 10,800.
    statement = february.statement("ann")
    assert [(line.kind, line.amount, line.attainment) for line in statement.lines] == [
        ("credit", cny(5000), None),
        ("gate", cny(5000), Decimal("0.9")),
        ("milestone", cny(800), Decimal("0.9")),
    ]
    assert statement.total == cny(10800)


# --- bonuses, milestones, scorecards, pools, contests ----------------------------------------


def test_a_spif_pays_per_qualifying_deal_inside_its_campaign():
    plan = make_plan(
        {
            "kind": "bonus",
            "id": "spif",
            "measure": "bookings",
            "when": "amount >= 5000",
            "amount": 300,
            "per": "transaction",
            "start": "2027-01-10",
            "end": "2027-01-31",
        }
    )
    transactions = [
        deal("T1", day(1, 5), 9000),  # before the campaign
        deal("T2", day(1, 12), 9000),
        deal("T3", day(1, 13), 4000),  # too small
        deal("T4", day(1, 20), 5000),
    ]
    result = run(plan, transactions)
    assert [(line.transaction, line.amount) for line in lines(result.statement("ann"))] == [
        ("T2", cny(300)),
        ("T4", cny(300)),
    ]


def test_a_period_bonus_pays_once_when_a_deal_qualifies_and_stays():
    plan = make_plan(
        {"kind": "bonus", "id": "first-deal", "measure": "bookings", "amount": 200, "per": "period"}
    )
    transactions = [
        deal("T1", day(1, 5), 100),
        deal("T2", day(1, 6), 100),
        deal("T3", day(1, 7), 100, owner="bob", cancelled=day(1, 20)),
    ]
    result = run(plan, transactions)
    assert paid(result.statement("ann")) == [cny(200)]  # once, for two deals
    assert paid(result.statement("bob")) == []  # cancelled before the month ended


def test_a_milestone_pays_once_in_the_first_period_it_is_reached():
    plan = make_plan(
        {
            "kind": "milestone",
            "id": "100k",
            "measure": "bookings",
            "value": 100000,
            "amount": 1000,
            "accumulate": "year",
        }
    )
    transactions = [
        deal("T1", day(1, 5), 60000),
        deal("T2", day(2, 5), 50000),
        deal("T3", day(3, 5), 50000),
    ]
    ledger = Ledger()
    totals = []
    for period in (JAN, FEB, MAR):
        result = run(plan, transactions, period, ledger=ledger)
        ledger = ledger.record(result)
        totals.append(result.statement("ann").total)
    # 60,000 (no), 110,000 (reached: pays), 160,000 (already paid this year).
    assert totals == [cny(0), cny(1000), cny(0)]


def test_an_attainment_milestone_compares_value_to_date_with_quota_to_date():
    plan = make_plan(
        {
            "kind": "milestone",
            "id": "half-year",
            "measure": "bookings",
            "attainment": "1",
            "amount": 800,
            "accumulate": "year",
        },
        measures={"bookings": {"quota": True}},
    )
    transactions = [deal("T1", day(1, 5), 90000), deal("T2", day(2, 5), 120000)]
    quotas = {"bookings": monthly(100000)}
    january = run(plan, transactions, JAN, quotas=quotas)
    assert january.statement("ann").total == cny(0)  # 90,000 / 100,000 = 90%
    february = run(plan, transactions, FEB, quotas=quotas, ledger=Ledger().record(january))
    # 210,000 / (100,000 + 100,000) = 105%: reached.
    (line,) = lines(february.statement("ann"))
    assert (line.amount, line.attainment, line.basis) == (cny(800), Decimal("1.05"), cny(210000))
    assert line.explain("zh") == (
        "里程碑「half-year」达成\uff08达成率 105%\uff0c¥210,000.00\uff09\uff0c发放 ¥800.00\u3002"
    )


def test_a_deal_cancelled_in_a_later_period_still_counts_in_its_own():
    plan = make_plan(
        {
            "kind": "milestone",
            "id": "100k",
            "measure": "bookings",
            "value": 100000,
            "amount": 1000,
            "accumulate": "period",
        }
    )
    transactions = [deal("T1", day(1, 5), 100000, cancelled=day(2, 10))]
    january = run(plan, transactions, JAN)
    assert paid(january.statement("ann")) == [cny(1000)]  # 100,000 standing at Jan 31
    february = run(plan, transactions, FEB, ledger=Ledger().record(january))
    # January's window still holds T1 (cancelled in February's): no recalculation.
    assert lines(february.statement("ann")) == []


def test_a_mid_year_joiner_may_have_zero_quota_for_the_months_before():
    plan = make_plan(
        commission(gate={"measure": "bookings", "attainment": "0.5"}),
        measures={"bookings": {"quota": True}},
    )
    quotas = {"bookings": {("cy", JAN): cny(0), ("cy", FEB): cny(100000)}}
    result = run(
        plan,
        [deal("T1", day(2, 10), 60000, owner="cy")],
        FEB,
        assignments=(Assignment("cy", "ae", start=day(2, 1)),),
        quotas=quotas,
    )
    # quota to date 0 + 100,000; 60,000 is 60%: the gate passes; 60,000 x 5% = 3,000.
    assert result.statement("cy").total == cny(3000)


def test_a_holder_missing_from_the_org_gets_no_override_and_is_reported():
    plan = make_plan(commission(), crediting={"override_levels": 1})
    result = run(
        plan,
        [deal("T1", day(1, 5), 1000, owner="zed")],
        assignments=(Assignment("zed", "ae"),),
        org=ORG,
    )
    (problem,) = result.problems
    assert (problem.code, str(problem.location)) == ("incentives.not_in_org", "transactions[0]")
    assert paid(result.statement("zed")) == [cny(50)]


SCORECARD = {
    "kind": "scorecard",
    "id": "scorecard",
    "target_incentive": "0.5",
    "kpis": [
        {
            "measure": "bookings",
            "weight": "0.6",
            "curve": [
                {"attainment": "0.5", "payout": "0.5"},
                {"attainment": "1", "payout": "1"},
                {"attainment": "1.5", "payout": "2"},
            ],
        },
        {
            "measure": "csat",
            "weight": "0.4",
            "curve": [{"attainment": "0.8", "payout": "0.5"}, {"attainment": "1", "payout": "1"}],
        },
    ],
}
SCORECARD_MEASURES = {"bookings": {"quota": True}, "csat": {"aggregate": "external"}}


def test_a_scorecard_pays_each_kpi_on_its_curve_rounding_the_running_sum():
    plan = make_plan(SCORECARD, measures=SCORECARD_MEASURES)
    result = run(
        plan,
        [deal("T1", day(1, 5), 75000)],
        assignments=(Assignment("ann", "ae", target_incentive=cny(10000)),),
        quotas={"bookings": monthly(100000, ("ann",))},
        kpis={"csat": {("ann", JAN): Decimal("0.9")}},
    )
    # TI per month: 1,000,000 fen / 12 = 83,333.33: the first 4 months get 833.34.
    # Target pay = 833.34 x 0.5 = 416.67.
    # bookings 75% -> 0.5 + 0.25 x (0.5 / 0.5) = 0.75: s1 = 416.67 x 0.6 x 0.75 = 187.5015
    # csat 0.9 -> 0.5 + 0.1 x (0.5 / 0.2) = 0.75: s2 = 416.67 x 0.4 x 0.75 = 125.001
    # lines: round(187.5015) = 187.50; round(312.5025) - 187.50 = 312.50 - 187.50 = 125.00.
    first, second = lines(result.statement("ann"))
    assert (first.amount, first.attainment, first.exact, first.note) == (
        cny("187.50"),
        Decimal("0.75"),
        Decimal("187.5015"),
        "bookings",
    )
    assert (second.amount, second.attainment) == (cny("125.00"), Decimal("0.9"))


def test_scorecard_kpi_lines_round_the_running_sum_not_each_kpi():
    curve = [{"attainment": "0", "payout": "0.1"}]
    plan = make_plan(
        {
            "kind": "scorecard",
            "id": "scorecard",
            "target_incentive": "1",
            "kpis": [
                {"measure": "k1", "weight": "0.5", "curve": curve},
                {"measure": "k2", "weight": "0.5", "curve": curve},
            ],
        },
        measures={"k1": {"aggregate": "external"}, "k2": {"aggregate": "external"}},
    )
    result = run(
        plan,
        [],
        assignments=(Assignment("ann", "ae", target_incentive=cny("1.20")),),
        kpis={"k1": {("ann", JAN): Decimal(1)}, "k2": {("ann", JAN): Decimal(1)}},
    )
    # target pay 1.20 / 12 = 0.10; each KPI 0.10 x 0.5 x 0.1 = 0.005. Running sum: round
    # (0.005) = 0.01, round(0.010) - 0.01 = 0.00 (a zero line is left out): 0.01 in all.
    # Rounding each KPI alone would pay 0.01 + 0.01 = 0.02.
    assert paid(result.statement("ann")) == [cny("0.01")]


def test_a_kpi_exactly_at_the_first_curve_point_pays_that_points_payout():
    plan = make_plan(SCORECARD, measures=SCORECARD_MEASURES)
    result = run(
        plan,
        [deal("T1", day(1, 5), 50000)],
        assignments=(Assignment("ann", "ae", target_incentive=cny(12000)),),
        quotas={"bookings": monthly(100000, ("ann",))},
        kpis={"csat": {("ann", JAN): Decimal("0.8")}},
    )
    # target pay 12,000 / 12 x 0.5 = 500. bookings 50% and csat 0.8 sit on their first
    # points: payout 0.5 each. 500 x 0.6 x 0.5 = 150; 500 x 0.4 x 0.5 = 100.
    assert paid(result.statement("ann")) == [cny(150), cny(100)]


def test_a_scorecard_pays_nothing_for_months_before_the_payee_joined():
    plan = make_plan(
        {
            "kind": "scorecard",
            "id": "scorecard",
            "target_incentive": "0.5",
            "kpis": [{"measure": "csat", "weight": "1", "curve": SCORECARD["kpis"][1]["curve"]}],
        },
        measures={"csat": {"aggregate": "external"}},
    )
    result = run(
        plan,
        [],
        FEB,
        assignments=(Assignment("cy", "ae", start=day(2, 1), target_incentive=cny(12000)),),
        kpis={"csat": {("cy", FEB): Decimal(1)}},  # no January value: none is needed
    )
    # cy is off the plan in January: nothing computed there, so no recalculation line.
    # February: 12,000 / 12 x 0.5 = 500 x 1 x payout 1 = 500.
    assert [(line.kind, line.amount) for line in lines(result.statement("cy"))] == [
        ("scorecard", cny(500))
    ]


def test_a_closed_scorecard_gate_pays_nothing_and_says_why():
    gated = SCORECARD | {"gate": {"measure": "bookings", "attainment": "0.8"}}
    result = run(
        make_plan(gated, measures=SCORECARD_MEASURES),
        [deal("T1", day(1, 5), 75000)],
        assignments=(Assignment("ann", "ae", target_incentive=cny(10000)),),
        quotas={"bookings": monthly(100000, ("ann",))},
        kpis={"csat": {("ann", JAN): Decimal("0.9")}},
    )
    (gate,) = lines(result.statement("ann"))
    assert (gate.kind, gate.amount, gate.attainment) == ("gate", cny(0), Decimal("0.75"))
    assert gate.threshold == Decimal("0.8")
    assert gate.explain() == (
        "'scorecard' pays nothing this period: attainment 75% (bookings) is below its gate of 80%."
    )
    assert gate.explain("zh") == (
        "「scorecard」本期不发放\uff1a达成率 75%\uff08bookings\uff09未达到门槛 80%\u3002"
    )


TEAM = (
    Assignment("ann", "ae", attributes={"team": "east"}),
    Assignment("bob", "ae", attributes={"team": "east"}),
    Assignment("cy", "ae", attributes={"team": "east"}),
    Assignment("dee", "ae", attributes={"team": "west"}),
)


def pool(**fields: object) -> dict[str, object]:
    return {"kind": "pool", "id": "pool", "group_by": "team", "measure": "bookings"} | fields


def test_a_team_pool_is_split_by_contribution():
    result = run(
        make_plan(pool(rate="0.01", split="contribution")),
        [
            deal("T1", day(1, 5), 60000),
            deal("T2", day(1, 5), 40000, owner="bob"),
            deal("T3", day(1, 5), 5000, owner="dee"),
        ],
        assignments=TEAM,
    )
    # east: 1% of 100,000 = 1,000 split 60:40:0 -> 600, 400, 0; west: 50 to dee.
    assert [paid(result.statement(p)) for p in ("ann", "bob", "cy", "dee")] == [
        [cny(600)],
        [cny(400)],
        [],
        [cny(50)],
    ]
    assert lines(result.statement("ann"))[0].note == "east"


def test_an_equal_pool_gives_the_odd_fen_in_payee_order():
    result = run(make_plan(pool(amount="100", split="equal")), [], assignments=TEAM[:3])
    # 10,000 fen / 3 = 3,333.33: the first payee by id gets the extra fen.
    assert [result.statement(p).total for p in ("ann", "bob", "cy")] == [
        cny("33.34"),
        cny("33.33"),
        cny("33.33"),
    ]


def test_a_contribution_pool_with_no_contribution_is_split_equally():
    result = run(make_plan(pool(amount="90", split="contribution")), [], assignments=TEAM[:3])
    assert [result.statement(p).total for p in ("ann", "bob", "cy")] == [cny(30)] * 3


def test_a_contribution_pool_with_a_negative_contribution_is_split_equally():
    transactions = [deal("T1", day(1, 5), 100), deal("R1", day(1, 6), -40, owner="bob")]
    result = run(
        make_plan(pool(amount="90", split="contribution")), transactions, assignments=TEAM[:3]
    )
    # contributions 100, -40, 0: a negative share is not a share; 90 / 3 = 30 each.
    assert [result.statement(p).total for p in ("ann", "bob", "cy")] == [cny(30)] * 3


def contest(**fields: object) -> dict[str, object]:
    return {
        "kind": "contest",
        "id": "contest",
        "measure": "bookings",
        "prizes": [1000, 500, 200],
        "accumulate": "period",
    } | fields


CONTEST_DEALS = [
    deal("T1", day(1, 5), 100),
    deal("T2", day(1, 5), 100, owner="bob"),
    deal("T3", day(1, 5), 50, owner="cy"),
]


def test_a_contest_with_shared_ties_splits_the_prizes_of_the_ranks_they_hold():
    result = run(make_plan(contest(ties="share")), CONTEST_DEALS, assignments=TEAM[:3])
    # ann and bob tie for ranks 1-2: (1,000 + 500) / 2 = 750 each, rank 1; cy is 3rd: 200.
    ranked = {p: lines(result.statement(p))[0] for p in ("ann", "bob", "cy")}
    assert [(ranked[p].rank, ranked[p].amount) for p in ("ann", "bob", "cy")] == [
        (1, cny(750)),
        (1, cny(750)),
        (3, cny(200)),
    ]
    # the tie shares the prizes of positions 0 and 1; cy shares nothing.
    assert [ranked[p].tiers for p in ("ann", "bob", "cy")] == [(0, 1), (0, 1), ()]
    assert ranked["ann"].explain() == (
        "Contest 'contest': rank 1 with CN¥100.00 (tied: ranks 1-2 share their prizes "
        "equally); prize CN¥750.00."
    )
    assert ranked["cy"].explain() == "Contest 'contest': rank 3 with CN¥50.00; prize CN¥200.00."


def test_a_group_contest_explains_itself_in_chinese_with_full_width_brackets():
    plan = make_plan(contest(ties="share", group_by="team"))
    result = run(plan, CONTEST_DEALS, assignments=TEAM[:3])
    assert lines(result.statement("bob"))[0].explain("zh") == (
        "竞赛「contest」\uff08east\uff09\uff1a第 1 名 ¥100.00"
        "\uff08并列\uff0c平分第 1 至 2 名的奖金\uff09\uff0c奖金 ¥750.00\u3002"
    )


def test_a_year_contest_is_paid_once_in_the_last_period_of_the_year():
    plan = make_plan(contest(ties="share", accumulate="year"))
    transactions = [
        deal("T1", day(1, 5), 100),
        deal("T2", day(6, 5), 150, owner="bob"),
        deal("T3", day(3, 5), 50, owner="cy"),
    ]
    january = run(plan, transactions, JAN, assignments=TEAM[:3])
    assert [lines(january.statement(p)) for p in ("ann", "bob", "cy")] == [[], [], []]
    december = run(plan, transactions, "FY2027-M12", assignments=TEAM[:3])
    # over the whole year: bob 150 first (1,000), ann 100 second (500), cy 50 third (200).
    assert [paid(december.statement(p)) for p in ("ann", "bob", "cy")] == [
        [cny(500)],
        [cny(1000)],
        [cny(200)],
    ]


def test_a_contest_with_same_ties_gives_each_the_best_prize_and_skips_ranks():
    result = run(make_plan(contest(ties="same", minimum=60)), CONTEST_DEALS, assignments=TEAM[:3])
    # 1-1 (1,000 each); cy is below the minimum of 60 and does not rank.
    assert [result.statement(p).total for p in ("ann", "bob", "cy")] == [
        cny(1000),
        cny(1000),
        cny(0),
    ]


# --- statements, ledger, adjustments, draws ---------------------------------------------------


def test_an_adjustment_is_paid_and_explained_with_who_made_it():
    adjustment = Adjustment(
        "ann", "ae", JAN, cny(200), "missed deal", "Li Lei", component="commission"
    )
    result = run(make_plan(commission()), [], adjustments=[adjustment])
    (line,) = lines(result.statement("ann"))
    assert (line.kind, line.amount, line.note) == ("adjustment", cny(200), "missed deal (Li Lei)")
    assert line.explain() == "Manual adjustment 'commission': missed deal (Li Lei): CN¥200.00."


def test_a_recoverable_draw_tops_up_and_is_recovered_from_later_pay():
    plan = make_plan(commission(table=FLAT_10), draw={"amount": 3000, "recoverable": True})
    transactions = [deal("T1", day(1, 5), 10000), deal("T2", day(2, 5), 60000)]
    january = run(plan, transactions, JAN)
    # pay 1,000 < 3,000: draw 2,000, owed back.
    assert paid(january.statement("ann")) == [cny(1000), cny(2000)]
    assert january.draw_balances["ann"] == cny(2000)
    draw = lines(january.statement("ann"), "draw")[0]
    assert draw.note == "recoverable"
    assert draw.explain() == (
        "Draw: pay this period is below the draw; tops it up by CN¥2,000.00, "
        "owed back from later pay above the draw."
    )
    february = run(plan, transactions, FEB, ledger=Ledger().record(january))
    # pay 6,000; above the draw by 3,000; recover min(2,000, 3,000) = 2,000.
    assert paid(february.statement("ann")) == [cny(6000), cny(-2000)]
    assert "ann" not in february.draw_balances


def test_a_non_recoverable_draw_is_never_taken_back():
    plan = make_plan(commission(table=FLAT_10), draw={"amount": 3000, "recoverable": False})
    transactions = [deal("T1", day(1, 5), 10000), deal("T2", day(2, 5), 60000)]
    january = run(plan, transactions, JAN)
    # January: pay 1,000, draw 2,000, a guarantee: nothing owed.
    draw = lines(january.statement("ann"), "draw")[0]
    assert (draw.amount, draw.note) == (cny(2000), "non_recoverable")
    assert draw.explain().endswith("tops it up by CN¥2,000.00 (a guarantee: never taken back).")
    assert january.draw_balances == {}
    february = run(plan, transactions, FEB, ledger=Ledger().record(january))
    assert paid(february.statement("ann")) == [cny(6000)]


def test_a_statement_without_lines_totals_zero_at_the_minor_unit():
    result = run(make_plan(commission()), [])
    assert [str(s.total) for s in result.statements] == ["0.00 CNY", "0.00 CNY"]
    assert str(result.total) == "0.00 CNY"


def test_a_first_run_after_january_pays_january_as_a_recalculation():
    result = run(make_plan(commission()), [deal("T1", day(1, 5), 1000)], FEB)
    # the empty ledger stated nothing for January: 0; January now earns 1,000 x 5% = 50.
    line = lines(result.statement("ann"))[0]
    assert (line.kind, line.amount, line.period, line.basis) == (
        "recalculation",
        cny(50),
        JAN,
        cny(0),
    )


def test_lines_come_in_the_documented_order_and_sum_to_the_total():
    plan = make_plan(
        commission(accumulate="period", cap={"per_period": 100}),
        {"kind": "bonus", "id": "spif", "measure": "bookings", "amount": 10, "per": "transaction"},
        draw={"amount": 1000, "recoverable": True},
    )
    adjustment = Adjustment("ann", "ae", JAN, cny(5), "typo", "ops")
    result = run(
        plan, [deal("T1", day(1, 5), 1000), deal("T2", day(1, 6), 3000)], adjustments=[adjustment]
    )
    statement = result.statement("ann")
    # credit 50, credit 150, cap 100 - 200 = -100, bonus 10 x 2, adjustment 5: 125; draw 875.
    assert [line.kind for line in statement.lines] == [
        "credit",
        "credit",
        "cap",
        "bonus",
        "bonus",
        "adjustment",
        "draw",
    ]
    assert statement.total == Money.sum(paid(statement), C) == cny(1000)


def test_the_period_close_loop_recalculates_late_deals_recovers_draws_and_claws_back():
    plan = make_plan(
        commission(table=FLAT_10, clawback={"within_days": 30}),
        draw={"amount": 1000, "recoverable": True},
    )
    known = [
        deal("T4", day(1, 5), 4000, cancelled=day(3, 10)),  # cancelled 64 days later: kept
        deal("T1", day(1, 10), 5000),
        deal("T2", day(1, 20), 8000, cancelled=day(2, 5)),  # cancelled 16 days later: clawed back
    ]
    late = [deal("T5", day(1, 25), 3000), deal("T3", day(3, 1), 20000)]
    ledger = Ledger()
    january = run(plan, known, JAN, ledger=ledger)
    # 400 + 500 + 800 = 1,700 >= the draw: no draw.
    assert january.statement("ann").total == cny(1700)
    ledger = ledger.record(january)
    february = run(plan, known, FEB, ledger=ledger)
    # clawback of T2: -800; pay -800 < 1,000: draw 1,800, owed.
    assert [(line.kind, line.amount) for line in lines(february.statement("ann"))] == [
        ("clawback", cny(-800)),
        ("draw", cny(1800)),
    ]
    ledger = ledger.record(february)
    assert ledger.draw_balance("ann", "ae") == cny(1800)
    march = run(plan, known + late, MAR, ledger=ledger)
    # T3 pays 2,000; the late T5 raises January from 1,700 to 2,000: +300 recalculation;
    # T4's cancellation is outside the window: nothing back. Pay 2,300, 1,300 above the
    # draw: recover 1,300 of the 1,800 owed; 500 still owed.
    statement = march.statement("ann")
    assert [(line.kind, line.amount) for line in statement.lines] == [
        ("credit", cny(2000)),
        ("recalculation", cny(300)),
        ("draw_recovery", cny(-1300)),
    ]
    recalculation = lines(statement, "recalculation")[0]
    assert (recalculation.period, recalculation.basis) == (JAN, cny(1700))
    ledger = ledger.record(march)
    assert ledger.draw_balance("ann", "ae") == cny(500)
    assert ledger.stated("ann", "ae", "commission", JAN) == cny(2000)
    assert ledger.stated("ann", "ae", "commission", FEB) == cny(-800)


def test_the_ledger_round_trips_through_json():
    plan = make_plan(commission(), draw={"amount": 1000, "recoverable": True})
    ledger = Ledger().record(run(plan, [deal("T1", day(1, 5), 1000)]))
    text = json.dumps(ledger.to_dict())
    assert Ledger.from_dict(json.loads(text)) == ledger
    assert ledger.stated("ann", "ae", "commission", JAN) == cny(50)
    assert ledger.stated("bob", "ae", "commission", JAN) == cny(0)
    assert ledger.stated("zoe", "ae", "commission", JAN) is None


def test_a_run_exports_to_json_and_data_frames():
    result = run(make_plan(commission()), [deal("T1", day(1, 5), 1000)])
    data = json.loads(json.dumps(result.to_dict()))
    assert data["total"] == "50.00"
    assert data["statements"][0]["lines"][0] == {
        "kind": "credit",
        "amount": "50.00",
        "component": "commission",
        "transaction": "T1",
        "date": "2027-01-05",
        "credit": "direct",
        "basis": "1000.00",
        "before": "0.00",
        "tiers": [0],
        "rates": ["0.05"],
        "exact": "50.00",
    }
    assert list(result.to_frame()["total"]) == [Decimal("50.00"), Decimal(0)]
    assert list(result.lines_frame()["kind"]) == ["credit"]


def test_every_line_explains_itself_in_english_and_chinese():
    result = run(
        make_plan(commission(table=ACCELERATOR)),
        [deal("T1", day(1, 5), 80000), deal("T2", day(1, 9), 40000)],
    )
    line = lines(result.statement("ann"))[1]
    assert (
        line.explain()
        == explain(line, "en")
        == (
            "Commission 'commission': deal T2 (2027-01-09), direct credit CN¥40,000.00; "
            "running total CN¥80,000.00 -> CN¥120,000.00; tier 1 at 5%, tier 2 at 8%; "
            "pays CN¥2,600.00."
        )
    )
    assert line.explain("zh") == (
        "提成「commission」\uff1a交易 T2\uff082027-01-09\uff09\uff0c直接业绩 ¥40,000.00\uff1b"
        "累计 ¥80,000.00 → ¥120,000.00\uff1b第1档 5%、第2档 8%\uff1b本笔提成 ¥2,600.00\u3002"
    )


EVERY_KIND = [
    Line(
        kind="credit",
        amount=cny(50),
        component="c",
        transaction="T1",
        date=day(1, 5),
        credit="direct",
        basis=cny(1000),
    ),
    Line(
        kind="clawback",
        amount=cny(-50),
        component="c",
        transaction="T1",
        date=day(2, 5),
        basis=cny(1000),
    ),
    Line(
        kind="gate",
        amount=cny(-50),
        component="c",
        basis=cny(50),
        attainment=Decimal("0.4"),
        note="bookings",
    ),
    Line(
        kind="gate",
        amount=cny(50),
        component="c",
        basis=cny(0),
        attainment=Decimal("0.6"),
        note="bookings",
    ),
    Line(kind="cap", amount=cny(-50), component="c", basis=cny(150), note="per_year"),
    Line(kind="floor", amount=cny(50), component="c", basis=cny(0)),
    Line(kind="bonus", amount=cny(50), component="c"),
    Line(kind="milestone", amount=cny(50), component="c", basis=cny(1000)),
    Line(kind="scorecard", amount=cny(50), component="c", attainment=Decimal("0.9"), note="csat"),
    Line(kind="pool", amount=cny(50), component="c", exact=Decimal(3), note="east"),
    Line(kind="contest", amount=cny(50), component="c", rank=2, basis=cny(900)),
    Line(kind="recalculation", amount=cny(50), component="c", basis=cny(100), period=JAN),
    Line(kind="adjustment", amount=cny(50), note="typo (ops)"),
    Line(kind="draw", amount=cny(50)),
    Line(kind="draw_recovery", amount=cny(-50)),
]


@pytest.mark.parametrize("line", EVERY_KIND, ids=lambda line: line.kind)
def test_every_kind_of_line_explains_its_amount_in_both_languages(line):
    english, chinese = line.explain("en"), line.explain("zh")
    assert "CN¥50.00" in english
    assert "¥50.00" in chinese
    assert chinese != english
    assert chinese.endswith("\u3002")


def test_an_unknown_explanation_language_is_refused():
    with pytest.raises(InvalidValueError) as caught:
        EVERY_KIND[0].explain("fr")  # type: ignore[arg-type]
    assert caught.value.code == "incentives.unknown_locale"


# --- bad input --------------------------------------------------------------------------------


def _error(code: str, path: str, **overrides: object) -> tuple[str, str, dict[str, object]]:
    return code, path, overrides


QUOTA_PLAN = make_plan(
    commission(accumulate="period", gate={"measure": "bookings", "attainment": "0.5"}),
    measures={"bookings": {"quota": True}},
)
SCORECARD_PLAN = make_plan(SCORECARD, measures=SCORECARD_MEASURES)
BAD_INPUT = [
    _error("incentives.unknown_period", "period", period="FY2027-Q1"),
    _error("incentives.unknown_period", "period", period="FY2028-M01"),
    _error(
        "incentives.version_overlap",
        "plan[1].effective_from",
        plan=[
            make_plan(commission(), effective_to=day(2, 1)),
            make_plan(commission(), effective_from=day(2, 1)),
        ],
    ),
    _error(
        "incentives.version_mismatch",
        "plan[1].currency",
        plan=[
            make_plan(commission(), effective_to=day(1, 31)),
            make_plan(commission(), currency="USD", effective_from=day(2, 1)),
        ],
    ),
    _error(
        "incentives.version_mismatch",
        "plan[1].components[0].kind",
        plan=[
            make_plan(commission(id="x"), effective_to=day(6, 30)),
            make_plan(
                {"kind": "bonus", "id": "x", "measure": "bookings", "amount": 500, "per": "period"},
                effective_from=day(7, 1),
            ),
        ],
    ),
    _error(
        "incentives.version_mismatch",
        "plan[1].measures.bookings.aggregate",
        plan=[
            make_plan(commission(), effective_to=day(6, 30)),
            make_plan(
                {"kind": "bonus", "id": "b", "measure": "bookings", "amount": 5, "per": "period"},
                measures={"bookings": {"aggregate": "count"}},
                effective_from=day(7, 1),
            ),
        ],
    ),
    _error(
        "incentives.assignment_overlap",
        "assignments[1]",
        assignments=(
            Assignment("ann", "ae", end=day(3, 1)),
            Assignment("ann", "ae", start=day(3, 1)),
        ),
    ),
    _error(
        "incentives.duplicate_transaction",
        "transactions[1]",
        transactions=[deal("T1", day(1, 5), 1), deal("T1", day(1, 6), 1)],
    ),
    _error(
        "incentives.split_sum",
        "transactions[0].splits",
        transactions=[
            deal(
                "T1",
                day(1, 5),
                1,
                splits=(Split("ann", Decimal("0.6")), Split("bob", Decimal("0.3"))),
            )
        ],
    ),
    _error(
        "incentives.split_duplicate",
        "transactions[0].splits[1]",
        transactions=[
            deal(
                "T1",
                day(1, 5),
                1,
                splits=(Split("ann", Decimal("0.5")), Split("ann", Decimal("0.5"))),
            )
        ],
    ),
    _error(
        "incentives.no_exchange_rate",
        "transactions[0].amount",
        transactions=[Transaction("T1", day(1, 5), Money("1", "USD"), "ann")],
    ),
    _error(
        "incentives.not_on_minor_unit",
        "transactions[0].amount",
        transactions=[deal("T1", day(1, 5), "1.005")],
    ),
    _error("incentives.no_quota", "quotas.bookings[ann, FY2027-M01]", plan=QUOTA_PLAN),
    _error(
        "incentives.zero_quota",
        "quotas.bookings[ann, FY2027-M01]",
        plan=QUOTA_PLAN,
        quotas={"bookings": {("ann", JAN): cny(0), ("bob", JAN): cny(1)}},
    ),
    _error(
        "incentives.no_kpi",
        "kpis.csat[ann, FY2027-M01]",
        plan=SCORECARD_PLAN,
        assignments=(Assignment("ann", "ae", target_incentive=cny(1200)),),
        quotas={"bookings": {("ann", JAN): cny(100)}},
    ),
    _error(
        "incentives.no_target_incentive",
        "assignments[0].target_incentive",
        plan=SCORECARD_PLAN,
        assignments=(Assignment("ann", "ae"),),
        quotas={"bookings": {("ann", JAN): cny(100)}},
        kpis={"csat": {("ann", JAN): Decimal(1)}},
    ),
    _error(
        "incentives.invalid_target_incentive",
        "assignments[0].target_incentive",
        plan=SCORECARD_PLAN,
        assignments=(Assignment("ann", "ae", target_incentive=cny(-1200)),),
        quotas={"bookings": {("ann", JAN): cny(100)}},
        kpis={"csat": {("ann", JAN): Decimal(1)}},
    ),
    _error(
        "incentives.not_on_minor_unit",
        "quotas.bookings[ann, FY2027-M01]",
        plan=QUOTA_PLAN,
        quotas={"bookings": {("ann", JAN): cny("100000.005"), ("bob", JAN): cny(1)}},
    ),
    _error(
        "incentives.no_attribute",
        "assignments[0].attributes.team",
        plan=make_plan(pool(amount=10, split="equal")),
    ),
    _error(
        "incentives.no_org",
        "plan[0].crediting.override_levels",
        plan=make_plan(commission(), crediting={"override_levels": 1}),
    ),
    _error(
        "incentives.missing_field",
        "transactions[0].fields.product",
        plan=make_plan(commission(), fields={"product": "string"}),
    ),
    _error(
        "incentives.unknown_component",
        "adjustments[0].component",
        adjustments=[Adjustment("ann", "ae", JAN, cny(1), "x", "y", component="nope")],
    ),
    _error(
        "incentives.unknown_period",
        "adjustments[0].period",
        adjustments=[Adjustment("ann", "ae", "2027-01", cny(500), "missed deal", "li")],
    ),
    _error(
        "incentives.period_closed",
        "adjustments[1].period",
        period=FEB,
        adjustments=[
            Adjustment("ann", "other-plan", JAN, cny(1), "x", "y"),  # another plan's: not ours
            Adjustment("ann", "ae", JAN, cny(500), "missed deal", "li"),
        ],
    ),
    _error(
        "incentives.no_statement",
        "adjustments[0].payee",
        adjustments=[Adjustment("zoe", "ae", JAN, cny(1), "x", "y")],
    ),
    _error(
        "incentives.period_recorded",
        "ledger",
        ledger=Ledger().record(run(make_plan(commission()), [], JAN)),
    ),
    _error("incentives.unknown_engine", "engine", engine="fast"),
]


@pytest.mark.parametrize(
    ("code", "path", "overrides"), BAD_INPUT, ids=[f"{c}-{p}" for c, p, _ in BAD_INPUT]
)
def test_bad_input_raises_a_located_error_before_anything_is_computed(code, path, overrides):
    arguments: dict[str, object] = {
        "plan": make_plan(commission()),
        "transactions": [deal("T0", day(1, 2), 100)],
        "assignments": ON_PLAN,
        "period": JAN,
        "ledger": Ledger(),
        "engine": "reference",
    }
    arguments.update(overrides)
    with pytest.raises(InvalidValueError) as caught:
        calculate(**arguments)  # type: ignore[arg-type]
    assert (caught.value.code, caught.value.path) == (code, path)


def test_a_quota_in_another_currency_is_refused():
    with pytest.raises(CurrencyMismatchError) as caught:
        run(QUOTA_PLAN, [], quotas={"bookings": {("ann", JAN): Money(1, "USD")}})
    assert caught.value.path == "quotas.bookings[ann, FY2027-M01]"


def test_a_plan_naming_an_unknown_measure_does_not_load():
    with pytest.raises(DefinitionError) as caught:
        make_plan(commission(measure="revenue"))
    found = [(p.code, str(p.location)) for p in caught.value.problems]
    assert found == [("plan.unknown_measure", "plan.components[0].measure")]


def test_a_plan_with_overlapping_tiers_does_not_load():
    bad_table = {"tiers": [{"start": 0, "end": 100, "rate": "0.05"}, {"start": 90, "rate": "0.08"}]}
    with pytest.raises(DefinitionError) as caught:
        make_plan(commission(table=bad_table))
    (problem,) = caught.value.problems
    assert str(problem.location) == "plan.components[0].table"
    assert "tiers[0] (ends at 100) overlaps tiers[1] (starts at 90)" in problem.message


def test_a_ledger_that_is_not_one_is_refused_with_where():
    with pytest.raises(InvalidValueError) as caught:
        Ledger.from_dict({"format": 1, "earned": [{"payee": "ann"}]})
    assert (caught.value.code, caught.value.path) == (
        "incentives.invalid_ledger",
        "ledger.earned[0].plan",
    )


def test_recording_a_period_twice_is_refused():
    plan = make_plan(commission())
    ledger = Ledger().record(run(plan, [], FEB))
    with pytest.raises(InvalidValueError) as caught:
        ledger.record(run(plan, [], JAN))
    assert caught.value.code == "incentives.period_recorded"
