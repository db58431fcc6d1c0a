"""The batch engine's components: what each pays, per payee and period (spec 4-9).

The counterpart of `._reference_pay`, vectorized: row-level work (rating, bonuses per
transaction) is numpy over credit rows; period-level work loops over the periods with
numpy over payees, and drops to exact Python integers and fractions only where a value
is compared with a threshold or a scorecard curve (small: payees x periods).

Each component returns a `Paid`: what it earned per statement payee and period
(int64 minor units, the `e` of spec 10) and, on demand, one payee's lines in the
statement period, built only then.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import TYPE_CHECKING, Any, Final, Protocol, final

import numpy as np

from salesflow.errors import Location, MoneyOverflowError
from salesflow.money import EXACT, Currency, Money, allocate_units
from salesflow.money._money import new_money

from ._batch_credit import KIND_NAMES
from ._batch_measure import add_at, filter_mask
from ._batch_rating import RatingInput, rate_commission
from ._plan import Bonus, Commission, Contest, Milestone, Pool, Scorecard
from ._reference_book import as_decimal, find_component
from ._reference_pay import scorecard_period
from ._statement import Line

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

    from numpy.typing import NDArray

    Ints = NDArray[np.signedinteger[Any]]  # index and code columns, of any width

    from salesflow.money import RoundingMode
    from salesflow.periods import Period

    from ._batch_credit import CreditRows
    from ._batch_measure import MeasureBook
    from ._batch_rating import CommissionLines
    from ._plan import Cap, Component, Gate, Plan, PlanCap, Window
    from ._prepare import Lookups, Roster, Versions
    from ._table_input import TransactionTable

__all__ = ["Context", "Paid", "pay", "plan_cap"]

_EPOCH: Final = dt.date(1970, 1, 1)
_INT64_MAX: Final = int(np.iinfo(np.int64).max)
_FLOOR: Final = "floor.per_period"


@final
@dataclass(eq=False)
class Context:
    """Everything the components of one run read.

    Attributes:
        versions: The plan versions.
        periods: The fiscal year's statement periods (all of them).
        last: The index of the statement period.
        roster: The plan's assignments.
        lookups: Quotas, KPIs, target incentives, attributes (checked on use).
        payees: Every payee with an assignment to the plan, sorted (the matrices' rows).
        stated: The positions in ``payees`` of those with a statement, ascending.
        on_plan: bool[P, K]: payee on the plan in period j.
        rows: The credit rows.
        book: The measures over them.
        table: The transactions.
        currency: The plan currency.
        rounding: The plan's rounding mode.
    """

    versions: Versions
    periods: tuple[Period, ...]
    last: int
    roster: Roster
    lookups: Lookups
    payees: tuple[str, ...]
    stated: Ints
    on_plan: NDArray[np.bool_]
    rows: CreditRows
    book: MeasureBook
    table: TransactionTable
    currency: Currency
    rounding: RoundingMode
    aggregates: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        """The aggregate of each measure name, the last version's winning (as the reference)."""
        self.aggregates = {
            name: measure.aggregate
            for plan in self.versions.plans
            for name, measure in plan.measures.items()
        }
        self._for_period = [self.versions.for_period(p) for p in self.periods[: self.last + 1]]
        self._vectors: dict[tuple[str, str], NDArray[np.int64]] = {}
        self._shift = -self.currency.minor_units
        self.money = _money_of(self.currency)  # one closure: Money for 100,000s of lines

    @property
    def count(self) -> int:
        """K: the periods computed."""
        return self.last + 1

    def component_for(self, j: int, component_id: str) -> Component | None:
        """The component as period ``j``'s version defines it."""
        return find_component(self._for_period[j], component_id)

    def version_for(self, j: int) -> Plan:
        """The version whose period-level settings apply to period ``j``."""
        return self._for_period[j]

    def minor(self, amount: Decimal) -> int:
        """A plan amount (on the minor unit) in minor units."""
        return int(amount.scaleb(self.currency.minor_units, EXACT))

    def limit(self, amount: Decimal) -> int:
        """A cap's limit (a component's or the plan's) in minor units, at most int64's max.

        What the batch engine compares a limit with is int64 (a sum beyond it is
        refused elsewhere, ``incentives.int64_overflow``), so a limit at or above the
        int64 maximum never binds; held to that maximum it never binds either, as in
        the reference, instead of overflowing numpy's comparison.
        """
        return min(self.minor(amount), _INT64_MAX)

    def paid_units(self, plan: Plan, component_id: str, name: str, amount: Decimal) -> int:
        """A plan amount paid as it is (a floor, a bonus, a milestone) in minor units.

        Raises:
            MoneyOverflowError: beyond int64 minor units, see `fitting`.
        """
        return self.fitting(self.minor(amount), plan, component_id, name)

    def fitting(self, units: int, plan: Plan, component_id: str, name: str) -> int:
        """``units``, an amount a line pays, checked to fit int64.

        Unlike a cap's limit, which never binds beyond int64, such an amount would be
        paid, so it is refused where the reference engine would pay it.

        Raises:
            MoneyOverflowError: ``units`` beyond int64 (``incentives.int64_overflow``),
                located at the plan amount it comes from: ``name`` (``"amount"``,
                ``"floor.per_period"``, ``"prizes[0]"``) of the component in ``plan``,
                e.g. ``plan.components[2].amount``; ``plan[v]`` for a version, ``v``
                counted in effective order, the message naming its first day.
        """
        if -_INT64_MAX <= units <= _INT64_MAX:
            return units
        plans = self.versions.plans
        version = next(v for v, found in enumerate(plans) if found is plan)
        index = next(i for i, c in enumerate(plan.components) if c.id == component_id)
        root = "plan" if len(plans) == 1 else f"plan[{version}]"
        where = f"{root}.components[{index}].{name}"
        paid = self.money(units)
        msg = f"{paid} does not fit int64 minor units; the batch engine cannot pay it"
        if len(plans) > 1:
            msg += f" (the version effective from {self.versions.spans[version][0]})"
        raise MoneyOverflowError(
            msg, code="incentives.int64_overflow", location=Location(path=where)
        )

    def round_units(self, value: Fraction) -> int:
        """``value`` (in major units) rounded to minor units by the plan's rounding."""
        from salesflow.money._exact import round_ratio  # noqa: PLC0415 - a private helper

        scaled = value * 10**self.currency.minor_units
        return round_ratio(scaled.numerator, scaled.denominator, self.rounding)

    # -- measures --------------------------------------------------------------------

    def value_vector(self, measure: str, j: int, kind: Window) -> NDArray[np.int64]:
        """A sum/count measure's values of every payee at the end of period ``j``."""
        key = (measure, kind)
        if key not in self._vectors:
            values = self.book.values(measure)
            self._vectors[key] = values.in_period() if kind == "period" else values.to_date()
        return self._vectors[key][:, j]

    def value(self, measure: str, payee: int, j: int, kind: Window) -> Fraction:
        """A measure's value (major units for sums), exact; an external one's KPI."""
        if self.aggregates[measure] == "external":
            return Fraction(self.lookups.kpi(measure, self.payees[payee], self.periods[j]))
        raw = int(self.value_vector(measure, j, kind)[payee])
        if self.aggregates[measure] == "sum":
            return Fraction(raw, 10**self.currency.minor_units)
        return Fraction(raw)

    def quota_to_date(self, measure: str, payee: int, j: int, kind: Window) -> Fraction:
        """The quota of period ``j``'s window: the period's, or the year's to date.

        An external measure's quota is the period's in every window (decision D27).
        """
        name = self.payees[payee]
        if kind == "period" or self.aggregates[measure] == "external":
            return Fraction(self.lookups.quota(measure, name, self.periods[j]))
        return Fraction(self.lookups.quota_sum(measure, name, self.periods[: j + 1]))

    def attainment(self, measure: str, payee: int, j: int, kind: Window) -> Fraction:
        """Value over quota, exact (the value read first, as the reference does)."""
        value = self.value(measure, payee, j, kind)
        return value / self.quota_to_date(measure, payee, j, kind)

    def shown(self, measure: str, value: Fraction) -> tuple[Money | None, Decimal | None]:
        """A value on a line: (basis, exact): Money for sums, else the number."""
        if self.aggregates[measure] == "sum":
            return self.money(int(value * 10**self.currency.minor_units)), None
        return None, as_decimal(value)


def _money_of(currency: Currency) -> Callable[[int], Money]:
    """A function from minor units to Money in ``currency`` (the checks done once here)."""
    shift = -currency.minor_units

    def money(units: int) -> Money:
        return new_money(Decimal(units).scaleb(shift, EXACT), currency)

    return money


class Paid(Protocol):
    """One component's pay."""

    def earned(self) -> NDArray[np.int64]:
        """e[s, j]: what it earned per statement payee (position in ``stated``) and period."""
        ...

    def lines(self, position: int) -> list[Line]:
        """The lines of statement payee ``position`` in the statement period (zero kept)."""
        ...


def pay(context: Context, component_id: str) -> Paid:
    """The pay of component ``component_id`` (the kind its first version gives it)."""
    kind = _kind_of(context, component_id)
    compute: dict[type, Callable[[Context, str], Paid]] = {
        Commission: _commission,
        Bonus: _bonus,
        Milestone: _milestone,
        Scorecard: _scorecard,
        Pool: _pool,
        Contest: _contest,
    }
    return compute[kind](context, component_id)


def _kind_of(context: Context, component_id: str) -> type:
    for plan in context.versions.plans:
        found = find_component(plan, component_id)
        if found is not None:
            return type(found)
    raise KeyError(component_id)  # pragma: no cover - ids come from the versions


def _statement_rows(context: Context) -> NDArray[np.bool_] | None:
    """Credit rows of payees with a statement; ``None`` when every payee has one."""
    if len(context.stated) == len(context.payees):
        return None
    mask = np.zeros(len(context.payees), dtype=bool)
    mask[context.stated] = True
    return mask[context.rows.payee]


def _positions(context: Context) -> Ints:
    """Payee index -> position among the statement payees (-1: none)."""
    position = np.full(len(context.payees), -1, dtype=np.intp)
    position[context.stated] = np.arange(len(context.stated))
    return position


def _by_payee(positions: Ints) -> tuple[Ints, Ints]:
    """A stable order by payee position, and each position's bounds in it."""
    order = np.argsort(positions, kind="stable")
    return order, np.searchsorted(positions[order], np.arange(positions.max(initial=-1) + 2))


# -- commission (spec 4) ------------------------------------------------------------------


@final
class _CommissionPaid:
    """A commission's lines: row-level arrays, period-level matrices."""

    def __init__(self, context: Context, component_id: str) -> None:
        self.context = context
        self.id = component_id
        self.lines_ = _rated_lines(context, component_id)
        self.position = _positions(context)
        size = (len(context.stated), context.count)
        rated = self.lines_.rated
        everyone = len(context.stated) == len(context.payees)
        self.payee_of_line = rated.payee if everyone else self.position[rated.payee]
        self.t = self.lines_.per_period(self.payee_of_line, size)
        self.late = self.lines_.earlier_per_period(self.payee_of_line, size)
        self.extra = _PeriodLines(size)
        _period_lines(context, component_id, (self.t, self.late), self.extra)
        k = context.last
        shown = np.flatnonzero(rated.period == k)
        self.credit_order, self.credit_bounds = _subset_by_payee(self.payee_of_line, shown, size[0])
        back = self.lines_.clawback
        at_k = back[self.lines_.clawback_period == k]
        self.back_order, self.back_bounds = _subset_by_payee(self.payee_of_line, at_k, size[0])

    def earned(self) -> NDArray[np.int64]:
        """E = t + earlier windows' clawbacks + the gate, cap, floor and yearly cap lines."""
        extra = self.extra
        return self.t + self.late + extra.gate + extra.cap + extra.floor + extra.year_cap

    def lines(self, position: int) -> list[Line]:
        """Credit lines, clawbacks, then the period-level lines, in the period."""
        from ._batch_lines import commission_lines  # noqa: PLC0415 - builds on this module

        return commission_lines(self, position)


_DATES: dict[int, dt.date] = {}


def _commission(context: Context, component_id: str) -> Paid:
    return _CommissionPaid(context, component_id)


def _subset_by_payee(payee_of_line: Ints, lines: Ints, payees: int) -> tuple[Ints, Ints]:
    """``lines`` ordered by payee (stably), and each payee's bounds in that order."""
    owners = payee_of_line[lines]
    order = np.argsort(owners, kind="stable")
    bounds = np.searchsorted(owners[order], np.arange(payees + 1))
    return lines[order], bounds


def _date(number: int) -> dt.date:
    found = _DATES.get(number)
    if found is None:
        found = _DATES.setdefault(number, _EPOCH + dt.timedelta(days=number))
    return found


def _rated_lines(context: Context, component_id: str) -> CommissionLines:
    rows = context.rows
    statement = _statement_rows(context)
    selected: list[Ints | None] = []
    components: list[Commission | None] = []
    for version, plan in enumerate(context.versions.plans):
        component = find_component(plan, component_id)
        if not isinstance(component, Commission):
            selected.append(None)
            components.append(None)
            continue
        mask = context.book.mask_in_version(component.measure, version)
        selected.append(
            np.flatnonzero(mask if statement is None else mask & statement).astype(np.int32)
        )
        components.append(component)
    return rate_commission(
        RatingInput(
            rows=rows,
            row_period=context.book.row_period,
            gone_period=context.book.gone_period,
            selected=selected,
            components=components,
            quota=_window_quotas(context, components),
            currency=context.currency,
            rounding=context.rounding,
            periods=context.count,
        )
    )


def _window_quotas(
    context: Context, components: Sequence[Commission | None]
) -> Callable[[int, Ints, Ints], list[Decimal]]:
    """(version, payees, window codes) -> the window quotas of an attainment table."""

    def quotas(version: int, payees: Ints, windows: Ints) -> list[Decimal]:
        component = components[version]
        assert component is not None  # noqa: S101 - only versions with the component rate
        found: list[Decimal] = []
        for payee, window in zip(payees.tolist(), windows.tolist(), strict=True):
            name = context.payees[payee]
            if window == 0:
                found.append(context.lookups.quota_sum(component.measure, name, context.periods))
            else:
                period = context.periods[window - 1]
                found.append(context.lookups.quota(component.measure, name, period))
        return found

    return quotas


@final
class _PeriodLines:
    """Gate, period cap, floor and yearly cap lines per statement payee and period."""

    def __init__(self, size: tuple[int, int]) -> None:
        self.gate = np.zeros(size, dtype=np.int64)
        self.gate_basis = np.zeros(size, dtype=np.int64)
        self.cap = np.zeros(size, dtype=np.int64)
        self.cap_basis = np.zeros(size, dtype=np.int64)
        self.floor = np.zeros(size, dtype=np.int64)
        self.floor_basis = np.zeros(size, dtype=np.int64)
        self.year_cap = np.zeros(size, dtype=np.int64)
        self.year_basis = np.zeros(size, dtype=np.int64)
        # The statement period's gate per payee position: its attainment and the gate.
        self.gates: dict[int, tuple[Fraction, Gate]] = {}

    def lines(self, context: Context, component_id: str, position: int) -> list[Line]:
        k = context.last
        result: list[Line] = []
        if self.gate[position, k]:
            attainment, gate = self.gates[position]
            result.append(
                Line(
                    kind="gate",
                    amount=context.money(int(self.gate[position, k])),
                    component=component_id,
                    basis=context.money(int(self.gate_basis[position, k])),
                    attainment=as_decimal(attainment),
                    threshold=gate.attainment,
                    note=gate.measure,
                )
            )
        limits = (
            ("cap", self.cap, self.cap_basis, "per_period"),
            ("floor", self.floor, self.floor_basis, None),
            ("cap", self.year_cap, self.year_basis, "per_year"),
        )
        for kind, amounts, basis, note in limits:
            if amounts[position, k]:
                result.append(
                    Line(
                        kind=kind,  # type: ignore[arg-type]
                        amount=context.money(int(amounts[position, k])),
                        component=component_id,
                        basis=context.money(int(basis[position, k])),
                        note=note,
                    )
                )
        return result


@final
@dataclass(slots=True)
class _Totals:
    """Running sums per statement payee, and the yearly steps of their last on-plan period.

    ``gates``, ``limit`` and ``bounded``: a year-window gate's attainment and gate, and
    the yearly cap's Y (where ``bounded``), as they stood in each payee's last period
    on the plan; an off-plan period keeps applying them (decision D3).
    """

    t: NDArray[np.int64]
    g: NDArray[np.int64]
    s: NDArray[np.int64]
    c: NDArray[np.int64]
    limit: NDArray[np.int64]
    bounded: NDArray[np.bool_]
    gates: dict[int, tuple[Fraction, Gate]] = field(default_factory=dict)

    @classmethod
    def zeros(cls, payees: int) -> _Totals:
        """All sums 0, no gate and no yearly limit carried."""
        t, g, s, c, limit = (np.zeros(payees, dtype=np.int64) for _ in range(5))
        return cls(t, g, s, c, limit, np.zeros(payees, dtype=bool))


def _period_lines(
    context: Context,
    component_id: str,
    t: tuple[NDArray[np.int64], NDArray[np.int64]],
    out: _PeriodLines,
) -> None:
    """Spec 4's gate, caps and floor, period by period, numpy over statement payees.

    ``t``: the credit lines with the same-window clawbacks (what the gate, period cap
    and floor see), and the clawbacks of rows of earlier windows (added after the
    floor, before the yearly cap; decision D24). Off the plan, only the year-window
    gate and the yearly cap of the payee's last period on it (decision D3).
    """
    same, late = t
    payees = len(context.stated)
    totals = _Totals.zeros(payees)
    for j in range(context.count):
        t_j = same[:, j]
        totals.t += t_j
        component = context.component_for(j, component_id)
        on = context.on_plan[context.stated, j]
        active = on if isinstance(component, Commission) else np.zeros(payees, dtype=bool)
        where = _Where(j, active, out, on)
        for position in [p for p in totals.gates if on[p]]:
            del totals.gates[position]
        g = _gate(context, component, where, t_j=t_j, totals=totals) if active.any() else t_j
        g = _carried_gate(context, where, g, t_j=t_j, totals=totals)
        totals.g += g
        p = _cap_and_floor(context, component, where, g)
        cap = component.cap if isinstance(component, Commission) else None
        _year_cap(context, cap, where, p=p + late[:, j], totals=totals)


@final
@dataclass(frozen=True, slots=True)
class _Where:
    """The period computed, the payees whose rules apply in it, and where its lines go.

    ``active``: on the plan and the period's version has the rule; ``on``: on the plan.
    """

    j: int
    active: NDArray[np.bool_]
    out: _PeriodLines
    on: NDArray[np.bool_]


def _gate(
    context: Context,
    component: Component | None,
    where: _Where,
    *,
    t_j: NDArray[np.int64],
    totals: _Totals,
) -> NDArray[np.int64]:
    """The gate's pay; keeps a year-window gate's outcome for off-plan periods (D3)."""
    j, active, out = where.j, where.active, where.out
    assert isinstance(component, Commission)  # noqa: S101 - active payees only
    gate = component.gate
    if gate is None:
        return t_j
    g = t_j.copy()
    for position in np.flatnonzero(active).tolist():
        payee = int(context.stated[position])
        attained = context.attainment(gate.measure, payee, j, component.accumulate)
        passed = attained >= Fraction(gate.attainment)
        if component.accumulate == "period":
            g[position] = t_j[position] if passed else 0
        else:
            totals.gates[position] = (attained, gate)
            g[position] = (int(totals.t[position]) if passed else 0) - int(totals.g[position])
        if j == context.last:
            out.gates[position] = (attained, gate)
    out.gate[:, j] = g - t_j
    out.gate_basis[:, j] = t_j
    return g


def _carried_gate(
    context: Context,
    where: _Where,
    g: NDArray[np.int64],
    *,
    t_j: NDArray[np.int64],
    totals: _Totals,
) -> NDArray[np.int64]:
    """Off the plan: the year-window gate of the last period on it, as it stood then (D3)."""
    j, out = where.j, where.out
    off = sorted(p for p in totals.gates if not where.on[p])
    if not off:
        return g
    g = g.copy()
    for position in off:
        attained, gate = totals.gates[position]
        passed = attained >= Fraction(gate.attainment)
        g[position] = (int(totals.t[position]) if passed else 0) - int(totals.g[position])
        out.gate[position, j] = g[position] - t_j[position]
        out.gate_basis[position, j] = t_j[position]
        if j == context.last:
            out.gates[position] = (attained, gate)
    return g


def _cap_and_floor(
    context: Context, component: Component | None, where: _Where, g: NDArray[np.int64]
) -> NDArray[np.int64]:
    j, active, out = where.j, where.active, where.out
    if not isinstance(component, Commission) or not active.any():
        return g
    p = g.copy()
    limit = None if component.cap is None else component.cap.per_period
    if limit is not None:
        most = context.limit(limit)
        cut = active & (p > most)
        out.cap[cut, j] = most - p[cut]
        out.cap_basis[cut, j] = p[cut]
        p[cut] = most
    if component.floor is not None:
        per_period = component.floor.per_period
        floor = context.paid_units(context.version_for(j), component.id, _FLOOR, per_period)
        up = active & (p < floor)
        out.floor[up, j] = floor - p[up]
        out.floor_basis[up, j] = p[up]
        p[up] = floor
    return p


def _year_cap(
    context: Context,
    cap: Cap | PlanCap | None,
    where: _Where,
    *,
    p: NDArray[np.int64],
    totals: _Totals,
) -> None:
    """A commission's yearly cap, or the plan's (D28): S sums ``p``, C is S held to the limit.

    Payees on the plan take the period's limit (none where ``active`` is false); those
    off it keep the one of their last period on it (decision D3).
    """
    j, out, on = where.j, where.out, where.on
    totals.s += p
    limits, bounded = _year_limits(context, cap, j, where.active)
    totals.limit = np.where(on, limits, totals.limit)
    totals.bounded = np.where(on, bounded, totals.bounded)
    bound = totals.bounded
    if not bound.any():
        totals.c += p
        return
    capped = np.where(bound, np.minimum(totals.s, totals.limit), totals.c + p)
    y = capped - totals.c
    totals.c = capped
    cut = bound & (y != p)
    out.year_cap[cut, j] = (y - p)[cut]
    out.year_basis[cut, j] = p[cut]


def _year_limits(
    context: Context, cap: Cap | PlanCap | None, j: int, active: NDArray[np.bool_]
) -> tuple[NDArray[np.int64], NDArray[np.bool_]]:
    """Each payee's yearly limit Y in period ``j``, and where there is one (``active`` only)."""
    limits = np.full(len(active), _INT64_MAX, dtype=np.int64)
    none = np.zeros(len(active), dtype=bool)
    if cap is None or not active.any():
        return limits, none
    if cap.per_year is None and cap.target_incentive_multiple is None:
        return limits, none
    if cap.per_year is not None:
        limits[:] = context.limit(cap.per_year)
    multiple = cap.target_incentive_multiple
    if multiple is not None:
        for position in np.flatnonzero(active).tolist():
            name = context.payees[int(context.stated[position])]
            rounded = context.lookups.target_incentive_limit(name, context.periods[j], multiple)
            limits[position] = min(int(limits[position]), rounded.to_minor_units())
    return limits, active.copy()


# -- the plan cap (decisions D28, D29) ------------------------------------------------------


@final
class _PlanCapPaid:
    """What the plan cap cut, per statement payee and period: its period and yearly lines."""

    def __init__(self, context: Context, out: _PeriodLines) -> None:
        self.context = context
        self.out = out  # ``cap``: the per-period cuts; ``year_cap``: the yearly ones

    def earned(self) -> NDArray[np.int64]:
        return self.out.cap + self.out.year_cap

    def lines(self, position: int) -> list[Line]:
        context, out, k = self.context, self.out, self.context.last
        limits = (
            (out.cap, out.cap_basis, "plan_per_period"),
            (out.year_cap, out.year_basis, "plan_per_year"),
        )
        return [
            Line(
                kind="cap",
                amount=context.money(int(amounts[position, k])),
                basis=context.money(int(basis[position, k])),
                note=note,
            )
            for amounts, basis, note in limits
            if amounts[position, k]
        ]


def plan_cap(context: Context, earned: Mapping[str, NDArray[np.int64]]) -> Paid | None:
    """The plan cap's pay over the components' ``earned`` matrices; ``None``: no version has one.

    Per period, numpy over statement payees: the version's ``per_period`` cut on the
    components' sum, then its yearly cap on the sum to date, as a commission's; off
    the plan, the yearly limit of the payee's last period on it (decision D3).
    """
    if all(plan.cap is None for plan in context.versions.plans):
        return None
    payees = len(context.stated)
    size = (payees, context.count)
    x = np.zeros(size, dtype=np.int64)
    for matrix in earned.values():
        x += matrix
    out = _PeriodLines(size)
    totals = _Totals.zeros(payees)
    for j in range(context.count):
        cap = context.version_for(j).cap
        on = context.on_plan[context.stated, j]
        active = on if cap is not None else np.zeros(payees, dtype=bool)
        q = x[:, j].copy()
        if cap is not None and cap.per_period is not None:
            limit = context.limit(cap.per_period)
            cut = active & (q > limit)
            out.cap[cut, j] = limit - q[cut]
            out.cap_basis[cut, j] = q[cut]
            q[cut] = limit
        _year_cap(context, cap, _Where(j, active, out, on), p=q, totals=totals)
    return _PlanCapPaid(context, out)


# -- bonus (spec 5) -----------------------------------------------------------------------


@final
class _BonusPaid:
    def __init__(self, context: Context, component_id: str) -> None:
        self.context = context
        self.id = component_id
        rows = context.rows
        size = (len(context.stated), context.count)
        position = _positions(context)
        statement = _statement_rows(context)
        paid: list[Ints] = []
        per_period: list[Ints] = []
        amounts = np.zeros(len(rows), dtype=np.int64)
        within = np.full(len(rows), -1, dtype=np.int64)
        bound = 0  # minor units, a Python int: cannot overflow
        for version, plan in enumerate(context.versions.plans):
            component = find_component(plan, component_id)
            if not isinstance(component, Bonus):
                continue
            at = _qualifying(context, plan, version, component, statement)
            if component.per == "period":
                per_period.append(at)  # paid by `_period_bonus`, not by the row
                continue
            # Amount times the row's count: +1, a refund -1, 0 for 0 (decision D26).
            counts = np.sign(rows.amount[at])
            if counts.any():
                amount = context.paid_units(plan, component_id, "amount", component.amount)
                amounts[at] = amount * counts
                # What every bonus row pays together bounds any payee's sum: refused if
                # it could pass int64, which the earned matrices would wrap silently.
                bound += abs(amount) * int(np.count_nonzero(counts))
                context.fitting(bound, plan, component_id, "amount")
            paid.append(at)
            if component.clawback is not None:
                within[at] = component.clawback.within_days
        self.amounts = amounts
        self.paid = np.sort(np.concatenate(paid)) if paid else np.zeros(0, dtype=np.intp)
        self.owner = position[rows.payee]
        book = context.book
        gone = book.gone_period[self.paid]
        back = self.paid[
            (gone < context.count)
            & (within[self.paid] >= 0)
            & (rows.gone[self.paid] - rows.day[self.paid] <= within[self.paid])
        ]
        back = back[np.argsort(rows.gone[back], kind="stable")]
        self.back = back
        earned = np.zeros((size[0], size[1] + 1), dtype=np.int64)
        add_at(earned, self.owner[self.paid], book.row_period[self.paid], amounts[self.paid])
        add_at(earned, self.owner[back], book.gone_period[back], -amounts[back])
        self.earned_ = earned[:, : size[1]]
        self.period_line = _period_bonus(
            context,
            component_id,
            np.concatenate(per_period) if per_period else np.zeros(0, dtype=np.intp),
            self.owner,
            self.earned_,
        )
        k = context.last
        self.pay_order, self.pay_bounds = _subset_by_payee(
            self.owner, self.paid[book.row_period[self.paid] == k], size[0]
        )
        self.back_order, self.back_bounds = _subset_by_payee(
            self.owner, back[book.gone_period[back] == k], size[0]
        )

    def earned(self) -> NDArray[np.int64]:
        return self.earned_

    def lines(self, position: int) -> list[Line]:
        context = self.context
        lo, hi = self.pay_bounds[position], self.pay_bounds[position + 1]
        result = [self._line(int(r), clawback=False) for r in self.pay_order[lo:hi]]
        lo, hi = self.back_bounds[position], self.back_bounds[position + 1]
        result += [self._line(int(r), clawback=True) for r in self.back_order[lo:hi]]
        amount = self.period_line.get(position)
        if amount is not None:
            result.append(Line(kind="bonus", amount=context.money(amount), component=self.id))
        return result

    def _line(self, row: int, *, clawback: bool) -> Line:
        context = self.context
        rows = context.rows
        measure = self._measure(row)
        basis, _ = context.shown(measure, _credit_value(context, int(rows.amount[row])))
        amount = int(self.amounts[row])
        return Line(
            kind="clawback" if clawback else "bonus",
            amount=context.money(-amount if clawback else amount),
            component=self.id,
            transaction=context.table.id_of(int(rows.tx[row])),
            date=_date(int(rows.gone[row] if clawback else rows.day[row])),
            credit=KIND_NAMES[int(rows.kind[row])],
            basis=basis,
        )

    def _measure(self, row: int) -> str:
        version = int(self.context.rows.version[row])
        component = find_component(self.context.versions.plans[version], self.id)
        assert isinstance(component, Bonus)  # noqa: S101 - a qualifying row's version
        return component.measure


def _credit_value(context: Context, units: int) -> Fraction:
    return Fraction(units, 10**context.currency.minor_units)


def _bonus(context: Context, component_id: str) -> Paid:
    return _BonusPaid(context, component_id)


def _qualifying(
    context: Context,
    plan: Plan,
    version: int,
    component: Bonus,
    statement: NDArray[np.bool_] | None,
) -> Ints:
    """Rows of ``version`` that qualify for the bonus (spec 5), ascending."""
    from ._batch_credit import day_number  # noqa: PLC0415 - small helper

    rows = context.rows
    year = context.versions.year
    start = day_number(component.start or year.start)
    end = day_number(component.end or year.end)
    mask = context.book.mask_in_version(component.measure, version)
    if statement is not None:
        mask = mask & statement
    mask = mask & (rows.day >= start) & (rows.day <= end)
    at = np.flatnonzero(mask)
    if component.when is not None and at.size:
        passed = filter_mask(component.when, plan, rows.take(at), context.book.context())
        at = at[passed]
    return at


def _period_bonus(
    context: Context,
    component_id: str,
    candidates: Ints,
    owner: Ints,
    earned: NDArray[np.int64],
) -> dict[int, int]:
    """Bonus per period: paid where a period's standing qualifying rows count above 0.

    The rows dated in j and standing at j's end count +1 each, a refund -1, a 0 row 0
    (decision D26).

    Adds to ``earned``; returns the statement period's amounts by payee position.
    """
    book = context.book
    shown: dict[int, int] = {}
    if not candidates.size:
        return shown
    period = book.row_period[candidates]
    standing = book.gone_period[candidates] > period
    counts = np.sign(context.rows.amount[candidates])
    for j in range(context.count):
        component = context.component_for(j, component_id)
        if not isinstance(component, Bonus) or component.per != "period":
            continue
        # The rows standing at j's end must count above 0: refunds count -1 (D26).
        here = (period == j) & standing
        net = np.zeros(len(earned), dtype=np.int64)
        np.add.at(net, owner[candidates[here]], counts[here])
        holders = np.flatnonzero(net > 0)
        holders = holders[context.on_plan[context.stated[holders], j]]
        if not holders.size:
            continue
        amount = context.paid_units(
            context.version_for(j), component_id, "amount", component.amount
        )
        earned[holders, j] += amount
        if j == context.last:
            shown.update(dict.fromkeys(holders.tolist(), amount))
    return shown


# -- milestone (spec 6) -------------------------------------------------------------------


@final
class _ListPaid:
    """Pay held as lines per (statement payee position, period), built eagerly (small)."""

    def __init__(self, context: Context) -> None:
        self.context = context
        self.by: dict[tuple[int, int], list[Line]] = defaultdict(list)

    def earned(self) -> NDArray[np.int64]:
        earned = np.zeros((len(self.context.stated), self.context.count), dtype=np.int64)
        for (position, j), lines in self.by.items():
            earned[position, j] = sum(self.context.minor(line.amount.amount) for line in lines)
        return earned

    def lines(self, position: int) -> list[Line]:
        return list(self.by.get((position, self.context.last), []))


def _milestone(context: Context, component_id: str) -> Paid:
    paid = _ListPaid(context)
    for position, payee in enumerate(context.stated.tolist()):
        reached: set[tuple[str, int]] = set()
        for j in range(context.count):
            component = context.component_for(j, component_id)
            if not isinstance(component, Milestone) or not context.on_plan[payee, j]:
                continue
            key = ("period", j) if component.accumulate == "period" else ("year", 0)
            if key in reached:
                continue
            line = _milestone_line(context, payee, component, j)
            if line is not None:
                reached.add(key)
                paid.by[(position, j)] = [line]
    return paid


def _milestone_line(context: Context, payee: int, component: Milestone, j: int) -> Line | None:
    value = context.value(component.measure, payee, j, component.accumulate)
    attainment = None
    if component.attainment is not None:
        quota = context.quota_to_date(component.measure, payee, j, component.accumulate)
        exact = value / quota
        if exact < Fraction(component.attainment):
            return None
        attainment = as_decimal(exact)
    elif component.value is not None and value < Fraction(component.value):
        return None
    basis, number = context.shown(component.measure, value)
    return Line(
        kind="milestone",
        amount=context.money(
            context.paid_units(context.version_for(j), component.id, "amount", component.amount)
        ),
        component=component.id,
        basis=basis,
        exact=number,
        attainment=attainment,
    )


# -- scorecard (spec 7) -------------------------------------------------------------------


def _scorecard(context: Context, component_id: str) -> Paid:
    paid = _ListPaid(context)
    for position, payee in enumerate(context.stated.tolist()):
        for j in range(context.count):
            component = context.component_for(j, component_id)
            if isinstance(component, Scorecard) and context.on_plan[payee, j]:
                paid.by[(position, j)] = _scorecard_lines(context, payee, component, j)
    return paid


def _scorecard_lines(context: Context, payee: int, component: Scorecard, j: int) -> list[Line]:
    name = context.payees[payee]
    return scorecard_period(
        component,
        gate_attainment=lambda measure: context.attainment(measure, payee, j, "period"),
        kpi_attainment=lambda measure: _kpi_attainment(context, payee, measure, j),
        target=lambda: context.lookups.period_target(name, context.periods, j),
        rounded=lambda exact: context.money(context.round_units(exact)),
        zero=context.money(0),
    )


def _kpi_attainment(context: Context, payee: int, measure: str, j: int) -> Fraction:
    if context.aggregates[measure] == "external":
        return context.value(measure, payee, j, "period")
    return context.attainment(measure, payee, j, "period")


# -- pool and contest (spec 8, 9) ---------------------------------------------------------


def _groups(context: Context, j: int, attribute: str | None) -> list[tuple[str | None, list[int]]]:
    """Payees on the plan in period j (indexes, sorted), grouped by an attribute."""
    members = np.flatnonzero(context.on_plan[:, j]).tolist()
    if attribute is None:
        return [(None, members)]
    period = context.periods[j]
    groups: dict[str, list[int]] = defaultdict(list)
    for payee in members:
        groups[context.lookups.attribute(context.payees[payee], period, attribute)].append(payee)
    return [(group, groups[group]) for group in sorted(groups)]


@final
class _SharedPaid:
    """Pool or contest pay of every payee on the plan, kept for statement payees."""

    def __init__(self, context: Context) -> None:
        self.context = context
        self.position = _positions(context)
        self.list = _ListPaid(context)

    def add(self, payee: int, j: int, line: Line) -> None:
        position = int(self.position[payee])
        if position >= 0:
            self.list.by[(position, j)] = [line]

    def earned(self) -> NDArray[np.int64]:
        return self.list.earned()

    def lines(self, position: int) -> list[Line]:
        return self.list.lines(position)


def _pool(context: Context, component_id: str) -> Paid:
    paid = _SharedPaid(context)
    for j in range(context.count):
        component = context.component_for(j, component_id)
        if not isinstance(component, Pool):
            continue
        for team, members in _groups(context, j, component.group_by):
            for payee, line in _pool_team(context, component, j, str(team), members):
                paid.add(payee, j, line)
    return paid


def _pool_team(
    context: Context, component: Pool, j: int, team: str, members: list[int]
) -> list[tuple[int, Line]]:
    values = [context.value(component.measure, payee, j, "period") for payee in members]
    if component.amount is not None:
        funded = context.minor(component.amount)
    else:
        rate = component.rate if component.rate is not None else Decimal(0)
        funded = context.round_units(Fraction(rate) * sum(values, Fraction(0)))
    if funded <= 0:
        return []
    equal = component.split == "equal" or all(v == 0 for v in values) or min(values) < 0
    weights = [1] * len(members) if equal else [_integer(v, context) for v in values]
    shares = allocate_units(funded, weights)
    funding = "amount" if component.amount is not None else "rate"
    context.fitting(max(shares), context.version_for(j), component.id, funding)
    result: list[tuple[int, Line]] = []
    for payee, value, share in zip(members, values, shares, strict=True):
        basis, number = context.shown(component.measure, value)
        line = Line(
            kind="pool",
            amount=context.money(share),
            component=component.id,
            basis=basis,
            exact=number,
            note=team,
        )
        result.append((payee, line))
    return result


def _integer(value: Fraction, context: Context) -> int:
    """A non-negative value as an integer weight in the same ratio (minor units)."""
    scaled = value * 10**context.currency.minor_units
    return int(scaled)


def _contest(context: Context, component_id: str) -> Paid:
    paid = _SharedPaid(context)
    last_of_year = len(context.periods) - 1
    for j in range(context.count):
        component = context.component_for(j, component_id)
        if not isinstance(component, Contest):
            continue
        if component.accumulate == "year" and j != last_of_year:
            continue
        for group, members in _groups(context, j, component.group_by):
            for payee, line in _ranked(context, component, j, group, members):
                paid.add(payee, j, line)
    return paid


def _ranked(
    context: Context, component: Contest, j: int, group: str | None, members: list[int]
) -> list[tuple[int, Line]]:
    values = [
        (payee, context.value(component.measure, payee, j, component.accumulate))
        for payee in members
    ]
    if component.minimum is not None:
        values = [(p, v) for p, v in values if v >= Fraction(component.minimum)]
    values.sort(key=lambda item: (-item[1], context.payees[item[0]]))
    result: list[tuple[int, Line]] = []
    position = 0
    while position < len(values):
        value = values[position][1]
        tied = [p for p, v in values[position:] if v == value]
        rank = position + 1
        # The prize positions a shared tie splits (``ties: share``), shown on its lines.
        shared = (
            tuple(range(rank - 1, rank - 1 + len(tied)))
            if component.ties == "share" and len(tied) > 1
            else ()
        )
        for payee, prize in zip(
            tied, _tie_prizes(context, (j, component), rank, len(tied)), strict=True
        ):
            basis, number = context.shown(component.measure, value)
            line = Line(
                kind="contest",
                amount=context.money(prize),
                component=component.id,
                basis=basis,
                tiers=shared,
                exact=number,
                rank=rank,
                note=group,
            )
            result.append((payee, line))
        position += len(tied)
    return result


def _tie_prizes(context: Context, contest: tuple[int, Contest], rank: int, count: int) -> list[int]:
    """The prizes of ``count`` payees tied at ``rank`` in period ``contest[0]``.

    Checked to fit int64 as paid: a prize beyond it shared by a tie may fit.
    """
    j, component = contest

    def prize(at: int) -> int:
        return context.minor(component.prizes[at - 1]) if at <= len(component.prizes) else 0

    if component.ties == "same":
        prizes = [prize(rank)] * count
    else:
        prizes = allocate_units(sum(prize(at) for at in range(rank, rank + count)), [1] * count)
    where = f"prizes[{rank - 1}]"
    context.fitting(max(prizes), context.version_for(j), component.id, where)
    return prizes
