"""A tour of what salesflow does today, on the sample company in examples/company/.

华夏销售 (a 30-person sales org in three regions) sets its FY2026 new-contract target,
breaks it down to every rep and week, checks its deals against rules written as text,
works out deadlines in China's business time, and takes a deal through its sales
process with a cross-department discount approval, then pays its reps for the first
half year, month by month. Run it with:

    python examples/tour.py

It becomes ``salesflow demo`` once the CLI lands.
"""

from __future__ import annotations

import csv
import datetime as dt
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np

from salesflow.expressions import compile_expression
from salesflow.incentives import Assignment, Ledger, Transaction, calculate
from salesflow.incentives import load_plan as load_incentive_plan
from salesflow.money import Money, allocate, to_minor_units_array
from salesflow.periods import BusinessCalendar, Grain, MonthlyCalendar, RetailCalendar
from salesflow.targets import OrgTree, decompose, load_plan
from salesflow.workflow import Actor, Workflow, lint, load_workflow, to_mermaid

COMPANY = Path(__file__).parent / "company"


def heading(title: str) -> None:
    """Print a section heading."""
    print(f"\n== {title} " + "=" * max(0, 70 - len(title)))


def money_section() -> None:
    """Exact amounts, named rounding, splits that add up, formatting for people."""
    heading("Money")
    bonus_pool = Money("100000.00", "CNY")
    parts = allocate(bonus_pool, [3, 3, 1])
    print("A ¥100,000 bonus pool split 3:3:1:", ", ".join(p.format(locale="zh_CN") for p in parts))
    print("  the parts sum to the pool exactly:", sum(parts, Money.zero("CNY")) == bonus_pool)
    commission = Money("1234567.89", "CNY") * Decimal("0.035")
    print(f"3.5% commission on ¥1,234,567.89 = {commission.amount} (unrounded), ", end="")
    print(f"half-up to the fen: {commission.round(rounding='half_up').format(locale='zh_CN')}")
    print("The same amount for an English reader:", parts[0].format(locale="en_US"))


def calendar_section() -> None:
    """Fiscal calendars: a calendar-month year and a 4-4-5 retail year."""
    heading("Fiscal calendar")
    april = MonthlyCalendar(start_month=4)
    q3 = april.parse("FY2026-Q3")
    print(f"Fiscal year from April: {q3.label} runs {q3.start} .. {q3.end} ({q3.days} days)")
    retail = RetailCalendar(pattern="4-4-5", year_end_month=1, year_end_weekday="saturday")
    year = retail.year(2026)
    weeks = retail.periods(2026, Grain.WEEK)
    print(f"4-4-5 retail FY2026 ends on the last Saturday of January: {year.start} .. {year.end}")
    print(f"  {len(weeks)} weeks; months of Q1 have", end=" ")
    print(", ".join(str(len(m.children(Grain.WEEK))) for m in retail.parse("FY2026-Q1").children()))
    print("  weeks; 2026-07-15 falls in", retail.period_of(dt.date(2026, 7, 15), Grain.WEEK).label)


def business_time_section() -> None:
    """China's holidays and make-up working days, and SLA deadlines in business hours."""
    heading("Business time")
    china = BusinessCalendar.for_country("CN", years=2026)
    shanghai = ZoneInfo("Asia/Shanghai")
    print(
        "2026-10-10 is a Saturday and a make-up working day:",
        china.is_business_day(dt.date(2026, 10, 10)),
    )
    print(
        "2026-10-05 is a Monday inside National Day:", china.is_business_day(dt.date(2026, 10, 5))
    )
    asked = dt.datetime(2026, 9, 30, 16, 0, tzinfo=shanghai)
    due = china.add_business_time(asked, dt.timedelta(hours=16))
    print(
        f"A discount approval asked {asked:%m-%d %H:%M} with a 16-business-hour SLA is due", end=" "
    )
    print(f"{due:%Y-%m-%d %H:%M} (after the holiday)")
    print(
        "Working days in October 2026:",
        china.count_business_days(dt.date(2026, 10, 1), dt.date(2026, 10, 31)),
    )


def expressions_section() -> None:
    """Rules written as text, checked once, evaluated per row and per column."""
    heading("Expressions")
    with (COMPANY / "deals.csv").open(encoding="utf-8") as f:
        deals = list(csv.DictReader(f))
    schema = {
        "amount": "decimal(2)",
        "region": "string",
        "stage": "string",
        "discount": "decimal(2)",
        "close_date": "date",
    }
    rule = 'amount >= 1000000 && discount > 0.1 && stage in ["方案", "谈判"]'
    needs_director = compile_expression(rule, schema, expect="bool")
    rows = [
        {
            "amount": Decimal(d["amount"]),
            "region": d["region"],
            "stage": d["stage"],
            "discount": Decimal(d["discount"]),
            "close_date": dt.date.fromisoformat(d["close_date"]),
        }
        for d in deals
    ]
    flagged = [
        d["deal_id"] for d, row in zip(deals, rows, strict=True) if needs_director.matches(row)
    ]
    print(f"Rule: {rule}")
    print(
        f"  {len(flagged)} of {len(deals)} deals need the regional director: {', '.join(flagged)}"
    )
    columns = {
        "amount": to_minor_units_array([r["amount"] for r in rows], "CNY"),
        "region": np.array([r["region"] for r in rows]),
        "stage": np.array([r["stage"] for r in rows]),
        "discount": to_minor_units_array([r["discount"] for r in rows], "CNY"),
        "close_date": np.array([r["close_date"] for r in rows], dtype="datetime64[D]"),
    }
    vectorized = needs_director.mask(columns)
    print(
        "  the vectorized evaluator agrees row for row:",
        [deals[i]["deal_id"] for i in np.flatnonzero(vectorized)] == flagged,
    )
    try:
        compile_expression("amount > 1000 && regoin == 'east'", schema)
    except ValueError as err:
        print(f"  a typo is caught when the rule is loaded: {err}")


def targets_section() -> None:
    """The year target broken down to every region, team, rep and week."""
    heading("Org and targets")
    org = OrgTree.from_yaml((COMPANY / "org.yaml").read_text(encoding="utf-8"))
    plan = load_plan((COMPANY / "plan.yaml").read_text(encoding="utf-8"))
    grid = decompose(plan, org)
    total = plan.total.format(locale="zh_CN")
    print(f"{plan.name}: {total} over {len(org.ids)} nodes and {len(grid.periods)} weeks")
    quarters = plan.calendar.periods(plan.fiscal_year, Grain.QUARTER)
    print(f"  {'':<10}" + "".join(f"{q.label[-2:]:>16}" for q in quarters) + f"{'year':>16}")
    for node in ("华夏销售", "华东", "华南", "华北"):
        cells = [grid.value(node, q) for q in quarters] + [grid.value(node)]
        print(f"  {node:<10}" + "".join(f"{c.format(locale='zh_CN'):>16}" for c in cells))
    print("  every parent equals the sum of its reports, every week:", grid.check() == [])
    newcomer = "林晓"
    print(f"  {newcomer} joins 2026-04-13 with a ramp:", grid.explain(newcomer, "FY2026-M05-W2"))
    gap = grid.gap("上海一组", "FY2026-H2").format(locale="zh_CN")
    print(f"  a leaver's second-half target, kept as a visible gap under 上海一组: {gap}")
    mover = next(n for n in org.ids if len(org.history(n)) > 1)
    print(
        f"  {mover} moves team on 2026-09-01: H1 under",
        grid.explain(mover, "FY2026-M03-W2").parent,
        end="",
    )
    print(", Q4 under", grid.explain(mover, "FY2026-M11-W2").parent)


def workflow_section() -> None:
    """A deal through the sales process, with a cross-department discount approval."""
    heading("Workflow")
    definition = load_workflow(
        (Path(__file__).parent / "workflows" / "deal.yaml").read_text(encoding="utf-8")
    )
    findings = len(lint(definition))
    print(f"{definition.name}: {len(definition.states)} states, lint findings: {findings}")
    wf = Workflow(definition)
    shanghai = ZoneInfo("Asia/Shanghai")
    now = dt.datetime(2026, 3, 2, 9, 0, tzinfo=shanghai)
    rep = Actor("wang.fang", {"销售"})
    manager, finance = Actor("zhou", {"销售经理"}), Actor("wu", {"财务"})
    director = Actor("zhao.director")
    deal = wf.start("D0042", now=now, actor=rep)
    deal, _ = wf.fire(
        deal, "确认需求", rep, {"customer": "杭州数智物流", "region": "华东"}, now=now
    )
    deal, _ = wf.fire(deal, "提交报价", rep, {"amount": Decimal("1500000.00")}, now=now)
    deal, events = wf.fire(deal, "申请折扣", rep, {"discount": 12}, now=now)
    names = [getattr(e, "name", None) or e.event for e in events]
    print(f"  a 12% discount on ¥1,500,000 goes to approval; events to store: {names}")
    refused = wf.check(deal, "签约", rep)
    print(f"  signing now is refused ({refused.code}): {refused.message}")
    steps = [s.name for s in deal.approval.steps]
    print(f"  approval steps planned: {steps}")
    for approver in (manager, finance, director):
        deal = wf.approve(deal, approver, now=now + dt.timedelta(hours=2)).instance
    print(f"  after 销售经理, 财务 and the regional director approve: {deal.state}")
    deal, _ = wf.fire(deal, "签约", rep, {"contract_signed": True}, now=now + dt.timedelta(days=3))
    print(f"  signed: {deal.state} at version {deal.version}; history:")
    for step in deal.history:
        where = f"{step.source} -> {step.target}"
        print(f"    {step.at:%m-%d %H:%M}  {step.actor:<14} {step.event:<9} {where}")
    print("  diagram (Mermaid), first lines:", " | ".join(to_mermaid(definition).splitlines()[:3]))


def incentives_section() -> None:
    """Monthly pay statements for the first half, with a clawback and a draw."""
    heading("Incentives")
    org = OrgTree.from_yaml((COMPANY / "org.yaml").read_text(encoding="utf-8"))
    grid = decompose(load_plan((COMPANY / "plan.yaml").read_text(encoding="utf-8")), org)
    plan = load_incentive_plan((COMPANY / "incentives.yaml").read_text(encoding="utf-8"))
    reps = [n for n in org.ids if org.history(n)[-1].role == "rep"]
    assignments = [
        Assignment(rep, plan.id, start=org.history(rep)[0].start, end=org.history(rep)[-1].end)
        for rep in reps
    ]
    with (COMPANY / "deals.csv").open(encoding="utf-8") as handle:
        won = [row for row in csv.DictReader(handle) if row["stage"] == "赢单"]
    cancelled = {"D0006": dt.date(2026, 4, 20)}  # the customer withdrew within 90 days
    transactions = [
        Transaction(
            row["deal_id"],
            dt.date.fromisoformat(row["close_date"]),
            Money(row["amount"], "CNY"),
            row["owner"],
            fields={"region": row["region"], "discount": Decimal(row["discount"])},
            cancelled=cancelled.get(row["deal_id"]),
        )
        for row in won
    ]
    months = plan.calendar.periods(plan.fiscal_year, Grain.MONTH)[:6]
    ledger = Ledger()
    runs = {}
    print(f"{plan.name}: {len(assignments)} reps, {len(transactions)} won deals; H1 pay:")
    for month in months:
        run = calculate(
            plan, transactions, assignments, period=month, ledger=ledger, quotas={"bookings": grid}
        )
        ledger, runs[month.label] = ledger.record(run), run
        earners = [s for s in run.statements if any(line.kind != "draw" for line in s.lines)]
        names = ", ".join(f"{s.payee} {s.total.format(locale='zh_CN')}" for s in earners)
        print(
            f"  {month.label}: total {run.total.format(locale='zh_CN')} (draws included); {names}"
        )
    for payee, label in (("林敏", "FY2026-M04"), ("徐静伟", "FY2026-M06")):
        print(f"  {payee}, {label}:")
        for line in runs[label].statement(payee).lines:
            print(f"    {line.amount.format(locale='zh_CN'):>13}  {line.explain('zh')}")


def main() -> None:
    """Run every section."""
    print("salesflow tour — 华夏销售有限公司, FY2026")
    money_section()
    calendar_section()
    business_time_section()
    expressions_section()
    targets_section()
    workflow_section()
    incentives_section()


if __name__ == "__main__":
    main()
