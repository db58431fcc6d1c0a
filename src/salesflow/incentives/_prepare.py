"""Input checks and look-ups shared by both engines, so their errors are identical.

Every engine calls `prepare` first (or, for a columnar input, the same per-record
checks it is made of), then looks quotas, KPIs, target incentives and attributes up
through `Lookups`, which raises the documented error the first time a missing value is
actually needed. See docs/incentives.md, "Errors". `Lookups` is also where the plan's
``proration`` is applied to target incentives (decision D31), so the two engines share
one definition of a prorated share.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import TYPE_CHECKING, Final, final

from salesflow.errors import (
    CalendarError,
    CurrencyMismatchError,
    DefinitionError,
    InvalidValueError,
    Location,
    Problem,
    Severity,
)
from salesflow.money import EXACT, Currency, Money, allocate_equal
from salesflow.money._exact import round_ratio
from salesflow.periods import Period
from salesflow.targets import TargetGrid

from ._plan import Plan, minor_unit_problems
from ._table_input import TransactionTable

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Mapping, Sequence

    from salesflow.targets import OrgTree

    from ._inputs import Adjustment, Assignment, Split, Transaction
    from ._run import Ledger

__all__ = [
    "Lookups",
    "PeriodTarget",
    "Prepared",
    "QuotaSource",
    "Roster",
    "Versions",
    "check_adjustments",
    "check_fields",
    "check_ledger",
    "check_org",
    "check_splits",
    "check_transaction_ids",
    "declared_fields",
    "no_version",
    "not_in_org",
    "plan_amount",
    "prepare",
    "resolve_period",
    "resolve_roster",
    "resolve_versions",
    "uncredited",
]

if TYPE_CHECKING:
    QuotaSource = TargetGrid | Mapping[tuple[str, str], Money | int]
else:
    QuotaSource = object
"""Quotas of one measure: a `TargetGrid` (``grid.value(payee, period)``) or a mapping
(payee, period label) -> `Money` (sum measures, plan currency) or ``int`` (counts)."""

_FOREVER: Final = (dt.date.min, dt.date.max)


def _quota_where(measure: str, payee: str, period: Period) -> str:
    return f"quotas.{measure}[{payee}, {period.label}]"


def _error(message: str, code: str, where: str) -> InvalidValueError:
    return InvalidValueError(message, code=f"incentives.{code}", location=Location(path=where))


# -- plan versions and periods ---------------------------------------------------------


@final
@dataclass(frozen=True, slots=True)
class Versions:
    """The versions of one plan, in effective order.

    Attributes:
        plans: The versions, sorted by their first effective day.
        spans: Each version's first and last effective day (inclusive).
        year: The fiscal year as a period.
    """

    plans: tuple[Plan, ...]
    spans: tuple[tuple[dt.date, dt.date], ...]
    year: Period

    @property
    def first(self) -> Plan:
        """The earliest version: id, currency, calendar, period, rounding, proration shared."""
        return self.plans[0]

    def on(self, day: dt.date) -> Plan | None:
        """The version in force on ``day``, or ``None``."""
        for plan, (start, end) in zip(self.plans, self.spans, strict=True):
            if start <= day <= end:
                return plan
        return None

    def for_period(self, period: Period) -> Plan:
        """The version whose period-level settings apply to ``period``.

        The one in force on its last day, else the last one in force before it, else
        the first.
        """
        chosen = self.plans[0]
        for plan, (start, _) in zip(self.plans, self.spans, strict=True):
            if start <= period.end:
                chosen = plan
        return self.on(period.end) or chosen

    def component_ids(self) -> tuple[str, ...]:
        """Every component id of every version, in plan order (first seen first)."""
        seen: dict[str, None] = {}
        for plan in self.plans:
            for component in plan.components:
                seen.setdefault(component.id, None)
        return tuple(seen)


_SHARED: Final = ("id", "fiscal_year", "calendar", "period", "currency", "rounding", "proration")


def resolve_versions(plan: Plan | Sequence[Plan]) -> Versions:
    """Check the versions of one plan and order them.

    Raises:
        InvalidValueError: no plan (``incentives.no_plan``); versions that differ in
            id, fiscal year, calendar, period, currency, rounding or proration
            (``incentives.version_mismatch``, location ``plan[i].<field>``); effective
            ranges that overlap (``incentives.version_overlap``, naming both); a
            component id of another kind, or a measure of another aggregate, than in
            the earliest version defining it (``incentives.version_mismatch``, location
            ``plan[i].components[j].kind`` or ``plan[i].measures.<name>.aggregate``).
        DefinitionError: a money amount of a plan not on the minor unit
            (``plan.not_on_minor_unit``, as `load_plan`; a plan built with
            ``model_copy(update=...)`` skipped that check), location
            ``plan.<path>``, or ``plan[i].<path>`` for a sequence of versions.
    """
    plans = (plan,) if isinstance(plan, Plan) else tuple(plan)
    if not plans or not all(isinstance(p, Plan) for p in plans):
        msg = "give a Plan or a non-empty sequence of Plan versions"
        raise _error(msg, "no_plan", "plan")
    _check_minor_units(plans, single=isinstance(plan, Plan))
    for index, other in enumerate(plans[1:], start=1):
        for name in _SHARED:
            if getattr(other, name) != getattr(plans[0], name):
                msg = f"version {index} has another {name} than version 0; versions share it"
                raise _error(msg, "version_mismatch", f"plan[{index}].{name}")
    year = plans[0].calendar.year(plans[0].fiscal_year)
    spans = [(p.effective_from or year.start, p.effective_to or year.end) for p in plans]
    order = sorted(range(len(plans)), key=lambda i: spans[i])
    for before, after in itertools.pairwise(order):
        if spans[after][0] <= spans[before][1]:
            msg = (
                f"versions {before} ({spans[before][0]}..{spans[before][1]}) and {after} "
                f"({spans[after][0]}..{spans[after][1]}) of plan {plans[0].id!r} overlap"
            )
            raise _error(msg, "version_overlap", f"plan[{after}].effective_from")
    _check_kinds(plans, order)
    return Versions(tuple(plans[i] for i in order), tuple(spans[i] for i in order), year)


def _check_minor_units(plans: Sequence[Plan], *, single: bool) -> None:
    """Every money amount on the minor unit, as `load_plan` checks (the same error).

    A plan changed with ``model_copy(update=...)`` is not re-validated (pydantic's
    rule); an amount between two fen would make the two engines round differently.
    """
    problems = [
        found
        for index, version in enumerate(plans)
        for found in minor_unit_problems(version, "plan" if single else f"plan[{index}]")
    ]
    if problems:
        raise DefinitionError.from_problems(problems)


def _check_kinds(plans: Sequence[Plan], order: Sequence[int]) -> None:
    """Ids keep their meaning across versions: running totals and e[p, c, j] follow them.

    A component id that became another kind, or a measure another aggregate, would
    have its rows rated by one definition and its period settings read from the other;
    pay would vanish without a trace, so it is refused.
    """
    kinds: dict[str, tuple[int, str]] = {}
    aggregates: dict[str, tuple[int, str]] = {}
    for index in order:
        for position, component in enumerate(plans[index].components):
            first, kind = kinds.setdefault(component.id, (index, component.kind))
            if component.kind != kind:
                msg = (
                    f"component {component.id!r} is a {component.kind} in version {index} "
                    f"but a {kind} in version {first}; give the new kind a new id"
                )
                raise _error(msg, "version_mismatch", f"plan[{index}].components[{position}].kind")
        for name, measure in plans[index].measures.items():
            first, aggregate = aggregates.setdefault(name, (index, measure.aggregate))
            if measure.aggregate != aggregate:
                msg = (
                    f"measure {name!r} is a {measure.aggregate} in version {index} but a "
                    f"{aggregate} in version {first}; give the new measure a new name"
                )
                raise _error(msg, "version_mismatch", f"plan[{index}].measures.{name}.aggregate")


def resolve_period(versions: Versions, period: Period | str) -> tuple[tuple[Period, ...], int]:
    """The fiscal year's statement periods and the 0-based index of ``period`` among them.

    Raises:
        InvalidValueError: ``period`` is not one of them (``incentives.unknown_period``).
    """
    plan = versions.first
    periods = plan.calendar.periods(plan.fiscal_year, plan.period)
    label = period.label if isinstance(period, Period) else period
    for index, candidate in enumerate(periods):
        if candidate.label == label and (not isinstance(period, Period) or candidate == period):
            return periods, index
    shown = ", ".join(p.label for p in (periods[0], periods[-1]))
    msg = f"{label!r} is not a {plan.period.value} of fiscal year {plan.fiscal_year} ({shown})"
    raise _error(msg, "unknown_period", "period")


def check_org(versions: Versions, org: OrgTree | None) -> None:
    """Override crediting needs an org.

    Raises:
        InvalidValueError: a version credits overrides and ``org`` is ``None``
            (``incentives.no_org``, location ``plan[i].crediting.override_levels``).
    """
    if org is not None:
        return
    for index, plan in enumerate(versions.plans):
        if plan.crediting.override_levels != 0:
            msg = "override crediting needs the org: pass org=OrgTree(...)"
            raise _error(msg, "no_org", f"plan[{index}].crediting.override_levels")


def check_ledger(ledger: Ledger, plan_id: str, period_label: str) -> None:
    """The period must come after every period the ledger has recorded for the plan.

    Raises:
        InvalidValueError: ``incentives.period_recorded``.
    """
    last = ledger.last_period(plan_id)
    if last is not None and period_label <= last:
        msg = (
            f"the ledger has plan {plan_id!r} recorded through {last}; calculate "
            f"{period_label} from the ledger as it was before that period was recorded"
        )
        raise _error(msg, "period_recorded", "ledger")


# -- assignments -------------------------------------------------------------------------


@final
@dataclass(frozen=True, slots=True)
class Roster:
    """The plan's assignments by payee, each with its index in the input.

    Attributes:
        by_payee: payee -> ((input index, assignment), ...) in start order.
    """

    by_payee: Mapping[str, tuple[tuple[int, Assignment], ...]]

    def covers(self, payee: str, day: dt.date) -> bool:
        """Whether ``payee`` is on the plan on ``day``."""
        return any(a.covers(day) for _, a in self.by_payee.get(payee, ()))

    def on_plan(self, payee: str, period: Period) -> bool:
        """Whether ``payee`` is on the plan on some day of ``period``."""
        return self.assignment_for(payee, period) is not None

    def assignment_for(self, payee: str, period: Period) -> tuple[int, Assignment] | None:
        """The assignment (and its index) used for ``period``.

        The one in force on its last day, else the last one overlapping it; ``None``
        when the payee is off the plan all through it.
        """
        found = None
        for index, assignment in self.by_payee.get(payee, ()):
            if assignment.covers(period.end):
                return index, assignment
            if assignment.overlaps(period.start, period.end):
                found = (index, assignment)
        return found

    def payees_in(self, period: Period) -> tuple[str, ...]:
        """The payees on the plan in ``period``, sorted."""
        return tuple(sorted(p for p in self.by_payee if self.on_plan(p, period)))

    def has_statement(self, payee: str, first: Period, period: Period) -> bool:
        """Whether ``payee`` has a statement in ``period`` (decision D2).

        On the plan on some day from ``first`` (the fiscal year's first period) through
        ``period``: a payee who left the plan earlier in the year keeps a statement,
        which holds what still concerns them (clawbacks, recalculations, adjustments).
        """
        return any(a.overlaps(first.start, period.end) for _, a in self.by_payee.get(payee, ()))

    def statement_payees(self, first: Period, period: Period) -> tuple[str, ...]:
        """The payees with a statement in ``period`` (`has_statement`), sorted."""
        return tuple(sorted(p for p in self.by_payee if self.has_statement(p, first, period)))


def _span(assignment: Assignment) -> tuple[dt.date, dt.date]:
    return (assignment.start or _FOREVER[0], assignment.end or _FOREVER[1])


def resolve_roster(assignments: Iterable[Assignment], plan_id: str) -> Roster:
    """The assignments to ``plan_id``, by payee.

    Raises:
        InvalidValueError: two assignments of one payee overlap
            (``incentives.assignment_overlap``, naming both indexes).
    """
    kept = [entry for entry in enumerate(assignments) if entry[1].plan == plan_id]
    single = {entry[1].payee: (entry,) for entry in kept}
    if len(single) == len(kept):  # the usual roster: one assignment a payee, none to overlap
        return Roster(single)
    grouped: dict[str, list[tuple[int, Assignment]]] = defaultdict(list)
    for index, assignment in kept:
        grouped[assignment.payee].append((index, assignment))
    for payee, entries in grouped.items():
        if len(entries) > 1:
            _check_no_overlap(payee, entries, plan_id)
    return Roster({payee: tuple(entries) for payee, entries in grouped.items()})


def _check_no_overlap(payee: str, entries: list[tuple[int, Assignment]], plan_id: str) -> None:
    """Sort one payee's assignments by start; refuse two that overlap."""
    entries.sort(key=lambda entry: _span(entry[1]))
    for (first, a), (second, b) in itertools.pairwise(entries):
        if _span(b)[0] <= _span(a)[1]:
            msg = (
                f"assignments[{first}] and assignments[{second}] both put {payee!r} on "
                f"plan {plan_id!r} on {_span(b)[0]}"
            )
            raise _error(msg, "assignment_overlap", f"assignments[{second}]")


# -- transactions ------------------------------------------------------------------------


def check_transaction_ids(ids: Iterable[str]) -> None:
    """Transaction ids are unique.

    Raises:
        InvalidValueError: ``incentives.duplicate_transaction``, location
            ``transactions[j]`` (the second), message naming both indexes.
    """
    seen: dict[str, int] = {}
    for index, transaction_id in enumerate(ids):
        first = seen.setdefault(transaction_id, index)
        if first != index:
            msg = f"transactions[{first}] and transactions[{index}] share id {transaction_id!r}"
            raise _error(msg, "duplicate_transaction", f"transactions[{index}]")


def check_splits(splits: Sequence[Split], index: int) -> None:
    """A transaction's splits: each payee once; the non-overlay shares sum to exactly 1.

    Raises:
        InvalidValueError: ``incentives.split_duplicate`` (location
            ``transactions[i].splits[j]``), ``incentives.split_sum`` (location
            ``transactions[i].splits``, the message names the sum).
    """
    if not splits:
        return
    seen: set[str] = set()
    for position, split in enumerate(splits):
        if split.payee in seen:
            msg = f"{split.payee!r} appears twice in the splits of transactions[{index}]"
            raise _error(msg, "split_duplicate", f"transactions[{index}].splits[{position}]")
        seen.add(split.payee)
    total = sum((s.share for s in splits if not s.overlay), Decimal(0))
    if total != 1:
        msg = f"the credit splits (not overlays) sum to {total}, not 1"
        raise _error(msg, "split_sum", f"transactions[{index}].splits")


def plan_amount(amount: Money, index: int, plan: Plan, fx: Mapping[str, Decimal] | None) -> Money:
    """A transaction's amount in the plan currency, rounded at the plan's rounding point.

    Raises:
        InvalidValueError: no rate for its currency (``incentives.no_exchange_rate``),
            or an amount in the plan currency between two minor units
            (``incentives.not_on_minor_unit``); location ``transactions[i].amount``.
    """
    where = f"transactions[{index}].amount"
    if amount.currency.code == plan.currency:
        if not amount.is_on_minor_unit():
            msg = f"{amount} is not a whole number of {plan.currency} minor units"
            raise _error(msg, "not_on_minor_unit", where)
        return amount
    rate = None if fx is None else fx.get(amount.currency.code)
    if rate is None:
        code = amount.currency.code
        msg = f"no exchange rate from {code} to {plan.currency} (fx[{code!r}])"
        raise _error(msg, "no_exchange_rate", where)
    if not isinstance(rate, Decimal) or not rate.is_finite() or rate <= 0:
        msg = f"fx[{amount.currency.code!r}] must be a positive Decimal, not {rate!r}"
        raise _error(msg, "invalid_exchange_rate", where)
    # Exact product, rounded once (the default 28-digit context would round twice).
    return Money(EXACT.multiply(amount.amount, rate), plan.currency).round(rounding=plan.rounding)


def _records(transactions: Iterable[Transaction], versions: Versions) -> Iterator[Transaction]:
    """The transactions; a `TransactionTable`'s typed by the plan's declared fields.

    A table's field columns need the plan's types to read as records do in the batch
    engine (a decimal field held as int64 minor units, a date field held as a column of
    midnight timestamps). Where versions declare one field differently, the latest
    version's type is used for every row (the batch engine types each version's rows by
    its own).
    """
    if not isinstance(transactions, TransactionTable):
        return iter(transactions)
    declared: dict[str, str] = {}
    for plan in versions.plans:
        declared.update(plan.fields)
    latest = versions.plans[-1].model_copy(update={"fields": declared})  # types only
    return transactions.records(latest.filter_schema())


def declared_fields(versions: Versions) -> dict[str, bool]:
    """Every field any version's filters may read -> whether it is nullable."""
    declared: dict[str, bool] = {}
    for plan in versions.plans:
        schema = plan.filter_schema()
        for name in plan.fields:
            declared[name] = declared.get(name, True) and schema.fields[name].nullable
    return declared


def check_fields(fields: Mapping[str, object], index: int, declared: Mapping[str, bool]) -> None:
    """A transaction carries every declared field that is not nullable.

    Raises:
        InvalidValueError: ``incentives.missing_field``, location
            ``transactions[i].fields.<name>``.
    """
    for name, nullable in declared.items():
        if name not in fields and not nullable:
            msg = f"transactions[{index}] has no field {name!r} (declared in the plan's fields)"
            raise _error(msg, "missing_field", f"transactions[{index}].fields.{name}")


def uncredited(index: int, payee: str, day: dt.date) -> Problem:
    """The problem of a credit row dropped because its payee is not on the plan that day."""
    message = f"{payee!r} is not on the plan on {day}; the credit is not given"
    return Problem("incentives.uncredited", Severity.WARNING, message, _at(index))


def no_version(index: int, plan_id: str, day: dt.date) -> Problem:
    """The problem of a transaction dated where no version of the plan is in force."""
    message = f"no version of plan {plan_id!r} is in force on {day}; the credit is not given"
    return Problem("incentives.uncredited", Severity.WARNING, message, _at(index))


def not_in_org(index: int, payee: str, day: dt.date) -> Problem:
    """The problem of a direct credit holder missing from the org (no override credit)."""
    message = f"{payee!r} is not in the org on {day}; no override credit is given"
    return Problem("incentives.not_in_org", Severity.WARNING, message, _at(index))


def _at(index: int) -> Location:
    return Location(path=f"transactions[{index}]")


# -- adjustments -------------------------------------------------------------------------


def check_adjustments(
    adjustments: Iterable[Adjustment],
    versions: Versions,
    period: Period,
    roster: Roster,
) -> tuple[Adjustment, ...]:
    """The adjustments paid in ``period`` under this plan, in input order, checked.

    Adjustments of other plans, or of this plan and a later period, are left for their
    own runs; one of this plan must name a period that can still be paid.

    Raises:
        InvalidValueError: a period label that is not a period of the plan's fiscal
            year (``incentives.unknown_period``) or is before ``period``
            (``incentives.period_closed``: no later run would pay it), location
            ``adjustments[i].period``; then, for those paid in ``period``, another
            currency (``incentives.currency_mismatch``), an amount between minor units
            (``incentives.not_on_minor_unit``), an unknown component
            (``incentives.unknown_component``) or a payee without a statement in the
            period: not on the plan in it nor earlier in the fiscal year
            (``incentives.no_statement``); location ``adjustments[i]...``.
    """
    plan = versions.first
    periods = plan.calendar.periods(plan.fiscal_year, plan.period)
    labels = [p.label for p in periods]
    components = set(versions.component_ids())
    chosen: list[Adjustment] = []
    for index, adjustment in enumerate(adjustments):
        if adjustment.plan != plan.id:
            continue
        where = f"adjustments[{index}]"
        _check_adjustment_period(adjustment.period, labels, period, where)
        if adjustment.period != period.label:
            continue
        if adjustment.amount.currency.code != plan.currency:
            msg = f"{adjustment.amount} is not in the plan currency {plan.currency}"
            raise CurrencyMismatchError(
                msg, code="incentives.currency_mismatch", location=Location(f"{where}.amount")
            )
        if not adjustment.amount.is_on_minor_unit():
            msg = f"{adjustment.amount} is not a whole number of minor units"
            raise _error(msg, "not_on_minor_unit", f"{where}.amount")
        if adjustment.component is not None and adjustment.component not in components:
            msg = f"plan {plan.id!r} has no component {adjustment.component!r}"
            raise _error(msg, "unknown_component", f"{where}.component")
        if not roster.has_statement(adjustment.payee, periods[0], period):
            msg = (
                f"{adjustment.payee!r} has no statement under plan {plan.id!r} in "
                f"{period.label}: not on the plan in it nor earlier in the fiscal year"
            )
            raise _error(msg, "no_statement", f"{where}.payee")
        chosen.append(adjustment)
    return tuple(chosen)


def _check_adjustment_period(label: str, labels: Sequence[str], period: Period, where: str) -> None:
    if label not in labels:
        msg = (
            f"{label!r} is not a period of the plan's fiscal year ({labels[0]} .. "
            f"{labels[-1]}); the adjustment would never be paid"
        )
        raise _error(msg, "unknown_period", f"{where}.period")
    if labels.index(label) < labels.index(period.label):
        msg = (
            f"{label} is before the statement period {period.label}: its statement is "
            f"closed; pay the adjustment in {period.label} instead"
        )
        raise _error(msg, "period_closed", f"{where}.period")


# -- the whole input ---------------------------------------------------------------------


@final
@dataclass(frozen=True, slots=True)
class Prepared:
    """The checked input of one run.

    Attributes:
        versions: The plan versions.
        periods: The fiscal year's statement periods.
        index: The 0-based index of the statement period in ``periods``.
        roster: The plan's assignments.
        transactions: The transactions, as given (index = input position).
        amounts: Each transaction's amount in the plan currency, ``None`` for a
            transaction dated outside the fiscal year (ignored).
        adjustments: The adjustments paid in the statement period.
        lookups: Quotas, KPIs, target incentives and attributes, checked on use.
    """

    versions: Versions
    periods: tuple[Period, ...]
    index: int
    roster: Roster
    transactions: tuple[Transaction, ...]
    amounts: tuple[Money | None, ...]
    adjustments: tuple[Adjustment, ...]
    lookups: Lookups

    @property
    def period(self) -> Period:
        """The statement period."""
        return self.periods[self.index]

    @property
    def plan(self) -> Plan:
        """The version whose period-level settings apply to the statement period."""
        return self.versions.for_period(self.period)


def prepare(  # noqa: PLR0913 - the calculate() arguments, checked in one place
    plan: Plan | Sequence[Plan],
    transactions: Iterable[Transaction],
    assignments: Iterable[Assignment],
    *,
    period: Period | str,
    ledger: Ledger,
    quotas: Mapping[str, QuotaSource] | None,
    kpis: Mapping[str, Mapping[tuple[str, str], Decimal]] | None,
    org: OrgTree | None,
    fx: Mapping[str, Decimal] | None,
    adjustments: Iterable[Adjustment],
) -> Prepared:
    """Check the whole input of `calculate`, in a fixed order, before anything is computed.

    Order: versions, period, org, assignments, ledger, transaction ids, then each
    transaction dated in the fiscal year (splits, fields, then amount), then adjustments.
    """
    versions = resolve_versions(plan)
    periods, index = resolve_period(versions, period)
    check_org(versions, org)
    roster = resolve_roster(assignments, versions.first.id)
    check_ledger(ledger, versions.first.id, periods[index].label)
    given = tuple(_records(transactions, versions))
    check_transaction_ids(t.id for t in given)
    year = versions.year
    declared = declared_fields(versions)
    amounts: list[Money | None] = []
    for position, transaction in enumerate(given):
        if not year.start <= transaction.date <= year.end:
            amounts.append(None)
            continue
        check_splits(transaction.splits, position)
        check_fields(transaction.fields, position, declared)
        amounts.append(plan_amount(transaction.amount, position, versions.first, fx))
    chosen = check_adjustments(adjustments, versions, periods[index], roster)
    lookups = Lookups(versions, roster, quotas or {}, kpis or {})
    return Prepared(versions, periods, index, roster, given, tuple(amounts), chosen, lookups)


# -- look-ups checked on use -------------------------------------------------------------


@final
@dataclass(frozen=True, slots=True)
class PeriodTarget:
    """The target pay a scorecard pays a share of in one period (decision D31).

    Attributes:
        amount: The period's share of the yearly target incentive, in major units of
            the plan currency, exact (prorated by days on the plan under
            ``proration: days``; not rounded: the scorecard rounds once).
        days: The calendar days the payee is on the plan in the period, when fewer
            than all of them and the plan prorates by days; else ``None``.
        period_days: The period's calendar days.
    """

    amount: Fraction
    days: int | None
    period_days: int

    @property
    def prorated(self) -> tuple[int, int] | None:
        """A scorecard KPI line's `Line.days`: (days on the plan, days in the period)."""
        return None if self.days is None else (self.days, self.period_days)


@final
class Lookups:
    """Quotas, KPI values, target incentives and attributes, each checked when needed."""

    __slots__ = (
        "_aggregates",
        "_currency",
        "_kpis",
        "_memo",
        "_plan",
        "_quotas",
        "_roster",
        "_year",
    )

    def __init__(
        self,
        versions: Versions,
        roster: Roster,
        quotas: Mapping[str, QuotaSource],
        kpis: Mapping[str, Mapping[tuple[str, str], Decimal]],
    ) -> None:
        """Wrap the caller's mappings for the plan ``versions``."""
        self._plan = versions.first
        self._year = versions.year
        self._currency = Currency(self._plan.currency)
        self._aggregates = {
            name: measure.aggregate
            for plan in versions.plans
            for name, measure in plan.measures.items()
        }
        self._roster = roster
        self._quotas = quotas
        self._kpis = kpis
        self._memo: dict[tuple[str, str, str], Decimal] = {}

    def quota(self, measure: str, payee: str, period: Period) -> Decimal:
        """The quota of ``payee`` for ``measure`` in ``period`` (amount or count), > 0.

        Raises:
            InvalidValueError: missing (``incentives.no_quota``), zero or negative
                (``incentives.zero_quota``), of the wrong kind (``incentives.quota_type``,
                ``incentives.currency_mismatch``); location
                ``quotas.<measure>[<payee>, <period>]``.
        """
        value = self._read(measure, payee, period)
        if value <= 0:
            msg = f"the quota of {payee!r} for {measure!r} in {period.label} is {value}, not > 0"
            raise _error(msg, "zero_quota", _quota_where(measure, payee, period))
        return value

    def quota_sum(self, measure: str, payee: str, periods: Sequence[Period]) -> Decimal:
        """The sum of ``payee``'s quotas for ``measure`` over ``periods``.

        Used for quota to date and annual quotas: each quota present and >= 0 (0 for
        the months before a payee joined), their sum > 0.

        Raises:
            InvalidValueError: as `quota`; a sum that is not positive is reported at the
                key of the last period summed.
        """
        total = Decimal(0)
        for period in periods:
            value = self._read(measure, payee, period)
            if value < 0:
                msg = f"the quota of {payee!r} for {measure!r} in {period.label} is {value}"
                raise _error(msg, "zero_quota", _quota_where(measure, payee, period))
            total += value
        if total <= 0:
            last = periods[-1]
            msg = (
                f"the quotas of {payee!r} for {measure!r} from {periods[0].label} to "
                f"{last.label} sum to {total}, not > 0"
            )
            raise _error(msg, "zero_quota", _quota_where(measure, payee, last))
        return total

    def _read(self, measure: str, payee: str, period: Period) -> Decimal:
        key = (measure, payee, period.label)
        if key not in self._memo:
            where = _quota_where(measure, payee, period)
            raw = self._raw_quota(measure, payee, period, where)
            self._memo[key] = self._quota_value(measure, raw, where)
        return self._memo[key]

    def _raw_quota(self, measure: str, payee: str, period: Period, where: str) -> object:
        source = self._quotas.get(measure)
        missing = f"no quota of {payee!r} for {measure!r} in {period.label}"
        if source is None:
            msg = f"{missing}: quotas has no {measure!r}"
            raise _error(msg, "no_quota", where)
        if isinstance(source, TargetGrid):
            try:
                return source.value(payee, period)
            except (InvalidValueError, CalendarError) as err:
                msg = f"{missing}: {err.message}"
                raise _error(msg, "no_quota", where) from None
        raw = source.get((payee, period.label))
        if raw is None:
            raise _error(missing, "no_quota", where)
        return raw

    def _quota_value(self, measure: str, raw: object, where: str) -> Decimal:
        aggregate = self._aggregates[measure]
        if isinstance(raw, Money):
            if aggregate == "count":
                msg = f"a count quota is an int, not {raw}"
                raise _error(msg, "quota_type", where)
            if raw.currency.code != self._plan.currency:
                msg = f"the quota {raw} is not in the plan currency {self._plan.currency}"
                raise CurrencyMismatchError(
                    msg, code="incentives.currency_mismatch", location=Location(path=where)
                )
            if not raw.is_on_minor_unit():
                msg = f"the quota {raw} is not a whole number of {raw.currency.code} minor units"
                raise _error(msg, "not_on_minor_unit", where)
            return raw.amount
        if isinstance(raw, int) and not isinstance(raw, bool) and aggregate != "sum":
            return Decimal(raw)
        wanted = "Money in the plan currency" if aggregate == "sum" else "an int"
        msg = f"the quota must be {wanted}, not {raw!r}"
        raise _error(msg, "quota_type", where)

    def kpi(self, measure: str, payee: str, period: Period) -> Decimal:
        """The value of the external measure ``measure`` for ``payee`` in ``period``.

        Raises:
            InvalidValueError: missing (``incentives.no_kpi``) or not a finite
                Decimal/int (``incentives.invalid_kpi``); location
                ``kpis.<measure>[<payee>, <period>]``.
        """
        where = f"kpis.{measure}[{payee}, {period.label}]"
        values = self._kpis.get(measure)
        raw = None if values is None else values.get((payee, period.label))
        if raw is None:
            msg = f"no value of KPI {measure!r} for {payee!r} in {period.label}"
            raise _error(msg, "no_kpi", where)
        if isinstance(raw, bool) or not isinstance(raw, Decimal | int):
            msg = f"a KPI value is a Decimal, not {raw!r}"
            raise _error(msg, "invalid_kpi", where)
        value = Decimal(raw)
        if not value.is_finite():
            msg = f"a KPI value must be finite, not {raw!r}"
            raise _error(msg, "invalid_kpi", where)
        return value

    def target_incentive(self, payee: str, period: Period) -> Money:
        """The yearly target incentive of ``payee`` from the assignment used for ``period``.

        Raises:
            InvalidValueError: none given (``incentives.no_target_incentive``), another
                currency (``incentives.currency_mismatch``), between minor units
                (``incentives.not_on_minor_unit``), negative
                (``incentives.invalid_target_incentive``); location
                ``assignments[i].target_incentive``.
        """
        index, assignment = self._assignment(payee, period)
        return self._checked_target(payee, index, assignment)

    def period_target(self, payee: str, periods: Sequence[Period], j: int) -> PeriodTarget:
        """The target pay of ``payee`` a scorecard pays a share of in ``periods[j]``.

        A yearly target incentive's period share is its even split over ``periods``
        (the fiscal year's statement periods; largest remainder, the odd minor unit to
        the earliest). ``proration: none``: the share of the assignment used for the
        period (`Roster.assignment_for`). ``proration: days``: the sum over the
        payee's assignments overlapping the period of each one's share x its days in
        the period / the period's days (calendar days, both ends inclusive, of the
        assignment clipped to the period). Decision D31.

        Raises:
            InvalidValueError: as `target_incentive`, for each assignment read.
        """
        period = periods[j]
        if self._plan.proration == "none":
            target = self.target_incentive(payee, period)
            return PeriodTarget(_period_share(target, len(periods), j), None, period.days)
        amount = Fraction(0)
        days = 0
        for index, assignment, on in self._days_on_plan(payee, period):
            target = self._checked_target(payee, index, assignment)
            amount += _period_share(target, len(periods), j) * Fraction(on, period.days)
            days += on
        return PeriodTarget(amount, days if days < period.days else None, period.days)

    def target_incentive_limit(self, payee: str, period: Period, multiple: Decimal) -> Money:
        """A yearly cap's ``target_incentive_multiple`` x the payee's target incentive.

        Rounded once to the minor unit by the plan's mode (decision D15).
        ``proration: none``: the yearly target incentive of the assignment used for
        ``period``. ``proration: days``: the target incentive over the fiscal year,
        the sum over the payee's assignments of TI x its days in the fiscal year / the
        year's days (calendar days, both ends inclusive; future days of an open-ended or
        future-dated assignment count: the cap is the year's, so it is the same in
        every period). Decision D31.

        Raises:
            InvalidValueError: as `target_incentive`, for each assignment read.
        """
        if self._plan.proration == "none":
            yearly = Fraction(self.target_incentive(payee, period).amount)
        else:
            yearly = Fraction(0)
            for index, assignment, on in self._days_on_plan(payee, self._year):
                target = self._checked_target(payee, index, assignment)
                yearly += Fraction(target.amount) * Fraction(on, self._year.days)
        places = self._currency.minor_units
        scaled = yearly * Fraction(multiple) * 10**places
        units = round_ratio(scaled.numerator, scaled.denominator, self._plan.rounding)
        return Money(Decimal(units).scaleb(-places, EXACT), self._currency)

    def _days_on_plan(self, payee: str, period: Period) -> list[tuple[int, Assignment, int]]:
        """Each assignment of ``payee`` overlapping ``period``, with its days in it."""
        found = []
        for index, assignment in self._roster.by_payee.get(payee, ()):
            start, end = _span(assignment)
            first, last = max(start, period.start), min(end, period.end)
            if first <= last:
                found.append((index, assignment, (last - first).days + 1))
        return found

    def _checked_target(self, payee: str, index: int, assignment: Assignment) -> Money:
        """``assignment``'s target incentive, checked (see `target_incentive`)."""
        where = f"assignments[{index}].target_incentive"
        value = assignment.target_incentive
        if value is None:
            msg = f"{payee!r} has no target incentive on plan {self._plan.id!r}"
            raise _error(msg, "no_target_incentive", where)
        if value.currency.code != self._plan.currency:
            msg = f"the target incentive {value} is not in {self._plan.currency}"
            raise CurrencyMismatchError(
                msg, code="incentives.currency_mismatch", location=Location(path=where)
            )
        if not value.is_on_minor_unit():
            msg = f"{value} is not a whole number of minor units"
            raise _error(msg, "not_on_minor_unit", where)
        if value.amount < 0:
            msg = f"the target incentive of {payee!r} is {value}; it must not be negative"
            raise _error(msg, "invalid_target_incentive", where)
        return value

    def attribute(self, payee: str, period: Period, name: str) -> str:
        """The attribute ``name`` of the assignment of ``payee`` used for ``period``.

        Raises:
            InvalidValueError: ``incentives.no_attribute``, location
                ``assignments[i].attributes.<name>``.
        """
        index, assignment = self._assignment(payee, period)
        value = assignment.attributes.get(name)
        if value is None:
            msg = f"the assignment of {payee!r} has no attribute {name!r}"
            raise _error(msg, "no_attribute", f"assignments[{index}].attributes.{name}")
        return value

    def _assignment(self, payee: str, period: Period) -> tuple[int, Assignment]:
        found = self._roster.assignment_for(payee, period)
        if found is None:  # pragma: no cover - engines only ask for payees on the plan
            msg = f"{payee!r} is not on plan {self._plan.id!r} in {period.label}"
            raise _error(msg, "no_statement", "assignments")
        return found


def _period_share(target: Money, parts: int, j: int) -> Fraction:
    """Period ``j``'s share of a yearly ``target`` split evenly over ``parts`` periods."""
    return Fraction(allocate_equal(target, parts)[j].amount)
