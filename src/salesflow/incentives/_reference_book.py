"""The reference engine's book: credit rows, measure values and quotas, one row at a time.

`Book` holds the checked input of a run and the credit rows (spec sections 2 and 3):
who holds credit for which transaction, and what a measure adds up to over a window.
Everything is exact: amounts are `Money` on the minor unit, values `Decimal`, and
attainments `Fraction`.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import TYPE_CHECKING, final

from salesflow.errors import EvaluationError, InvalidValueError, Location
from salesflow.expressions import compile_expression
from salesflow.money import Currency, Money, allocate
from salesflow.money._exact import ratio, round_quotient

from ._prepare import declared_fields, no_version, not_in_org, uncredited
from ._schedule import Schedule, tidy

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Iterator

    from salesflow.errors import Problem
    from salesflow.expressions import Expression
    from salesflow.periods import Period
    from salesflow.targets import OrgSnapshot, OrgTree

    from ._inputs import Transaction
    from ._plan import Commission, Component, CreditKind, Plan, Window
    from ._prepare import Prepared
    from ._tables import RateTable

__all__ = ["Book", "CreditRow", "as_decimal", "find_component", "sign"]


@final
@dataclass(frozen=True, slots=True)
class CreditRow:
    """One payee's credit for one transaction (spec 2).

    Attributes:
        order: Its position in credit-row order (date, transaction index, row).
        index: The transaction's input index.
        payee: The credit holder.
        kind: Direct, overlay or override.
        amount: The credited amount, plan currency.
        version: The plan version in force on the transaction's date.
    """

    order: int
    index: int
    payee: str
    kind: CreditKind
    amount: Money
    version: Plan
    transaction: Transaction

    @property
    def date(self) -> dt.date:
        """The transaction's date."""
        return self.transaction.date

    @property
    def cancelled(self) -> dt.date | None:
        """The transaction's cancellation date."""
        return self.transaction.cancelled


def as_decimal(value: Fraction) -> Decimal:
    """An exact fraction as a Decimal: exact when it terminates, else 50 digits."""
    return ratio(Decimal(value.numerator), Decimal(value.denominator))


@final
class Book:
    """The credit rows of one run and the measures over them."""

    def __init__(self, prepared: Prepared, org: OrgTree | None) -> None:
        """Credit every transaction dated from the year start through the statement period."""
        self.prepared = prepared
        self.lookups = prepared.lookups
        self.plan_id = prepared.versions.first.id
        self.currency = Currency(prepared.versions.first.currency)
        self.rounding = prepared.versions.first.rounding
        self.periods: tuple[Period, ...] = prepared.periods[: prepared.index + 1]
        self.year = prepared.versions.year
        self.problems: list[Problem] = []
        self._org = org
        self._snapshots: dict[dt.date, OrgSnapshot] = {}
        self._filters: dict[tuple[int, str], Expression] = {}
        self._schedules: dict[tuple[int, Decimal | None], Schedule] = {}
        self._nulls = dict.fromkeys(
            (name for name, nullable in declared_fields(prepared.versions).items() if nullable),
        )
        self._aggregates = {
            name: measure.aggregate
            for plan in prepared.versions.plans
            for name, measure in plan.measures.items()
        }
        self._starts = [period.start for period in prepared.periods]
        self.rows: list[CreditRow] = list(self._credit())
        self.by_payee: dict[str, list[CreditRow]] = defaultdict(list)
        for row in self.rows:
            self.by_payee[row.payee].append(row)

    # -- money helpers -------------------------------------------------------------

    def money(self, amount: Decimal | int) -> Money:
        """``amount`` in the plan currency (at the minor unit when it is on it)."""
        return Money(tidy(Decimal(amount), self.currency.minor_units), self.currency)

    def zero(self) -> Money:
        """Zero in the plan currency."""
        return Money.zero(self.currency)

    def round(self, value: Fraction | Decimal) -> Money:
        """``value`` rounded once to the minor unit at the plan's rounding point."""
        exact = Fraction(value)
        places = self.currency.minor_units
        amount = round_quotient(
            Decimal(exact.numerator), Decimal(exact.denominator), places, self.rounding
        )
        return Money(amount, self.currency)

    # -- periods -------------------------------------------------------------------

    @property
    def last(self) -> int:
        """The index of the statement period."""
        return len(self.periods) - 1

    def period_of(self, day: dt.date) -> int:
        """The index of the statement period containing ``day`` (in the fiscal year)."""
        return bisect.bisect_right(self._starts, day) - 1

    def window(self, j: int, kind: Window) -> tuple[dt.date, dt.date]:
        """The first and last day of period ``j``'s window: the period, or the year to date."""
        period = self.prepared.periods[j]
        return (period.start if kind == "period" else self.year.start, period.end)

    def version_for(self, j: int) -> Plan:
        """The version whose period-level settings apply to period ``j``."""
        return self.prepared.versions.for_period(self.prepared.periods[j])

    def component_for(self, j: int, component_id: str) -> Component | None:
        """Component ``component_id`` as period ``j``'s version defines it, if it does."""
        return find_component(self.version_for(j), component_id)

    def on_plan(self, payee: str, j: int) -> bool:
        """Whether ``payee`` is on the plan in period ``j``."""
        return self.prepared.roster.on_plan(payee, self.prepared.periods[j])

    def payees_in(self, j: int) -> tuple[str, ...]:
        """The payees on the plan in period ``j``, sorted."""
        return self.prepared.roster.payees_in(self.prepared.periods[j])

    def statement_payees(self) -> tuple[str, ...]:
        """The payees with a statement in the statement period (decision D2), sorted."""
        periods = self.prepared.periods
        return self.prepared.roster.statement_payees(periods[0], periods[self.last])

    # -- crediting (spec 2) --------------------------------------------------------

    def _credit(self) -> Iterator[CreditRow]:
        prepared = self.prepared
        end = self.periods[-1].end
        dated = [
            (t.date, i)
            for i, t in enumerate(prepared.transactions)
            if prepared.amounts[i] is not None and t.date <= end
        ]
        order = 0
        for _, index in sorted(dated):
            for payee, kind, amount, version in self._credit_transaction(index):
                transaction = prepared.transactions[index]
                yield CreditRow(order, index, payee, kind, amount, version, transaction)
                order += 1

    def _credit_transaction(self, index: int) -> list[tuple[str, CreditKind, Money, Plan]]:
        transaction = self.prepared.transactions[index]
        day = transaction.date
        version = self.prepared.versions.on(day)
        if version is None:
            self.problems.append(no_version(index, self.plan_id, day))
            return []
        amount = self.prepared.amounts[index]
        assert amount is not None  # noqa: S101 - only in-year transactions reach here
        direct = self._direct(transaction, amount)
        rows = direct + self._overrides(direct, version, index)
        kept: list[tuple[str, CreditKind, Money, Plan]] = []
        for payee, kind, credited in rows:
            if self.prepared.roster.covers(payee, day):
                kept.append((payee, kind, credited, version))
            else:
                self.problems.append(uncredited(index, payee, day))
        return kept

    def _direct(self, transaction: Transaction, amount: Money) -> list[_Credit]:
        if not transaction.splits:
            return [(transaction.owner, "direct", amount)]
        shares = [split.share for split in transaction.splits if not split.overlay]
        parts = iter(allocate(amount, shares))
        rows: list[_Credit] = []
        for split in transaction.splits:
            if split.overlay:
                overlay = (amount * split.share).round(rounding=self.rounding)
                rows.append((split.payee, "overlay", overlay))
            else:
                rows.append((split.payee, "direct", next(parts)))
        return rows

    def _overrides(self, direct: list[_Credit], version: Plan, index: int) -> list[_Credit]:
        levels = version.crediting.override_levels
        if levels == 0 or self._org is None:
            return []
        day = self.prepared.transactions[index].date
        snapshot = self._snapshot(day)
        rows: list[_Credit] = []
        for payee, kind, amount in direct:
            if kind != "direct":
                continue
            if payee not in snapshot:
                self.problems.append(not_in_org(index, payee, day))
                continue
            chain = snapshot.ancestors(payee)
            chosen = chain if levels is None else chain[:levels]
            rows.extend((str(manager), "override", amount) for manager in chosen)
        return rows

    def _snapshot(self, day: dt.date) -> OrgSnapshot:
        if day not in self._snapshots:
            assert self._org is not None  # noqa: S101 - checked by prepare (no_org)
            self._snapshots[day] = self._org.as_of(day)
        return self._snapshots[day]

    # -- measures (spec 3) ---------------------------------------------------------

    def aggregate(self, measure: str) -> str:
        """``"sum"``, ``"count"`` or ``"external"``."""
        return self._aggregates[measure]

    def counts(self, measure: str, row: CreditRow) -> bool:
        """Whether ``row`` counts for ``measure`` as its version defines it."""
        definition = row.version.measures.get(measure)
        if definition is None or row.kind not in definition.credit:
            return False
        return definition.where is None or self.matches(row, definition.where)

    def matches(self, row: CreditRow, text: str) -> bool:
        """Whether the filter ``text`` holds for ``row`` (null is false).

        Raises:
            InvalidValueError: the filter cannot be evaluated on the transaction's fields
                (``incentives.invalid_field``, location ``transactions[i].fields``).
        """
        key = (id(row.version), text)
        if key not in self._filters:
            schema = row.version.filter_schema()
            self._filters[key] = compile_expression(text, schema, expect="bool")
        transaction = row.transaction
        values: dict[str, object] = {**self._nulls, **transaction.fields}
        values |= {
            "amount": self.prepared.amounts[row.index].amount,  # type: ignore[union-attr]
            "credit": row.kind,
            "currency": transaction.amount.currency.code,
            "date": transaction.date,
            "owner": transaction.owner,
            "payee": row.payee,
        }
        try:
            return self._filters[key].matches(values)
        except EvaluationError as err:
            where = Location(path=f"transactions[{row.index}].fields")
            msg = f"cannot evaluate {text!r} on transactions[{row.index}]: {err.message}"
            raise InvalidValueError(msg, code="incentives.invalid_field", location=where) from None

    def value(self, measure: str, payee: str, j: int, kind: Window) -> Decimal:
        """The measure of ``payee`` to the end of period ``j`` over its window (spec 3).

        Rows count from their date until their cancellation; a count adds the sign of
        each row's credit (+1, a refund -1, 0 for 0; decision D26); an external measure
        is its period-``j`` value.
        """
        if self.aggregate(measure) == "external":
            return self.lookups.kpi(measure, payee, self.prepared.periods[j])
        first, last = self.window(j, kind)
        total = Decimal(0)
        for row in self.by_payee.get(payee, ()):
            inside = first <= row.date <= last and not _cancelled(row, first, last)
            if inside and self.counts(measure, row):
                amount = row.amount.amount
                total += amount if self.aggregate(measure) == "sum" else sign(amount)
        return total

    def quota_to_date(self, measure: str, payee: str, j: int, kind: Window) -> Decimal:
        """The quota of the window of period ``j``: the period's, or the year's to date.

        An external measure's value is a rate for the period, not a running sum: its
        quota is the period's in every window (decision D27).
        """
        periods = self.prepared.periods
        if kind == "period" or self.aggregate(measure) == "external":
            return self.lookups.quota(measure, payee, periods[j])
        return self.lookups.quota_sum(measure, payee, periods[: j + 1])

    def attainment(self, measure: str, payee: str, j: int, kind: Window) -> Fraction:
        """Value to date over quota to date, exact."""
        value = self.value(measure, payee, j, kind)
        return Fraction(value) / Fraction(self.quota_to_date(measure, payee, j, kind))

    def shown(self, measure: str, value: Decimal) -> tuple[Money | None, Decimal | None]:
        """A measure value on a line: (basis, exact): Money for sums, else the number."""
        if self.aggregate(measure) == "sum":
            return self.money(value), None
        return None, value

    # -- rate tables ---------------------------------------------------------------

    def schedule(self, component: Commission, payee: str, j: int) -> Schedule:
        """The component's table placed on the plan currency.

        An attainment table is placed on the window quota: the period's, or the year's.
        """
        quota = self._window_quota(component, payee, j)
        table: RateTable = component.table
        key = (id(table), quota)
        if key not in self._schedules:
            money = None if quota is None else self.money(quota)
            self._schedules[key] = Schedule.build(table, self.currency, money)
        return self._schedules[key]

    def _window_quota(self, component: Commission, payee: str, j: int) -> Decimal | None:
        if component.table.basis == "amount":
            return None
        periods = self.prepared.periods
        if component.accumulate == "period":
            return self.lookups.quota(component.measure, payee, periods[j])
        return self.lookups.quota_sum(component.measure, payee, periods)


_Credit = tuple[str, "CreditKind", Money]


def _cancelled(row: CreditRow, first: dt.date, last: dt.date) -> bool:
    cancelled = row.cancelled
    return cancelled is not None and first <= cancelled <= last


def sign(value: Decimal) -> int:
    """+1, -1 or 0: what a credit row of ``value`` adds to a count (decision D26).

    >>> sign(Decimal("250.00")), sign(Decimal("-0.01")), sign(Decimal("0.00"))
    (1, -1, 0)
    """
    return (value > 0) - (value < 0)


def find_component(plan: Plan, component_id: str) -> Component | None:
    """The component ``component_id`` of ``plan``, or ``None``."""
    for component in plan.components:
        if component.id == component_id:
            return component
    return None
