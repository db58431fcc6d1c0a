"""The batch engine: `calculate(..., engine="batch")` over numpy columns.

The same stages as the reference engine (`._reference`), each over whole columns:

1. checks, through the shared functions of `._prepare` (a `TransactionTable` is
   checked column-wise and its first bad row re-checked by the shared function, so
   every error is the reference's);
2. crediting: every credit row as columns (`._batch_credit`);
3. measures: one filter mask per measure and version, values per payee and period
   (`._batch_measure`);
4. components: rating over rows, period-level pay over payees (`._batch_pay`);
5. statements: recalculations, adjustments and draws per payee; `Line` objects are
   built only for the statement period, and only when the run is asked for.

`calculate_columns` returns a `PayoutColumns`: what every component earned per payee
and period as arrays, every credit line of the year as columns (`credit_lines`,
`lines_frame`), and `run()`, the `PayoutRun` equal to the reference engine's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final, final

import numpy as np

from salesflow._interop import require_pandas
from salesflow.money import Currency, Money

from ._batch_credit import KIND_NAMES, Coverage, Crediting, check_table, credit_rows, day_number
from ._batch_measure import Calendar, MeasureBook
from ._batch_pay import Context, pay
from ._prepare import (
    Lookups,
    check_adjustments,
    check_ledger,
    check_org,
    resolve_period,
    resolve_roster,
    resolve_versions,
)
from ._run import PayoutRun
from ._statement import Line, Statement
from ._table_input import TransactionTable

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Iterable, Mapping, Sequence
    from decimal import Decimal

    import pandas as pd
    from numpy.typing import NDArray

    Ints = NDArray[np.signedinteger[Any]]  # index and code columns, of any width

    from salesflow.errors import Problem
    from salesflow.periods import Period
    from salesflow.targets import OrgTree

    from ._batch_pay import Paid
    from ._inputs import Adjustment, Assignment, Transaction
    from ._plan import Draw, Plan
    from ._prepare import QuotaSource, Roster, Versions
    from ._run import EarnedKey, Ledger

__all__ = ["PayoutColumns", "calculate_batch", "calculate_columns"]

_ALWAYS_SHOWN: Final = ("credit", "gate")  # a zero credit or closed gate still explains


def calculate_batch(  # noqa: PLR0913 - the arguments of calculate()
    plan: Plan | Sequence[Plan],
    transactions: Iterable[Transaction] | TransactionTable,
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
    """`calculate` with ``engine="batch"``; see there. Equal to the reference's run."""
    return calculate_columns(
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
    ).run()


def calculate_columns(  # noqa: PLR0913 - the arguments of calculate()
    plan: Plan | Sequence[Plan],
    transactions: Iterable[Transaction] | TransactionTable,
    assignments: Iterable[Assignment],
    *,
    period: Period | str,
    ledger: Ledger,
    quotas: Mapping[str, QuotaSource] | None = None,
    kpis: Mapping[str, Mapping[tuple[str, str], Decimal]] | None = None,
    org: OrgTree | None = None,
    fx: Mapping[str, Decimal] | None = None,
    adjustments: Iterable[Adjustment] = (),
) -> PayoutColumns:
    """The batch engine's run as columns; `PayoutColumns.run` gives the `PayoutRun`.

    Takes the arguments of `calculate` (without ``engine``) and raises its errors, in
    the same order; transactions may be a `TransactionTable`.
    """
    versions = resolve_versions(plan)
    periods, index = resolve_period(versions, period)
    check_org(versions, org)
    roster = resolve_roster(assignments, versions.first.id)
    check_ledger(ledger, versions.first.id, periods[index].label)
    table = (
        transactions
        if isinstance(transactions, TransactionTable)
        else TransactionTable.from_records(transactions)
    )
    units = check_table(table, versions, fx)
    chosen = check_adjustments(adjustments, versions, periods[index], roster)
    lookups = Lookups(versions, roster, quotas or {}, kpis or {})
    context, problems = _context(
        table,
        units,
        versions=versions,
        periods=periods,
        index=index,
        roster=roster,
        lookups=lookups,
        org=org,
    )
    return PayoutColumns(context, ledger, chosen, problems)


def _context(  # noqa: PLR0913 - the checked input
    table: TransactionTable,
    units: NDArray[np.int64],
    *,
    versions: Versions,
    periods: tuple[Period, ...],
    index: int,
    roster: Roster,
    lookups: Lookups,
    org: OrgTree | None,
) -> tuple[Context, list[Problem]]:
    first = versions.first
    payees = tuple(sorted(roster.by_payee))
    position = {name: i for i, name in enumerate(payees)}
    spans = [
        (position[payee], *_span(assignment.start, assignment.end))
        for payee, entries in roster.by_payee.items()
        for _, assignment in entries
    ]
    starts = np.array([day_number(p.start) for p in periods[: index + 1]], dtype=np.int64)
    ends = np.array([day_number(p.end) for p in periods[: index + 1]], dtype=np.int64)
    year = (day_number(versions.year.start), day_number(versions.year.end))
    how = Crediting(
        span=(year[0], int(ends[-1])),
        payees=position,
        coverage=Coverage(spans),
        versions=[(day_number(a), day_number(b)) for a, b in versions.spans],
        levels=[plan.crediting.override_levels for plan in versions.plans],
        plan_id=first.id,
        rounding=first.rounding,
        org=org,
    )
    rows, problems = credit_rows(table, units, how)
    calendar = Calendar(starts, ends, year)
    book = MeasureBook(
        rows, table, units, versions.plans, names=payees, payees=len(payees), calendar=calendar
    )
    on_plan = _on_plan(spans, len(payees), starts, ends)
    # On the plan in the statement period: an assignment overlaps it (`Roster.on_plan`).
    stated = np.flatnonzero(on_plan[:, index])
    context = Context(
        versions=versions,
        periods=periods,
        last=index,
        roster=roster,
        lookups=lookups,
        payees=payees,
        stated=stated,
        on_plan=on_plan,
        rows=rows,
        book=book,
        table=table,
        currency=Currency(first.currency),
        rounding=first.rounding,
    )
    return context, problems


def _span(start: dt.date | None, end: dt.date | None) -> tuple[int, int]:
    """An assignment's first and last day numbers (open ends far outside any year)."""
    first = -(2**30) if start is None else day_number(start)
    last = 2**30 if end is None else day_number(end)
    return first, last


def _on_plan(
    spans: Sequence[tuple[int, int, int]],
    payees: int,
    starts: NDArray[np.int64],
    ends: NDArray[np.int64],
) -> NDArray[np.bool_]:
    """bool[P, K]: an assignment of the payee overlaps a day of period j."""
    on = np.zeros((payees, len(starts)), dtype=bool)
    if not spans:
        return on
    who = np.array([s[0] for s in spans], dtype=np.intp)
    first = np.array([s[1] for s in spans], dtype=np.int64)
    last = np.array([s[2] for s in spans], dtype=np.int64)
    overlaps = (first[:, None] <= ends[None, :]) & (last[:, None] >= starts[None, :])
    np.logical_or.at(on, who, overlaps)
    return on


@final
class PayoutColumns:
    """A batch run as arrays: what each component earned, per payee and period.

    Attributes:
        plan: The plan id.
        period: The statement period's label.
        periods: The labels of the periods computed (the first through ``period``).
        payees: The payees with a statement, sorted.
        components: The component ids, in plan order.
        problems: Findings about the input (credit not given, ...), as data.
    """

    __slots__ = (
        "_adjustments",
        "_context",
        "_earned",
        "_labels",
        "_ledger",
        "_names",
        "_paid",
        "_payees",
        "problems",
    )

    def __init__(
        self,
        context: Context,
        ledger: Ledger,
        adjustments: Sequence[Adjustment],
        problems: Sequence[Problem],
    ) -> None:
        """Compute every component's pay; lines are built later, on demand."""
        self._context = context
        self._ledger = ledger
        self._adjustments = tuple(adjustments)
        self.problems = tuple(problems)
        self._names = (context.versions.first.id, context.periods[context.last].label)
        self._labels = tuple(p.label for p in context.periods[: context.count])
        self._payees = tuple(context.payees[i] for i in context.stated.tolist())
        ids = context.versions.component_ids()
        self._paid: dict[str, Paid] = {cid: pay(context, cid) for cid in ids}
        self._earned = {cid: paid.earned() for cid, paid in self._paid.items()}

    @property
    def plan(self) -> str:
        """The plan id."""
        return self._names[0]

    @property
    def period(self) -> str:
        """The statement period's label."""
        return self._names[1]

    @property
    def periods(self) -> tuple[str, ...]:
        """The labels of the periods computed."""
        return self._labels

    @property
    def payees(self) -> tuple[str, ...]:
        """The payees with a statement, sorted."""
        return self._payees

    @property
    def components(self) -> tuple[str, ...]:
        """The component ids, in plan order."""
        return tuple(self._earned)

    def earned(self, component_id: str) -> NDArray[np.int64]:
        """e[p, j] of one component: int64 minor units, rows ``payees``, columns ``periods``.

        Recalculation, adjustment and draw lines are not part of it (spec 10).
        """
        earned = self._earned[component_id]
        earned.flags.writeable = False
        return earned

    def credit_lines(self, component_id: str) -> dict[str, NDArray[np.generic]]:
        """Every credit line of a commission over the periods computed, as columns.

        In credit-row order (date, then transaction, then split).

        Keys: ``payee`` (index into `payees`), ``transaction`` (the table row),
        ``period`` (index into `periods`), ``credit`` (0 direct, 1 overlay, 2
        override), ``basis``, ``before``, ``amount`` and ``uncapped`` (int64 minor
        units), ``tier_before`` and ``tier_after``.
        """
        paid = self._paid[component_id]
        lines = getattr(paid, "lines_", None)
        if lines is None:
            msg = f"{component_id!r} is not a commission"
            raise KeyError(msg)
        rated = lines.rated
        rows = self._context.rows
        order = np.argsort(rated.row, kind="stable")  # credit-row order
        details = rated.details.take(order)
        row = rated.row[order]
        return {
            "payee": paid.payee_of_line[order],  # type: ignore[attr-defined]
            "transaction": rows.tx[row],
            "period": rated.period[order],
            "credit": rows.kind[row],
            "basis": rows.amount[row],
            "before": details.before,
            "amount": rated.amount[order],
            "uncapped": rated.uncapped[order],
            "tier_before": details.tier_before,
            "tier_after": details.tier_after,
        }

    def lines_frame(self, component_id: str) -> pd.DataFrame:
        """`credit_lines` as a pandas DataFrame with ids, labels and Decimal amounts."""
        require_pandas()
        import pandas as pd  # noqa: PLC0415 - the [dataframe] extra, imported on use

        columns = self.credit_lines(component_id)
        context = self._context
        names = np.array(self.payees, dtype=object)
        labels = np.array(self.periods, dtype=object)
        places = context.currency.minor_units
        frame = pd.DataFrame(
            {
                "payee": names[columns["payee"]],
                "transaction": [context.table.id_of(int(r)) for r in columns["transaction"]],
                "period": labels[columns["period"]],
                "credit": np.array(KIND_NAMES, dtype=object)[columns["credit"]],
            }
        )
        for name in ("basis", "before", "amount", "uncapped"):
            currency = context.currency
            amounts = [Money.from_minor_units(int(v), currency).amount for v in columns[name]]
            frame[name] = pd.Series(amounts, dtype=object)
        frame["places"] = places
        return frame.drop(columns="places")

    def run(self) -> PayoutRun:
        """The `PayoutRun`: statements for the statement period, equal to the reference's."""
        context = self._context
        statements: list[Statement] = []
        balances: dict[str, Money] = {}
        draw = context.versions.for_period(context.periods[context.last]).draw
        for position, payee in enumerate(self.payees):
            statement, balance = self._statement(position, payee, draw)
            statements.append(statement)
            if balance:
                balances[payee] = context.money(balance)
        return PayoutRun(
            plan=self.plan,
            period=self.period,
            currency=context.currency.code,
            statements=tuple(statements),
            problems=self.problems,
            periods=self.periods,
            earned=self._earned_mapping(),
            draw_balances=balances,
        )

    def _earned_mapping(self) -> dict[EarnedKey, Money]:
        earned: dict[EarnedKey, Money] = {}
        payees = self.payees
        labels = self.periods
        context = self._context
        money = context.money
        made: dict[int, Money] = {}  # capped months repeat one amount: one Money for it
        for cid, matrix in self._earned.items():
            rows, columns = np.nonzero(matrix)
            amounts = matrix[rows, columns].tolist()
            for position, j, amount in zip(rows.tolist(), columns.tolist(), amounts, strict=True):
                found = made.get(amount)
                if found is None:
                    found = made[amount] = money(amount)
                earned[(payees[position], cid, labels[j])] = found
        return earned

    def _statement(self, position: int, payee: str, draw: Draw | None) -> tuple[Statement, int]:
        context = self._context
        body: list[Line] = []
        for paid in self._paid.values():
            body += [line for line in paid.lines(position) if _shown(line)]
        body += self._recalculations(position, payee)
        body += [
            Line(
                kind="adjustment",
                amount=adjustment.amount,
                component=adjustment.component,
                note=f"{adjustment.reason} ({adjustment.by})",
            )
            for adjustment in self._adjustments
            if adjustment.payee == payee
        ]
        stated = self._ledger.draw_balance(payee, self.plan)
        balance = 0 if stated is None else stated.to_minor_units()
        lines, balance = _draw(context, draw, body, balance)
        body += lines
        # At the minor unit even with no lines (decision D21): "0.00 CNY", not "0 CNY".
        total = Money.from_minor_units(0, context.currency) + Money.sum(
            (line.amount for line in body), context.currency
        )
        statement = Statement(
            payee=payee, plan=self.plan, period=self.period, lines=tuple(body), total=total
        )
        return statement, balance

    def _recalculations(self, position: int, payee: str) -> list[Line]:
        """A line per earlier period whose recomputed pay differs from what was stated."""
        context = self._context
        result: list[Line] = []
        labels = self.periods[: context.last]
        for cid, matrix in self._earned.items():
            recomputed = matrix[position, : context.last].tolist()
            for j, label in enumerate(labels):
                found = self._ledger.stated(payee, self.plan, cid, label)
                stated = context.money(0) if found is None else found
                now = context.money(recomputed[j])
                if now != stated:
                    result.append(
                        Line(
                            kind="recalculation",
                            amount=now - stated,
                            component=cid,
                            basis=stated,
                            period=label,
                        )
                    )
        return result


def _shown(line: Line) -> bool:
    return line.kind in _ALWAYS_SHOWN or not line.amount.amount.is_zero()


def _draw(
    context: Context, draw: Draw | None, body: list[Line], balance: int
) -> tuple[list[Line], int]:
    """The draw or draw-recovery line, and the recoverable balance after it (minor units)."""
    if draw is None:
        return [], balance
    pay = sum(context.minor(line.amount.amount) for line in body)
    floor = context.minor(draw.amount)
    if pay < floor:
        advance = floor - pay
        owed = balance + advance if draw.recoverable else balance
        note = "recoverable" if draw.recoverable else "non_recoverable"
        return [Line(kind="draw", amount=context.money(advance), note=note)], owed
    if draw.recoverable and balance > 0:
        recovered = min(balance, pay - floor)
        if recovered == 0:
            return [], balance
        return [Line(kind="draw_recovery", amount=context.money(-recovered))], balance - recovered
    return [], balance
