"""A plan in the annual model: which plans can be simulated, compiled and evaluated.

`needed_measures` refuses, naming it, every part of a plan whose pay depends on more
than each payee's annual measure values: bonuses (per transaction or period), pools and
contests (other payees), per-period windows, caps and floors, individual rating and
per-transaction caps (the size of each deal), draws and a plan cap per period (each
period's pay), a version effective for part of the fiscal year (the year would be paid
on it whole), and gates or milestones on the attainment of an external measure (the
engines divide each period's KPI by its quota to date, which one annual draw does not
give).
`compile_plan` resolves the rest per payee (`._annual`, `._annual_scorecard`; the plan's
yearly cap holds the components' year pay to it), and `evaluate` pays a block of
annual values.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, NoReturn, final

from salesflow.errors import InvalidValueError, Location

from ._annual import (
    CommissionModel,
    MeasureScale,
    MilestoneModel,
    PlanCapModel,
    Unit,
    compile_commission,
    compile_milestone,
    compile_plan_cap,
)
from ._annual_scorecard import ScorecardModel, compile_scorecard
from ._plan import PLAN_CAP_ID, Bonus, Commission, Contest, Milestone, Plan, Pool, Scorecard

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping

    import numpy as np
    from numpy.typing import NDArray

    from ._plan import Component

__all__ = ["Evaluated", "PlanModel", "compile_plan", "evaluate", "needed_measures"]

Model = CommissionModel | MilestoneModel | ScorecardModel


def _not_simulable(plan: Plan, index: int, field: str, why: str) -> NoReturn:
    component = plan.components[index]
    msg = (
        f"component {component.id!r} cannot be simulated from annual attainment: {why}; "
        "compare it on history instead"
    )
    where = f"plan.components[{index}]{field}"
    raise InvalidValueError(msg, code="incentives.not_simulable", location=Location(path=where))


@final
@dataclass(frozen=True, slots=True)
class PlanModel:
    """A plan compiled for annual simulation over a fixed list of payees.

    Attributes:
        plan: The plan.
        components: The compiled components, in plan order.
        scales: Every measure the components read, by name.
        cap: The plan's yearly cap, if any.
    """

    plan: Plan
    components: tuple[Model, ...]
    scales: Mapping[str, MeasureScale]
    cap: PlanCapModel | None = None

    @property
    def ids(self) -> tuple[str, ...]:
        """The ids `evaluate` pays under: the components', then ``"plan.cap"`` if capped."""
        ids = tuple(component.id for component in self.components)
        return ids if self.cap is None else (*ids, PLAN_CAP_ID)


@final
@dataclass(frozen=True, slots=True)
class Evaluated:
    """One block's results.

    Attributes:
        payouts: Component id -> ``(payees, scenarios)`` year payouts; ``"plan.cap"``:
            what the plan's yearly cap takes off their sum (``<= 0``).
        tiers: Commission id -> ``(tiers, scenarios)`` payees whose year value is in each tier.
    """

    payouts: dict[str, NDArray[np.int64]]
    tiers: dict[str, NDArray[np.int64]]


def evaluate(model: PlanModel, values: Mapping[str, NDArray[np.int64]], rows: slice) -> Evaluated:
    """Every component's year payouts for the payees ``rows`` and their annual values."""
    result = Evaluated({}, {})
    for component in model.components:
        if isinstance(component, CommissionModel):
            payout, counts = component.pay(values, rows)
            result.tiers[component.id] = counts
        else:
            payout = component.pay(values, rows)
        result.payouts[component.id] = payout
    if model.cap is not None:
        payouts = iter(result.payouts.values())  # a plan has at least one component
        pay = next(payouts).copy()
        for payout in payouts:
            pay += payout
        result.payouts[PLAN_CAP_ID] = model.cap.cut(pay, rows)
    return result


# --- compiling a plan --------------------------------------------------------------


def needed_measures(plan: Plan) -> dict[str, Unit]:
    """Every measure the plan's simulable components read, with its unit.

    Raises:
        InvalidValueError: a component or the draw cannot be simulated
            (``incentives.not_simulable``), naming it.
    """
    _check_simulable(plan)
    names: dict[str, Unit] = {}
    for component in plan.components:
        for name in _measures_of(component):
            aggregate = plan.measures[name].aggregate
            names[name] = "money" if aggregate == "sum" else aggregate
    return names


def _measures_of(component: Component) -> Iterator[str]:
    gate = getattr(component, "gate", None)
    if gate is not None:
        yield gate.measure
    if isinstance(component, Scorecard):
        yield from (kpi.measure for kpi in component.kpis)
    else:
        yield component.measure


def _check_simulable(plan: Plan) -> None:
    _check_whole_year(plan)
    if plan.draw is not None:
        msg = (
            "the plan's draw depends on each period's pay, which annual attainment does "
            "not give; compare it on history instead"
        )
        raise InvalidValueError(
            msg, code="incentives.not_simulable", location=Location(path="plan.draw")
        )
    if plan.cap is not None and plan.cap.per_period is not None:
        msg = (
            "the plan's cap per period depends on each period's pay, which annual attainment "
            "does not give; compare it on history instead"
        )
        raise InvalidValueError(
            msg, code="incentives.not_simulable", location=Location(path="plan.cap.per_period")
        )
    for index, component in enumerate(plan.components):
        _check_component(plan, index, component)
        _check_external(plan, index, component)


def _check_whole_year(plan: Plan) -> None:
    """A version for part of the year would be paid on the whole year's value: refused."""
    year = plan.calendar.year(plan.fiscal_year)
    for name, edge in (("effective_from", year.start), ("effective_to", year.end)):
        day = getattr(plan, name)
        if day is not None and day != edge:
            msg = (
                f"plan {plan.id!r} is a version effective "
                f"{plan.effective_from or year.start}..{plan.effective_to or year.end}, not the "
                f"whole fiscal year {year.label} ({year.start}..{year.end}); a simulated year "
                "would pay it on the whole year's value: compare its versions on history instead"
            )
            raise InvalidValueError(
                msg, code="incentives.not_simulable", location=Location(path=f"plan.{name}")
            )


def _check_external(plan: Plan, index: int, component: Component) -> None:
    why = (
        "the engines read the external measure {!r} as each period's KPI over its quota "
        "to date, which one annual value does not give"
    )
    gate = getattr(component, "gate", None)
    if gate is not None and plan.measures[gate.measure].aggregate == "external":
        _not_simulable(plan, index, ".gate", f"its gate: {why.format(gate.measure)}")
    if (
        isinstance(component, Milestone)
        and component.attainment is not None
        and plan.measures[component.measure].aggregate == "external"
    ):
        _not_simulable(plan, index, ".attainment", why.format(component.measure))


def _check_component(plan: Plan, index: int, component: Component) -> None:
    if isinstance(component, Bonus):
        _not_simulable(plan, index, "", "a bonus pays per transaction or per period")
    if isinstance(component, Pool):
        _not_simulable(plan, index, "", "a pool depends on the team's values per period")
    if isinstance(component, Contest):
        _not_simulable(plan, index, "", "a contest depends on other payees' values")
    if isinstance(component, Milestone) and component.accumulate != "year":
        _not_simulable(plan, index, ".accumulate", "it accumulates per period")
    if isinstance(component, Commission):
        _check_commission(plan, index, component)


def _check_commission(plan: Plan, index: int, component: Commission) -> None:
    if component.rating != "cumulative":
        why = "it rates each transaction on its own amount, which attainment does not give"
        _not_simulable(plan, index, ".rating", why)
    if component.accumulate != "year":
        _not_simulable(plan, index, ".accumulate", "it accumulates per period")
    if component.floor is not None:
        _not_simulable(plan, index, ".floor", "a floor applies per period")
    cap = component.cap
    if cap is not None and cap.per_transaction is not None:
        _not_simulable(plan, index, ".cap.per_transaction", "a cap per transaction")
    if cap is not None and cap.per_period is not None:
        _not_simulable(plan, index, ".cap.per_period", "a cap per period")


def compile_plan(
    plan: Plan,
    scales: Mapping[str, MeasureScale],
    target_incentive: NDArray[np.int64] | None,
) -> PlanModel:
    """Resolve ``plan`` for the payees whose quotas are in ``scales``.

    Args:
        plan: The plan (checked with `needed_measures` first).
        scales: Every measure `needed_measures` names, with the payees' quotas.
        target_incentive: The payees' annual target incentives in minor units.

    Raises:
        InvalidValueError: see `needed_measures`; a target incentive needed and not
            given (``incentives.no_target_incentive``).
    """
    needed_measures(plan)
    compiled: list[Model] = []
    for index, component in enumerate(plan.components):
        if isinstance(component, Commission):
            compiled.append(compile_commission(plan, index, component, scales, target_incentive))
        elif isinstance(component, Milestone):
            compiled.append(compile_milestone(plan, component, scales))
        elif isinstance(component, Scorecard):
            compiled.append(compile_scorecard(plan, index, component, scales, target_incentive))
    used = {name: scales[name] for name in needed_measures(plan)}
    return PlanModel(plan, tuple(compiled), used, compile_plan_cap(plan, target_incentive))
