"""Two or more plans side by side, on the same simulated scenarios or the same history.

On scenarios, the plans are simulated together (`._simulate.run`): the same seed
draws the same attainments of every measure they share, block by block, so each
(payee, scenario) can be compared between plans. On history, `calculate` runs each
plan over the same transactions and assignments for every period of its fiscal year,
recording each run in a ledger as a payroll would.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Final, Literal, final

from salesflow._interop import require_pandas
from salesflow.errors import InvalidValueError, Location
from salesflow.money import Currency, Money
from salesflow.money._exact import round_ratio

from ._calculate import Engine, calculate
from ._prepare import plan_amount
from ._run import Ledger
from ._simulate import DEFAULT_PERCENTILES, Simulation, Tally, run

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

    import pandas as pd

    from salesflow.targets import OrgTree

    from ._distributions import Distribution
    from ._inputs import Adjustment, Assignment, Transaction
    from ._plan import Plan
    from ._prepare import QuotaSource
    from ._simulate import Payees

__all__ = ["Comparison", "History", "compare"]

Basis = Literal["scenarios", "history"]
_PAYEE_PERCENTILES: Final = (10.0, 50.0, 90.0)


@final
@dataclass(frozen=True, slots=True, eq=False)
class History:
    """What `calculate` needs to pay a fiscal year: the same for every plan compared.

    Attributes:
        transactions: The year's transactions.
        assignments: Who is on which plan when: every plan compared needs its own
            assignments (by plan id).
        quotas: Measure name -> quotas (see `calculate`).
        kpis: External measure name -> (payee, period label) -> value.
        org: The org, for override credit.
        fx: Currency code -> plan-currency units per unit.
        adjustments: Manual adjustments.
        engine: ``"batch"`` or ``"reference"``; equal results.
    """

    transactions: Sequence[Transaction]
    assignments: Sequence[Assignment]
    quotas: Mapping[str, QuotaSource] | None = None
    kpis: Mapping[str, Mapping[tuple[str, str], Decimal]] | None = None
    org: OrgTree | None = None
    fx: Mapping[str, Decimal] | None = None
    adjustments: Sequence[Adjustment] = ()
    engine: Engine = "batch"


@final
@dataclass(frozen=True, slots=True, eq=False)
class Comparison:
    """Plans side by side: one row per figure, one column per plan.

    Attributes:
        basis: ``"scenarios"`` or ``"history"``.
        labels: The column labels: plan ids (``"id #2"`` for a repeated id).
        rows: ``(figure, values per plan)``, in display order. Money is `Decimal`
            in major units; shares and ratios are floats; counts are ints; ``None``
            where a figure does not apply to a plan.
        simulations: On scenarios, each plan's `Simulation`; else empty.
        payee_totals: On history, label -> payee -> the year's pay; else empty.
    """

    basis: Basis
    labels: tuple[str, ...]
    rows: tuple[tuple[str, tuple[object, ...]], ...]
    simulations: tuple[Simulation, ...] = ()
    payee_totals: Mapping[str, Mapping[str, Money]] | None = None

    def table(self) -> dict[str, dict[str, object]]:
        """Figure -> plan label -> value."""
        return {name: dict(zip(self.labels, values, strict=True)) for name, values in self.rows}

    def to_frame(self) -> pd.DataFrame:
        """The table as a DataFrame: figures as the index, plans as columns (pandas)."""
        require_pandas()
        import pandas as pd  # noqa: PLC0415 - an optional dependency, imported on use

        return pd.DataFrame(
            [list(values) for _, values in self.rows],
            index=[name for name, _ in self.rows],
            columns=list(self.labels),
        )

    def __str__(self) -> str:
        """The table as aligned text."""
        header = ["", *self.labels]
        body = [[name, *(_text(v) for v in values)] for name, values in self.rows]
        widths = [max(len(row[i]) for row in [header, *body]) for i in range(len(header))]
        lines = [
            "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True))
            for row in [header, *body]
        ]
        return "\n".join(line.rstrip() for line in lines)


def _text(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4f}"
    return str(value)


def compare(  # noqa: PLR0913 - the documented entry point; everything after `*` is a keyword
    plans: Sequence[Plan],
    payees: Payees | None = None,
    *,
    attainment: Distribution | Mapping[str, Distribution] | None = None,
    scenarios: int | None = None,
    seed: int | None = None,
    history: History | None = None,
    sales: str | None = None,
    percentiles: Sequence[float] = _PAYEE_PERCENTILES,
) -> Comparison:
    """Compare ``plans`` on the same simulated scenarios, or on the same history.

    On scenarios give ``payees``, ``attainment``, ``scenarios`` and ``seed`` (as for
    `simulate`); on history give ``history`` alone. The first plan is the baseline
    that winners and losers are counted against.

    Args:
        plans: Two or more plans, in one currency.
        payees: On scenarios: the payees (see `simulate`).
        attainment: On scenarios: the distribution(s); measures shared by plans are
            drawn once, so every plan sees the same attainments.
        scenarios: On scenarios: how many.
        seed: On scenarios: the seed.
        history: On history: the transactions, assignments, quotas... for `calculate`.
        sales: On scenarios: the sales measure, the same for every plan; ``None``: the
            only money measure the plans read between them (if they read several,
            naming it is required: ``incentives.no_sales_measure``).
        percentiles: The percentiles of payees' pay shown, each in ``[0, 100]``.

    Raises:
        InvalidValueError: fewer than two plans, or arguments of both bases, or of
            neither (``incentives.invalid_comparison``); anything `simulate` or
            `calculate` raises.
    """
    if len(plans) < 2:  # noqa: PLR2004 - a comparison needs two sides
        msg = f"compare needs at least two plans, not {len(plans)}"
        raise _invalid(msg, "plans")
    _check_percentiles(percentiles)
    labels = _labels(plans)
    simulated = (payees, attainment, scenarios, seed)
    if history is not None:
        if any(given is not None for given in simulated) or sales is not None:
            msg = "compare on history takes history= alone (no payees, attainment, seed...)"
            raise _invalid(msg, "history")
        return _on_history(plans, labels, history, percentiles)
    if payees is None or attainment is None or scenarios is None or seed is None:
        msg = "compare on scenarios needs payees, attainment=, scenarios= and seed= (or history=)"
        raise _invalid(msg, "payees")
    tallies = run(
        plans,
        payees,
        attainment=attainment,
        scenarios=scenarios,
        seed=seed,
        sales=sales,
        percentiles=DEFAULT_PERCENTILES,
        keep=False,
    )
    return _on_scenarios(labels, tallies, percentiles)


def _invalid(message: str, where: str) -> InvalidValueError:
    return InvalidValueError(
        message, code="incentives.invalid_comparison", location=Location(path=where)
    )


def _check_percentiles(percentiles: Sequence[float]) -> None:
    if not percentiles or any(not 0 <= float(q) <= 100 for q in percentiles):  # noqa: PLR2004
        msg = f"percentiles must be in [0, 100], not {percentiles!r}"
        raise InvalidValueError(
            msg, code="incentives.invalid_percentile", location=Location(path="percentiles")
        )


def _labels(plans: Sequence[Plan]) -> tuple[str, ...]:
    seen: Counter[str] = Counter()
    labels = []
    for plan in plans:
        seen[plan.id] += 1
        labels.append(plan.id if seen[plan.id] == 1 else f"{plan.id} #{seen[plan.id]}")
    return tuple(labels)


def _percentile(ordered: Sequence[Decimal], q: float) -> object:
    size = len(ordered)
    if not size:
        return None
    return ordered[min(max(math.ceil(q * size / 100) - 1, 0), size - 1)]


def _pct(q: float) -> str:
    return f"p{float(q):g}"


# --- on scenarios -------------------------------------------------------------------


def _on_scenarios(
    labels: tuple[str, ...], tallies: list[Tally], percentiles: Sequence[float]
) -> Comparison:
    simulations = tuple(t.simulation for t in tallies)
    summaries = [s.summary() for s in simulations]
    rows: list[tuple[str, tuple[object, ...]]] = [
        (f"total cost, {key}", tuple(_stat(s, "total_cost", key) for s in summaries))
        for key in ("mean", "p5", "p50", "p95")
    ]
    rows.append(("cost of sales", tuple(_stat(s, "cost_of_sales", "overall") for s in summaries)))
    means = [_payee_means(s) for s in simulations]
    rows.extend(
        (f"payee mean pay, {_pct(q)} of payees", tuple(_percentile(sorted(m), q) for m in means))
        for q in percentiles
    )
    rows.extend(_tier_rows(simulations))
    rows.extend(_scenario_winners(labels, tallies))
    return Comparison("scenarios", labels, tuple(rows), simulations=simulations)


def _stat(summary: Mapping[str, object], group: str, key: str) -> object:
    values = summary.get(group)
    return values.get(key) if isinstance(values, dict) else None


def _payee_means(simulation: Simulation) -> list[Decimal]:
    places = simulation.currency.minor_units
    rounding = simulation.plan.rounding
    return [
        Decimal(round_ratio(total, simulation.scenarios, rounding)).scaleb(-places)
        for total in simulation.payee_totals.tolist()
    ]


def _tier_rows(simulations: Sequence[Simulation]) -> list[tuple[str, tuple[object, ...]]]:
    shares = [s.tier_shares() for s in simulations]
    keys: dict[tuple[str, int], None] = {}
    for plan_shares in shares:
        for cid, values in plan_shares.items():
            keys.update(dict.fromkeys((cid, tier) for tier in range(len(values))))
    rows: list[tuple[str, tuple[object, ...]]] = []
    for cid, tier in keys:
        cells = tuple(s[cid][tier] if cid in s and tier < len(s[cid]) else None for s in shares)
        rows.append((f"payee-years in {cid} tier {tier + 1}", cells))
    return rows


def _scenario_winners(
    labels: tuple[str, ...], tallies: list[Tally]
) -> list[tuple[str, tuple[object, ...]]]:
    base = labels[0]
    # Every plan ran the same scenarios: comparing each payee's exact total compares
    # their exact means (the displayed means are rounded and could tie).
    totals = [t.payee_totals.tolist() for t in tallies]
    winners = tuple(sum(m > b for m, b in zip(plan, totals[0], strict=True)) for plan in totals)
    losers = tuple(sum(m < b for m, b in zip(plan, totals[0], strict=True)) for plan in totals)
    cells = tallies[0].payees * tallies[0].settings.scenarios
    better = tuple(None if i == 0 else int(t.more.sum()) / cells for i, t in enumerate(tallies))
    worse = tuple(None if i == 0 else int(t.less.sum()) / cells for i, t in enumerate(tallies))
    return [
        (f"payees paid more on average than under {base}", winners),
        (f"payees paid less on average than under {base}", losers),
        (f"payee-years paid more than under {base}", better),
        (f"payee-years paid less than under {base}", worse),
    ]


# --- on history ---------------------------------------------------------------------


@final
@dataclass(frozen=True, slots=True)
class _Year:
    """One plan's fiscal year on history."""

    totals: dict[str, Money]
    tiers: dict[str, Counter[int]]
    sales: Money


def _on_history(
    plans: Sequence[Plan],
    labels: tuple[str, ...],
    history: History,
    percentiles: Sequence[float],
) -> Comparison:
    years = [_year(plan, history) for plan in plans]
    payees = sorted({payee for year in years for payee in year.totals})
    totals = [[_amount_of(year, payee) for payee in payees] for year in years]
    costs = [sum(t, Decimal(0)) for t in totals]
    rows: list[tuple[str, tuple[object, ...]]] = [
        ("total cost", tuple(costs)),
        ("sales", tuple(year.sales.round(rounding=plans[0].rounding).amount for year in years)),
        (
            "cost of sales",
            tuple(_ratio(c, y.sales.amount) for c, y in zip(costs, years, strict=True)),
        ),
    ]
    rows.extend(
        (f"payee pay, {_pct(q)} of payees", tuple(_percentile(sorted(t), q) for t in totals))
        for q in percentiles
    )
    rows.extend(_history_tiers(years))
    base = totals[0]
    more = tuple(sum(a > b for a, b in zip(t, base, strict=True)) for t in totals)
    less = tuple(sum(a < b for a, b in zip(t, base, strict=True)) for t in totals)
    rows.append((f"payees paid more than under {labels[0]}", more))
    rows.append((f"payees paid less than under {labels[0]}", less))
    by_label = {label: year.totals for label, year in zip(labels, years, strict=True)}
    return Comparison("history", labels, tuple(rows), payee_totals=by_label)


def _amount_of(year: _Year, payee: str) -> Decimal:
    money = year.totals.get(payee)
    return Decimal(0) if money is None else money.amount


def _ratio(cost: Decimal, sales: Decimal) -> float | None:
    return None if sales <= 0 else float(cost / sales)


def _year(plan: Plan, history: History) -> _Year:
    totals: dict[str, Money] = {}
    last_tier: dict[tuple[str, str], int] = {}
    ledger = Ledger()
    for period in plan.calendar.periods(plan.fiscal_year, plan.period):
        result = calculate(
            plan,
            history.transactions,
            history.assignments,
            period=period.label,
            ledger=ledger,
            quotas=history.quotas,
            kpis=history.kpis,
            org=history.org,
            fx=history.fx,
            adjustments=history.adjustments,
            engine=history.engine,
        )
        ledger = ledger.record(result)
        for statement in result.statements:
            totals[statement.payee] = (
                totals.get(statement.payee, Money.zero(plan.currency)) + statement.total
            )
            for line in statement.lines:
                if line.kind == "credit" and line.tiers and line.component is not None:
                    last_tier[(statement.payee, line.component)] = line.tiers[-1]
    tiers: dict[str, Counter[int]] = defaultdict(Counter)
    for (_, component), tier in last_tier.items():
        tiers[component][tier] += 1
    return _Year(totals, dict(tiers), _sales(plan, history))


def _sales(plan: Plan, history: History) -> Money:
    """The year's sales: transactions dated in the fiscal year, less those cancelled in it."""
    year = plan.calendar.year(plan.fiscal_year)
    total = Money.zero(Currency(plan.currency))
    for index, transaction in enumerate(history.transactions):
        if not year.start <= transaction.date <= year.end:
            continue
        cancelled = transaction.cancelled
        if cancelled is not None and cancelled <= year.end:
            continue
        total += plan_amount(transaction.amount, index, plan, history.fx)
    return total


def _history_tiers(years: Iterable[_Year]) -> list[tuple[str, tuple[object, ...]]]:
    years = list(years)
    names: dict[tuple[str, int], None] = {}
    for year in years:
        for component, counts in year.tiers.items():
            for tier in range(max(counts) + 1):
                names[(component, tier)] = None
    return [
        (
            f"payees ending the year in {component} tier {tier + 1}",
            tuple(
                year.tiers[component][tier] if component in year.tiers else None for year in years
            ),
        )
        for component, tier in sorted(names)
    ]
