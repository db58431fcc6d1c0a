"""A cap on a whole plan, across its components (`PlanCap`, decisions D28-D30).

Every case runs both engines and asserts equal runs (and equal JSON); the figures are
worked by hand in the comments. The plan: a commission paying 10% of each deal
(rated individually, per period), optionally a 100 CNY bonus per deal.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from pydantic import ValidationError

from salesflow.errors import DefinitionError, InvalidValueError
from salesflow.incentives import (
    Assignment,
    Cap,
    Ledger,
    Line,
    Payees,
    PayoutRun,
    Plan,
    PlanCap,
    Samples,
    Transaction,
    calculate,
    calculate_columns,
    load_plan,
    simulate,
)
from salesflow.money import Money

C = "CNY"
JAN, FEB, MAR, JUL, AUG = (f"FY2027-M{m:02d}" for m in (1, 2, 3, 7, 8))
ANN = (Assignment("ann", "ae"),)


def cny(amount: str | int) -> Money:
    return Money(str(amount), C)


def deal(tid: str, month: int, dom: int, amount: int, **extra: object) -> Transaction:
    return Transaction(tid, dt.date(2027, month, dom), cny(amount), "ann", **extra)  # type: ignore[arg-type]


def plan_data(
    cap: dict[str, object] | None, *, bonus: bool = False, clawback: bool = False
) -> dict[str, object]:
    commission: dict[str, object] = {
        "kind": "commission",
        "id": "commission",
        "measure": "bookings",
        "rating": "individual",
        "accumulate": "period",
        "table": {"tiers": [{"start": 0, "rate": "0.1"}]},
    }
    if clawback:
        commission["clawback"] = {"within_days": 90}
    components: list[dict[str, object]] = [commission]
    if bonus:
        components.append(
            {
                "kind": "bonus",
                "id": "logo",
                "measure": "bookings",
                "amount": 100,
                "per": "transaction",
            }
        )
    data: dict[str, object] = {
        "id": "ae",
        "currency": C,
        "fiscal_year": 2027,
        "rounding": "half_up",
        "measures": {"bookings": {}},
        "components": components,
    }
    if cap is not None:
        data["cap"] = cap
    return data


def make_plan(cap: dict[str, object] | None, **options: bool) -> Plan:
    return load_plan(plan_data(cap, **options))


def both(
    plan: Plan | list[Plan],
    deals: list[Transaction],
    period: str,
    *,
    ledger: Ledger | None = None,
    assignments: tuple[Assignment, ...] = ANN,
) -> PayoutRun:
    """The reference run, after checking the batch engine gives an equal one."""
    given = Ledger() if ledger is None else ledger
    runs = [
        calculate(plan, deals, assignments, period=period, ledger=given, engine=engine)
        for engine in ("reference", "batch")
    ]
    assert runs[0] == runs[1]
    assert runs[0].to_dict() == runs[1].to_dict()
    return runs[0]


def rows(run: PayoutRun, payee: str = "ann") -> list[tuple[str, str | None, str | None, str]]:
    return [
        (line.kind, line.component, line.note, str(line.amount))
        for line in run.statement(payee).lines
    ]


def rows_explained(run: PayoutRun, payee: str = "ann") -> list[str]:
    return [line.explain() for line in run.statement(payee).lines]


def close(
    plan: Plan | list[Plan],
    deals: list[Transaction],
    periods: list[str],
    *,
    assignments: tuple[Assignment, ...] = ANN,
) -> tuple[Ledger, PayoutRun]:
    """Run and record each period in turn; the ledger and the last run."""
    ledger = Ledger()
    run = None
    for period in periods:
        run = both(plan, deals, period, ledger=ledger, assignments=assignments)
        ledger = ledger.record(run)
    assert run is not None
    return ledger, run


# -- per period ---------------------------------------------------------------------


def test_plan_period_cap_cuts_the_sum_of_two_components_to_the_cap() -> None:
    # Commission 10% x 12,000 = 1,200 and the bonus 100: 1,300 across the plan; the
    # plan pays at most 1,000 a period: a cut of 1,000 - 1,300 = -300, basis 1,300.
    run = both(make_plan({"per_period": 1000}, bonus=True), [deal("t1", 1, 5, 12000)], JAN)
    assert rows(run) == [
        ("credit", "commission", None, "1200.00 CNY"),
        ("bonus", "logo", None, "100.00 CNY"),
        ("cap", None, "plan_per_period", "-300.00 CNY"),
    ]
    cut = run.statement("ann").lines[-1]
    assert cut.basis == cny("1300")
    assert str(run.statement("ann").total) == "1000.00 CNY"
    # What the plan cap cut is earned under its reserved id.
    assert run.earned[("ann", "plan.cap", JAN)] == cny("-300")


def test_a_plan_cap_that_does_not_bind_writes_no_line_and_earns_nothing() -> None:
    # 1,200 + 100 = 1,300, under a period cap of 5,000 and a yearly cap of 9,000.
    plan = make_plan({"per_period": 5000, "per_year": 9000}, bonus=True)
    run = both(plan, [deal("t1", 1, 5, 12000)], JAN)
    assert [kind for kind, *_ in rows(run)] == ["credit", "bonus"]
    assert str(run.statement("ann").total) == "1300.00 CNY"
    assert not [key for key in run.earned if key[1] == "plan.cap"]


def test_a_plan_without_a_cap_computes_no_plan_cap() -> None:
    plan = make_plan(None)
    run = both(plan, [deal("t1", 1, 5, 12000)], JAN)
    assert rows(run) == [("credit", "commission", None, "1200.00 CNY")]
    columns = calculate_columns(plan, [deal("t1", 1, 5, 12000)], ANN, period=JAN, ledger=Ledger())
    assert columns.components == ("commission",)


# -- per year -------------------------------------------------------------------------


def test_plan_yearly_cap_pays_what_the_sum_to_date_grows_by_up_to_the_cap() -> None:
    # Jan 12,000 -> 1,200 (S 1,200 <= 1,500: no cut). Feb 6,000 -> 600: S 1,800, held
    # to 1,500: Feb pays 1,500 - 1,200 = 300, a cut of 300 - 600 = -300 (basis 600).
    # Mar 2,000 -> 200: S 2,000, still 1,500: Mar pays 0, a cut of -200.
    plan = make_plan({"per_year": 1500})
    deals = [deal("t1", 1, 5, 12000), deal("t2", 2, 5, 6000), deal("t3", 3, 5, 2000)]
    ledger = Ledger()
    expected = {
        JAN: [("credit", "commission", None, "1200.00 CNY")],
        FEB: [
            ("credit", "commission", None, "600.00 CNY"),
            ("cap", None, "plan_per_year", "-300.00 CNY"),
        ],
        MAR: [
            ("credit", "commission", None, "200.00 CNY"),
            ("cap", None, "plan_per_year", "-200.00 CNY"),
        ],
    }
    for period, lines in expected.items():
        run = both(plan, deals, period, ledger=ledger)
        assert rows(run) == lines, period
        ledger = ledger.record(run)
    assert run.statement("ann").lines[-1].basis == cny("200")
    assert str(run.statement("ann").total) == "0.00 CNY"


def test_plan_period_cut_comes_before_the_yearly_cap() -> None:
    # Jan 1,300 (1,200 + 100) cut to the 1,000 period cap (-300); the year then counts
    # 1,000, under 2,500. Feb 2,100 (2,000 + 100): cut to 1,000 (-1,100, basis 2,100);
    # S = 2,000, under 2,500. Mar 1,100 (1,000 + 100): cut to 1,000 (-100); S = 3,000,
    # held to 2,500: pays 500, a yearly cut of 500 - 1,000 = -500 (basis 1,000).
    plan = make_plan({"per_period": 1000, "per_year": 2500}, bonus=True)
    deals = [deal("t1", 1, 5, 12000), deal("t2", 2, 5, 20000), deal("t3", 3, 5, 10000)]
    _, march = close(plan, deals, [JAN, FEB, MAR])
    assert rows(march) == [
        ("credit", "commission", None, "1000.00 CNY"),
        ("bonus", "logo", None, "100.00 CNY"),
        ("cap", None, "plan_per_period", "-100.00 CNY"),
        ("cap", None, "plan_per_year", "-500.00 CNY"),
    ]
    period_cut, year_cut = march.statement("ann").lines[-2:]
    assert (period_cut.basis, year_cut.basis) == (cny("1100"), cny("1000"))
    assert str(march.statement("ann").total) == "500.00 CNY"


def test_plan_yearly_cap_gives_back_after_a_clawback_as_a_component_cap_does() -> None:
    # Jan t1 10,000 -> 1,000 (S 1,000). Feb t2 8,000 -> 800: S 1,800, held to 1,500:
    # pays 500, cut -300. Mar t2 is cancelled (within 90 days): clawback -800, so
    # S = 1,800 - 800 = 1,000, now under the cap: C falls from 1,500 to 1,000, so Mar
    # pays -500: the clawback's -800 plus +300 given back (what was cut in Feb).
    # The year pays 1,000 + 500 - 500 = 1,000: exactly what t1, still standing, earned.
    plan = make_plan({"per_year": 1500}, clawback=True)
    deals = [deal("t1", 1, 5, 10000), deal("t2", 2, 5, 8000, cancelled=dt.date(2027, 3, 10))]
    _, march = close(plan, deals, [JAN, FEB, MAR])
    assert rows(march) == [
        ("clawback", "commission", None, "-800.00 CNY"),
        ("cap", None, "plan_per_year", "300.00 CNY"),
    ]
    assert march.statement("ann").lines[-1].basis == cny("-800")
    assert str(march.statement("ann").total) == "-500.00 CNY"
    back = march.statement("ann").lines[-1]
    assert back.explain() == (
        "Yearly cap on the whole plan: -CN¥800.00 across its components after any period "
        "cut, before the yearly cap; gives back CN¥300.00 cut earlier (the cap now holds "
        "back less of the pay to date)."
    )


def test_plan_cap_on_target_incentive_is_the_rounded_multiple_and_the_least_limit() -> None:
    # TI 10,000.05 x 0.15 = 1,500.0075, rounded half up to 1,500.01; per_year 2,000 is
    # higher, so 1,500.01 binds. Jan 1,200; Feb 600: S 1,800 -> pays 300.01, a cut of
    # 300.01 - 600 = -299.99.
    plan = make_plan({"per_year": 2000, "target_incentive_multiple": "0.15"})
    assignments = (Assignment("ann", "ae", target_incentive=cny("10000.05")),)
    deals = [deal("t1", 1, 5, 12000), deal("t2", 2, 5, 6000)]
    jan = both(plan, deals, JAN, assignments=assignments)
    run = both(plan, deals, FEB, ledger=Ledger().record(jan), assignments=assignments)
    assert rows(run) == [
        ("credit", "commission", None, "600.00 CNY"),
        ("cap", None, "plan_per_year", "-299.99 CNY"),
    ]


# -- late data, the ledger -----------------------------------------------------------------


def test_a_late_deal_in_a_capped_closed_period_nets_to_zero_in_recalculations() -> None:
    # Jan: t1 12,000 -> 1,200, cut to the 1,000 period cap (-200); recorded.
    # Feb: t3 15,000 -> 1,500, cut to 1,000 (-500). Late t2 3,000 dated Jan 20: Jan's
    # commission is now 1,500 (stated 1,200: +300) and Jan's plan cap -500 (stated
    # -200: -300). The two recalculation lines net to 0: January still pays 1,000.
    plan = make_plan({"per_period": 1000})
    january = both(plan, [deal("t1", 1, 5, 12000)], JAN)
    ledger = Ledger().record(january)
    deals = [deal("t1", 1, 5, 12000), deal("t2", 1, 20, 3000), deal("t3", 2, 5, 15000)]
    february = both(plan, deals, FEB, ledger=ledger)
    assert rows(february) == [
        ("credit", "commission", None, "1500.00 CNY"),
        ("cap", None, "plan_per_period", "-500.00 CNY"),
        ("recalculation", "commission", None, "300.00 CNY"),
        ("recalculation", "plan.cap", None, "-300.00 CNY"),
    ]
    recalculation = february.statement("ann").lines[-1]
    assert (recalculation.period, recalculation.basis) == (JAN, cny("-200"))
    assert recalculation.explain() == (
        "Recalculation of the plan cap for FY2027-M01: stated -CN¥200.00, now -CN¥500.00; "
        "difference -CN¥300.00."
    )
    assert recalculation.explain("zh") == (
        "重算全计划封顶 FY2027-M01\uff1a原结算 -¥200.00\uff0c重算为 -¥500.00\uff0c"
        "差额 -¥300.00\u3002"
    )
    assert str(february.statement("ann").total) == "1000.00 CNY"
    # The ledger keeps the plan cap's figures and reads them back.
    ledger = ledger.record(february)
    assert ledger.stated("ann", "ae", "plan.cap", JAN) == cny("-500")
    assert ledger.stated("ann", "ae", "plan.cap", FEB) == cny("-500")
    assert Ledger.from_dict(ledger.to_dict()) == ledger


# -- versions ---------------------------------------------------------------------------


def test_each_period_takes_the_plan_cap_of_the_version_in_force_on_its_last_day() -> None:
    # v1 to July 14th caps a period at 1,000, v2 from July 15th at 500. A 12,000 deal
    # pays 1,200 in each of March, July and August: March is v1's (-200); July ends
    # in v2, so a deal of July 3rd (rated by v1) is cut to 500 (-700); August too.
    first = plan_data({"per_period": 1000})
    first["effective_to"] = "2027-07-14"
    second = plan_data({"per_period": 500})
    second["effective_from"] = "2027-07-15"
    plans = [load_plan(first), load_plan(second)]
    deals = [deal("t1", 3, 5, 12000), deal("t2", 7, 3, 12000), deal("t3", 8, 5, 12000)]
    for period, cut in ((MAR, "-200.00 CNY"), (JUL, "-700.00 CNY"), (AUG, "-700.00 CNY")):
        run = both(plans, [d for d in deals if d.date.strftime("FY%Y-M%m") == period], period)
        assert rows(run)[-1] == ("cap", None, "plan_per_period", cut), period


def test_a_version_without_a_plan_cap_cuts_nothing_and_its_pay_counts_toward_the_year() -> None:
    # v1 (Jan-Feb) has no plan cap; v2 (from March) caps the year at 1,500. Jan 1,200
    # is paid whole and counts: in March, 600 takes the year to 1,800, held to 1,500:
    # pays 300, a cut of -300.
    first = plan_data(None)
    first["effective_to"] = "2027-02-28"
    second = plan_data({"per_year": 1500})
    second["effective_from"] = "2027-03-01"
    plans = [load_plan(first), load_plan(second)]
    deals = [deal("t1", 1, 5, 12000), deal("t2", 3, 5, 6000)]
    january = both(plans, deals[:1], JAN)
    assert rows(january) == [("credit", "commission", None, "1200.00 CNY")]
    ledger = Ledger().record(january)
    ledger = ledger.record(both(plans, deals[:1], FEB, ledger=ledger))
    march = both(plans, deals, MAR, ledger=ledger)
    assert rows(march) == [
        ("credit", "commission", None, "600.00 CNY"),
        ("cap", None, "plan_per_year", "-300.00 CNY"),
    ]


# -- explanations -------------------------------------------------------------------------


def test_a_plan_cap_line_explains_itself_in_english_and_chinese() -> None:
    line = Line(kind="cap", amount=cny("-300.00"), basis=cny("1300.00"), note="plan_per_period")
    assert line.explain() == (
        "Period cap on the whole plan: CN¥1,300.00 across its components before the cap; "
        "cut by CN¥300.00."
    )
    assert line.explain("zh") == (
        "全计划每期封顶\uff1a各组成部分合计 ¥1,300.00\uff08封顶前\uff09\uff0c扣减 ¥300.00\u3002"
    )
    yearly = Line(kind="cap", amount=cny("300.00"), basis=cny("-800.00"), note="plan_per_year")
    assert yearly.explain("zh") == (
        "全计划年度封顶\uff1a各组成部分合计 -¥800.00\uff08每期封顶后、年度封顶前\uff09\uff0c"
        "年度累计扣减减少\uff0c退回此前扣减的 ¥300.00\u3002"
    )


def test_the_yearly_plan_cap_line_says_its_basis_is_the_pay_after_the_period_cut() -> None:
    # As in test_plan_period_cut_comes_before_the_yearly_cap: in March the components
    # pay 1,000 + 100 = 1,100, cut to the 1,000 period cap (-100, basis 1,100); the
    # yearly cap sees the 1,000 left: S = 1,000 + 1,000 + 1,000 = 3,000, held to 2,500,
    # so March pays 2,500 - 2,000 = 500: a cut of -500 on a basis of 1,000, not 1,100.
    plan = make_plan({"per_period": 1000, "per_year": 2500}, bonus=True)
    deals = [deal("t1", 1, 5, 12000), deal("t2", 2, 5, 20000), deal("t3", 3, 5, 10000)]
    _, march = close(plan, deals, [JAN, FEB, MAR])
    period_cut, year_cut = march.statement("ann").lines[-2:]
    assert period_cut.explain() == (
        "Period cap on the whole plan: CN¥1,100.00 across its components before the cap; "
        "cut by CN¥100.00."
    )
    assert year_cut.explain() == (
        "Yearly cap on the whole plan: CN¥1,000.00 across its components after any period "
        "cut, before the yearly cap; cut by CN¥500.00."
    )
    assert year_cut.explain("zh") == (
        "全计划年度封顶\uff1a各组成部分合计 ¥1,000.00\uff08每期封顶后、年度封顶前\uff09"
        "\uff0c扣减 ¥500.00\u3002"
    )


def _target_incentive_rises_in_march() -> tuple[Assignment, ...]:
    return (
        Assignment("ann", "ae", end=dt.date(2027, 2, 28), target_incentive=cny(2000)),
        Assignment("ann", "ae", start=dt.date(2027, 3, 1), target_incentive=cny(6000)),
    )


def test_a_higher_target_incentive_gives_back_part_of_an_earlier_yearly_plan_cut() -> None:
    # The plan pays at most 0.5 x TI a year: 0.5 x 2,000 = 1,000 to February, 0.5 x
    # 6,000 = 3,000 from March. Jan 15,000 -> 1,500, held to 1,000: -500. Mar 1,000 ->
    # 100: S = 1,600, under 3,000, so C goes 1,000 -> 1,600 and March pays 600: its 100
    # plus +500 given back, with no clawback and no negative period.
    plan = make_plan({"target_incentive_multiple": "0.5"})
    deals = [deal("t1", 1, 5, 15000), deal("t2", 3, 5, 1000)]
    _, march = close(plan, deals, [JAN, FEB, MAR], assignments=_target_incentive_rises_in_march())
    assert rows(march) == [
        ("credit", "commission", None, "100.00 CNY"),
        ("cap", None, "plan_per_year", "500.00 CNY"),
    ]
    back = march.statement("ann").lines[-1]
    assert back.explain() == (
        "Yearly cap on the whole plan: CN¥100.00 across its components after any period "
        "cut, before the yearly cap; gives back CN¥500.00 cut earlier (the cap now holds "
        "back less of the pay to date)."
    )
    assert back.explain("zh") == (
        "全计划年度封顶\uff1a各组成部分合计 ¥100.00\uff08每期封顶后、年度封顶前\uff09"
        "\uff0c年度累计扣减减少\uff0c退回此前扣减的 ¥500.00\u3002"
    )


def test_a_later_version_with_a_higher_per_year_gives_back_though_pay_stays_above_it() -> None:
    # v1 (to June 30th) caps the year at 1,000, v2 (from July 1st) at 1,200. Jan
    # 15,000 -> 1,500, held to 1,000: -500. Jul 1,000 -> 100: S = 1,600, held to
    # 1,200: C goes 1,000 -> 1,200, July pays 200: its 100 plus +100 given back. The
    # pay to date (1,600) is still above the cap (1,200): only "holds back less" is true.
    first = plan_data({"per_year": 1000})
    first["effective_to"] = "2027-06-30"
    second = plan_data({"per_year": 1200})
    second["effective_from"] = "2027-07-01"
    plans = [load_plan(first), load_plan(second)]
    deals = [deal("t1", 1, 5, 15000), deal("t2", 7, 5, 1000)]
    months = [f"FY2027-M{m:02d}" for m in range(1, 8)]
    _, july = close(plans, deals, months)
    assert rows(july) == [
        ("credit", "commission", None, "100.00 CNY"),
        ("cap", None, "plan_per_year", "100.00 CNY"),
    ]
    assert str(july.statement("ann").total) == "200.00 CNY"
    assert "(the cap now holds back less of the pay to date)" in rows_explained(july)[-1]


def test_a_component_yearly_cap_gives_back_after_its_limit_rose_and_says_so() -> None:
    # The same figures on the commission's own cap (0.5 x TI): Jan 1,500 held to
    # 1,000 (-500); Mar 100, S = 1,600 under 3,000: +500 given back.
    data = plan_data(None)
    data["components"][0]["cap"] = {"target_incentive_multiple": "0.5"}  # type: ignore[index]
    deals = [deal("t1", 1, 5, 15000), deal("t2", 3, 5, 1000)]
    _, march = close(
        load_plan(data), deals, [JAN, FEB, MAR], assignments=_target_incentive_rises_in_march()
    )
    assert rows(march) == [
        ("credit", "commission", None, "100.00 CNY"),
        ("cap", "commission", "per_year", "500.00 CNY"),
    ]
    back = march.statement("ann").lines[-1]
    assert back.explain() == (
        "Yearly cap on 'commission': CN¥100.00 before the cap; gives back CN¥500.00 cut "
        "earlier (the cap now holds back less of the pay to date)."
    )
    assert back.explain("zh") == (
        "年度封顶\u300ccommission\u300d\uff1a封顶前 ¥100.00\uff0c年度累计扣减减少\uff0c"
        "退回此前扣减的 ¥500.00\u3002"
    )


# -- limits beyond int64 ----------------------------------------------------------------

# 10^17 CNY is 10^19 fen, above int64's 9,223,372,036,854,775,807; the last is int64's
# maximum itself, and one fen above it.
_HUGE = ("100000000000000000", "92233720368547758.07", "92233720368547758.08")


@pytest.mark.parametrize("amount", _HUGE)
@pytest.mark.parametrize(
    ("holder", "name"),
    [
        ("plan", "per_period"),
        ("plan", "per_year"),
        ("commission", "per_period"),
        ("commission", "per_year"),
    ],
)
def test_a_cap_beyond_int64_minor_units_never_binds_in_either_engine(
    holder: str, name: str, amount: str
) -> None:
    # 1,000 x 10% = 100, far below any of these limits: no cut, in both engines (the
    # batch engine holds the limit to int64's maximum instead of overflowing).
    data = plan_data({name: amount} if holder == "plan" else None)
    if holder == "commission":
        data["components"][0]["cap"] = {name: amount}  # type: ignore[index]
    run = both(load_plan(data), [deal("t1", 1, 5, 1000)], JAN)
    assert rows(run) == [("credit", "commission", None, "100.00 CNY")]


# -- bad input ----------------------------------------------------------------------------


@pytest.mark.parametrize("cap", [{}, {"per_year": None}])
def test_a_plan_cap_without_a_limit_is_refused(cap: dict[str, object]) -> None:
    # It would cut nothing, yet add a "plan.cap" column of zeros.
    with pytest.raises(DefinitionError) as caught:
        make_plan(cap)
    assert [(p.code, str(p.location)) for p in caught.value.problems] == [
        ("plan.empty_cap", "plan.cap")
    ]
    with pytest.raises(ValidationError, match=r"plan\.cap: a cap needs at least one limit"):
        Plan.model_validate(plan_data(cap))


def test_a_component_cap_without_a_limit_is_refused_with_the_plan_cap_problem() -> None:
    data = plan_data({})
    data["components"][0]["cap"] = {}  # type: ignore[index]
    with pytest.raises(DefinitionError) as caught:
        load_plan(data)
    assert [(p.code, str(p.location)) for p in caught.value.problems] == [
        ("plan.empty_cap", "plan.cap"),
        ("plan.empty_cap", "plan.components[0].cap"),
    ]


def test_the_json_schema_asks_every_cap_for_at_least_one_limit() -> None:
    definitions = Plan.model_json_schema()["$defs"]
    assert definitions["PlanCap"]["minProperties"] == 1
    assert definitions["Cap"]["minProperties"] == 1


@pytest.mark.parametrize("engine", ["reference", "batch"])
def test_calculate_refuses_a_copied_plan_whose_cap_is_off_the_minor_unit(engine: str) -> None:
    # 999.995 is between two fen: load_plan refuses it, model_copy(update=...) does not
    # check it, so calculate does, with load_plan's error (else the reference would
    # cut 1,200 - 999.995 = 200.005 and the batch engine 200.01).
    base = make_plan(None)
    capped = base.model_copy(update={"cap": PlanCap(per_period=Decimal("999.995"))})
    component = base.components[0].model_copy(update={"cap": Cap(per_year=Decimal("0.001"))})
    later = base.model_copy(update={"effective_from": dt.date(2027, 7, 1)})
    cases = [
        (capped, "plan.cap.per_period"),
        (base.model_copy(update={"components": (component,)}), "plan.components[0].cap.per_year"),
        (
            [
                base.model_copy(update={"effective_to": dt.date(2027, 6, 30)}),
                later.model_copy(update={"cap": PlanCap(per_year=Decimal("0.005"))}),
            ],
            "plan[1].cap.per_year",
        ),
    ]
    for plan, where in cases:
        with pytest.raises(DefinitionError) as caught:
            calculate(
                plan, [deal("t1", 1, 5, 12000)], ANN, period=JAN, ledger=Ledger(), engine=engine
            )
        found = [(p.code, str(p.location)) for p in caught.value.problems]
        assert found == [("plan.not_on_minor_unit", where)]


@pytest.mark.parametrize(
    ("cap", "code", "where"),
    [
        ({"per_period": -1}, "plan.greater_than_equal", "plan.cap.per_period"),
        ({"per_year": "-0.01"}, "plan.greater_than_equal", "plan.cap.per_year"),
        ({"per_year": "10.001"}, "plan.not_on_minor_unit", "plan.cap.per_year"),
        (
            {"target_incentive_multiple": "0.0000001"},
            "plan.value_error",
            "plan.cap.target_incentive_multiple",
        ),
        ({"per_month": 5}, "plan.extra_forbidden", "plan.cap.per_month"),
    ],
)
def test_a_bad_plan_cap_is_refused_where_it_is(
    cap: dict[str, object], code: str, where: str
) -> None:
    with pytest.raises(DefinitionError) as caught:
        make_plan(cap)
    assert [(p.code, str(p.location)) for p in caught.value.problems] == [(code, where)]


def test_the_plan_cap_id_is_refused_as_a_component_id() -> None:
    data = plan_data({"per_period": 1000})
    data["components"][0]["id"] = "plan.cap"  # type: ignore[index]
    with pytest.raises(DefinitionError) as caught:
        load_plan(data)
    found = [(p.code, str(p.location)) for p in caught.value.problems]
    assert found == [("plan.reserved_component", "plan.components[0].id")]


@pytest.mark.parametrize("engine", ["reference", "batch"])
def test_a_plan_cap_on_target_incentive_needs_the_payees_target_incentive(engine: str) -> None:
    plan = make_plan({"target_incentive_multiple": 2})
    with pytest.raises(InvalidValueError) as caught:
        calculate(plan, [deal("t1", 1, 5, 1000)], ANN, period=JAN, ledger=Ledger(), engine=engine)
    assert caught.value.code == "incentives.no_target_incentive"
    assert str(caught.value.location) == "assignments[0].target_incentive"


# -- simulate -----------------------------------------------------------------------------


def _simulated(cap: dict[str, object], target_incentive: int | None = None) -> dict[str, object]:
    data = plan_data(cap)
    data["measures"] = {"bookings": {"quota": True}}
    commission = data["components"][0]  # type: ignore[index]
    commission.update({"rating": "cumulative", "accumulate": "year"})  # type: ignore[union-attr]
    payees = Payees(
        {"bookings": [1_000_000, 200_000]},
        target_incentive=None if target_incentive is None else [target_incentive] * 2,
    )
    result = simulate(
        load_plan(data), payees, attainment=Samples([[1.2, 1.0]]), scenarios=1, seed=1
    )
    return {
        "total": result.money(result.total[0]),
        "components": {cid: result.money(v[0]) for cid, v in result.components.items()},
        "payees": [result.money(v) for v in result.payee_totals],
    }


def test_simulate_holds_each_payee_year_to_the_plan_yearly_cap() -> None:
    # ann: 120% of 1,000,000 = 1,200,000 x 10% = 120,000, held to 100,000 (-20,000);
    # bob: 100% of 200,000 x 10% = 20,000, under the cap. Total 120,000.
    found = _simulated({"per_year": 100000})
    assert found["payees"] == [cny("100000"), cny("20000")]
    assert found["components"] == {"commission": cny("140000"), "plan.cap": cny("-20000")}
    assert found["total"] == cny("120000")


def test_simulate_takes_the_plan_cap_on_target_incentive() -> None:
    # 1.5 x 12,000 = 18,000: ann 120,000 -> 18,000, bob 20,000 -> 18,000.
    found = _simulated({"target_incentive_multiple": "1.5"}, target_incentive=12000)
    assert found["payees"] == [cny("18000"), cny("18000")]


def test_simulate_refuses_a_plan_cap_per_period() -> None:
    with pytest.raises(InvalidValueError) as caught:
        _simulated({"per_period": 1000})
    assert caught.value.code == "incentives.not_simulable"
    assert str(caught.value.location) == "plan.cap.per_period"


def test_plan_cap_is_a_frozen_model_that_round_trips_with_the_plan() -> None:
    cap = PlanCap(per_year=Decimal(1500))
    plan = make_plan({"per_year": 1500})
    assert plan.cap == cap
    assert Plan.model_validate_json(plan.model_dump_json()) == plan
    with pytest.raises(ValidationError):
        cap.per_year = Decimal(1)  # type: ignore[misc]
