"""Incentive plans: the definition (data, not code).

A `Plan` is a frozen pydantic model that round-trips JSON/YAML exactly and has a JSON
Schema. It names its currency, fiscal year and calendar, the statement period, the
rounding point, how credit is given, the measures it counts and its components
(commissions, bonuses, milestones, scorecards, pools, contests), an optional cap on
the whole plan and an optional draw.
`load_plan` reports every problem at once, each located (``plan.components[2].cap``).

The semantics every engine follows are in docs/incentives.md, section "Plans".
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import re
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Final, Literal, Self, final

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    model_validator,
)

from salesflow._definitions import read_mapping, validation_problems
from salesflow.errors import (
    DefinitionError,
    ExpressionSyntaxError,
    InvalidValueError,
    Location,
    Problem,
    Severity,
)
from salesflow.expressions import Schema, compile_expression
from salesflow.money import Currency, RoundingMode
from salesflow.periods import FiscalCalendar, Grain, MonthlyCalendar

from ._tables import RATE_PLACES, RateTable

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping

__all__ = [
    "BUILTIN_FIELDS",
    "PLAN_CAP_ID",
    "Bonus",
    "Cap",
    "Commission",
    "Component",
    "Contest",
    "CreditKind",
    "Crediting",
    "CurvePoint",
    "Draw",
    "Floor",
    "Gate",
    "Measure",
    "Milestone",
    "Plan",
    "PlanCap",
    "Pool",
    "Scorecard",
    "ScorecardKpi",
    "TieRule",
    "Window",
    "load_plan",
    "minor_unit_problems",
]

CreditKind = Literal["direct", "overlay", "override"]
CreditKind.__doc__ = """Why a payee holds credit for a transaction.

* ``"direct"``: the owner, or a payee named in a split that counts toward 100%.
* ``"overlay"``: a split declared ``overlay: true``: extra credit on top of the 100%.
* ``"override"``: a manager above a direct holder in the org (roll-up credit).
"""

Window = Literal["period", "year"]
Window.__doc__ = """Over what stretch a component accumulates its measure.

* ``"period"``: each statement period on its own (running totals restart).
* ``"year"``: the fiscal year to date (running totals carry across periods).
"""

TieRule = Literal["share", "same"]
TieRule.__doc__ = """How a contest ranks payees with equal values.

* ``"share"``: the tied payees split the prizes of the ranks they occupy equally
  (largest remainder, payee id order for the odd cent).
* ``"same"``: each tied payee gets the prize of the best rank they share; the ranks
  they occupy are used up (standard competition ranking, 1-2-2-4).
"""

BUILTIN_FIELDS: Final = ("amount", "credit", "currency", "date", "owner", "payee")
"""Fields every filter can read besides the plan's declared ``fields``.

``amount`` is the transaction amount in the plan currency (a decimal at its minor
unit), ``credit`` the `CreditKind`, ``currency`` the transaction's own currency code,
``date`` the transaction date, ``owner`` the transaction owner, ``payee`` the credit
holder.
"""

PLAN_CAP_ID: Final = "plan.cap"
"""The component id under which what a `PlanCap` cut is earned and recorded.

Reserved: no component may take it (``plan.reserved_component``).
"""

_Share = Annotated[Decimal, Field(ge=0, le=1)]
_NonNegative = Annotated[Decimal, Field(ge=0)]
_Positive = Annotated[Decimal, Field(gt=0)]
_Name = Annotated[str, Field(min_length=1, max_length=200)]


def _places(value: Decimal) -> int:
    exponent = value.normalize().as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


def _at_most_rate_places(value: Decimal) -> Decimal:
    if _places(value) > RATE_PLACES:
        msg = f"{value} has more than {RATE_PLACES} decimal places"
        raise ValueError(msg)
    return value


_Fraction = Annotated[Decimal, Field(ge=0), AfterValidator(_at_most_rate_places)]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


@final
class Crediting(_Frozen):
    """Who holds credit for a transaction.

    Attributes:
        override_levels: How many org levels above each direct holder get override
            credit: ``0`` (the default) none, ``1`` the direct manager, ``None`` every
            ancestor. A level counts even when the node there has no assignment to the
            plan (it is then skipped, and the credit is reported, not given).
    """

    override_levels: Annotated[int, Field(ge=0)] | None = 0


@final
class Measure(_Frozen):
    """What a component counts: credited amounts (``sum``) or credited transactions.

    Attributes:
        aggregate: ``"sum"`` of credited amounts, ``"count"`` of credit rows, or
            ``"external"``: a value per payee and period given to the engine (a KPI
            such as customer satisfaction), which only scorecards, milestones, gates
            and contests can use.
        credit: The `CreditKind` values counted; default only ``direct``.
        where: A filter expression over the transaction's fields (see
            `BUILTIN_FIELDS` and `Plan.fields`); ``None`` counts every transaction.
        quota: Whether the measure has quotas (given to the engine per payee and
            period); needed for attainment tables, gates and milestones on attainment.
    """

    aggregate: Literal["sum", "count", "external"] = "sum"
    credit: tuple[CreditKind, ...] = ("direct",)
    where: str | None = None
    quota: bool = False

    @model_validator(mode="after")
    def _credit_given(self) -> Self:
        if not self.credit:
            msg = "credit must name at least one credit kind"
            raise ValueError(msg)
        if len(set(self.credit)) != len(self.credit):
            msg = "credit names a kind twice"
            raise ValueError(msg)
        return self


@final
class Gate(_Frozen):
    """Nothing is paid while attainment to date of a measure is below a threshold.

    Attributes:
        measure: The measure (with quotas) whose attainment is checked.
        attainment: The threshold, a fraction of quota (``0.5`` is 50%); reaching it
            exactly passes.
    """

    measure: _Name
    attainment: _Fraction


@final
class Cap(_Frozen):
    """Upper limits on what a component pays. Every limit given applies.

    Attributes:
        per_transaction: The most one credit row's line pays (a per-deal cap).
        per_period: The most the component pays in one statement period.
        per_year: The most the component pays over the fiscal year.
        target_incentive_multiple: The most the component pays over the fiscal year, as
            a multiple of the payee's target incentive (``2`` is 200%).
    """

    # A cap with no limit is refused at load (``plan.empty_cap``); the schema says so too.
    model_config = ConfigDict(json_schema_extra={"minProperties": 1})

    per_transaction: _NonNegative | None = None
    per_period: _NonNegative | None = None
    per_year: _NonNegative | None = None
    target_incentive_multiple: _Fraction | None = None


@final
class PlanCap(_Frozen):
    """Upper limits on what the whole plan pays a payee, across its components.

    They bound the sum of every component's pay in a period (after each component's
    own caps and floors; before recalculations, adjustments and the draw). Every
    limit given applies; each cut is a ``cap`` line of its own, with no component.

    Attributes:
        per_period: The most the plan pays in one statement period.
        per_year: The most the plan pays over the fiscal year (to date).
        target_incentive_multiple: The most the plan pays over the fiscal year, as a
            multiple of the payee's target incentive (``2`` is 200%), rounded by the
            plan's mode.
    """

    # A cap with no limit is refused at load (``plan.empty_cap``); the schema says so too.
    model_config = ConfigDict(json_schema_extra={"minProperties": 1})

    per_period: _NonNegative | None = None
    per_year: _NonNegative | None = None
    target_incentive_multiple: _Fraction | None = None


@final
class Floor(_Frozen):
    """A guaranteed minimum per statement period for a component.

    Attributes:
        per_period: The least the component pays in a period (before the yearly cap).
    """

    per_period: _NonNegative


@final
class Clawback(_Frozen):
    """Cancelled transactions pay back what they earned.

    Attributes:
        within_days: A transaction cancelled at most this many days after its date
            pays back exactly what its lines earned, in the period of the cancellation.
    """

    within_days: Annotated[int, Field(ge=0)]


@final
class Commission(_Frozen):
    """Pay on credited amounts through a rate table.

    Attributes:
        kind: ``"commission"``.
        id: The component id, unique in the plan.
        measure: A ``sum`` measure: the credit rows rated.
        table: The `RateTable`; on an ``attainment`` table the measure needs quotas.
        rating: ``"individual"`` (each credit row on its own amount) or
            ``"cumulative"`` (at the running total it lands on). Required.
        accumulate: The `Window` of running totals and attainment. Required.
        gate: Optional `Gate`.
        cap: Optional `Cap`.
        floor: Optional `Floor`.
        clawback: Optional `Clawback`; without it a cancellation leaves the measure
            but pays nothing back.
    """

    kind: Literal["commission"]
    id: _Name
    measure: _Name
    table: RateTable
    rating: Literal["individual", "cumulative"]
    accumulate: Window
    gate: Gate | None = None
    cap: Cap | None = None
    floor: Floor | None = None
    clawback: Clawback | None = None


@final
class Bonus(_Frozen):
    """A fixed amount per qualifying credit row, or once per period (a SPIF).

    Attributes:
        kind: ``"bonus"``.
        id: The component id.
        measure: A ``sum`` or ``count`` measure whose credit rows qualify.
        when: An extra condition over the transaction's fields; ``None``: every row.
        amount: The amount paid.
        per: ``"transaction"`` (every qualifying credit row) or ``"period"`` (once
            in a period with at least one).
        start: First day of the campaign (inclusive); ``None``: the fiscal year start.
        end: Last day of the campaign (inclusive); ``None``: the fiscal year end.
        clawback: Optional `Clawback` (``per: transaction`` only).
    """

    kind: Literal["bonus"]
    id: _Name
    measure: _Name
    when: str | None = None
    amount: _NonNegative
    per: Literal["transaction", "period"]
    start: dt.date | None = None
    end: dt.date | None = None
    clawback: Clawback | None = None

    @model_validator(mode="after")
    def _coherent(self) -> Self:
        if self.start and self.end and self.end < self.start:
            msg = f"the campaign ends ({self.end}) before it starts ({self.start})"
            raise ValueError(msg)
        if self.clawback is not None and self.per != "transaction":
            msg = "a clawback needs per: transaction"
            raise ValueError(msg)
        return self


@final
class Milestone(_Frozen):
    """A fixed amount once a measure reaches a threshold, once per window.

    Attributes:
        kind: ``"milestone"``.
        id: The component id.
        measure: The measure watched.
        attainment: The threshold as a fraction of quota (needs quotas), or
        value: the threshold as a value of the measure; exactly one of the two.
        amount: The amount paid in the first period the threshold is reached.
        accumulate: The `Window`: once per period or once per fiscal year.
    """

    kind: Literal["milestone"]
    id: _Name
    measure: _Name
    attainment: _Fraction | None = None
    value: _NonNegative | None = None
    amount: _NonNegative
    accumulate: Window

    @model_validator(mode="after")
    def _one_threshold(self) -> Self:
        if (self.attainment is None) == (self.value is None):
            msg = "give exactly one of attainment and value"
            raise ValueError(msg)
        return self


@final
class CurvePoint(_Frozen):
    """One point of a payout curve: at this attainment, this fraction of target pay."""

    attainment: _Fraction
    payout: _Fraction


@final
class ScorecardKpi(_Frozen):
    """One KPI of a scorecard.

    Attributes:
        measure: The measure (with quotas, or ``external``: its value is then read as
            the attainment itself).
        weight: Its weight; the weights of a scorecard sum to 1.
        curve: The payout curve, attainments strictly increasing: 0 below the first
            point, linear between points, flat after the last.
    """

    measure: _Name
    weight: _Share
    curve: tuple[CurvePoint, ...]

    @model_validator(mode="after")
    def _increasing(self) -> Self:
        if not self.curve:
            msg = "a curve needs at least one point"
            raise ValueError(msg)
        edges = [point.attainment for point in self.curve]
        if any(b <= a for a, b in itertools.pairwise(edges)):
            msg = "curve attainments must be strictly increasing"
            raise ValueError(msg)
        return self


@final
class Scorecard(_Frozen):
    """Weighted KPIs, each on a payout curve, paying a share of target incentive.

    Attributes:
        kind: ``"scorecard"``.
        id: The component id.
        target_incentive: The share of the payee's target incentive this scorecard
            stands for (``0.3`` is 30%); spread over the year's periods evenly.
        kpis: The KPIs; weights sum to 1.
        gate: Optional `Gate`: below it the scorecard pays nothing that period.
    """

    kind: Literal["scorecard"]
    id: _Name
    target_incentive: _Share
    kpis: tuple[ScorecardKpi, ...]
    gate: Gate | None = None

    @model_validator(mode="after")
    def _weights_sum_to_one(self) -> Self:
        if not self.kpis:
            msg = "a scorecard needs at least one kpi"
            raise ValueError(msg)
        total = sum((kpi.weight for kpi in self.kpis), Decimal(0))
        if total != 1:
            msg = f"kpi weights sum to {total}, not 1"
            raise ValueError(msg)
        return self


@final
class Pool(_Frozen):
    """A team pool per period, split among the team's payees.

    Attributes:
        kind: ``"pool"``.
        id: The component id.
        group_by: The assignment attribute that names the team.
        measure: The measure the pool is funded from and split by.
        rate: The pool is ``rate`` x the team's measure in the period, or
        amount: a fixed amount per team and period; exactly one of the two.
        split: ``"contribution"`` (by each payee's measure; equally when the team's
            total is 0) or ``"equal"``.
    """

    kind: Literal["pool"]
    id: _Name
    group_by: _Name
    measure: _Name
    rate: _Fraction | None = None
    amount: _NonNegative | None = None
    split: Literal["contribution", "equal"]

    @model_validator(mode="after")
    def _one_funding(self) -> Self:
        if (self.rate is None) == (self.amount is None):
            msg = "give exactly one of rate and amount"
            raise ValueError(msg)
        return self


@final
class Contest(_Frozen):
    """Prizes by rank on a measure over a window (a sales contest).

    Attributes:
        kind: ``"contest"``.
        id: The component id.
        measure: The measure ranked (higher wins).
        prizes: The prize of rank 1, 2, ...
        ties: The `TieRule`. Required.
        accumulate: ``"period"`` (a contest every period) or ``"year"`` (one,
            paid in the last period of the year).
        group_by: An assignment attribute: a separate contest per value; ``None``:
            all payees of the plan.
        minimum: The least value that ranks; ``None``: every payee ranks.
    """

    kind: Literal["contest"]
    id: _Name
    measure: _Name
    prizes: tuple[_NonNegative, ...]
    ties: TieRule
    accumulate: Window
    group_by: _Name | None = None
    minimum: _NonNegative | None = None

    @model_validator(mode="after")
    def _some_prize(self) -> Self:
        if not self.prizes:
            msg = "a contest needs at least one prize"
            raise ValueError(msg)
        return self


Component = Annotated[
    Commission | Bonus | Milestone | Scorecard | Pool | Contest, Field(discriminator="kind")
]
"""One component of a plan, told apart by its ``kind``."""


@final
class Draw(_Frozen):
    """An advance paid when a period's pay falls short.

    Attributes:
        amount: The least a payee receives per period.
        recoverable: ``True``: what the draw added is owed back, taken from later pay
            above ``amount``, carried forward; ``False``: a guarantee, never recovered.
    """

    amount: _NonNegative
    recoverable: bool


@final
class Plan(BaseModel):
    """An incentive plan for one fiscal year.

    Attributes:
        id: The plan id. Versions of one plan share it.
        name: A display name (any script).
        currency: The currency of every amount in the plan (ISO 4217 code).
        fiscal_year: The fiscal year the plan covers.
        calendar: The fiscal calendar; default calendar months from January.
        period: The statement period grain: ``half``, ``quarter``, ``month`` or ``week``.
        effective_from: The first day this version applies (inclusive); ``None``: the
            fiscal year start. Versions of one plan must not overlap.
        effective_to: The last day this version applies (inclusive); ``None``: the
            fiscal year end.
        rounding: The rounding point's mode: every line is rounded once, to the minor
            unit of ``currency``, with this mode. Required.
        proration: How target incentive follows a payee on the plan for part of a
            period or year (the same in every version). ``"none"`` (the default): a
            scorecard pays the whole period's share of the target incentive of the
            assignment in force at the period's end, and a yearly cap on target
            incentive is a multiple of that assignment's whole target incentive.
            ``"days"``: both are prorated by calendar days on the plan (see
            docs/incentives.md, "Proration").
        fields: The transaction fields filters may read, with their types
            (``{"product": "string", "new_logo": "bool"}``).
        crediting: `Crediting`.
        measures: The measures by name.
        components: The components, ids unique (not `PLAN_CAP_ID`).
        cap: Optional `PlanCap`: limits on the whole plan's pay, across components.
        draw: Optional `Draw`.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: _Name
    name: str = ""
    currency: str
    fiscal_year: int
    calendar: FiscalCalendar = Field(default_factory=MonthlyCalendar)
    period: Grain = Grain.MONTH
    effective_from: dt.date | None = None
    effective_to: dt.date | None = None
    rounding: RoundingMode
    proration: Literal["none", "days"] = "none"
    fields: dict[str, str] = Field(default_factory=dict)
    crediting: Crediting = Field(default_factory=Crediting)
    measures: dict[_Name, Measure]
    components: tuple[Component, ...]
    cap: PlanCap | None = None
    draw: Draw | None = None

    @model_validator(mode="after")
    def _coherent(self, info: ValidationInfo) -> Self:
        if isinstance(info.context, dict) and info.context.get(_DEFER):
            return self
        problems = plan_problems(self)
        if problems:
            raise ValueError("; ".join(f"{p.location}: {p.message}" for p in problems))
        return self

    def component(self, component_id: str) -> Component:
        """The component with this id."""
        for component in self.components:
            if component.id == component_id:
                return component
        msg = f"plan {self.id!r} has no component {component_id!r}"
        raise KeyError(msg)

    def filter_schema(self) -> Schema:
        """The `Schema` filters are checked against: `BUILTIN_FIELDS` plus ``fields``."""
        places = Currency(self.currency).minor_units
        builtin = {
            "amount": f"decimal({places})",
            "credit": "string",
            "currency": "string",
            "date": "date",
            "owner": "string",
            "payee": "string",
        }
        return Schema.model_validate({**self.fields, **builtin})


_DEFER: Final = "salesflow.defer_plan_checks"
_PERIOD_GRAINS: Final = (Grain.HALF, Grain.QUARTER, Grain.MONTH, Grain.WEEK)


def plan_problems(plan: Plan) -> list[Problem]:
    """Every cross-field problem of ``plan``: references, currencies, filters, dates."""
    return list(_plan_problems(plan))


def _plan_problems(plan: Plan) -> Iterator[Problem]:
    def problem(code: str, where: str, message: str) -> Problem:
        return Problem(f"plan.{code}", Severity.ERROR, message, Location(path=f"plan{where}"))

    try:
        Currency(plan.currency)
    except InvalidValueError as err:
        yield problem("unknown_currency", ".currency", str(err))
        return
    if not plan.components:
        yield problem("no_components", ".components", "a plan needs at least one component")
    if plan.period not in _PERIOD_GRAINS:
        yield problem("period", ".period", f"the statement period must be one of {_PERIOD_GRAINS}")
    yield from _effective_problems(plan, problem)
    yield from _field_problems(plan, problem)
    yield from minor_unit_problems(plan)
    yield from _empty_cap_problems(plan, problem)
    ids: set[str] = set()
    for index, component in enumerate(plan.components):
        where = f".components[{index}]"
        if component.id in ids:
            yield problem("duplicate_component", f"{where}.id", f"{component.id!r} is used twice")
        if component.id == PLAN_CAP_ID:
            message = f"{PLAN_CAP_ID!r} is reserved for what the plan cap cuts"
            yield problem("reserved_component", f"{where}.id", message)
        ids.add(component.id)
        yield from _component_problems(plan, component, where, problem)


def minor_unit_problems(plan: Plan, path: str = "plan") -> Iterator[Problem]:
    """Every money amount of ``plan`` that is not on its currency's minor unit.

    Cheap (no filter is compiled), so `calculate` checks it again: a plan changed with
    ``model_copy(update=...)`` was never re-checked. ``path`` roots the locations
    (``plan[1]`` for a version).
    """
    places = Currency(plan.currency).minor_units
    for where, amount in _amounts(plan):
        if _places(amount) > places:
            message = f"{amount} is not a whole number of {plan.currency} minor units"
            location = Location(path=f"{path}{where}")
            yield Problem("plan.not_on_minor_unit", Severity.ERROR, message, location)


def _empty_cap_problems(plan: Plan, problem: _Report) -> Iterator[Problem]:
    """A cap that gives no limit: it would cut nothing (and add a plan cap column)."""
    caps: list[tuple[str, Cap | PlanCap | None]] = [("", plan.cap)]
    caps += [(f".components[{i}]", getattr(c, "cap", None)) for i, c in enumerate(plan.components)]
    for where, cap in caps:
        if cap is not None and not cap.model_dump(exclude_none=True):
            yield problem("empty_cap", f"{where}.cap", "a cap needs at least one limit")


def _amounts(plan: Plan) -> Iterator[tuple[str, Decimal]]:
    """Every money amount written in ``plan``, with where it is."""
    if plan.draw is not None:
        yield ".draw.amount", plan.draw.amount
    if plan.cap is not None:
        for name in ("per_period", "per_year"):
            value = getattr(plan.cap, name)
            if value is not None:
                yield f".cap.{name}", value
    for index, component in enumerate(plan.components):
        yield from _component_amounts(component, f".components[{index}]")


def _component_amounts(component: Component, where: str) -> Iterator[tuple[str, Decimal]]:
    holders = {"": component, ".cap": getattr(component, "cap", None)}
    holders[".floor"] = getattr(component, "floor", None)
    for prefix, holder in holders.items():
        for name in ("amount", "per_transaction", "per_period", "per_year"):
            value = getattr(holder, name, None)
            if isinstance(value, Decimal):
                yield f"{where}{prefix}.{name}", value
    if isinstance(component, Commission) and component.table.basis == "amount":
        for tier_index, tier in enumerate(component.table.tiers):
            edges = {"start": tier.start, "end": tier.end}
            for name, edge in edges.items():
                if edge is not None:
                    yield f"{where}.table.tiers[{tier_index}].{name}", edge
    if isinstance(component, Contest):
        for rank, prize in enumerate(component.prizes):
            yield f"{where}.prizes[{rank}]", prize


def _effective_problems(plan: Plan, problem: _Report) -> Iterator[Problem]:
    year = plan.calendar.year(plan.fiscal_year)
    for name in ("effective_from", "effective_to"):
        day = getattr(plan, name)
        if day is not None and not year.start <= day <= year.end:
            yield problem("effective", f".{name}", f"{day} is outside fiscal year {year.label}")
    if plan.effective_from and plan.effective_to and plan.effective_to < plan.effective_from:
        yield problem("effective", ".effective_to", "effective_to is before effective_from")


def _field_problems(plan: Plan, problem: _Report) -> Iterator[Problem]:
    for name in plan.fields:
        if name in BUILTIN_FIELDS:
            yield problem("builtin_field", f".fields.{name}", f"{name!r} is a built-in field")
    try:
        schema = plan.filter_schema()
    except (ValidationError, DefinitionError) as err:
        yield problem("fields", ".fields", str(err))
        return
    for name, measure in plan.measures.items():
        if measure.where is not None:
            yield from _filter_problems(measure.where, schema, f".measures.{name}.where", problem)
        if measure.aggregate == "external" and (measure.where or measure.credit != ("direct",)):
            yield problem(
                "external_filter",
                f".measures.{name}",
                "an external measure has no credit kinds or filter",
            )
    for index, component in enumerate(plan.components):
        if isinstance(component, Bonus) and component.when is not None:
            where = f".components[{index}].when"
            yield from _filter_problems(component.when, schema, where, problem)


def _filter_problems(text: str, schema: Schema, where: str, problem: _Report) -> Iterator[Problem]:
    try:
        compile_expression(text, schema, expect="bool", path=f"plan{where}")
    except (ExpressionSyntaxError, DefinitionError) as err:
        yield problem("filter", where, str(err))


def _component_problems(
    plan: Plan, component: Component, where: str, problem: _Report
) -> Iterator[Problem]:
    for field, name, needs in _measure_needs(component):
        yield from _measure_problems(plan, name, needs, f"{where}.{field}", problem)
    if isinstance(component, Commission):
        yield from _floor_problems(component, where, problem)
    if isinstance(component, Bonus):
        year = plan.calendar.year(plan.fiscal_year)
        for name in ("start", "end"):
            day = getattr(component, name)
            if day is not None and not year.start <= day <= year.end:
                message = f"{day} is outside fiscal year {year.label}"
                yield problem("campaign", f"{where}.{name}", message)


def _floor_problems(component: Commission, where: str, problem: _Report) -> Iterator[Problem]:
    """A floor above the period cap: the floor is applied after the cap, so it would win."""
    cap = None if component.cap is None else component.cap.per_period
    if component.floor is not None and cap is not None and component.floor.per_period > cap:
        message = (
            f"the floor {component.floor.per_period} is above the period cap {cap}; "
            "the cap would never bind"
        )
        yield problem("floor_above_cap", f"{where}.floor.per_period", message)


def _measure_needs(component: Component) -> Iterator[tuple[str, str, str]]:
    """(field, measure name, what it must be) for every measure ``component`` uses."""
    gate = getattr(component, "gate", None)
    if gate is not None:
        yield "gate.measure", gate.measure, "quota"
    if isinstance(component, Commission):
        quota = component.table.basis == "attainment"
        yield "measure", component.measure, "sum+quota" if quota else "sum"
    elif isinstance(component, Bonus | Pool):
        yield "measure", component.measure, "credited"
    elif isinstance(component, Milestone):
        yield "measure", component.measure, "any" if component.attainment is None else "quota"
    elif isinstance(component, Contest):
        yield "measure", component.measure, "any"
    else:
        for index, kpi in enumerate(component.kpis):
            yield f"kpis[{index}].measure", kpi.measure, "kpi"


_WANTS: Final = {
    "sum": "a sum measure",
    "sum+quota": "a sum measure with quota: true",
    "credited": "a sum or count measure",
    "quota": "a measure with quota: true",
    "kpi": "a measure with quotas, or an external one",
}


def _measure_problems(
    plan: Plan, name: str, needs: str, where: str, problem: _Report
) -> Iterator[Problem]:
    measure = plan.measures.get(name)
    if measure is None:
        yield problem("unknown_measure", where, f"no measure named {name!r}")
        return
    wrong = {
        "sum": measure.aggregate != "sum",
        "sum+quota": measure.aggregate != "sum" or not measure.quota,
        "credited": measure.aggregate == "external",
        "quota": not measure.quota,
        "kpi": measure.aggregate != "external" and not measure.quota,
    }.get(needs, False)
    if wrong:
        yield problem("measure_kind", where, f"measure {name!r} is not {_WANTS[needs]}")


def load_plan(data: str | Mapping[str, object] | Plan) -> Plan:
    """Load a plan from YAML/JSON text or parsed data, reporting every problem at once.

    Raises:
        ParseError: the text is not valid YAML, with its line and column.
        DefinitionError: one `Problem` per fault, located like
            ``plan.components[1].table.tiers[0].rate``.

    >>> plan = load_plan('''
    ... id: ae
    ... currency: CNY
    ... fiscal_year: 2027
    ... rounding: half_up
    ... measures: {bookings: {}}
    ... components:
    ...   - kind: commission
    ...     id: commission
    ...     measure: bookings
    ...     rating: cumulative
    ...     accumulate: year
    ...     table: {tiers: [{start: 0, rate: "0.05"}]}
    ... ''')
    >>> plan.components[0].table.tiers[0].rate, plan.period.value
    (Decimal('0.05'), 'month')
    """
    if isinstance(data, Plan):
        return data
    if isinstance(data, str):
        data = read_mapping(data, source="plan", what="a plan")
    try:
        plan = Plan.model_validate(data, context={_DEFER: True})
    except ValidationError as err:
        found = validation_problems(err, path="plan", code="plan")
        raise DefinitionError.from_problems([_untagged(p) for p in found]) from None
    problems = plan_problems(plan)
    if problems:
        raise DefinitionError.from_problems(problems)
    return plan


_KIND_TAG: Final = re.compile(
    r"(components\[\d+\])\.(?:commission|bonus|milestone|scorecard|pool|contest)\b"
)


def _untagged(problem: Problem) -> Problem:
    """Drop pydantic's union tag from a location: ``components[2].rate``, not ``...[2].bonus``."""
    if problem.location is None or problem.location.path is None:
        return problem
    path = _KIND_TAG.sub(r"\1", problem.location.path)
    return dataclasses.replace(problem, location=Location(path=path))


if TYPE_CHECKING:
    from collections.abc import Callable

    _Report = Callable[[str, str, str], Problem]
