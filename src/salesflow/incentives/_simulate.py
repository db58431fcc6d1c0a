"""Monte Carlo simulation of a plan's cost over attainment distributions.

`simulate` draws every payee's annual attainment of every measure the plan reads,
per scenario, from a distribution (`Normal`, `LogNormal`, `Uniform`, `Bootstrap` from
history, or given `Samples`), turns it into an annual value once (attainment x annual
quota, rounded to the minor unit) and pays the plan on it exactly in int64 minor units
(`._annual`). Work goes by blocks of payees across all scenarios, so memory stays
bounded and each payee's percentiles are exact.

Reproducibility: payee ``p``'s draws of measure ``m`` come from their own stream,
``SeedSequence(seed, spawn_key=(key(m), p))``. So a seed gives the same figures
whatever the block size or the number of threads, and two plans simulated with one
seed see the same attainments of every measure they share (what `compare` relies on).
"""

from __future__ import annotations

import hashlib
import math
import numbers
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Final, TypeVar, final

import numpy as np

from salesflow._interop import require_pandas
from salesflow.errors import CurrencyMismatchError, InvalidValueError, Location, MoneyOverflowError
from salesflow.money import Currency, Money
from salesflow.money._exact import round_ratio, to_minor

from ._annual import MeasureScale, Unit
from ._annual_plan import PlanModel, compile_plan, evaluate, needed_measures
from ._plan import Plan

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Sequence

    import pandas as pd
    from numpy.typing import NDArray

    from ._distributions import Distribution

__all__ = ["Payees", "Simulation", "simulate"]

_T = TypeVar("_T", bound=np.generic)
DEFAULT_PERCENTILES: Final = (5.0, 25.0, 50.0, 75.0, 95.0)
# Values per block of payees (payees x scenarios): about 30 MB per int64 array.
_BLOCK_VALUES: Final = 400_000
_KEEP_LIMIT: Final = 50_000_000
_INT64_MAX: Final = int(np.iinfo(np.int64).max)


def _invalid(message: str, code: str, where: str) -> InvalidValueError:
    return InvalidValueError(message, code=f"incentives.{code}", location=Location(path=where))


# --- payees -------------------------------------------------------------------------


def _amount(value: object, where: str) -> tuple[Decimal, str | None]:
    if isinstance(value, Money):
        return value.amount, value.currency.code
    if isinstance(value, bool) or not isinstance(value, Decimal | int | str | np.integer):
        hint = (
            " (floats are refused: use ints, Decimals or strings)"
            if isinstance(value, float)
            else ""
        )
        msg = f"{where} must be Money, a Decimal, an int or a str, not {value!r}{hint}"
        raise _invalid(msg, "invalid_field", where)
    try:
        amount = Decimal(value if not isinstance(value, np.integer) else int(value))
    except ArithmeticError:
        amount = Decimal("NaN")
    if not amount.is_finite():
        msg = f"{where} is not a finite amount: {value!r}"
        raise _invalid(msg, "invalid_field", where)
    return amount, None


@final
@dataclass(frozen=True, slots=True, eq=False, init=False)
class Payees:
    """The payees a simulation pays: ids, annual quotas per measure, target incentives.

    Amounts are in the plan's currency, as `Money`, `Decimal`, ``int`` or ``str``
    (major units: ``1200000`` is 1,200,000.00); floats are refused, as everywhere money
    is. Quotas of a ``count`` measure are counts.

    Attributes:
        ids: The payee ids (default ``"0"``, ``"1"``, ...).
        quotas: Measure name -> every payee's annual quota.
        target_incentive: Every payee's annual target incentive, or ``None``.
        currency: The currency of `Money` amounts given, if any.

    >>> payees = Payees({"bookings": [1_000_000, "800000.50"]}, target_incentive=[90_000, 80_000])
    >>> payees.ids, payees.quotas["bookings"][1]
    (('0', '1'), Decimal('800000.50'))
    """

    ids: tuple[str, ...]
    quotas: Mapping[str, tuple[Decimal, ...]]
    target_incentive: tuple[Decimal, ...] | None
    currency: str | None

    def __init__(
        self,
        quotas: Mapping[str, Iterable[Money | Decimal | int | str]],
        *,
        target_incentive: Iterable[Money | Decimal | int | str] | None = None,
        ids: Iterable[str] | None = None,
    ) -> None:
        """Check and keep the payees (see the class docstring)."""
        currencies: set[str] = set()
        read: dict[str, tuple[Decimal, ...]] = {}
        for name, amounts in quotas.items():
            read[name] = _amounts(amounts, f"payees.quotas.{name}", currencies)
        incentives = (
            None
            if target_incentive is None
            else _amounts(target_incentive, "payees.target_incentive", currencies)
        )
        count = _count(read, incentives)
        names = tuple(str(i) for i in range(count)) if ids is None else tuple(ids)
        _check_ids(names, count)
        if len(currencies) > 1:
            msg = f"payee amounts are in several currencies: {sorted(currencies)}"
            raise CurrencyMismatchError(
                msg, code="incentives.currency_mismatch", location=Location(path="payees")
            )
        object.__setattr__(self, "ids", names)
        object.__setattr__(self, "quotas", read)
        object.__setattr__(self, "target_incentive", incentives)
        object.__setattr__(self, "currency", currencies.pop() if currencies else None)

    @classmethod
    def from_frame(
        cls,
        frame: pd.DataFrame,
        *,
        quotas: Mapping[str, str],
        target_incentive: str | None = None,
        payee: str | None = None,
    ) -> Payees:
        """Payees from a DataFrame's columns (pandas, the ``[dataframe]`` extra).

        Args:
            frame: One row per payee.
            quotas: Measure name -> the column of its annual quotas.
            target_incentive: The column of annual target incentives, if any.
            payee: The column of payee ids; ``None``: the frame's index.
        """
        require_pandas()
        ids = frame.index if payee is None else frame[payee]
        return cls(
            {name: frame[column].tolist() for name, column in quotas.items()},
            target_incentive=None if target_incentive is None else frame[target_incentive].tolist(),
            ids=[str(i) for i in ids.tolist()],
        )

    def __len__(self) -> int:
        """The number of payees."""
        return len(self.ids)


def _amounts(values: Iterable[object], where: str, currencies: set[str]) -> tuple[Decimal, ...]:
    if isinstance(values, str | bytes) or not hasattr(values, "__iter__"):
        msg = f"{where} must be a sequence of amounts, one per payee"
        raise _invalid(msg, "invalid_field", where)
    read: list[Decimal] = []
    for index, value in enumerate(values):
        amount, currency = _amount(value, f"{where}[{index}]")
        if currency is not None:
            currencies.add(currency)
        read.append(amount)
    return tuple(read)


def _count(
    quotas: Mapping[str, tuple[Decimal, ...]], incentives: tuple[Decimal, ...] | None
) -> int:
    sizes = {name: len(values) for name, values in quotas.items()}
    if incentives is not None:
        sizes["target_incentive"] = len(incentives)
    if not sizes or len(set(sizes.values())) != 1 or 0 in sizes.values():
        msg = f"every payee column needs one value per payee, at least one payee: {sizes}"
        raise _invalid(msg, "invalid_field", "payees")
    return next(iter(sizes.values()))


def _check_ids(ids: tuple[str, ...], count: int) -> None:
    if len(ids) != count:
        msg = f"{len(ids)} payee ids for {count} payees"
        raise _invalid(msg, "invalid_field", "payees.ids")
    seen: dict[str, int] = {}
    for index, name in enumerate(ids):
        if name in seen:
            msg = f"payee id {name!r} is used twice (payees.ids[{seen[name]}] and [{index}])"
            raise _invalid(msg, "duplicate_payee", f"payees.ids[{index}]")
        seen[name] = index


# --- the result ---------------------------------------------------------------------


def _to_decimal(units: int, places: int) -> Decimal:
    return Decimal(units).scaleb(-places)


def _label(q: float) -> str:
    return f"p{q:g}"


def _order_statistic(sorted_values: NDArray[_T], q: float) -> NDArray[_T]:
    """The q-th percentile along the last axis of sorted values (inverted CDF: a value seen)."""
    n = sorted_values.shape[-1]
    index = min(max(math.ceil(q * n / 100) - 1, 0), n - 1)
    return sorted_values[..., index]


@final
@dataclass(frozen=True, slots=True, eq=False)
class Simulation:
    """What `simulate` found. Money is in int64 minor units of ``currency``.

    Attributes:
        plan: The plan simulated.
        payees: The payee ids.
        scenarios: The number of scenarios.
        seed: The seed.
        sales_measure: The measure whose value counts as sales, if any.
        total: ``(scenarios,)``: every payee's year payout added up.
        components: Component id -> ``(scenarios,)`` its year payouts added up; with a
            plan cap, ``"plan.cap"``: what it took off (``<= 0``), so they sum to ``total``.
        sales: ``(scenarios,)``: the sales measure's year values added up, if any.
        tier_counts: Commission id -> ``(scenarios, tiers)``: payees whose year value
            is in each tier of its table.
        percentiles: The percentiles of ``payee_percentiles``.
        payee_percentiles: ``(payees, len(percentiles))``: each payee's year payout at
            those percentiles over the scenarios (a value that occurred: the inverted
            CDF, no interpolation).
        payee_totals: ``(payees,)``: each payee's year payouts over all scenarios.
        payouts: ``(scenarios, payees)`` year payouts when kept (``keep=True``).
        values: Measure -> ``(scenarios, payees)`` annual values when kept.
    """

    plan: Plan
    payees: tuple[str, ...]
    scenarios: int
    seed: int
    sales_measure: str | None
    total: NDArray[np.int64]
    components: Mapping[str, NDArray[np.int64]]
    sales: NDArray[np.int64] | None
    tier_counts: Mapping[str, NDArray[np.int64]]
    percentiles: tuple[float, ...]
    payee_percentiles: NDArray[np.int64]
    payee_totals: NDArray[np.int64]
    payouts: NDArray[np.int64] | None = None
    values: Mapping[str, NDArray[np.int64]] | None = None

    @property
    def currency(self) -> Currency:
        """The plan's currency."""
        return Currency(self.plan.currency)

    def money(self, units: int) -> Money:
        """Minor units as `Money` in the plan's currency."""
        return Money.from_minor_units(int(units), self.currency)

    def cost_of_sales(self) -> NDArray[np.float64]:
        """``(scenarios,)``: total payout / total sales per scenario (a ratio, float64).

        Raises:
            InvalidValueError: the simulation has no sales measure
                (``incentives.no_sales_measure``).
        """
        sales = self._sales()
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(sales > 0, self.total / np.maximum(sales, 1), np.nan)

    def tier_shares(self) -> dict[str, tuple[float, ...]]:
        """Commission id -> the share of payee-years in each tier of its table."""
        whole = self.scenarios * len(self.payees)
        return {
            cid: tuple(float(c) / whole for c in counts.sum(axis=0).tolist())
            for cid, counts in self.tier_counts.items()
        }

    def summary(self) -> dict[str, object]:
        """The figures at a glance: total cost, cost of sales, components, tiers.

        Money is `Decimal` in major units; means are exact, rounded once with the
        plan's rounding mode; percentiles are values that occurred (inverted CDF).
        """
        places = self.currency.minor_units
        result: dict[str, object] = {
            "plan": self.plan.id,
            "currency": self.currency.code,
            "scenarios": self.scenarios,
            "payees": len(self.payees),
            "seed": self.seed,
            "total_cost": self._money_stats(self.total),
            "payee_mean": _to_decimal(
                round_ratio(
                    sum(self.payee_totals.tolist()),  # Python ints: no wrap
                    self.scenarios * len(self.payees),
                    self.plan.rounding,
                ),
                places,
            ),
            "components": {cid: self._mean(values) for cid, values in self.components.items()},
            "tier_shares": {cid: list(shares) for cid, shares in self.tier_shares().items()},
        }
        if self.sales is not None:
            result["sales"] = self._money_stats(self.sales)
            result["cost_of_sales"] = self._ratio_stats()
        return result

    def to_frame(self) -> pd.DataFrame:
        """One row per scenario: total payout, each component, sales and cost of sales."""
        require_pandas()
        import pandas as pd  # noqa: PLC0415 - an optional dependency, imported on use

        places = self.currency.minor_units
        columns: dict[str, object] = {"scenario": np.arange(self.scenarios)}
        columns["total"] = [_to_decimal(v, places) for v in self.total.tolist()]
        for cid, values in self.components.items():
            columns[cid] = [_to_decimal(v, places) for v in values.tolist()]
        if self.sales is not None:
            columns["sales"] = [_to_decimal(v, places) for v in self.sales.tolist()]
            columns["cost_of_sales"] = self.cost_of_sales()
        return pd.DataFrame(columns)

    def payee_frame(self) -> pd.DataFrame:
        """One row per payee: the mean year payout and its percentiles over scenarios."""
        require_pandas()
        import pandas as pd  # noqa: PLC0415 - an optional dependency, imported on use

        places = self.currency.minor_units
        means = [
            _to_decimal(round_ratio(total, self.scenarios, self.plan.rounding), places)
            for total in self.payee_totals.tolist()
        ]
        columns: dict[str, object] = {"payee": list(self.payees), "mean": means}
        for index, q in enumerate(self.percentiles):
            values = self.payee_percentiles[:, index].tolist()
            columns[_label(q)] = [_to_decimal(v, places) for v in values]
        return pd.DataFrame(columns)

    def _sales(self) -> NDArray[np.int64]:
        if self.sales is None:
            msg = "this simulation has no sales measure; pass sales=<measure> to simulate"
            raise _invalid(msg, "no_sales_measure", "sales")
        return self.sales

    def _mean(self, values: NDArray[np.int64]) -> Decimal:
        mean = round_ratio(sum(values.tolist()), self.scenarios, self.plan.rounding)
        return _to_decimal(mean, self.currency.minor_units)

    def _money_stats(self, values: NDArray[np.int64]) -> dict[str, Decimal]:
        places = self.currency.minor_units
        ordered = np.sort(values)
        stats = {"mean": self._mean(values), "min": _to_decimal(int(ordered[0]), places)}
        for q in self.percentiles:
            stats[_label(q)] = _to_decimal(int(_order_statistic(ordered, q)), places)
        stats["max"] = _to_decimal(int(ordered[-1]), places)
        return stats

    def _ratio_stats(self) -> dict[str, float]:
        ratios = self.cost_of_sales()
        # Python ints: summed over scenarios, the totals can pass int64 even when no
        # single scenario does; an int / int division is correctly rounded.
        sales = sum(self._sales().tolist())
        overall = sum(self.total.tolist()) / sales if sales > 0 else math.nan
        stats = {"overall": overall}
        finite = np.sort(ratios[np.isfinite(ratios)])
        for q in self.percentiles:
            stats[_label(q)] = float(_order_statistic(finite, q)) if finite.size else math.nan
        return stats


# --- simulate -----------------------------------------------------------------------


def simulate(  # noqa: PLR0913 - the documented entry point; everything after `*` is a keyword
    plan: Plan,
    payees: Payees,
    *,
    attainment: Distribution | Mapping[str, Distribution],
    scenarios: int,
    seed: int,
    sales: str | None = None,
    percentiles: Sequence[float] = DEFAULT_PERCENTILES,
    keep: bool = False,
) -> Simulation:
    """Simulate ``scenarios`` years of ``plan`` for ``payees``, exactly, reproducibly.

    Every payee's annual attainment of every measure the plan reads is drawn per
    scenario; the annual value is ``round(attainment x annual quota)`` (half-even, to
    the minor unit; an external KPI's value is the attainment, to 6 decimals); the plan
    then pays exactly what it pays for that year's value, under the model's stated
    assumptions: no cancellations, milestones judged on the year's total at its end
    (see docs/incentives-simulation.md for each component, the assumptions, and what
    cannot be simulated).

    Args:
        plan: The plan: one version, effective for the whole fiscal year.
        payees: Their ids, annual quotas (every measure drawn, except external ones)
            and target incentives (for scorecards and target-incentive caps).
        attainment: The distribution of attainment, or measure name -> distribution
            when the plan reads several measures. Measures are drawn independently.
        scenarios: How many years to simulate, ``>= 1``.
        seed: The seed (an integer ``>= 0``, numpy's too): the same seed, the same figures.
        sales: The measure whose value is sales (for cost of sales); ``None``: the
            plan's only money measure, if it reads exactly one.
        percentiles: The per-payee and summary percentiles, each in ``[0, 100]``.
        keep: Keep every (scenario, payee) payout and value (``scenarios x payees``
            at most 50,000,000).

    Raises:
        InvalidValueError: a component that cannot be simulated, a version for part of
            the year or a list of versions (``incentives.not_simulable``, naming it); a
            measure without a distribution (``incentives.no_distribution``) or a quota
            (``incentives.no_quota``); a quota <= 0 (``incentives.zero_quota``); quotas
            given for an external measure (``incentives.unused_quota``); a bad
            distribution, seed or count.
        CurrencyMismatchError: payee amounts in another currency than the plan's.
        MoneyOverflowError: a drawn value or a total beyond int64 minor units.

    >>> from salesflow.incentives import Samples, load_plan
    >>> plan = load_plan('''
    ... id: ae
    ... currency: CNY
    ... fiscal_year: 2027
    ... rounding: half_up
    ... measures: {bookings: {quota: true}}
    ... components:
    ...   - kind: commission
    ...     id: commission
    ...     measure: bookings
    ...     rating: cumulative
    ...     accumulate: year
    ...     table: {basis: attainment, tiers: [{start: 0, end: 1, rate: "0.05"},
    ...                                        {start: 1, rate: "0.08"}]}
    ... ''')
    >>> result = simulate(plan, Payees({"bookings": [1_000_000, 500_000]}),
    ...                   attainment=Samples([[1.2, 0.5]]), scenarios=1, seed=1)
    >>> result.money(result.total[0])  # 50,000 + 16,000 + 12,500
    Money('78500.00', 'CNY')
    """
    tallies = run(
        [plan],
        payees,
        attainment=attainment,
        scenarios=scenarios,
        seed=seed,
        sales=sales,
        percentiles=percentiles,
        keep=keep,
    )
    return tallies[0].simulation


# --- the runner (shared with compare) -----------------------------------------------


@final
@dataclass(frozen=True, slots=True)
class Settings:
    """One run's settings, checked."""

    scenarios: int
    seed: int
    percentiles: tuple[float, ...]
    keep: bool


@dataclass(slots=True)
class Tally:
    """One plan's sums, filled block by block (private; frozen into a `Simulation`)."""

    model: PlanModel
    payees: int
    settings: Settings
    total: NDArray[np.int64] = field(init=False)
    components: dict[str, NDArray[np.int64]] = field(init=False)
    tiers: dict[str, NDArray[np.int64]] = field(default_factory=dict)
    payee_percentiles: NDArray[np.int64] = field(init=False)
    payee_totals: NDArray[np.int64] = field(init=False)
    payouts: NDArray[np.int64] | None = None
    more: NDArray[np.int64] = field(init=False)
    less: NDArray[np.int64] = field(init=False)
    simulation: Simulation = field(init=False)

    def __post_init__(self) -> None:
        """Zeros of the right shapes."""
        scenarios = self.settings.scenarios
        self.total = np.zeros(scenarios, dtype=np.int64)
        self.components = {cid: np.zeros(scenarios, dtype=np.int64) for cid in self.model.ids}
        self.payee_percentiles = np.zeros(
            (self.payees, len(self.settings.percentiles)), dtype=np.int64
        )
        self.payee_totals = np.zeros(self.payees, dtype=np.int64)
        self.more = np.zeros(self.payees, dtype=np.int64)
        self.less = np.zeros(self.payees, dtype=np.int64)
        if self.settings.keep:
            self.payouts = np.zeros((scenarios, self.payees), dtype=np.int64)


@final
@dataclass(frozen=True, slots=True)
class BlockResult:
    """One block of payees evaluated under every plan."""

    rows: slice
    payouts: list[NDArray[np.int64]]  # per plan, (payees, scenarios) summed over components
    components: list[dict[str, NDArray[np.int64]]]  # per plan: id -> (scenarios,)
    tiers: list[dict[str, NDArray[np.int64]]]  # per plan: id -> (tiers, scenarios)
    sales: NDArray[np.int64] | None
    drawn: dict[str, NDArray[np.int64]]  # kept annual values, when asked


def run(  # noqa: PLR0913 - simulate's arguments, for one plan or several
    plans: Sequence[Plan],
    payees: Payees,
    *,
    attainment: Distribution | Mapping[str, Distribution],
    scenarios: int,
    seed: int,
    sales: str | None,
    percentiles: Sequence[float],
    keep: bool,
) -> list[Tally]:
    """Simulate ``plans`` on the same draws; one `Tally` (with its `Simulation`) per plan."""
    _check_plans(plans)
    settings = _settings(scenarios, seed, percentiles, keep=keep, payees=len(payees))
    units = _units_of(plans)
    currency = _currency(plans, payees)
    distributions = _distributions(attainment, units, len(payees), scenarios)
    scales = {name: _scale(name, unit, payees, currency) for name, unit in units.items()}
    incentives = _target_incentives(payees, currency)
    models = [compile_plan(plan, scales, incentives) for plan in plans]
    sales_measure = _sales_measure(sales, units, plans=len(plans))
    tallies = [Tally(model, len(payees), settings) for model in models]
    kept: dict[str, NDArray[np.int64]] = (
        {name: np.zeros((scenarios, len(payees)), dtype=np.int64) for name in units} if keep else {}
    )
    sales_total = np.zeros(scenarios, dtype=np.int64) if sales_measure else None
    job = _Job(models, scales, distributions, settings, sales_measure, len(payees))
    for block in _blocks(job, len(payees)):
        _absorb(tallies, block, settings)
        for name, drawn in block.drawn.items():
            kept[name][:, block.rows] = drawn.T
        if sales_total is not None and block.sales is not None:
            sales_total += block.sales
    for tally in tallies:
        tally.simulation = _freeze(tally, payees, sales_measure, sales_total, kept)
    return tallies


def _settings(
    scenarios: int, seed: int, percentiles: Sequence[float], *, keep: bool, payees: int
) -> Settings:
    if not _whole(scenarios) or scenarios < 1:
        msg = f"scenarios must be an int >= 1, not {scenarios!r}"
        raise _invalid(msg, "invalid_count", "scenarios")
    if not _whole(seed) or seed < 0:
        msg = f"seed must be an int >= 0 (figures must be reproducible), not {seed!r}"
        raise _invalid(msg, "invalid_seed", "seed")
    scenarios, seed = int(scenarios), int(seed)
    qs = tuple(float(q) for q in percentiles)
    if not qs or any(not 0 <= q <= 100 for q in qs):  # noqa: PLR2004 - percent
        msg = f"percentiles must be in [0, 100], not {percentiles!r}"
        raise _invalid(msg, "invalid_percentile", "percentiles")
    if keep and scenarios * payees > _KEEP_LIMIT:
        msg = f"keep=True would hold {scenarios * payees:,} values; at most {_KEEP_LIMIT:,}"
        raise _invalid(msg, "invalid_count", "keep")
    return Settings(scenarios, seed, qs, keep)


def _whole(number: object) -> bool:
    """An integer (numpy's included, as notebooks pass them), not a bool."""
    return isinstance(number, numbers.Integral) and not isinstance(number, bool | np.bool_)


def _check_plans(plans: Sequence[object]) -> None:
    """One `Plan` each: a list of versions is refused, naming the plan."""
    for index, plan in enumerate(plans):
        if isinstance(plan, Plan):
            continue
        where = "plan" if len(plans) == 1 else f"plans[{index}]"
        versions = list(plan) if isinstance(plan, list | tuple) else []
        if versions and all(isinstance(v, Plan) for v in versions):
            names = sorted({repr(v.id) for v in versions})
            msg = (
                f"{len(versions)} versions of plan {', '.join(names)}: a simulated year is paid "
                "by one plan for the whole fiscal year; simulate a version that covers the "
                "year, or compare the versions on history"
            )
            raise InvalidValueError(
                msg, code="incentives.not_simulable", location=Location(path=where)
            )
        msg = f"{where} must be a Plan, not {type(plan).__name__}"
        raise _invalid(msg, "invalid_field", where)


def _units_of(plans: Sequence[Plan]) -> dict[str, Unit]:
    """Every measure the plans read; one name read as two kinds of measure is refused."""
    units: dict[str, Unit] = {}
    for index, plan in enumerate(plans):
        for name, unit in needed_measures(plan).items():
            if units.setdefault(name, unit) != unit:
                msg = (
                    f"measure {name!r} is {unit} in plan {plan.id!r} but {units[name]} in an "
                    "earlier plan: one draw cannot be both"
                )
                raise _invalid(msg, "measure_mismatch", f"plans[{index}].measures.{name}")
    return units


def _currency(plans: Sequence[Plan], payees: Payees) -> Currency:
    codes = {plan.currency for plan in plans}
    if len(codes) != 1:
        msg = f"the plans are in several currencies: {sorted(codes)}"
        raise CurrencyMismatchError(
            msg, code="incentives.currency_mismatch", location=Location(path="plans")
        )
    currency = Currency(codes.pop())
    if payees.currency is not None and payees.currency != currency.code:
        msg = f"payee amounts are in {payees.currency}, the plan in {currency}"
        raise CurrencyMismatchError(
            msg, code="incentives.currency_mismatch", location=Location(path="payees")
        )
    return currency


def _distributions(
    attainment: Distribution | Mapping[str, Distribution],
    units: Mapping[str, Unit],
    payees: int,
    scenarios: int,
) -> dict[str, Distribution]:
    if not isinstance(attainment, Mapping):
        if len(units) != 1:
            msg = (
                f"the plan reads measures {sorted(units)}: "
                "give attainment as a mapping measure -> distribution"
            )
            raise _invalid(msg, "no_distribution", "attainment")
        attainment = {next(iter(units)): attainment}
    for name in attainment:
        if name not in units:
            msg = (
                f"a distribution is given for {name!r}, "
                f"which the plan does not read ({sorted(units)})"
            )
            raise _invalid(msg, "unknown_measure", f"attainment.{name}")
    for name in units:
        if name not in attainment:
            msg = f"no distribution of attainment for measure {name!r}"
            raise _invalid(msg, "no_distribution", f"attainment.{name}")
        attainment[name].check(payees, scenarios, f"attainment.{name}")
    return dict(attainment)


def _scale(name: str, unit: Unit, payees: Payees, currency: Currency) -> MeasureScale:
    given = payees.quotas.get(name)
    where = f"payees.quotas.{name}"
    if unit == "external":
        if given is not None:
            msg = (
                f"measure {name!r} is external: its drawn value is the KPI itself and no "
                "simulated component reads its quotas; leave them out of Payees"
            )
            raise _invalid(msg, "unused_quota", where)
        return MeasureScale(name, unit, None)
    if given is None:
        msg = f"measure {name!r} is simulated as attainment x annual quota: give its quotas"
        raise _invalid(msg, "no_quota", where)
    units: list[int] = []
    for index, quota in enumerate(given):
        at = f"{where}[{index}]"
        if quota <= 0:
            msg = f"the quota of payee {payees.ids[index]!r} is {quota}; it must be > 0"
            raise _invalid(msg, "zero_quota", at)
        units.append(_units(quota, unit, currency, at))
    return MeasureScale(name, unit, np.array(units, dtype=np.int64))


def _units(amount: Decimal, unit: Unit, currency: Currency, where: str) -> int:
    if unit == "count":
        if amount != amount.to_integral_value():
            msg = f"{where} is a count, not {amount}"
            raise _invalid(msg, "invalid_field", where)
        value = int(amount)
    else:
        try:
            value = to_minor(amount, currency, None)
        except InvalidValueError as err:
            raise _invalid(err.message, "not_on_minor_unit", where) from None
    if value > 2**53:
        msg = f"{where} is too large to simulate (beyond 2**53 units)"
        raise MoneyOverflowError(
            msg, code="incentives.int64_overflow", location=Location(path=where)
        )
    return value


def _target_incentives(payees: Payees, currency: Currency) -> NDArray[np.int64] | None:
    if payees.target_incentive is None:
        return None
    where = "payees.target_incentive"
    units = []
    for index, amount in enumerate(payees.target_incentive):
        if amount < 0:
            msg = f"{where}[{index}] is negative: {amount}"
            raise _invalid(msg, "invalid_field", f"{where}[{index}]")
        units.append(_units(amount, "money", currency, f"{where}[{index}]"))
    return np.array(units, dtype=np.int64)


def _sales_measure(sales: str | None, units: Mapping[str, Unit], *, plans: int) -> str | None:
    """The measure whose values count as sales, the same for every plan compared.

    ``None`` given: the only money measure read, if there is one. Plans compared that
    read several between them must name it: each plan's own choice would put their
    costs of sales over different sales (or drop some), so nothing is guessed.
    """
    money = sorted(name for name, unit in units.items() if unit == "money")
    if sales is None:
        if len(money) > 1 and plans > 1:
            msg = (
                f"the plans read several money measures {money}: name the one whose values "
                "count as sales with sales=..."
            )
            raise _invalid(msg, "no_sales_measure", "sales")
        return money[0] if len(money) == 1 else None
    if sales not in money:
        msg = f"sales must name a money measure the plans read ({money}), not {sales!r}"
        raise _invalid(msg, "unknown_measure", "sales")
    return sales


def _stream(seed: int, measure: str, payee: int) -> np.random.Generator:
    digest = hashlib.blake2b(measure.encode("utf-8"), digest_size=8).digest()
    key = (int.from_bytes(digest[:4], "little"), int.from_bytes(digest[4:], "little"), payee)
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=key)))


@final
@dataclass(frozen=True, slots=True)
class _Job:
    models: list[PlanModel]
    scales: Mapping[str, MeasureScale]
    distributions: Mapping[str, Distribution]
    settings: Settings
    sales: str | None
    payees: int

    def block(self, rows: slice) -> BlockResult:
        scenarios = self.settings.scenarios
        values: dict[str, NDArray[np.int64]] = {}
        for name, distribution in self.distributions.items():
            drawn = np.empty((rows.stop - rows.start, scenarios), dtype=np.float64)
            for offset, payee in enumerate(range(rows.start, rows.stop)):
                rng = _stream(self.settings.seed, name, payee)
                drawn[offset] = distribution.draw(rng, payee, scenarios)
            values[name] = self.scales[name].values(drawn, rows)
        results = [evaluate(model, values, rows) for model in self.models]
        payouts = [_sum_components(result.payouts, rows, scenarios) for result in results]
        return BlockResult(
            rows=rows,
            payouts=payouts,
            components=[{cid: p.sum(axis=0) for cid, p in r.payouts.items()} for r in results],
            tiers=[r.tiers for r in results],
            sales=None if self.sales is None else _sales_sum(values[self.sales], self.payees),
            drawn=values if self.settings.keep else {},
        )


def _sales_sum(values: NDArray[np.int64], payees: int) -> NDArray[np.int64]:
    if values.size and int(values.max()) * payees > _INT64_MAX:
        msg = "the sales measure's values added over payees could exceed int64 minor units"
        raise MoneyOverflowError(msg, code="incentives.int64_overflow")
    total: NDArray[np.int64] = values.sum(axis=0)
    return total


def _sum_components(
    payouts: Mapping[str, NDArray[np.int64]], rows: slice, scenarios: int
) -> NDArray[np.int64]:
    total = np.zeros((rows.stop - rows.start, scenarios), dtype=np.int64)
    for payout in payouts.values():
        total += payout
    return total


def _blocks(job: _Job, payees: int) -> Iterator[BlockResult]:
    # A few payees across all scenarios at a time: arrays of about 3 MB stay in cache.
    size = max(1, _BLOCK_VALUES // job.settings.scenarios)
    for start in range(0, payees, size):
        yield job.block(slice(start, min(start + size, payees)))


def _absorb(tallies: list[Tally], block: BlockResult, settings: Settings) -> None:
    first = block.payouts[0]
    for index, tally in enumerate(tallies):
        payout = block.payouts[index]
        _check_sums(payout, tally.payees, settings.scenarios)
        tally.total += payout.sum(axis=0)
        for cid, values in block.components[index].items():
            tally.components[cid] += values
        for cid, counts in block.tiers[index].items():
            if cid not in tally.tiers:
                tally.tiers[cid] = np.zeros((counts.shape[0], settings.scenarios), dtype=np.int64)
            tally.tiers[cid] += counts
        ordered = np.sort(payout, axis=1)
        for column, q in enumerate(settings.percentiles):
            tally.payee_percentiles[block.rows, column] = _order_statistic(ordered, q)
        tally.payee_totals[block.rows] = payout.sum(axis=1)
        if index:
            tally.more[block.rows] = np.count_nonzero(payout > first, axis=1)
            tally.less[block.rows] = np.count_nonzero(payout < first, axis=1)
        if tally.payouts is not None:
            tally.payouts[:, block.rows] = payout.T


def _check_sums(payout: NDArray[np.int64], payees: int, scenarios: int) -> None:
    if not payout.size:
        return
    largest = max(int(payout.max()), -int(payout.min()))
    if largest * max(payees, scenarios) > _INT64_MAX:
        msg = "payouts added over payees or scenarios could exceed int64 minor units"
        raise MoneyOverflowError(msg, code="incentives.int64_overflow")


def _freeze(
    tally: Tally,
    payees: Payees,
    sales_measure: str | None,
    sales: NDArray[np.int64] | None,
    kept: Mapping[str, NDArray[np.int64]],
) -> Simulation:
    plan = tally.model.plan
    own = {name: kept[name] for name in tally.model.scales if name in kept}
    return Simulation(
        plan=plan,
        payees=payees.ids,
        scenarios=tally.settings.scenarios,
        seed=tally.settings.seed,
        sales_measure=sales_measure,
        total=tally.total,
        components=tally.components,
        sales=sales,
        tier_counts={cid: counts.T.copy() for cid, counts in tally.tiers.items()},
        percentiles=tally.settings.percentiles,
        payee_percentiles=tally.payee_percentiles,
        payee_totals=tally.payee_totals,
        payouts=tally.payouts,
        values=own if tally.settings.keep else None,
    )
