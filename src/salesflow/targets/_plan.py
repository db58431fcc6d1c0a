"""Target plans: the definition of how a total is broken down (data, not code).

A `TargetPlan` names the total, the fiscal year and calendar, how time is weighted,
how each level of the org is weighted, the locked numbers, the new-hire ramp and what
happens to target freed by leavers and ramps. It round-trips YAML/JSON exactly and
has a JSON Schema (`TargetPlan.model_json_schema()`).
"""

from __future__ import annotations

import enum
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Self, final

from pydantic import BaseModel, ConfigDict, Field, StrictInt, model_validator

from salesflow._definitions import load_model, read_mapping
from salesflow.money import Currency, Money
from salesflow.periods import BusinessCalendar, FiscalCalendar, Grain

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = [
    "FreedTarget",
    "OrgMethod",
    "OrgRule",
    "TargetPlan",
    "TimeMethod",
    "TimeSplit",
    "load_plan",
]


@enum.unique
class TimeMethod(enum.Enum):
    """How a period's number is split over its children in time."""

    EQUAL = "equal"  # every child of a period gets the same weight
    DAYS = "days"  # weight = calendar days in the child
    WORKING_DAYS = "working_days"  # weight = working days in the child (business calendar)
    SEASONALITY = "seasonality"  # given indices at one grain; finer grains by (working) days


@enum.unique
class OrgMethod(enum.Enum):
    """How a node's number is split over its reports."""

    EQUAL = "equal"  # every active report gets the same weight
    ATTRIBUTE = "attribute"  # weight = a numeric attribute of the report (capacity...)
    HISTORY = "history"  # weight = the report's historical actuals (its share of them)
    REPORTS = "reports"  # weight = its own active reports' weights, period by period


@enum.unique
class FreedTarget(enum.Enum):
    """What happens to target a leaver or a ramping new hire does not carry."""

    REDISTRIBUTE = "redistribute"  # spread over the active siblings by their weights
    GAP = "gap"  # kept in a visible vacancy cell under the parent


_Weight = Annotated[Decimal, Field(ge=0)]
_RAMP_PLACES = 4  # ramp factors are applied in units of 1/10,000 (exactly)


@final
class TimeSplit(BaseModel):
    """How the total is phased over fiscal time.

    Attributes:
        method: The `TimeMethod`; default `TimeMethod.DAYS`.
        seasonality: With `TimeMethod.SEASONALITY`: relative weights keyed by the
            1-based index of the period within the fiscal year (``{1: "0.8", 2:
            "0.6", ...}``) at `seasonality_grain`. Every period of that grain needs
            one; they need not sum to anything.
        seasonality_grain: The grain of the indices; default month.
        business_calendar: The working days for `TimeMethod.WORKING_DAYS` (required
            there); with `TimeMethod.SEASONALITY`, periods finer than the indices are
            weighted by working days instead of calendar days when it is given.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    method: TimeMethod = TimeMethod.DAYS
    seasonality: dict[int, _Weight] = Field(default_factory=dict)
    seasonality_grain: Grain = Grain.MONTH
    business_calendar: BusinessCalendar | None = None

    @model_validator(mode="after")
    def _indices_only_with_seasonality(self) -> Self:
        if self.method is TimeMethod.WORKING_DAYS and self.business_calendar is None:
            msg = "method 'working_days' needs a business_calendar"
            raise ValueError(msg)
        if self.method is TimeMethod.SEASONALITY and not self.seasonality:
            msg = "method 'seasonality' needs seasonality indices"
            raise ValueError(msg)
        if self.method is not TimeMethod.SEASONALITY and self.seasonality:
            msg = f"seasonality indices are given but the method is {self.method.value!r}"
            raise ValueError(msg)
        return self


@final
class OrgRule(BaseModel):
    """How the reports of some nodes are weighted.

    A rule applies to a report whose record's ``role`` equals `role`; the rule without
    a role is the default. With no matching rule, reports are weighted equally.

    Attributes:
        role: The role of the reports it weights, or ``None`` for the default rule.
        method: The `OrgMethod`.
        attribute: With `OrgMethod.ATTRIBUTE`: the attribute read as the weight. A
            report without it is an error, unless `missing` is given.
        history: With `OrgMethod.HISTORY`: each report's historical actuals.
        missing: The weight of a report the rule has no number for; ``None`` makes
            that an error.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", coerce_numbers_to_str=True)

    role: str | None = None
    method: OrgMethod = OrgMethod.EQUAL
    attribute: str | None = None
    history: dict[str, _Weight] = Field(default_factory=dict)
    missing: _Weight | None = None

    @model_validator(mode="after")
    def _fields_fit_the_method(self) -> Self:
        if (self.method is OrgMethod.ATTRIBUTE) != (self.attribute is not None):
            msg = "'attribute' is required with method 'attribute' and only with it"
            raise ValueError(msg)
        if self.method is not OrgMethod.HISTORY and self.history:
            msg = "'history' is given but the method is not 'history'"
            raise ValueError(msg)
        return self


@final
class TargetPlan(BaseModel):
    """The definition of a target breakdown.

    Attributes:
        name: The plan's name (``"FY2026 新签合同额"``).
        total: The company total: `Money` for a money target, an `int` for a count
            (new customers, visits).
        unit: For a count target, what is counted (``"customers"``); for money, empty.
        calendar: The fiscal calendar (``{"kind": "monthly", "start_month": 4}``...).
        fiscal_year: The fiscal year the plan covers.
        grain: The finest period the plan is broken down to; default week.
        time: How the total is phased over time.
        org: How each level of the org is weighted (see `OrgRule`).
        locks: Fixed annual numbers for some nodes; their siblings share the rest.
        ramp: Factors for a new hire's 1st, 2nd, ... month of tenure (``[0.25, 0.5,
            0.75]``); full from the month after. Empty: no ramp.
        freed: What happens to target that leavers and ramps do not carry.

    >>> plan = TargetPlan.model_validate({
    ...     "name": "FY2026", "total": "1200000.00 CNY", "fiscal_year": 2026,
    ...     "calendar": {"kind": "monthly"},
    ... })
    >>> plan.total, plan.grain.value, plan.time.method.value
    (Money('1200000.00', 'CNY'), 'week', 'days')
    """

    model_config = ConfigDict(frozen=True, extra="forbid", coerce_numbers_to_str=True)

    name: str
    total: Money | StrictInt
    unit: str = ""
    calendar: FiscalCalendar
    fiscal_year: int
    grain: Grain = Grain.WEEK
    time: TimeSplit = TimeSplit()
    org: tuple[OrgRule, ...] = ()
    locks: dict[str, Money | StrictInt] = Field(default_factory=dict)
    ramp: tuple[Annotated[Decimal, Field(ge=0, le=1)], ...] = ()
    freed: FreedTarget = FreedTarget.REDISTRIBUTE

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.grain is Grain.YEAR:
            msg = "grain must be finer than the year"
            raise ValueError(msg)
        roles = [rule.role for rule in self.org]
        if len(roles) != len(set(roles)):
            msg = "two org rules name the same role"
            raise ValueError(msg)
        for factor in self.ramp:
            if factor.as_tuple().exponent < -_RAMP_PLACES:  # type: ignore[operator]
                msg = f"ramp factor {factor} has more than {_RAMP_PLACES} decimal places"
                raise ValueError(msg)
        for node, lock in self.locks.items():
            if isinstance(lock, Money) != isinstance(self.total, Money) or (
                isinstance(lock, Money) and lock.currency != self.currency
            ):
                msg = f"lock of {node!r} is not in the unit of the total"
                raise ValueError(msg)
        return self

    @property
    def currency(self) -> Currency | None:
        """The currency of a money target; ``None`` for a count."""
        return self.total.currency if isinstance(self.total, Money) else None


def load_plan(data: str | Mapping[str, object] | TargetPlan) -> TargetPlan:
    """Load a plan from YAML/JSON text or parsed data, reporting every problem at once.

    Raises:
        ParseError: the text is not valid YAML, with its line and column.
        DefinitionError: with one `Problem` per invalid field, located like
            ``plan.time.seasonality`` or ``plan.org[1].attribute``.

    >>> load_plan({"name": "x", "total": "-", "fiscal_year": 2026,
    ...            "calendar": {"kind": "monthly"}})
    Traceback (most recent call last):
    ...
    salesflow.errors.DefinitionError: 2 problems:
    ...
    """
    if isinstance(data, str):
        data = read_mapping(data, source="plan", what="a plan")
    return load_model(TargetPlan, data, path="plan", code="plan")
