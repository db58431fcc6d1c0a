"""The reference engine's components: what each one pays, period by period (spec 4-9).

Each function returns, for one payee (or, for pools and contests, every payee) and one
component id, the component's lines per period index from the fiscal year's first
period through the statement period, in statement order. Zero lines are kept here;
the statement drops them (except credit lines and a closed scorecard gate).
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import TYPE_CHECKING, Final, final

from salesflow.money import Money, allocate, allocate_equal

from ._plan import Bonus, Commission, Contest, Milestone, Pool, Scorecard
from ._rating import _bands_between
from ._reference_book import as_decimal, find_component, sign
from ._schedule import tidy
from ._statement import Line

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping, Sequence

    from ._plan import Cap, CurvePoint, Gate, PlanCap, Window
    from ._prepare import PeriodTarget
    from ._reference_book import Book, CreditRow

__all__ = [
    "Lines",
    "bonus",
    "commission",
    "contest",
    "curve",
    "milestone",
    "plan_cap",
    "pool",
    "scorecard",
    "scorecard_period",
]

Lines = dict[int, list[Line]]
"""Period index -> the component's lines in that period, in statement order."""

_NO_LINES: Final[list[Line]] = []


def _key(kind: Window, j: int) -> tuple[str, int]:
    """The running-total key of period ``j``'s window."""
    return ("period", j) if kind == "period" else ("year", 0)


# -- commission (spec 4) ---------------------------------------------------------------


@final
@dataclass(slots=True)
class _Totals:
    """Running sums over the fiscal year of one payee's component (or of the plan cap).

    ``gate`` and ``limit`` are the yearly steps as they stood in the last period the
    payee was on the plan: an off-plan period keeps applying them (decision D3).
    """

    t: Money  # T: credit lines and clawbacks of rows credited in the same window
    g: Money  # pay after the gate
    s: Money  # S: pay after period cap and floor, plus clawbacks of earlier windows
    c: Money  # C: pay after the yearly cap
    gate: tuple[Fraction, Gate] | None = None  # a year-window gate's attainment and gate
    limit: Money | None = None  # the yearly cap's Y


@final
@dataclass(frozen=True, slots=True)
class _Clawback:
    """A commission clawback line, where it sorts, and whether its row is of an earlier window."""

    key: tuple[object, ...]
    line: Line
    earlier: bool


def commission(book: Book, payee: str, component_id: str) -> Lines:
    """Credit and clawback lines, then gate, period cap, floor and yearly cap lines.

    The gate, period cap and floor see the period's credit lines and the clawbacks of
    rows credited in the same window; a clawback of a row credited in an earlier window
    (``late``) is added after the floor, before the yearly cap (decision D24).
    """
    rated_rows, clawbacks = _rate_rows(book, payee, component_id)
    zero = book.zero()
    totals = _Totals(zero, zero, zero, zero)
    result: Lines = {}
    for j in range(book.last + 1):
        backs = sorted(clawbacks.get(j, []), key=lambda back: back.key)
        rated = rated_rows.get(j, _NO_LINES) + [back.line for back in backs]
        late = Money.sum((b.line.amount for b in backs if b.earlier), book.currency)
        t = Money.sum((line.amount for line in rated), book.currency) - late
        extra = _period_lines(book, payee, component_id, j, t=(t, late), totals=totals)
        result[j] = rated + extra
    return result


def _rate_rows(
    book: Book, payee: str, component_id: str
) -> tuple[dict[int, list[Line]], dict[int, list[_Clawback]]]:
    events: list[tuple[tuple[object, ...], CreditRow, Commission]] = []
    end = book.periods[-1].end
    for row in book.by_payee.get(payee, ()):
        component = find_component(row.version, component_id)
        if not isinstance(component, Commission) or not book.counts(component.measure, row):
            continue
        events.append(((row.date, 0, row.order), row, component))
        if row.cancelled is not None and row.cancelled <= end:
            events.append(((row.cancelled, 1, row.order), row, component))
    events.sort(key=lambda event: event[0])
    running: dict[tuple[str, int], Money] = {}
    paid: dict[int, Money] = {}
    credit_lines: dict[int, list[Line]] = defaultdict(list)
    clawbacks: dict[int, list[_Clawback]] = defaultdict(list)
    for key, row, component in events:
        if key[1] == 0:
            line = _rate(book, row, component, component_id, running)
            paid[row.order] = line.amount
            credit_lines[book.period_of(row.date)].append(line)
            continue
        clawback = _cancel(book, row, component, running=running, paid=paid[row.order])
        if clawback is not None:
            line, earlier = clawback
            at = book.period_of(line.date)  # type: ignore[arg-type]
            clawbacks[at].append(_Clawback(key, line, earlier))
    return credit_lines, clawbacks


def _rate(
    book: Book,
    row: CreditRow,
    component: Commission,
    component_id: str,
    running: dict[tuple[str, int], Money],
) -> Line:
    j = book.period_of(row.date)
    schedule = book.schedule(component, row.payee, j)
    key = _key(component.accumulate, j)
    before = running.get(key, book.zero()) if component.rating == "cumulative" else book.zero()
    after = before + row.amount
    if component.rating == "cumulative":
        running[key] = after
    exact_before = schedule.payout(before.amount)
    exact_after = schedule.payout(after.amount)
    amount = book.round(exact_after) - book.round(exact_before)
    bands = _bands_between(schedule, before.amount, after.amount)
    limit = None if component.cap is None else component.cap.per_transaction
    capped_from = None
    # The per-deal cap bounds both ways (decision D25): a refund booked as its own
    # negative deal takes back at most what a capped deal could pay.
    if limit is not None and abs(amount) > book.money(limit):
        capped_from = amount
        amount = book.money(limit) if amount.amount > 0 else -book.money(limit)
    return Line(
        kind="credit",
        amount=amount,
        component=component_id,
        transaction=row.transaction.id,
        date=row.date,
        credit=row.kind,
        basis=row.amount,
        before=before,
        tiers=tuple(band.index for band in bands),
        rates=tuple(band.rate for band in bands),
        exact=tidy(exact_after - exact_before, book.currency.minor_units),
        capped_from=capped_from,
    )


def _cancel(
    book: Book,
    row: CreditRow,
    component: Commission,
    *,
    running: dict[tuple[str, int], Money],
    paid: Money,
) -> tuple[Line, bool] | None:
    """Leave the running total (same window); the clawback line, if within the days.

    Also whether the row was credited in an earlier window than the cancellation's.
    """
    assert row.cancelled is not None  # noqa: S101 - only cancelled rows have cancel events
    j_row, j_cancel = book.period_of(row.date), book.period_of(row.cancelled)
    key = _key(component.accumulate, j_row)
    same_window = key == _key(component.accumulate, j_cancel)
    if component.rating == "cumulative" and same_window:
        running[key] = running.get(key, book.zero()) - row.amount
    clawback = component.clawback
    if clawback is None or (row.cancelled - row.date).days > clawback.within_days:
        return None
    line = Line(
        kind="clawback",
        amount=-paid,
        component=component.id,
        transaction=row.transaction.id,
        date=row.cancelled,
        credit=row.kind,
        basis=row.amount,
    )
    return line, not same_window


def _period_lines(  # noqa: PLR0913 - one period of one payee's component
    book: Book,
    payee: str,
    component_id: str,
    j: int,
    *,
    t: tuple[Money, Money],
    totals: _Totals,
) -> list[Line]:
    """Gate, period cap, floor on ``t[0]``; ``t[1]`` (earlier windows' clawbacks) after."""
    same, late = t
    totals.t += same
    if not book.on_plan(payee, j):
        return _off_plan(book, component_id, t=t, totals=totals)
    component = book.component_for(j, component_id)
    if not isinstance(component, Commission):
        totals.gate, totals.limit = None, None
        totals.g += same
        totals.s += same + late
        totals.c += same + late
        return []
    lines: list[Line] = []
    g = _gate(book, payee, component, j, t=same, totals=totals, lines=lines)
    totals.g += g
    p = _cap_and_floor(book, component, g, lines)
    totals.limit = _year_limit(book, payee, component.cap, j)
    _year_cap(totals.limit, component.id, p=p + late, totals=totals, lines=lines)
    return lines


def _off_plan(
    book: Book, component_id: str, *, t: tuple[Money, Money], totals: _Totals
) -> list[Line]:
    """A period the payee is off the plan in: the yearly steps only (decision D3).

    Nothing new is earned (no period-window gate, period cap or floor); the year-window
    gate and the yearly cap of the last period on the plan keep working, so a clawback
    gives back what they held. Nothing is read (no quota, KPI or target incentive).
    """
    same, late = t
    lines: list[Line] = []
    g = same
    if totals.gate is not None:
        attainment, gate = totals.gate
        g = _gated(book, component_id, (attainment, gate), t=same, totals=totals, lines=lines)
    totals.g += g
    _year_cap(totals.limit, component_id, p=g + late, totals=totals, lines=lines)
    return lines


def _gate(  # noqa: PLR0913 - one period's inputs
    book: Book,
    payee: str,
    component: Commission,
    j: int,
    *,
    t: Money,
    totals: _Totals,
    lines: list[Line],
) -> Money:
    """The gate's pay; keeps a year-window gate's outcome for off-plan periods (D3)."""
    gate = component.gate
    totals.gate = None
    if gate is None:
        return t
    attainment = book.attainment(gate.measure, payee, j, component.accumulate)
    if component.accumulate == "period":
        g = t if attainment >= Fraction(gate.attainment) else book.zero()
        if g != t:
            lines.append(_gate_line(component.id, g - t, t, attainment, gate))
        return g
    totals.gate = (attainment, gate)
    return _gated(book, component.id, (attainment, gate), t=t, totals=totals, lines=lines)


def _gated(  # noqa: PLR0913 - one period's inputs
    book: Book,
    component_id: str,
    outcome: tuple[Fraction, Gate],
    *,
    t: Money,
    totals: _Totals,
    lines: list[Line],
) -> Money:
    """A year-window gate: G = T when it passes, else 0; the period pays what G grew by."""
    attainment, gate = outcome
    passed = attainment >= Fraction(gate.attainment)
    g = (totals.t if passed else book.zero()) - totals.g
    if g != t:
        lines.append(_gate_line(component_id, g - t, t, attainment, gate))
    return g


def _gate_line(
    component_id: str, amount: Money, t: Money, attainment: Fraction, gate: Gate
) -> Line:
    return Line(
        kind="gate",
        amount=amount,
        component=component_id,
        basis=t,
        attainment=as_decimal(attainment),
        threshold=gate.attainment,
        note=gate.measure,
    )


def _cap_and_floor(book: Book, component: Commission, g: Money, lines: list[Line]) -> Money:
    p = g
    limit = None if component.cap is None else component.cap.per_period
    if limit is not None and p > book.money(limit):
        cut = book.money(limit)
        lines.append(_limit_line("cap", cut - p, component.id, p, "per_period"))
        p = cut
    if component.floor is not None and p < book.money(component.floor.per_period):
        floor = book.money(component.floor.per_period)
        lines.append(_limit_line("floor", floor - p, component.id, p, None))
        p = floor
    return p


def _limit_line(
    kind: str, amount: Money, component_id: str | None, basis: Money, note: str | None
) -> Line:
    return Line(
        kind="cap" if kind == "cap" else "floor",
        amount=amount,
        component=component_id,
        basis=basis,
        note=note,
    )


def _year_cap(
    limit: Money | None,
    component_id: str | None,
    *,
    p: Money,
    totals: _Totals,
    lines: list[Line],
) -> None:
    """The yearly cap on the pay to date: a commission's (``component_id``) or the plan's.

    S sums the pay; C is S held to the limit; the period pays what C grew by, so a
    negative period after a cut gives back (spec 4; the plan cap, D28).
    """
    totals.s += p
    if limit is None:
        totals.c += p
        return
    capped = min(totals.s, limit)
    y = capped - totals.c
    totals.c = capped
    if y != p:
        note = "per_year" if component_id is not None else "plan_per_year"
        lines.append(_limit_line("cap", y - p, component_id, p, note))


def _year_limit(book: Book, payee: str, cap: Cap | PlanCap | None, j: int) -> Money | None:
    """The least of ``per_year`` and the target incentive multiple (rounded, D15; D31)."""
    if cap is None:
        return None
    limits: list[Money] = []
    if cap.per_year is not None:
        limits.append(book.money(cap.per_year))
    if cap.target_incentive_multiple is not None:
        period = book.prepared.periods[j]
        multiple = cap.target_incentive_multiple
        limits.append(book.lookups.target_incentive_limit(payee, period, multiple))
    return min(limits) if limits else None


# -- the plan cap (decisions D28, D29) -------------------------------------------------


def plan_cap(book: Book, payee: str, components: Mapping[str, Lines]) -> Lines:
    """The plan cap's lines per period, on the sum of the components' lines.

    ``components``: every component's lines of ``payee`` per period (what each earned).
    Per period the version's ``per_period`` cut, then its yearly cap on the sum to
    date after that cut, exactly as a commission's yearly cap (`_year_cap`); off the
    plan, the yearly limit of the last period on it (decision D3).
    """
    totals = _Totals(book.zero(), book.zero(), book.zero(), book.zero())
    result: Lines = {}
    for j in range(book.last + 1):
        x = Money.sum(
            (line.amount for lines in components.values() for line in lines.get(j, ())),
            book.currency,
        )
        lines: list[Line] = []
        result[j] = lines
        if not book.on_plan(payee, j):
            # Off the plan: no period cut; the last yearly limit keeps working (D3).
            _year_cap(totals.limit, None, p=x, totals=totals, lines=lines)
            continue
        cap = book.version_for(j).cap
        q = x
        if cap is not None and cap.per_period is not None and q > book.money(cap.per_period):
            cut = book.money(cap.per_period)
            lines.append(_limit_line("cap", cut - q, None, q, "plan_per_period"))
            q = cut
        totals.limit = _year_limit(book, payee, cap, j)
        _year_cap(totals.limit, None, p=q, totals=totals, lines=lines)
    return result


# -- bonus (spec 5) --------------------------------------------------------------------


def bonus(book: Book, payee: str, component_id: str) -> Lines:
    """Per-transaction bonus and clawback lines, or one line per period."""
    pays: dict[int, list[Line]] = defaultdict(list)
    clawbacks: dict[int, list[tuple[tuple[object, ...], Line]]] = defaultdict(list)
    per_period: dict[int, list[CreditRow]] = defaultdict(list)
    for row in book.by_payee.get(payee, ()):
        component = find_component(row.version, component_id)
        if not isinstance(component, Bonus) or not _qualifies(book, row, component):
            continue
        j = book.period_of(row.date)
        if component.per == "period":
            per_period[j].append(row)
            continue
        pays[j].append(_bonus_line(book, row, component))
        clawback = _bonus_clawback(book, row, component)
        if clawback is not None:
            key = (clawback.date, row.order)
            clawbacks[book.period_of(key[0])].append((key, clawback))  # type: ignore[arg-type]
    result: Lines = {}
    for j in range(book.last + 1):
        result[j] = pays[j] + [line for _, line in sorted(clawbacks[j], key=_first)]
        result[j] += _period_bonus(book, payee, component_id, j, per_period[j])
    return result


def _first(item: tuple[tuple[object, ...], Line]) -> tuple[object, ...]:
    return item[0]


def _qualifies(book: Book, row: CreditRow, component: Bonus) -> bool:
    start = component.start or book.year.start
    end = component.end or book.year.end
    if not start <= row.date <= end or not book.counts(component.measure, row):
        return False
    return component.when is None or book.matches(row, component.when)


def _bonus_line(book: Book, row: CreditRow, component: Bonus) -> Line:
    basis, _ = book.shown(component.measure, row.amount.amount)
    return Line(
        kind="bonus",
        amount=_per_row(book, row, component),
        component=component.id,
        transaction=row.transaction.id,
        date=row.date,
        credit=row.kind,
        basis=basis,
    )


def _per_row(book: Book, row: CreditRow, component: Bonus) -> Money:
    """What a qualifying row pays: the amount times the row's count (decision D26).

    +1 for a positive credit, -1 for a negative one (a refund reverses a SPIF), 0 for 0.
    """
    return book.money(component.amount * sign(row.amount.amount))


def _bonus_clawback(book: Book, row: CreditRow, component: Bonus) -> Line | None:
    cancelled = row.cancelled
    clawback = component.clawback
    if cancelled is None or clawback is None or cancelled > book.periods[-1].end:
        return None
    if (cancelled - row.date).days > clawback.within_days:
        return None
    basis, _ = book.shown(component.measure, row.amount.amount)
    return Line(
        kind="clawback",
        amount=-_per_row(book, row, component),
        component=component.id,
        transaction=row.transaction.id,
        date=cancelled,
        credit=row.kind,
        basis=basis,
    )


def _period_bonus(
    book: Book, payee: str, component_id: str, j: int, rows: Sequence[CreditRow]
) -> list[Line]:
    component = book.component_for(j, component_id)
    if not isinstance(component, Bonus) or component.per != "period":
        return []
    if not book.on_plan(payee, j):
        return []
    end = book.prepared.periods[j].end
    # The rows standing at the period's end must count above 0: refunds count -1 (D26).
    standing = (row for row in rows if row.cancelled is None or row.cancelled > end)
    if sum(sign(row.amount.amount) for row in standing) <= 0:
        return []
    return [Line(kind="bonus", amount=book.money(component.amount), component=component_id)]


# -- milestone (spec 6) ----------------------------------------------------------------


def milestone(book: Book, payee: str, component_id: str) -> Lines:
    """One line in the first period of each window in which the threshold is reached."""
    reached: set[tuple[str, int]] = set()
    result: Lines = {}
    for j in range(book.last + 1):
        component = book.component_for(j, component_id)
        if not isinstance(component, Milestone) or not book.on_plan(payee, j):
            continue
        key = _key(component.accumulate, j)
        if key in reached:
            continue
        line = _milestone_line(book, payee, component, j)
        if line is not None:
            reached.add(key)
            result[j] = [line]
    return result


def _milestone_line(book: Book, payee: str, component: Milestone, j: int) -> Line | None:
    value = book.value(component.measure, payee, j, component.accumulate)
    attainment = None
    if component.attainment is not None:
        quota = book.quota_to_date(component.measure, payee, j, component.accumulate)
        exact = Fraction(value) / Fraction(quota)
        if exact < Fraction(component.attainment):
            return None
        attainment = as_decimal(exact)
    elif component.value is not None and value < component.value:
        return None
    basis, number = book.shown(component.measure, value)
    return Line(
        kind="milestone",
        amount=book.money(component.amount),
        component=component.id,
        basis=basis,
        exact=number,
        attainment=attainment,
    )


# -- scorecard (spec 7) ----------------------------------------------------------------


def scorecard(book: Book, payee: str, component_id: str) -> Lines:
    """One line per KPI and period, or a closed-gate line."""
    result: Lines = {}
    for j in range(book.last + 1):
        component = book.component_for(j, component_id)
        if isinstance(component, Scorecard) and book.on_plan(payee, j):
            result[j] = _scorecard_lines(book, payee, component, j)
    return result


def _scorecard_lines(book: Book, payee: str, component: Scorecard, j: int) -> list[Line]:
    return scorecard_period(
        component,
        gate_attainment=lambda measure: book.attainment(measure, payee, j, "period"),
        kpi_attainment=lambda measure: _kpi_attainment(book, payee, measure, j),
        target=lambda: book.lookups.period_target(payee, book.prepared.periods, j),
        rounded=book.round,
        zero=book.zero(),
    )


def scorecard_period(  # noqa: PLR0913 - what a period's scorecard reads, keyword-only
    component: Scorecard,
    *,
    gate_attainment: Callable[[str], Fraction],
    kpi_attainment: Callable[[str], Fraction],
    target: Callable[[], PeriodTarget],
    rounded: Callable[[Fraction], Money],
    zero: Money,
) -> list[Line]:
    """A scorecard's lines in one period (spec 7): a closed gate's line, or one per KPI.

    Both engines call it with their own lookups: the period attainment of a measure
    (the gate's, a KPI's), the period's target pay (`PeriodTarget`, prorated as D31
    says; read only when the gate is open), and the plan's rounding to `Money`. The KPI
    lines round the running sum, so they add up to the rounded total.
    """
    gate = component.gate
    if gate is not None:
        attained = gate_attainment(gate.measure)
        if attained < Fraction(gate.attainment):
            closed = Line(
                kind="gate",
                amount=zero,
                component=component.id,
                attainment=as_decimal(attained),
                threshold=gate.attainment,
                note=gate.measure,
            )
            return [closed]
    period = target()
    target_pay = period.amount * Fraction(component.target_incentive)
    lines: list[Line] = []
    running = Fraction(0)
    paid = zero
    for kpi in component.kpis:
        attained = kpi_attainment(kpi.measure)
        exact = target_pay * Fraction(kpi.weight) * curve(kpi.curve, attained)
        running += exact
        total = rounded(running)
        lines.append(
            Line(
                kind="scorecard",
                amount=total - paid,
                component=component.id,
                attainment=as_decimal(attained),
                exact=as_decimal(exact),
                note=kpi.measure,
                days=period.prorated,
            )
        )
        paid = total
    return lines


def _kpi_attainment(book: Book, payee: str, measure: str, j: int) -> Fraction:
    if book.aggregate(measure) == "external":
        return Fraction(book.lookups.kpi(measure, payee, book.prepared.periods[j]))
    return book.attainment(measure, payee, j, "period")


def curve(points: Sequence[CurvePoint], attainment: Fraction) -> Fraction:
    """The payout curve at ``attainment``, exact.

    0 below the first point, the last point's payout from it on, linear between.

    >>> from salesflow.incentives._plan import CurvePoint
    >>> points = [CurvePoint(attainment=Decimal("0.5"), payout=Decimal("0.5")),
    ...           CurvePoint(attainment=Decimal("1"), payout=Decimal("1"))]
    >>> [str(curve(points, Fraction(x))) for x in ("0.4", "0.75", "2")]
    ['0', '3/4', '1']
    """
    if attainment < Fraction(points[0].attainment):
        return Fraction(0)
    if attainment >= Fraction(points[-1].attainment):
        return Fraction(points[-1].payout)
    for low, high in itertools.pairwise(points):
        a0, a1 = Fraction(low.attainment), Fraction(high.attainment)
        if a0 <= attainment < a1:
            p0, p1 = Fraction(low.payout), Fraction(high.payout)
            return p0 + (attainment - a0) * (p1 - p0) / (a1 - a0)
    return Fraction(0)  # pragma: no cover - the checks above cover every attainment


# -- pool (spec 8) ---------------------------------------------------------------------


def pool(book: Book, component_id: str) -> dict[str, Lines]:
    """Every payee's pool lines, per period."""
    result: dict[str, Lines] = defaultdict(dict)
    for j in range(book.last + 1):
        component = book.component_for(j, component_id)
        if not isinstance(component, Pool):
            continue
        period = book.prepared.periods[j]
        teams: dict[str, list[str]] = defaultdict(list)
        for payee in book.payees_in(j):
            teams[book.lookups.attribute(payee, period, component.group_by)].append(payee)
        for team in sorted(teams):
            for payee, line in _pool_team(book, component, j, team, teams[team]):
                result[payee][j] = [line]
    return result


def _pool_team(
    book: Book, component: Pool, j: int, team: str, members: list[str]
) -> Iterator[tuple[str, Line]]:
    values = [book.value(component.measure, payee, j, "period") for payee in members]
    if component.amount is not None:
        funded = book.money(component.amount)
    else:
        rate = component.rate if component.rate is not None else Decimal(0)
        funded = book.round(Fraction(rate) * Fraction(sum(values, Decimal(0))))
    if funded.amount <= 0:
        return
    equal = component.split == "equal" or all(v == 0 for v in values) or min(values) < 0
    shares = allocate_equal(funded, len(members)) if equal else allocate(funded, values)
    for payee, value, share in zip(members, values, shares, strict=True):
        basis, number = book.shown(component.measure, value)
        yield (
            payee,
            Line(
                kind="pool",
                amount=share,
                component=component.id,
                basis=basis,
                exact=number,
                note=team,
            ),
        )


# -- contest (spec 9) ------------------------------------------------------------------


def contest(book: Book, component_id: str) -> dict[str, Lines]:
    """Every payee's prize lines, per period."""
    result: dict[str, Lines] = defaultdict(dict)
    last_of_year = len(book.prepared.periods) - 1
    for j in range(book.last + 1):
        component = book.component_for(j, component_id)
        if not isinstance(component, Contest):
            continue
        if component.accumulate == "year" and j != last_of_year:
            continue
        for group, members in _contest_groups(book, component, j):
            for payee, line in _ranked(book, component, j, group, members):
                result[payee][j] = [line]
    return result


def _contest_groups(book: Book, component: Contest, j: int) -> list[tuple[str | None, list[str]]]:
    payees = book.payees_in(j)
    if component.group_by is None:
        return [(None, list(payees))]
    period = book.prepared.periods[j]
    groups: dict[str, list[str]] = defaultdict(list)
    for payee in payees:
        groups[book.lookups.attribute(payee, period, component.group_by)].append(payee)
    return [(group, groups[group]) for group in sorted(groups)]


def _ranked(
    book: Book, component: Contest, j: int, group: str | None, members: list[str]
) -> Iterator[tuple[str, Line]]:
    values = [
        (payee, book.value(component.measure, payee, j, component.accumulate)) for payee in members
    ]
    if component.minimum is not None:
        values = [(p, v) for p, v in values if v >= component.minimum]
    values.sort(key=lambda item: (-item[1], item[0]))
    position = 0
    while position < len(values):
        tied = [p for p, v in values[position:] if v == values[position][1]]
        rank = position + 1
        shared = _shared_positions(component, rank, len(tied))
        for payee, prize in zip(tied, _tie_prizes(book, component, rank, len(tied)), strict=True):
            basis, number = book.shown(component.measure, values[position][1])
            yield (
                payee,
                Line(
                    kind="contest",
                    amount=prize,
                    component=component.id,
                    basis=basis,
                    tiers=shared,
                    exact=number,
                    rank=rank,
                    note=group,
                ),
            )
        position += len(tied)


def _shared_positions(component: Contest, rank: int, count: int) -> tuple[int, ...]:
    """The 0-based prize positions a tie group splits (``ties: share``), else ``()``."""
    if component.ties != "share" or count <= 1:
        return ()
    return tuple(range(rank - 1, rank - 1 + count))


def _tie_prizes(book: Book, component: Contest, rank: int, count: int) -> list[Money]:
    def prize(at: int) -> Decimal:
        return component.prizes[at - 1] if at <= len(component.prizes) else Decimal(0)

    if component.ties == "same":
        return [book.money(prize(rank))] * count
    total = book.money(sum((prize(at) for at in range(rank, rank + count)), Decimal(0)))
    return allocate_equal(total, count)
