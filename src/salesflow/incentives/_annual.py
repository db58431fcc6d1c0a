"""The annual model's pieces: measure values, thresholds, commissions, milestones.

The simulator (`._simulate`) draws annual attainments; these types hold a plan's parts
resolved per payee (tier edges and offsets, gate and milestone thresholds, year caps)
and pay blocks of annual values, shaped ``(payees, scenarios)``, in exact int64 minor
units. A year-window cumulative commission pays ``R(P(v))``, the running payout of the
year's value rounded once: what its lines sum to however the value is spread over the
year, provided nothing booked is cancelled (a clawback takes back what a cancelled deal
earned at its own tier, which ``R(P(net value))`` does not see); edges are placed by
`._vectorized`. Its gate passes on the year's attainment to date at the year's end; its
year cap is ``min(pay, cap)``, and so is the plan's: ``min(the components' year pay,
cap)``. A year-window milestone pays when the year's value reaches it: judged once, on
the year's total (the engines test the year to date in every period, which pays
sooner when attainment runs ahead of quota early on).
Scorecards are in `._annual_scorecard`; the plan as a whole in `._annual_plan`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING, Final, Literal, final

import numpy as np

from salesflow.errors import InvalidValueError, Location, MoneyOverflowError
from salesflow.money import Currency
from salesflow.money._exact import round_ratio

from ._tables import RATE_PLACES
from ._vectorized import place_table

if TYPE_CHECKING:
    from collections.abc import Mapping
    from decimal import Decimal

    from numpy.typing import NDArray

    from ._plan import Cap, Commission, Gate, Milestone, Plan, PlanCap

__all__ = [
    "MICRO",
    "VALUE_LIMIT",
    "CommissionModel",
    "MeasureScale",
    "MilestoneModel",
    "PlanCapModel",
    "Threshold",
    "Unit",
    "compile_commission",
    "compile_gate",
    "compile_milestone",
    "compile_plan_cap",
    "require_target_incentive",
    "round_quotient",
]

Unit = Literal["money", "count", "external"]
"""How a measure's annual value is held: minor units, a count, or micro-attainment."""

MICRO: Final = 10**RATE_PLACES
INT64_MAX: Final = int(np.iinfo(np.int64).max)
# A value drawn beyond this could not be rated without overflow; refused, not wrapped.
VALUE_LIMIT: Final = 2**62


@final
@dataclass(frozen=True, slots=True)
class MeasureScale:
    """How one measure's drawn attainment becomes an annual value.

    Attributes:
        name: The measure's name.
        unit: `Unit`: ``money`` (value in minor units = attainment x quota),
            ``count`` (a count = attainment x quota) or ``external`` (a KPI whose
            value is the attainment, held as millionths).
        quotas: The annual quota per payee (minor units or counts); ``None`` for
            an external measure.
    """

    name: str
    unit: Unit
    quotas: NDArray[np.int64] | None

    def values(self, attainment: NDArray[np.float64], rows: slice) -> NDArray[np.int64]:
        """Annual values of the payees ``rows`` from their drawn attainments, rounded once."""
        scale: NDArray[np.int64] | int = (
            MICRO if self.quotas is None else self.quotas[rows, np.newaxis]
        )
        product = attainment * scale
        if product.size and not float(product.max()) < VALUE_LIMIT:
            msg = (
                f"an attainment drawn for measure {self.name!r} makes a value beyond "
                f"{VALUE_LIMIT} units; narrow the distribution"
            )
            raise MoneyOverflowError(
                msg,
                code="incentives.int64_overflow",
                location=Location(path=f"attainment.{self.name}"),
            )
        return np.rint(product).astype(np.int64)

    def least_reaching(self, attainment: Decimal) -> NDArray[np.int64]:
        """Per payee, the least value whose exact attainment reaches ``attainment``."""
        micro = int(attainment * MICRO)  # exact: plan fractions have at most 6 places
        if self.quotas is None:
            return np.full(1, micro, dtype=np.int64)
        least = [-((-micro * int(q)) // MICRO) for q in self.quotas.tolist()]
        return np.array([min(v, INT64_MAX) for v in least], dtype=np.int64)

    def exact_attainment(self, value: int, row: int) -> Fraction:
        """The exact attainment of ``value`` for payee ``row``."""
        if self.quotas is None:
            return Fraction(value, MICRO)
        return Fraction(value, int(self.quotas[row]))


@final
@dataclass(frozen=True, slots=True)
class Threshold:
    """A condition on a measure's annual value: ``value >= least[payee]``.

    Attributes:
        measure: The measure.
        least: The least value that passes, per payee (or one entry for all).
    """

    measure: str
    least: NDArray[np.int64]

    def passes(self, values: Mapping[str, NDArray[np.int64]], rows: slice) -> NDArray[np.bool_]:
        """Which (payee, scenario) pass, for the payees ``rows``."""
        least = self.least if self.least.size == 1 else self.least[rows, np.newaxis]
        return values[self.measure] >= least


@final
@dataclass(frozen=True, slots=True)
class CommissionModel:
    """A year-window cumulative commission, resolved per payee.

    Attributes:
        id: The component id.
        measure: The measure rated.
        edges: ``(payees, tiers)`` tier starts in minor units.
        rates: Tier rates in millionths.
        offsets: ``(payees, tiers)``: ``P(v) * 10**6 = v * rate + offset`` inside a tier.
        up: The boundary rule is ``up``.
        rounding: The plan's rounding mode.
        gate: The gate, if any.
        cap: ``(payees,)`` year cap in minor units, if any.
    """

    id: str
    measure: str
    edges: NDArray[np.int64]
    rates: NDArray[np.int64]
    offsets: NDArray[np.int64]
    up: bool
    rounding: str
    gate: Threshold | None
    cap: NDArray[np.int64] | None

    def pay(
        self, values: Mapping[str, NDArray[np.int64]], rows: slice
    ) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        """Year payouts ``(payees, scenarios)`` and payees per tier ``(tiers, scenarios)``."""
        value = values[self.measure]
        self._check_range(value)
        edges = self.edges[rows]
        tier = np.zeros(value.shape, dtype=np.int8)
        reached = np.empty((len(self.rates), value.shape[1]), dtype=np.int64)
        reached[0] = value.shape[0]
        compare = np.greater_equal if self.up else np.greater
        for index in range(1, len(self.rates)):
            inside = compare(value, edges[:, index, np.newaxis])
            reached[index] = np.count_nonzero(inside, axis=0)
            tier += inside
        scaled = value * self.rates.take(tier)
        scaled += np.take_along_axis(self.offsets[rows], tier, axis=1)
        payout = round_quotient(scaled, MICRO, self.rounding)
        if self.gate is not None:
            payout[~self.gate.passes(values, rows)] = 0
        if self.cap is not None:
            np.minimum(payout, self.cap[rows, np.newaxis], out=payout)
        reached[:-1] -= reached[1:]
        return payout, reached

    def _check_range(self, value: NDArray[np.int64]) -> None:
        top = int(value.max()) if value.size else 0
        largest = top * int(self.rates.max()) + int(np.abs(self.offsets).max(initial=0))
        if 2 * largest + MICRO > INT64_MAX:
            msg = f"component {self.id!r}: a payout of a drawn value does not fit int64"
            raise MoneyOverflowError(msg, code="incentives.int64_overflow")


def round_quotient(
    numerator: NDArray[np.int64], denominator: NDArray[np.int64] | int, mode: str
) -> NDArray[np.int64]:
    """``numerator / denominator`` rounded to an integer by ``mode``, for ``numerator >= 0``.

    The non-negative case of `._vectorized`'s rounding in one integer division: there
    ``down`` is ``floor`` and ``up`` is ``ceiling``; the half modes compare twice the
    remainder with the denominator, so an odd denominator needs no special case.
    Needs ``2 * numerator + denominator <= 2**63 - 1`` (callers check their range).
    """
    if mode in ("floor", "down"):
        return numerator // denominator
    if mode in ("ceiling", "up"):
        return (numerator + (denominator - 1)) // denominator
    doubled = 2 * numerator + denominator
    twice = 2 * denominator
    if mode == "half_down":
        return (doubled - 1) // twice
    result = doubled // twice
    if mode == "half_even":
        tie = doubled == result * twice
        tie &= (result & 1).astype(np.bool_)
        result -= tie
    return result


@final
@dataclass(frozen=True, slots=True)
class MilestoneModel:
    """A year-window milestone: ``amount`` when the year's value reaches the threshold."""

    id: str
    threshold: Threshold
    amount: int

    def pay(self, values: Mapping[str, NDArray[np.int64]], rows: slice) -> NDArray[np.int64]:
        """Year payouts ``(payees, scenarios)``."""
        return np.where(self.threshold.passes(values, rows), self.amount, 0).astype(np.int64)


@final
@dataclass(frozen=True, slots=True)
class PlanCapModel:
    """The plan's yearly cap: the components' year pay held to ``limits`` (decision D30).

    Attributes:
        limits: The year cap in minor units, per payee (or one entry for all).
    """

    limits: NDArray[np.int64]

    def cut(self, pay: NDArray[np.int64], rows: slice) -> NDArray[np.int64]:
        """What the cap takes off ``pay`` ``(payees, scenarios)``: ``min(pay, cap) - pay``."""
        limits = self.limits if self.limits.size == 1 else self.limits[rows, np.newaxis]
        return np.minimum(pay, limits) - pay


# --- compiling ----------------------------------------------------------------------


def compile_commission(
    plan: Plan,
    index: int,
    component: Commission,
    scales: Mapping[str, MeasureScale],
    target_incentive: NDArray[np.int64] | None,
) -> CommissionModel:
    """Resolve a year-window cumulative commission for the payees in ``scales``.

    Raises:
        InvalidValueError: an amount edge between two minor units; a cap on target
            incentive without target incentives (``incentives.no_target_incentive``).
        MoneyOverflowError: an edge or a tier's payout beyond int64.
    """
    scale = scales[component.measure]
    table = component.table
    quotas = scale.quotas if table.basis == "attainment" else None
    count = 1 if scale.quotas is None else len(scale.quotas)
    placed = place_table(table, Currency(plan.currency), quotas, count)
    where = f"plan.components[{index}].cap"
    return CommissionModel(
        id=component.id,
        measure=component.measure,
        edges=placed.edges,
        rates=placed.rates,
        offsets=placed.offsets,
        up=placed.up,
        rounding=plan.rounding,
        gate=compile_gate(component.gate, scales),
        cap=_year_cap(plan, component.cap, target_incentive, count, where),
    )


def compile_plan_cap(plan: Plan, target_incentive: NDArray[np.int64] | None) -> PlanCapModel | None:
    """The plan's yearly cap (its ``per_period`` is refused by `needed_measures`).

    Raises:
        InvalidValueError: a cap on target incentive without target incentives
            (``incentives.no_target_incentive``).
    """
    count = 1 if target_incentive is None else len(target_incentive)
    limits = _year_cap(plan, plan.cap, target_incentive, count, "plan.cap")
    return None if limits is None else PlanCapModel(limits)


def compile_gate(gate: Gate | None, scales: Mapping[str, MeasureScale]) -> Threshold | None:
    """A gate as a threshold on its measure's year value, per payee."""
    if gate is None:
        return None
    return Threshold(gate.measure, scales[gate.measure].least_reaching(gate.attainment))


def _year_cap(
    plan: Plan,
    cap: Cap | PlanCap | None,
    target_incentive: NDArray[np.int64] | None,
    count: int,
    where: str,
) -> NDArray[np.int64] | None:
    if cap is None or (cap.per_year is None and cap.target_incentive_multiple is None):
        return None
    places = Currency(plan.currency).minor_units
    limits = np.full(count, INT64_MAX, dtype=np.int64)
    if cap.per_year is not None:
        limits[:] = min(int(cap.per_year.scaleb(places)), INT64_MAX)
    multiple = cap.target_incentive_multiple
    if multiple is not None:
        incentives = require_target_incentive(
            target_incentive, f"{where}.target_incentive_multiple"
        )
        micro = int(multiple * MICRO)
        by_ti = [round_ratio(micro * int(ti), MICRO, plan.rounding) for ti in incentives.tolist()]
        np.minimum(limits, np.array([min(v, INT64_MAX) for v in by_ti]), out=limits)
    return limits


def require_target_incentive(
    target_incentive: NDArray[np.int64] | None, needed_by: str
) -> NDArray[np.int64]:
    if target_incentive is None:
        msg = f"{needed_by} needs each payee's target incentive; give Payees(target_incentive=...)"
        raise InvalidValueError(
            msg,
            code="incentives.no_target_incentive",
            location=Location(path="payees.target_incentive"),
        )
    return target_incentive


def compile_milestone(
    plan: Plan, component: Milestone, scales: Mapping[str, MeasureScale]
) -> MilestoneModel:
    scale = scales[component.measure]
    places = Currency(plan.currency).minor_units
    amount = int(component.amount.scaleb(places))
    if component.attainment is not None:
        least = scale.least_reaching(component.attainment)
    else:
        assert component.value is not None  # noqa: S101 - the model holds exactly one
        least = np.array([_least_value(component.value, scale.unit, places)], dtype=np.int64)
    return MilestoneModel(component.id, Threshold(component.measure, least), amount)


def _least_value(value: Decimal, unit: Unit, places: int) -> int:
    """The least held value at or above the threshold ``value``, on the measure's own scale.

    Money is held in minor units, counts as counts, an external KPI in millionths (the
    value x 10**6), so a CSAT threshold of 4.5 is 4,500,000 and a count of 2.5 is
    reached at 3.
    """
    scaled = {"money": value.scaleb(places), "count": value, "external": value * MICRO}[unit]
    return max(min(math.ceil(scaled), INT64_MAX), -INT64_MAX)
