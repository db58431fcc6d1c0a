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
   built only for the statement period, column by column (`._batch_lines`), and only
   when asked for: every payee's by `run()`, one payee's by `statement(payee)`.

`calculate_columns` returns a `PayoutColumns`: what every component earned per payee
and period as arrays, every credit line of the year as columns (`credit_lines`,
`lines_frame`), and `run()`, the `PayoutRun` equal to the reference engine's (its
`earned` made from the arrays on first use).
"""

from __future__ import annotations

import gc
from bisect import bisect_left
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from itertools import chain, repeat
from typing import TYPE_CHECKING, Any, final

import numpy as np

from salesflow._interop import require_pandas
from salesflow.money import Currency, Money, from_minor_units_array

from ._batch_credit import KIND_NAMES, Coverage, Crediting, check_table, credit_rows, day_number
from ._batch_lines import ComponentLines, bulk_lines, component_lines, recalculations
from ._batch_measure import Calendar, MeasureBook
from ._batch_pay import Context, pay, plan_cap
from ._plan import PLAN_CAP_ID
from ._prepare import (
    Lookups,
    check_adjustments,
    check_ledger,
    check_org,
    resolve_period,
    resolve_roster,
    resolve_versions,
)
from ._run import BuiltOnUse, PayoutRun, StatementsOnUse
from ._statement import Line, Statement, statements_from_columns
from ._table_input import TransactionTable

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Iterable, Iterator, Mapping, Sequence
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
    # On the plan in the statement period or earlier in the year (`Roster.has_statement`).
    stated = np.flatnonzero(on_plan[:, : index + 1].any(axis=1))
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
        components: The component ids, in plan order; then ``"plan.cap"`` (`PLAN_CAP_ID`)
            when some version of the plan has a `PlanCap`.
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
        capped = plan_cap(context, self._earned)  # last: on what every component earned
        if capped is not None:
            self._paid[PLAN_CAP_ID] = capped
            self._earned[PLAN_CAP_ID] = capped.earned()
        for matrix in self._earned.values():
            matrix.flags.writeable = False  # shared with `earned` and the run's `earned`

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
        return self._earned[component_id]

    def _earned_on_use(self) -> BuiltOnUse[EarnedKey, Money]:
        """`PayoutRun.earned`, made from the matrices when first read."""
        currency = self._context.currency
        return BuiltOnUse(partial(_earned_cells, self._earned, self.payees, self.periods, currency))

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

    def statement(self, payee: str) -> Statement:
        """The statement of ``payee``, built on demand: equal to ``run().statement(payee)``.

        Builds that payee's lines only: the way to look at a few statements of a big
        run without building every payee's.

        Raises:
            KeyError: ``payee`` has no statement in this run (not on the plan).
        """
        payees = self.payees
        position = bisect_left(payees, payee)
        if position == len(payees) or payees[position] != payee:
            msg = f"{payee!r} has no statement for plan {self.plan!r} in {self.period}"
            raise KeyError(msg)
        with _collector_paused():
            return self._built(self._heads(position, position + 1), position, position + 1)[0]

    def run(self) -> PayoutRun:
        """The `PayoutRun`: statements for the statement period, equal to the reference's.

        Its statements' totals (and line counts, draw balances, recalculations) are
        computed now; each statement's lines are built when it is first read, a block
        of neighbours at a time (`StatementsOnUse`).
        """
        with _collector_paused():
            heads = self._heads(0, len(self.payees))
        statements = StatementsOnUse(
            self.payees, heads.totals, heads.counts, partial(self._built_paused, heads)
        )
        return PayoutRun(
            plan=self.plan,
            period=self.period,
            currency=self._context.currency.code,
            statements=statements,
            problems=self.problems,
            periods=self.periods,
            earned=self._earned_on_use(),
            draw_balances=heads.balances,
        )

    def _heads(self, first: int, stop: int) -> _Heads:
        """Statement payees ``first`` to ``stop - 1`` without their bulk lines."""
        context = self._context
        draw = context.versions.for_period(context.periods[context.last]).draw
        payees = self.payees[first:stop]
        parts = [component_lines(paid, first, stop) for paid in self._paid.values()]
        minor = sum((part.minor for part in parts), np.zeros(len(payees), dtype=np.int64))
        counts = sum((part.counts for part in parts), np.zeros(len(payees), dtype=np.int64))
        later = recalculations(context, self._earned, self._ledger, first, stop)
        adjustments = self._adjustment_lines()
        # At the minor unit even with no lines (decision D21): "0.00 CNY", not "0 CNY".
        totals = from_minor_units_array(minor, context.currency)
        tails: list[list[Line]] = []
        balances: dict[str, Money] = {}
        for at, payee in enumerate(payees):
            rest = [line for part in parts for line in part.rest[at]]
            tail = later[at] + adjustments.get(payee, [])
            stated = self._ledger.draw_balance(payee, self.plan)
            balance = 0 if stated is None else stated.to_minor_units()
            if draw is not None and context.on_plan[context.stated[first + at], context.last]:
                lines, balance = _draw(context, draw, int(minor[at]), rest + tail, balance)
                tail += lines
            if rest or tail:
                totals[at] += Money.sum(
                    (line.amount for line in chain(rest, tail)), context.currency
                )
            if balance:
                balances[payee] = context.money(balance)
            tails.append(tail)
        counts += np.array([len(tail) for tail in tails], dtype=np.int64)
        for part in parts:
            counts += np.array([len(lines) for lines in part.rest], dtype=np.int64)
        return _Heads(first, parts, tails, totals, counts.tolist(), balances)

    def _built(self, heads: _Heads, first: int, stop: int) -> list[Statement]:
        """The statements of payees ``first`` to ``stop - 1``, within ``heads``' range."""
        offset = first - heads.first
        bulk = [bulk_lines(paid, first, stop) for paid in self._paid.values()]
        bodies: list[tuple[Line, ...]] = []
        for at in range(stop - first):
            lines: list[Line] = []
            for part, made in zip(heads.parts, bulk, strict=True):
                lines += made[at]
                lines += part.rest[offset + at]
            lines += heads.tails[offset + at]
            bodies.append(tuple(lines))
        columns = {
            "payee": self.payees[first:stop],
            "lines": bodies,
            "total": heads.totals[offset : offset + stop - first],
        }
        return statements_from_columns(stop - first, columns, plan=self.plan, period=self.period)

    def _built_paused(self, heads: _Heads, first: int, stop: int) -> list[Statement]:
        """`_built` with the cyclic collector paused (a block read from a run)."""
        with _collector_paused():
            return self._built(heads, first, stop)

    def _adjustment_lines(self) -> dict[str, list[Line]]:
        """Each payee's adjustment lines, in the order given."""
        lines: dict[str, list[Line]] = {}
        for adjustment in self._adjustments:
            lines.setdefault(adjustment.payee, []).append(
                Line(
                    kind="adjustment",
                    amount=adjustment.amount,
                    component=adjustment.component,
                    note=f"{adjustment.reason} ({adjustment.by})",
                )
            )
        return lines


@final
@dataclass(frozen=True, slots=True)
class _Heads:
    """A range of statements without their bulk lines: what their totals need.

    Attributes:
        first: The range's first statement payee (a position in `PayoutColumns.payees`).
        parts: Per component, in plan order, its lines counted and its other lines.
        tails: Per payee, its recalculation, adjustment and draw lines.
        totals: Per payee, the statement total.
        counts: Per payee, the number of lines.
        balances: The recoverable draw still owed, per payee that owes one.
    """

    first: int
    parts: list[ComponentLines]
    tails: list[list[Line]]
    totals: list[Money]
    counts: list[int]
    balances: dict[str, Money]


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector paused while statements are built.

    A run's statements are hundreds of thousands of new objects (lines, their Money);
    left running, the collector would walk the whole growing heap again and again while
    they are made: half the time of building them. They hold no reference cycles, so
    pausing misses nothing; it is left as it was found (paused by the host: untouched).
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _earned_cells(
    earned: Mapping[str, NDArray[np.int64]],
    payees: Sequence[str],
    periods: Sequence[str],
    currency: Currency,
) -> dict[EarnedKey, Money]:
    """`PayoutRun.earned` from the matrices: the nonzero cells, component by component."""
    cells: dict[EarnedKey, Money] = {}
    names = np.array(payees, dtype=object)
    labels = np.array(periods, dtype=object)
    with _collector_paused():
        for cid, matrix in earned.items():
            rows, columns = np.nonzero(matrix)
            # Capped months repeat one amount: one Money per distinct amount.
            amounts, inverse = np.unique(matrix[rows, columns], return_inverse=True)
            made = from_minor_units_array(amounts, currency)
            keys = zip(names[rows].tolist(), repeat(cid), labels[columns].tolist(), strict=False)
            amount_of = map(made.__getitem__, inverse.reshape(-1).tolist())
            cells.update(zip(keys, amount_of, strict=True))
    return cells


def _draw(
    context: Context, draw: Draw | None, units: int, rest: Sequence[Line], balance: int
) -> tuple[list[Line], int]:
    """The draw or draw-recovery line, and the recoverable balance after it (minor units).

    The period's pay is ``units`` plus the amounts of ``rest`` (the other lines).
    """
    if draw is None:
        return [], balance
    pay = units + sum(context.minor(line.amount.amount) for line in rest)
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
