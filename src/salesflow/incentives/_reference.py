"""The reference engine: the spec of docs/incentives.md, one row at a time, exactly.

Readable before fast: credit rows and measures come from `_reference_book`, each
component's lines from `_reference_pay`; this module puts a statement together
(spec 10): the components' lines of the period, the plan cap's (D28), recalculations
against the ledger, adjustments, the draw, in the documented order. Amounts are
`Decimal` (through `Money`) and `Fraction`; nothing is a float.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from salesflow.money import Money

from ._plan import PLAN_CAP_ID, Bonus, Commission, Contest, Milestone, Pool, Scorecard
from ._prepare import prepare
from ._reference_book import Book, find_component
from ._reference_pay import (
    Lines,
    bonus,
    commission,
    contest,
    milestone,
    plan_cap,
    pool,
    scorecard,
)
from ._run import EarnedKey, PayoutRun
from ._statement import Line, Statement

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping, Sequence
    from decimal import Decimal

    from salesflow.periods import Period
    from salesflow.targets import OrgTree

    from ._inputs import Adjustment, Assignment, Transaction
    from ._plan import Draw, Plan
    from ._prepare import QuotaSource
    from ._run import Ledger

__all__ = ["calculate_reference"]

_PER_PAYEE: Final[dict[type, Callable[[Book, str, str], Lines]]] = {
    Commission: commission,
    Bonus: bonus,
    Milestone: milestone,
    Scorecard: scorecard,
}
_SHARED: Final[dict[type, Callable[[Book, str], dict[str, Lines]]]] = {
    Pool: pool,
    Contest: contest,
}
_ALWAYS_SHOWN: Final = ("credit", "gate")  # a zero credit or closed gate still explains


def calculate_reference(  # noqa: PLR0913 - the arguments of calculate()
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
) -> PayoutRun:
    """`calculate` with ``engine="reference"``; see there."""
    prepared = prepare(
        plan,
        transactions,
        assignments,
        period=period,
        ledger=ledger,
        quotas=quotas,
        kpis=kpis,
        org=org,
        fx=fx,
        adjustments=adjustments,
    )
    book = Book(prepared, org)
    components = prepared.versions.component_ids()
    capped = any(version.cap is not None for version in prepared.versions.plans)
    shared = _shared_lines(book, components)
    statements: list[Statement] = []
    earned: dict[EarnedKey, Money] = {}
    balances: dict[str, Money] = {}
    for payee in book.statement_payees():
        lines = {cid: _component_lines(book, shared, payee, cid) for cid in components}
        if capped:  # last: on what every component earned (decisions D28, D29)
            lines[PLAN_CAP_ID] = plan_cap(book, payee, lines)
        for cid, by_period in lines.items():
            for j, amount in _earned(book, by_period).items():
                earned[(payee, cid, prepared.periods[j].label)] = amount
        statement, balance = _statement(book, ledger, payee, lines)
        statements.append(statement)
        if not balance.amount.is_zero():
            balances[payee] = balance
    return PayoutRun(
        plan=book.plan_id,
        period=prepared.period.label,
        currency=book.currency.code,
        statements=tuple(statements),
        problems=tuple(book.problems),
        periods=tuple(p.label for p in book.periods),
        earned=earned,
        draw_balances=balances,
    )


def _kind_of(book: Book, component_id: str) -> type:
    for plan in book.prepared.versions.plans:
        component = find_component(plan, component_id)
        if component is not None:
            return type(component)
    raise KeyError(component_id)  # pragma: no cover - ids come from the versions


def _shared_lines(book: Book, components: Sequence[str]) -> dict[str, dict[str, Lines]]:
    """Pools and contests, computed once for every payee."""
    shared: dict[str, dict[str, Lines]] = {}
    for component_id in components:
        compute = _SHARED.get(_kind_of(book, component_id))
        if compute is not None:
            shared[component_id] = compute(book, component_id)
    return shared


def _component_lines(
    book: Book, shared: Mapping[str, Mapping[str, Lines]], payee: str, component_id: str
) -> Lines:
    if component_id in shared:
        found = shared[component_id].get(payee, {})
    else:
        found = _PER_PAYEE[_kind_of(book, component_id)](book, payee, component_id)
    return {j: [line for line in lines if _shown(line)] for j, lines in found.items()}


def _shown(line: Line) -> bool:
    return line.kind in _ALWAYS_SHOWN or not line.amount.amount.is_zero()


def _earned(book: Book, by_period: Lines) -> dict[int, Money]:
    """What the component earned per period index (e), nonzero only."""
    sums = {
        j: Money.sum((line.amount for line in lines), book.currency)
        for j, lines in by_period.items()
    }
    return {j: amount for j, amount in sums.items() if not amount.amount.is_zero()}


def _statement(
    book: Book, ledger: Ledger, payee: str, lines: Mapping[str, Lines]
) -> tuple[Statement, Money]:
    k = book.last
    period = book.prepared.periods[k]
    body = [line for cid in lines for line in lines[cid].get(k, [])]
    body += _recalculations(book, ledger, payee, lines)
    body += _adjustments(book, payee)
    balance = ledger.draw_balance(payee, book.plan_id) or book.zero()
    if book.prepared.roster.on_plan(payee, period):  # a leaver gets no draw (D2)
        draw_lines, balance = _draw(book, book.version_for(k).draw, body, balance)
        body += draw_lines
    # Zero at the minor unit, so a statement without lines reads "0.00 CNY" like others.
    total = Money.from_minor_units(0, book.currency) + Money.sum(
        (line.amount for line in body), book.currency
    )
    statement = Statement(
        payee=payee, plan=book.plan_id, period=period.label, lines=tuple(body), total=total
    )
    return statement, balance


def _recalculations(
    book: Book, ledger: Ledger, payee: str, lines: Mapping[str, Lines]
) -> list[Line]:
    result: list[Line] = []
    for component_id, by_period in lines.items():
        earned = _earned(book, by_period)
        for j in range(book.last):
            label = book.prepared.periods[j].label
            stated = ledger.stated(payee, book.plan_id, component_id, label) or book.zero()
            recomputed = earned.get(j, book.zero())
            if recomputed != stated:
                result.append(
                    Line(
                        kind="recalculation",
                        amount=recomputed - stated,
                        component=component_id,
                        basis=stated,
                        period=label,
                    )
                )
    return result


def _adjustments(book: Book, payee: str) -> list[Line]:
    return [
        Line(
            kind="adjustment",
            amount=adjustment.amount,
            component=adjustment.component,
            note=f"{adjustment.reason} ({adjustment.by})",
        )
        for adjustment in book.prepared.adjustments
        if adjustment.payee == payee
    ]


def _draw(
    book: Book, draw: Draw | None, body: list[Line], balance: Money
) -> tuple[list[Line], Money]:
    """The draw or draw-recovery line, and the recoverable balance after it."""
    if draw is None:
        return [], balance
    pay = Money.sum((line.amount for line in body), book.currency)
    floor = book.money(draw.amount)
    if pay < floor:
        advance = floor - pay
        owed = balance + advance if draw.recoverable else balance
        note = "recoverable" if draw.recoverable else "non_recoverable"
        return [Line(kind="draw", amount=advance, note=note)], owed
    if draw.recoverable and balance.amount > 0:
        recovered = min(balance, pay - floor)
        if recovered.amount.is_zero():
            return [], balance
        return [Line(kind="draw_recovery", amount=-recovered)], balance - recovered
    return [], balance
