"""A scorecard in the annual model: scored in every period at the year's attainments.

A year's scorecard pay is ``sum over periods k of round(TI_k x share x X)``, with
``TI_k`` the annual target incentive split evenly over the year's periods (extra minor
units first) and ``X = sum_i w_i c_i(a_i)`` the weighted curve payout at the year's
attainments. ``TI_k`` takes at most two values, so the sum is two roundings times their
counts. Each rounding is found in three exact steps, cheapest first:

1. a float64 estimate, taken as is where it lies clearly (by a proven margin) between
   two rounding decision points (integers and halves);
2. where it does not: every KPI on a flat stretch of its curve (below the first point,
   after the last, between equal payouts) makes the pay a constant per payee, found
   once with `Fraction`; otherwise, the pay is ``sum_i (n0_i + n1_i v_i) / L_i`` with
   integer coefficients per payee, period amount and segment, computed in int64 when
   it fits;
3. anything left is computed with `Fraction`, one value at a time.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING, Final, final

import numpy as np

from salesflow.errors import Location, MoneyOverflowError
from salesflow.money import allocate_units
from salesflow.money._exact import round_ratio

from ._annual import MICRO, compile_gate, require_target_incentive, round_quotient

if TYPE_CHECKING:
    from collections.abc import Mapping

    from numpy.typing import NDArray

    from ._annual import MeasureScale, Threshold
    from ._plan import Plan, Scorecard, ScorecardKpi

__all__ = ["KpiCurve", "ScorecardModel", "compile_scorecard"]

# The float estimate's relative error stays far below this (a few dozen roundings of
# 2**-53); estimates closer than this to a decision point are settled exactly.
_FLOAT_MARGIN: Final = 2.0**-44
_ABSOLUTE_MARGIN: Final = 2.0**-30
# Bounds that keep the int64 lattice arithmetic exact (checked per value).
_SMALL: Final = 2**31
_SAFE: Final = float(2**60)
# A year's scorecard pay must stay below this (int64, with room for the float estimate).
_LIMIT: Final = 2**62


@final
@dataclass(frozen=True, slots=True)
class KpiCurve:
    """One scorecard KPI resolved per payee.

    On segment ``j`` (``j`` curve points reached) the curve is ``c = alpha_j + beta_j a``.

    Attributes:
        scale: The measure (attainment = value / quota, or value / 10**6 if external).
        weight: The KPI's weight.
        points: The curve's (attainment, payout) points, exact.
        least: ``(payees or 1, points)``: the least value reaching each point.
        alphas: ``(points + 1,)`` exact ``alpha_j``.
        betas: ``(points + 1,)`` exact ``beta_j``.
        intercepts: ``alphas`` as floats.
        slopes: ``betas`` as floats.
    """

    scale: MeasureScale
    weight: Fraction
    points: tuple[tuple[Fraction, Fraction], ...]
    least: NDArray[np.int64]
    alphas: tuple[Fraction, ...]
    betas: tuple[Fraction, ...]
    intercepts: NDArray[np.float64]
    slopes: NDArray[np.float64]

    def segment(self, value: NDArray[np.int64], rows: slice) -> NDArray[np.intp]:
        """How many curve points each value reaches (0: below the first)."""
        least = self.least if self.least.shape[0] == 1 else self.least[rows]
        reached = np.zeros(value.shape, dtype=np.intp)
        for point in range(least.shape[1]):
            reached += value >= least[:, point, np.newaxis]
        return reached

    def divisor(self, row: int) -> int:
        """What a value of payee ``row`` is divided by to give its attainment."""
        return MICRO if self.scale.quotas is None else int(self.scale.quotas[row])

    def exact(self, value: int, row: int, segment: int) -> Fraction:
        """The curve's payout fraction for one value on its segment, exactly."""
        return self.alphas[segment] + self.betas[segment] * Fraction(value, self.divisor(row))


@final
@dataclass(frozen=True, slots=True)
class _Lattice:
    """Per KPI: ``u w c(v) = (n0 + n1 v) / L`` for each (payee, period amount, segment).

    Attributes:
        n0: ``(payees, 2, segments)`` int64.
        n1: ``(payees, 2, segments)`` int64.
        denominator: ``(payees, 2, segments)`` int64 ``L``.
        fits: where the three fit the bounds of exact int64 arithmetic.
    """

    n0: NDArray[np.int64]
    n1: NDArray[np.int64]
    denominator: NDArray[np.int64]
    fits: NDArray[np.bool_]


@final
@dataclass(frozen=True, slots=True)
class ScorecardModel:
    """A scorecard scored in every period at the year's attainments.

    Attributes:
        id: The component id.
        kpis: The KPI curves.
        lattices: Per KPI, its integer coefficients.
        gate: The gate on the year's attainment, if any.
        period_pay: ``(payees, 2)``: the two target-pay amounts a period can have
            (the annual target incentive split evenly, extra units first).
        period_count: ``(payees, 2)``: how many periods have each.
        share: The scorecard's share of target incentive.
        rounding: The plan's rounding mode.
    """

    id: str
    kpis: tuple[KpiCurve, ...]
    lattices: tuple[_Lattice, ...]
    gate: Threshold | None
    period_pay: NDArray[np.int64]
    period_count: NDArray[np.int64]
    share: Fraction
    rounding: str

    def pay(self, values: Mapping[str, NDArray[np.int64]], rows: slice) -> NDArray[np.int64]:
        """Year payouts ``(payees, scenarios)``."""
        block = _Block(self, values, rows)
        total = np.zeros(block.estimate.shape, dtype=np.int64)
        for column in range(2):
            count = self.period_count[rows, column, np.newaxis]
            if np.any(count):
                total += block.rounded(column) * count
        if self.gate is not None:
            total[~self.gate.passes(values, rows)] = 0
        return total

    def rounded_exact(self, row: int, column: int, weighted: Fraction) -> int:
        """``round(period pay x share x weighted)``, exactly."""
        pay = int(self.period_pay[row, column]) * self.share * weighted
        return round_ratio(pay.numerator, pay.denominator, self.rounding)


class _Block:
    """One block of values being scored (the state of `ScorecardModel.pay`)."""

    def __init__(
        self, model: ScorecardModel, values: Mapping[str, NDArray[np.int64]], rows: slice
    ) -> None:
        self.model = model
        self.rows = rows
        self.values = [values[kpi.scale.name] for kpi in model.kpis]
        self.segments = [
            kpi.segment(value, rows) for kpi, value in zip(model.kpis, self.values, strict=True)
        ]
        self.estimate, self.magnitude = self._weighted()
        self._flat: tuple[NDArray[np.int64], NDArray[np.bool_]] | None = None

    def _weighted(self) -> tuple[NDArray[np.float64], float]:
        """The float estimate of ``X``, and a bound on its terms' size over the block."""
        estimate = np.zeros(self.segments[0].shape, dtype=np.float64)
        bound = 0.0
        for kpi, value, segment in zip(self.model.kpis, self.values, self.segments, strict=True):
            quota = kpi.scale.quotas
            divisor = MICRO if quota is None else quota[self.rows, np.newaxis].astype(np.float64)
            attainment = value / divisor
            weight = float(kpi.weight)
            estimate += weight * (kpi.intercepts[segment] + kpi.slopes[segment] * attainment)
            largest = float(attainment.max()) if attainment.size else 0.0
            bound += weight * (np.abs(kpi.intercepts).max() + np.abs(kpi.slopes).max() * largest)
        return estimate, bound

    def _flat_codes(self) -> tuple[NDArray[np.int64], NDArray[np.bool_]]:
        """A code of every KPI's segment, and where every KPI is on a flat stretch."""
        if self._flat is not None:
            return self._flat
        code = np.zeros(self.segments[0].shape, dtype=np.int64)
        flat = np.ones(self.segments[0].shape, dtype=np.bool_)
        for kpi, segment in zip(self.model.kpis, self.segments, strict=True):
            code *= len(kpi.points) + 1
            code += segment
            flat &= kpi.slopes[segment] == 0
        self._flat = (code, flat)
        return self._flat

    def rounded(self, column: int) -> NDArray[np.int64]:
        """One period amount's rounded pay, every value settled exactly."""
        target = self.model.period_pay[self.rows, column].astype(np.float64)[:, np.newaxis]
        target *= float(self.model.share)
        estimate = self.estimate * target
        doubled = estimate * 2
        # Distance, doubled, to the nearest integer or half: the rounding decision points.
        distance = np.abs(doubled - np.rint(doubled))
        close = distance <= 2 * (self.magnitude * target * _FLOAT_MARGIN + _ABSOLUTE_MARGIN)
        rounded = self._round_clear(estimate)
        if np.any(close):
            self._settle(rounded, close, column)
        return rounded

    def _round_clear(self, estimate: NDArray[np.float64]) -> NDArray[np.int64]:
        # Values here are >= 0; those clear of integers and halves round the same in float.
        mode = self.model.rounding
        if mode in ("floor", "down"):
            return np.floor(estimate).astype(np.int64)
        if mode in ("ceiling", "up"):
            return np.ceil(estimate).astype(np.int64)
        return np.rint(estimate).astype(np.int64)

    def _settle(self, rounded: NDArray[np.int64], close: NDArray[np.bool_], column: int) -> None:
        codes, all_flat = self._flat_codes()
        flat = close & all_flat
        if np.any(flat):
            self._settle_flat(rounded, flat, codes, column)
        b_at, s_at = np.nonzero(close & ~all_flat)
        if b_at.size:
            left = self._settle_lattice(rounded, (b_at, s_at), column)
            for b, s in zip(*left, strict=True):
                rounded[b, s] = self._one(int(b), int(s), column)

    def _settle_flat(
        self,
        rounded: NDArray[np.int64],
        flat: NDArray[np.bool_],
        all_codes: NDArray[np.int64],
        column: int,
    ) -> None:
        for b in np.flatnonzero(flat.any(axis=1)).tolist():
            codes = all_codes[b]
            for code in np.unique(codes[flat[b]]).tolist():
                weighted = Fraction(0)
                rest = code
                for kpi in reversed(self.model.kpis):
                    rest, segment = divmod(rest, len(kpi.points) + 1)
                    weighted += kpi.weight * kpi.alphas[segment]
                value = self.model.rounded_exact(self.rows.start + b, column, weighted)
                rounded[b, flat[b] & (codes == code)] = value

    def _settle_lattice(
        self,
        rounded: NDArray[np.int64],
        at: tuple[NDArray[np.intp], NDArray[np.intp]],
        column: int,
    ) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
        """Settle what int64 can; return the (payee, scenario) positions left."""
        rows = self.rows.start + at[0]
        parts = []
        common = np.ones(rows.shape, dtype=np.int64)
        fits = np.ones(rows.shape, dtype=np.bool_)
        for lattice, value, segment in zip(
            self.model.lattices, self.values, self.segments, strict=True
        ):
            where = (rows, column, segment[at])
            n1, denominator = lattice.n1[where], lattice.denominator[where]
            v = value[at]
            fits &= lattice.fits[where] & (np.abs(n1) * v.astype(np.float64) < _SAFE)
            common = np.where(fits, np.lcm(common, np.where(fits, denominator, 1)), 1)
            fits &= common < _SMALL
            parts.append((lattice.n0[where] + n1 * np.where(fits, v, 0), denominator))
        numerator = np.zeros(rows.shape, dtype=np.int64)
        for part, denominator in parts:
            scale = np.where(fits, common // denominator, 0)
            fits &= np.abs(part.astype(np.float64)) * scale < _SAFE / len(parts)
            numerator += np.where(fits, part * scale, 0)
        rounded[at[0][fits], at[1][fits]] = round_quotient(
            numerator[fits], common[fits], self.model.rounding
        )
        return at[0][~fits], at[1][~fits]

    def _one(self, b: int, s: int, column: int) -> int:
        row = self.rows.start + b
        weighted = Fraction(0)
        for kpi, value, segment in zip(self.model.kpis, self.values, self.segments, strict=True):
            weighted += kpi.weight * kpi.exact(int(value[b, s]), row, int(segment[b, s]))
        return self.model.rounded_exact(row, column, weighted)


# --- compiling ----------------------------------------------------------------------


def compile_scorecard(
    plan: Plan,
    index: int,
    component: Scorecard,
    scales: Mapping[str, MeasureScale],
    target_incentive: NDArray[np.int64] | None,
) -> ScorecardModel:
    """Resolve a scorecard for the payees whose quotas are in ``scales``.

    Raises:
        InvalidValueError: no target incentives (``incentives.no_target_incentive``).
        MoneyOverflowError: a year's pay at the curves' top could pass int64 minor
            units (``incentives.int64_overflow``).
    """
    where = f"plan.components[{index}].target_incentive"
    incentives = require_target_incentive(target_incentive, where)
    periods = len(plan.calendar.periods(plan.fiscal_year, plan.period))
    _check_range(component, incentives, periods)
    pay = np.zeros((len(incentives), 2), dtype=np.int64)
    count = np.zeros((len(incentives), 2), dtype=np.int64)
    for row, annual in enumerate(incentives.tolist()):
        parts = allocate_units(annual, [1] * periods)
        low, high = min(parts), max(parts)
        pay[row] = (low, high)
        count[row] = (parts.count(low), parts.count(high) if high != low else 0)
    share = Fraction(component.target_incentive)
    kpis = tuple(_kpi(kpi, scales[kpi.measure]) for kpi in component.kpis)
    return ScorecardModel(
        id=component.id,
        kpis=kpis,
        lattices=tuple(_lattice(kpi, pay, share) for kpi in kpis),
        gate=compile_gate(component.gate, scales),
        period_pay=pay,
        period_count=count,
        share=share,
        rounding=plan.rounding,
    )


def _check_range(component: Scorecard, incentives: NDArray[np.int64], periods: int) -> None:
    """Refuse a scorecard whose year pay could pass int64 (the float estimate would wrap)."""
    top = sum(
        (Fraction(kpi.weight) * max(abs(Fraction(p.payout)) for p in kpi.curve))
        for kpi in component.kpis
    )
    largest = int(incentives.max()) if incentives.size else 0
    if largest * Fraction(component.target_incentive) * top + periods > _LIMIT:
        msg = (
            f"scorecard {component.id!r}: a year's pay at the top of its curves "
            f"({largest} x {component.target_incentive} x {float(top):g} minor units) "
            "does not fit int64"
        )
        raise MoneyOverflowError(
            msg, code="incentives.int64_overflow", location=Location(path="payees.target_incentive")
        )


def _kpi(kpi: ScorecardKpi, scale: MeasureScale) -> KpiCurve:
    points = tuple((Fraction(p.attainment), Fraction(p.payout)) for p in kpi.curve)
    least = np.stack([scale.least_reaching(p.attainment) for p in kpi.curve], axis=1)
    alphas = [Fraction(0)]
    betas = [Fraction(0)]
    for (a0, p0), (a1, p1) in itertools.pairwise(points):
        slope = (p1 - p0) / (a1 - a0)
        alphas.append(p0 - a0 * slope)
        betas.append(slope)
    alphas.append(points[-1][1])
    betas.append(Fraction(0))
    return KpiCurve(
        scale=scale,
        weight=Fraction(kpi.weight),
        points=points,
        least=least,
        alphas=tuple(alphas),
        betas=tuple(betas),
        intercepts=np.array([float(a) for a in alphas]),
        slopes=np.array([float(b) for b in betas]),
    )


def _lattice(kpi: KpiCurve, period_pay: NDArray[np.int64], share: Fraction) -> _Lattice:
    shape = (period_pay.shape[0], 2, len(kpi.alphas))
    n0 = np.zeros(shape, dtype=np.int64)
    n1 = np.zeros(shape, dtype=np.int64)
    denominator = np.ones(shape, dtype=np.int64)
    fits = np.zeros(shape, dtype=np.bool_)
    for row, column, segment in np.ndindex(*shape):
        scale = int(period_pay[row, column]) * share * kpi.weight
        k0 = scale * kpi.alphas[segment]
        k1 = scale * kpi.betas[segment] / kpi.divisor(row)
        common = math.lcm(k0.denominator, k1.denominator)
        a, b = k0 * common, k1 * common
        if common < _SMALL and abs(a) < _SAFE and abs(b) < _SMALL:
            n0[row, column, segment] = int(a)
            n1[row, column, segment] = int(b)
            denominator[row, column, segment] = common
            fits[row, column, segment] = True
    return _Lattice(n0, n1, denominator, fits)
