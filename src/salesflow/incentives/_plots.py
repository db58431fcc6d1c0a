"""Plots for notebooks: a plan's payout curve, a simulation's cost distribution.

matplotlib is an optional dependency (the ``[plot]`` extra), imported only when a
plot is drawn. Each function draws on the `Axes` given, or on a new figure, and
returns the `Axes` (its figure is ``ax.figure``).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Final, Literal

import numpy as np

from salesflow._interop import require_matplotlib
from salesflow.errors import InvalidValueError, Location
from salesflow.money import Money

from ._distributions import Samples
from ._plan import Commission, Milestone
from ._simulate import Payees, simulate

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from ._plan import Plan
    from ._simulate import Simulation

__all__ = ["plot_distribution", "plot_payout_curve"]

_Amount = Money | Decimal | int | str
_TOTAL: Final = "total"


def _axes(ax: Axes | None) -> Axes:
    require_matplotlib()
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt  # noqa: PLC0415 - an optional dependency, imported on use

    _, axes = plt.subplots(figsize=(7, 4))
    return axes


def plot_payout_curve(  # noqa: PLR0913 - every argument after `*` is a keyword
    plan: Plan,
    *,
    quota: _Amount | Mapping[str, _Amount],
    target_incentive: _Amount | None = None,
    attainment: tuple[float, float] = (0.0, 2.0),
    points: int = 401,
    ax: Axes | None = None,
) -> Axes:
    """A payee's year payout against attainment, tier edges marked.

    Every measure the plan reads is at the same attainment (an external KPI's value is
    the attainment itself); the payout is computed exactly, as `simulate` does, at
    ``points`` attainments evenly spaced over ``attainment``. With several components,
    each has its own line beside the total. Vertical lines mark the tier starts of
    every commission (as attainment: an amount edge is divided by the quota), gates and
    milestone thresholds on attainment.

    Args:
        plan: The plan (every component simulable, see `simulate`).
        quota: The payee's annual quota, or measure name -> quota.
        target_incentive: The payee's annual target incentive (scorecards, caps).
        attainment: The range of attainment plotted (``1.0`` is 100%).
        points: How many attainments to compute, ``>= 2``.
        ax: The axes to draw on; ``None``: a new figure.

    Raises:
        ImportError: matplotlib is not installed (``pip install 'salesflow[plot]'``).
        InvalidValueError: a bad range or count; anything `simulate` raises.
    """
    low, high = (float(a) for a in attainment)
    if not 0 <= low < high:
        msg = f"attainment must be a range 0 <= low < high, not {attainment!r}"
        raise InvalidValueError(
            msg, code="incentives.invalid_plot", location=Location(path="attainment")
        )
    if isinstance(points, bool) or not isinstance(points, int) or points < 2:  # noqa: PLR2004
        msg = f"points must be an int >= 2, not {points!r}"
        raise InvalidValueError(
            msg, code="incentives.invalid_plot", location=Location(path="points")
        )
    axes = _axes(ax)
    grid = np.linspace(low, high, points)
    result = _curve(plan, quota, target_incentive, grid)
    places = result.currency.minor_units
    scale = 10.0**-places  # display only: the payouts themselves are exact minor units
    if len(result.components) > 1:
        for cid, values in result.components.items():
            axes.plot(grid * 100, values * scale, label=cid, linewidth=1, alpha=0.8)
    axes.plot(grid * 100, result.total * scale, label=_TOTAL, linewidth=2, color="black")
    for edge, label in _edges(plan, quota):
        if low <= edge <= high:
            axes.axvline(edge * 100, linestyle=":", color="grey", linewidth=1)
            axes.annotate(
                label,
                (edge * 100, 1),
                xycoords=("data", "axes fraction"),
                rotation=90,
                va="top",
                ha="right",
                fontsize=7,
                color="grey",
            )
    axes.set_xlabel("attainment (% of quota)")
    axes.set_ylabel(f"year payout ({result.currency.code})")
    axes.set_title(f"payout curve: {plan.name or plan.id}")
    axes.legend(loc="upper left")
    return axes


def _curve(
    plan: Plan,
    quota: _Amount | Mapping[str, _Amount],
    target_incentive: _Amount | None,
    grid: np.ndarray,
) -> Simulation:
    from ._annual_plan import needed_measures  # noqa: PLC0415 - the measures the plan reads

    units = needed_measures(plan)
    quotas: dict[str, list[_Amount]] = {}
    for name, unit in units.items():
        if unit == "external":
            continue
        if not isinstance(quota, Mapping):
            quotas[name] = [quota]
        elif name in quota:
            quotas[name] = [quota[name]]
    payees = Payees(
        quotas, target_incentive=None if target_incentive is None else [target_incentive]
    )
    samples = Samples(grid[:, np.newaxis])
    return simulate(
        plan,
        payees,
        attainment=dict.fromkeys(units, samples),
        scenarios=len(grid),
        seed=0,
        keep=False,
    )


def _edges(plan: Plan, quota: _Amount | Mapping[str, _Amount]) -> list[tuple[float, str]]:
    """(attainment, label) of every tier start, gate and milestone threshold."""
    marks: list[tuple[float, str]] = []
    for component in plan.components:
        if isinstance(component, Commission):
            table = component.table
            divisor = 1.0 if table.basis == "attainment" else _quota_of(quota, component.measure)
            for index, tier in enumerate(table.tiers[1:], start=2):
                marks.append((float(tier.start) / divisor, f"{component.id} tier {index}"))
        gate = getattr(component, "gate", None)
        if gate is not None:
            marks.append((float(gate.attainment), f"{component.id} gate"))
        if isinstance(component, Milestone) and component.attainment is not None:
            marks.append((float(component.attainment), f"{component.id}"))
    return marks


def _quota_of(quota: _Amount | Mapping[str, _Amount], measure: str) -> float:
    value = quota[measure] if isinstance(quota, Mapping) else quota
    amount = value.amount if isinstance(value, Money) else Decimal(value)
    return float(amount)


def plot_distribution(
    simulation: Simulation,
    *,
    what: Literal["total", "cost_of_sales"] = "total",
    bins: int = 50,
    ax: Axes | None = None,
) -> Axes:
    """A histogram of a simulation's total cost (or cost of sales) over scenarios.

    Vertical lines mark the mean and the simulation's percentiles (values that
    occurred, as in `Simulation.summary`).

    Args:
        simulation: What `simulate` returned.
        what: ``"total"`` (the year's total payout) or ``"cost_of_sales"``.
        bins: Histogram bins, ``>= 1``.
        ax: The axes to draw on; ``None``: a new figure.

    Raises:
        ImportError: matplotlib is not installed (``pip install 'salesflow[plot]'``).
        InvalidValueError: an unknown ``what``; cost of sales without a sales measure,
            or with no scenario whose sales are above 0 (``incentives.invalid_plot``).
    """
    if what == "total":
        values = simulation.total * 10.0**-simulation.currency.minor_units  # display only
        xlabel = f"total year payout ({simulation.currency.code})"
    elif what == "cost_of_sales":
        values = simulation.cost_of_sales() * 100
        values = values[np.isfinite(values)]
        if not values.size:
            msg = "no scenario has sales above 0: cost of sales is undefined in every one"
            raise InvalidValueError(
                msg, code="incentives.invalid_plot", location=Location(path="what")
            )
        xlabel = "cost of sales (% of sales)"
    else:
        msg = f"what must be 'total' or 'cost_of_sales', not {what!r}"
        raise InvalidValueError(msg, code="incentives.invalid_plot", location=Location(path="what"))
    axes = _axes(ax)
    axes.hist(values, bins=bins, color="tab:blue", alpha=0.7)
    axes.axvline(float(values.mean()), color="black", linewidth=1.5, label="mean")
    ordered = np.sort(values)
    for q in simulation.percentiles:
        index = min(max(int(np.ceil(q * ordered.size / 100)) - 1, 0), ordered.size - 1)
        axes.axvline(
            float(ordered[index]), color="grey", linestyle="--", linewidth=1, label=f"p{q:g}"
        )
    axes.set_xlabel(xlabel)
    axes.set_ylabel("scenarios")
    axes.set_title(
        f"{simulation.plan.name or simulation.plan.id}: {simulation.scenarios:,} scenarios"
    )
    axes.legend(loc="upper right", fontsize=7)
    return axes
