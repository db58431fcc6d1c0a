"""The batch engine's commission lines (spec section 4, row level), over numpy.

For one commission, every selected credit row rated cumulatively becomes a sale event,
and every cancellation inside the row's own window a cancel event. Events are ordered
by (payee, window, day, sale before cancel, credit-row order) by sorting one int64 key
with the fields packed in its bits; one cumulative sum gives every running total.
With one table, each event's rounded running payout R is computed once and a sale's
line is its R minus the R of the event before it (decision D5's running totals).
Rows rated individually pay ``R(amount)``; with several versions each row is rated
``R(after) - R(before)`` by its version's table. All exact int64 (`._vectorized`),
overflow refused.

The line amounts are computed for every row of the year; what a line shows besides
its amount (the running total before it, the tiers crossed, the exact payout) is
computed only for the lines asked for (`RatedRows.details`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, final

import numpy as np

from salesflow.errors import MoneyOverflowError
from salesflow.money import Money

from ._batch_measure import add_at
from ._schedule import Schedule
from ._vectorized import PlacedTable, place_table, placed_from_edges, rate_values

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from decimal import Decimal

    from numpy.typing import NDArray

    Ints = NDArray[np.signedinteger[Any]]  # index and code columns, of any width

    from salesflow.money import Currency

    from ._batch_credit import CreditRows
    from ._plan import Commission

__all__ = [
    "YEAR_WINDOW",
    "CommissionLines",
    "LineDetails",
    "RatedRows",
    "RatingInput",
    "rate_commission",
]

_INT64_MAX: Final = int(np.iinfo(np.int64).max)
_SAFE: Final = float(2**62)
_BLOCK: Final = 1 << 20
YEAR_WINDOW: Final = 0
"""The window code of the fiscal year; period j's window is ``1 + j``."""


@final
@dataclass(frozen=True, slots=True, eq=False)
class LineDetails:
    """What credit lines show besides their amount, for some lines.

    Attributes:
        before: The running total before the row (0 when rated individually).
        tier_before: The tier of ``|before|``.
        tier_after: The tier of ``|before + credit|``.
        exact: ``(P(after) - P(before)) * 10**6``, in minor units, exact.
    """

    before: NDArray[np.int64]
    tier_before: Ints
    tier_after: Ints
    exact: NDArray[np.int64]

    def take(self, lines: Ints) -> LineDetails:
        """The details of ``lines``."""
        return LineDetails(
            self.before[lines], self.tier_before[lines], self.tier_after[lines], self.exact[lines]
        )


@final
@dataclass(frozen=True, slots=True, eq=False)
class RatedRows:
    """The credit lines of one commission, one per selected credit row (credit order).

    Attributes:
        row: The credit row (index into the run's `CreditRows`).
        period: The row's period index.
        amount: The line's amount, after the per-transaction cap (minor units).
        uncapped: The amount before the per-transaction cap.
        version: The version whose table rated the row.
        details: The lines' other figures, computed for the lines asked for.
        payee: The row's payee (an index into the run's payees).
    """

    row: Ints
    period: Ints
    amount: NDArray[np.int64]
    uncapped: NDArray[np.int64]
    version: Ints
    details: LineDetails | _RatedDetails
    payee: Ints


@final
@dataclass(frozen=True, slots=True, eq=False)
class CommissionLines:
    """A commission's credit lines and clawback lines.

    Attributes:
        rated: The credit lines.
        clawback: Positions in ``rated`` of the lines clawed back, in clawback order
            (cancellation day, then credit-row order).
        clawback_period: The period index of each clawback's cancellation.
        clawback_earlier: Whether each clawback's row was credited in an earlier window
            than its cancellation's (by the row's version's window; decision D24).
    """

    rated: RatedRows
    clawback: Ints
    clawback_period: Ints
    clawback_earlier: NDArray[np.bool_]

    def per_period(self, payee: Ints, shape: tuple[int, int]) -> NDArray[np.int64]:
        """t[p, j]: the credit lines and the same-window clawbacks per payee and period.

        int64[P, K]; what the gate, period cap and floor see (decision D24).

        Args:
            payee: The row index of each line's payee in the matrix (by line).
            shape: (P, K).
        """
        total = np.zeros((shape[0], shape[1] + 1), dtype=np.int64)
        add_at(total, payee, self.rated.period, self.rated.amount)
        same = ~self.clawback_earlier
        back = self.clawback[same]
        add_at(total, payee[back], self.clawback_period[same], -self.rated.amount[back])
        return total[:, : shape[1]]

    def earlier_per_period(self, payee: Ints, shape: tuple[int, int]) -> NDArray[np.int64]:
        """The clawbacks of rows credited in an earlier window, per payee and period.

        int64[P, K]; added after the floor, before the yearly cap (decision D24).
        """
        total = np.zeros((shape[0], shape[1] + 1), dtype=np.int64)
        earlier = self.clawback_earlier
        back = self.clawback[earlier]
        add_at(total, payee[back], self.clawback_period[earlier], -self.rated.amount[back])
        return total[:, : shape[1]]


@final
@dataclass(frozen=True, slots=True)
class RatingInput:
    """What rating one commission reads.

    Attributes:
        rows: The run's credit rows.
        row_period: Each row's period index.
        gone_period: Each row's cancellation period index (K: none through the last).
        selected: Per version: the positions of the rows it rates (ascending), or
            ``None`` where the version lacks the component.
        components: Per version: the component as that version defines it.
        quota: (version, payees, window codes) -> the window quotas (attainment tables).
        currency: The plan currency.
        rounding: The plan's rounding mode.
        periods: K, the number of periods computed.
    """

    rows: CreditRows
    row_period: Ints
    gone_period: Ints
    selected: Sequence[Ints | None]
    components: Sequence[Commission | None]
    quota: Callable[[int, Ints, Ints], list[Decimal]]
    currency: Currency
    rounding: str
    periods: int


def rate_commission(given: RatingInput) -> CommissionLines:
    """The credit and clawback lines of one commission (spec 4, decision D5).

    Lines come in credit-row order within each payee (payees may interleave).
    """
    chosen = [
        (version, picked)
        for version, picked in enumerate(given.selected)
        if picked is not None and len(picked)
    ]
    if not chosen:
        empty = np.zeros(0, dtype=np.intp)
        zeros = np.zeros(0, dtype=np.int64)
        details = LineDetails(zeros, empty, empty, zeros)
        rated = RatedRows(empty, empty, zeros, zeros, empty, details, empty)
        return CommissionLines(rated, empty, empty, np.zeros(0, dtype=bool))
    component = given.components[chosen[0][0]]
    if len(chosen) == 1 and component is not None and component.rating == "cumulative":
        rated = _rated_in_one_version(given, chosen[0][1], chosen[0][0])
    else:
        rows_at = np.concatenate([picked for _, picked in chosen])
        version = np.concatenate([np.full(len(p), v, dtype=np.intp) for v, p in chosen])
        if len(chosen) > 1:
            order = np.argsort(rows_at, kind="stable")
            rows_at, version = rows_at[order], version[order]
        window = _windows(given, rows_at, version)
        gone = given.gone_period[rows_at]
        rated = _rated_by_version(given, rows_at, version, (window, gone))
    back, back_period = _clawbacks(given, rated)
    return CommissionLines(rated, back, back_period, _earlier_window(given, rated, back))


def _windows(given: RatingInput, rows_at: Ints, version: Ints) -> Ints:
    """Each row's window code: `YEAR_WINDOW`, or ``1 + period`` for a period window."""
    by_period = np.array(
        [c is not None and c.accumulate == "period" for c in given.components], dtype=bool
    )
    if not by_period.any():
        return np.zeros(len(rows_at), dtype=np.intp)
    return np.where(by_period[version], 1 + given.row_period[rows_at], YEAR_WINDOW)


@final
@dataclass(frozen=True, slots=True, eq=False)
class _Events:
    """Sale and cancel events in (payee, window, day, sale first, credit order) order.

    Attributes:
        position: The event's row (a position in the rated rows).
        sale: Whether it is a sale (else a cancellation in the row's own window);
            ``None`` when every event is a sale.
        after: The running total of its (payee, window) after it.
        start: Whether it is the first event of its (payee, window).
        payee: The event's payee.
    """

    position: Ints
    sale: NDArray[np.bool_] | None
    after: NDArray[np.int64]
    start: NDArray[np.bool_]
    payee: Ints

    def group(self) -> Ints:
        """Each event's (payee, window) as a dense number, in event order."""
        return (np.cumsum(self.start) - 1).astype(np.intp)


def _events(
    given: RatingInput,
    rows_at: Ints,
    windows: tuple[Ints | None, Ints],
) -> _Events:
    """The events of ``rows_at``, ordered, with their running totals.

    ``windows`` gives the rows' window codes (``None``: all the year's) and their
    cancellation periods.
    """
    rows = given.rows
    window, gone = windows
    count = len(rows_at)
    pick = _picker(rows_at, len(rows))
    amount = pick(rows.amount)
    periodic = window is not None and bool(window.any())
    # A cancellation in the row's own window lowers the running total from its day on.
    if periodic:
        assert window is not None  # noqa: S101 - periodic implies windows
        in_window = np.where(window == YEAR_WINDOW, gone < given.periods, gone == window - 1)
        cancels = np.flatnonzero(in_window)
        del in_window
    else:
        cancels = np.flatnonzero(gone < given.periods)
    group = pick(rows.payee).astype(np.int64)
    widths = int(window.max()) + 1 if periodic and window is not None else 1
    if periodic and window is not None:
        group *= widths
        group += window
    days = None
    if cancels.size:
        day = pick(rows.day).astype(np.int64)
        first = int(day.min())
        day -= first
        days = (day, rows.gone[rows_at[cancels]].astype(np.int64) - first)
    event, ordered = _event_order(group, days, cancels)
    del group, days
    sale = None
    if cancels.size:
        sale = event < count
        # A cancel event stands for its row, and carries the row's amount negated.
        backs = np.flatnonzero(~sale)
        event[backs] = cancels[event[backs] - count]
        signed = amount.take(event)
        signed[backs] *= -1
        del backs
    else:
        signed = amount.take(event)
    start = np.empty(len(event), dtype=bool)
    start[:1] = True
    np.not_equal(ordered[1:], ordered[:-1], out=start[1:])
    after = _grouped_cumsum(signed, start)
    if periodic:
        ordered //= widths
    position = event.astype(np.int32)
    del event
    payee = ordered.astype(np.int32)
    del ordered
    return _Events(position, sale, after, start, payee)


def _picker(rows_at: Ints, size: int) -> Callable[[NDArray[Any]], NDArray[Any]]:
    """Gather by ``rows_at`` (ascending, unique), or the column itself when it is every row."""
    if len(rows_at) == size:
        return lambda column: column
    return lambda column: column[rows_at]


def _event_order(
    group: NDArray[np.int64],
    days: tuple[NDArray[np.int64], NDArray[np.int64]] | None,
    cancels: Ints,
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Event numbers in event order, and each one's group.

    Sales are numbered ``0..n-1`` in credit order, cancels after them.

    The key (group, day, cancel, event number) is packed in the bits of one int64 per
    event and sorted as values (numpy's fastest sort); a lexsort where it would not fit.
    """
    count = len(group)
    events = count + len(cancels)
    event_bits = max(events - 1, 1).bit_length()
    group_bits = max(int(group.max(initial=0)), 1).bit_length()
    day_bits = 0 if days is None else max(int(max(days[0].max(), days[1].max())), 1).bit_length()
    group_shift = event_bits + (0 if days is None else 1 + day_bits)
    if group_shift + group_bits > 62:  # noqa: PLR2004 - int64's non-negative bits
        return _lexsorted(group, days, cancels)
    key = np.empty(events, dtype=np.int64)
    sales, backs = key[:count], key[count:]
    np.left_shift(group, group_shift, out=sales)
    sales |= np.arange(count, dtype=np.int64)
    if days is not None:
        day_shift = event_bits + 1
        np.left_shift(days[0], day_shift, out=days[0])
        sales |= days[0]
        np.left_shift(group[cancels], group_shift, out=backs)
        backs |= days[1] << day_shift
        backs |= (1 << event_bits) | np.arange(count, events, dtype=np.int64)
    key.sort()
    ordered = key >> group_shift
    key &= (1 << event_bits) - 1
    return key, ordered


def _lexsorted(
    group: NDArray[np.int64],
    days: tuple[NDArray[np.int64], NDArray[np.int64]] | None,
    cancels: Ints,
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    if days is None:
        order = np.argsort(group, kind="stable").astype(np.int64)
        return order, group[order]
    count = len(group)
    groups = np.concatenate([group, group[cancels]])
    all_days = np.concatenate(days)
    kinds = np.r_[np.zeros(count, np.int64), np.ones(len(cancels), np.int64)]
    order = np.lexsort((np.arange(len(groups)), kinds, all_days, groups)).astype(np.int64)
    return order, groups[order]


def _grouped_cumsum(values: NDArray[np.int64], start: NDArray[np.bool_]) -> NDArray[np.int64]:
    """Running sums restarting where ``start``, checked for int64, in ``values``' place."""
    if not len(values):
        return values
    largest = max(abs(int(values.max())), abs(int(values.min())))
    if largest * len(values) >= _SAFE:  # only then could a running total leave int64
        _check_exact(values, start)
    # Each group's first value less the previous group's total: one running sum then
    # restarts at every group (wrapping int64 arithmetic is exact where the sums fit).
    starts = np.flatnonzero(start)
    totals = np.add.reduceat(values, starts)
    values[starts[1:]] -= totals[:-1]
    return np.cumsum(values, out=values)


def _check_exact(values: NDArray[np.int64], start: NDArray[np.bool_]) -> None:
    total = 0
    for value, first in zip(values.tolist(), start.tolist(), strict=True):
        total = value if first else total + value
        if not -_INT64_MAX <= total <= _INT64_MAX:
            msg = "a running total exceeds int64 minor units"
            raise MoneyOverflowError(msg, code="incentives.int64_overflow")


def _rated_in_one_version(given: RatingInput, rows_at: Ints, version: int) -> RatedRows:
    """Cumulative rating with one table; lines in event order.

    Each event's R is computed once: a sale's R(before) is the R of the event before
    it in its (payee, window).
    """
    component = given.components[version]
    assert component is not None  # noqa: S101 - the chosen version
    pick = _picker(rows_at, len(given.rows))
    window = (
        (1 + pick(given.row_period)).astype(np.intp) if component.accumulate == "period" else None
    )
    events = _events(given, rows_at, (window, pick(given.gone_period)))
    quotas = None
    groups = None
    if component.table.basis == "attainment":
        first = events.position[events.start]
        codes = np.zeros(len(first), np.intp) if window is None else window[first]
        quotas = given.quota(version, given.rows.payee[rows_at[first]], codes)
        groups = events.group()
    del window
    placed = _placed(component, given.currency, quotas)
    line = _steps(events, placed, groups, given.rounding)
    positions, payee, after, sale = events.position, events.payee, events.after, events.sale
    del events
    if sale is not None:  # the lines are the sales; one array at a time, the old one freed
        line = line[sale]
        positions = positions[sale]
        payee = payee[sale]
        after = after[sale]
        groups = None if groups is None else groups[sale]
    del sale
    at = positions if len(rows_at) == len(given.rows) else rows_at[positions].astype(np.int32)
    del positions
    capped = _per_transaction_cap(component, line, given.currency)
    details = _RatedDetails(after, at, given.rows.amount, placed, groups, given.rounding)
    period = given.row_period[at]
    versions = np.broadcast_to(np.full(1, version, dtype=np.int8), len(at))
    return RatedRows(at, period, capped, line, versions, details, payee.astype(np.int32))


def _steps(
    events: _Events, placed: PlacedTable, groups: Ints | None, rounding: str
) -> NDArray[np.int64]:
    """Each event's R minus the R of the event before it (0 before a group's first).

    Rated block by block, so rating's temporaries stay a few times one block.
    """
    step = np.empty_like(events.after)
    shared = np.zeros(1, np.intp)
    previous = 0
    for lo in range(0, len(step), _BLOCK):
        hi = lo + _BLOCK
        block = shared if groups is None else groups[lo:hi]
        r = rate_values(events.after[lo:hi], block, placed, rounding)[0]
        out = step[lo:hi]
        out[0] = r[0] - previous
        np.subtract(r[1:], r[:-1], out=out[1:])
        np.copyto(out, r, where=events.start[lo:hi])
        previous = int(r[-1])
    return step


@final
@dataclass(frozen=True, slots=True, eq=False)
class _RatedDetails:
    """A cumulative line's figures, recomputed for the lines asked for.

    The running total after the line is kept; before it is that less the credit; P
    and the tiers of both follow from the placed table.
    """

    after: NDArray[np.int64]
    row: Ints
    credit: NDArray[np.int64]  # every credit row's amount
    placed: PlacedTable
    groups: Ints | None
    rounding: str

    def take(self, lines: Ints) -> LineDetails:
        after = self.after[lines]
        before = after - self.credit[self.row[lines]]
        groups = np.zeros(1, np.intp) if self.groups is None else self.groups[lines]
        _, p_after, t_after = rate_values(after, groups, self.placed, self.rounding)
        _, p_before, t_before = rate_values(before, groups, self.placed, self.rounding)
        return LineDetails(before, t_before, t_after, p_after - p_before)


def _rated_by_version(
    given: RatingInput,
    rows_at: Ints,
    version: Ints,
    windows: tuple[Ints, Ints],
) -> RatedRows:
    """The general case: each row rated with its version's table.

    ``R(after) - R(before)``, or ``R(amount)`` for a version rating individually.
    """
    rows = given.rows
    amount = rows.amount[rows_at]
    window, gone = windows
    before = np.zeros(len(rows_at), dtype=np.int64)
    # Only rows rated cumulatively move a running total (their sales and cancels).
    moving = np.array(
        [c is not None and c.rating == "cumulative" for c in given.components], dtype=bool
    )[version]
    if moving.any():
        cumulative = np.flatnonzero(moving)
        events = _events(given, rows_at[cumulative], (window[cumulative], gone[cumulative]))
        sale = np.ones(len(events.position), bool) if events.sale is None else events.sale
        sales = events.position[sale]
        before[cumulative[sales]] = events.after[sale] - amount[cumulative[sales]]
    count = len(rows_at)
    line = np.zeros(count, dtype=np.int64)
    details = LineDetails(
        before,
        np.zeros(count, dtype=np.intp),
        np.zeros(count, dtype=np.intp),
        np.zeros(count, dtype=np.int64),
    )
    capped = np.zeros(count, dtype=np.int64)
    for v, component in enumerate(given.components):
        at = np.flatnonzero(version == v) if component is not None else None
        if component is None or at is None or not at.size:
            continue
        line[at], capped[at] = _rate_version(
            given, (component, v), rows_at[at], window[at], details=details, at=at
        )
    period = given.row_period[rows_at]
    return RatedRows(rows_at, period, capped, line, version, details, rows.payee[rows_at])


def _rate_version(  # noqa: PLR0913 - one version's rows and where their results go
    given: RatingInput,
    rated_by: tuple[Commission, int],
    rows_at: Ints,
    window: Ints,
    *,
    details: LineDetails,
    at: Ints,
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """One version's rows: lines and capped lines; their details written at ``at``."""
    component, version = rated_by
    rows = given.rows
    amount = rows.amount[rows_at]
    groups, quotas = _quota_groups(given, version, component, rows.payee[rows_at], window)
    placed = _placed(component, given.currency, quotas)
    cumulative = component.rating == "cumulative"
    low = details.before[at] if cumulative else np.zeros(at.size, dtype=np.int64)
    high = _checked_sum(low, amount)
    r_high, p_high, t_high = rate_values(high, groups, placed, given.rounding)
    line = r_high
    details.exact[at] = p_high
    if cumulative:
        r_low, p_low, t_low = rate_values(low, groups, placed, given.rounding)
        line = r_high - r_low
        details.exact[at] = p_high - p_low
        details.tier_before[at] = t_low
    else:
        details.before[at] = 0
    details.tier_after[at] = t_high
    return line, _per_transaction_cap(component, line, given.currency)


def _checked_sum(a: NDArray[np.int64], b: NDArray[np.int64]) -> NDArray[np.int64]:
    with np.errstate(over="ignore"):
        total = a + b
    if np.any(((a ^ total) & (b ^ total)) < 0):
        msg = "a running total exceeds int64 minor units"
        raise MoneyOverflowError(msg, code="incentives.int64_overflow")
    return total


def _quota_groups(
    given: RatingInput,
    version: int,
    component: Commission,
    payee: Ints,
    window: Ints,
) -> tuple[Ints, list[Decimal] | None]:
    """Each row's quota group, and the groups' window quotas (attainment tables)."""
    if component.table.basis == "amount":
        return np.zeros(len(payee), dtype=np.intp), None
    keys = payee.astype(np.int64) * (int(window.max()) + 1) + window
    _, first, groups = np.unique(keys, return_index=True, return_inverse=True)
    quotas = given.quota(version, payee[first], window[first])
    return groups.reshape(-1).astype(np.intp), quotas


def _placed(component: Commission, currency: Currency, quotas: list[Decimal] | None) -> PlacedTable:
    """The table placed for each quota group (one group on an amount table).

    Quotas on the minor unit place vectorized; any other quota's edges come from the
    scalar `Schedule`, exactly (rare: a quota between two minor units).
    """
    table = component.table
    if quotas is None:
        return place_table(table, currency, None, 1)
    scaled = [q.scaleb(currency.minor_units) for q in quotas]
    if all(s == s.to_integral_value() and s <= _INT64_MAX for s in scaled):
        minor = np.array([int(s) for s in scaled], dtype=np.int64)
        return place_table(table, currency, minor, len(minor))
    edges = np.zeros((len(quotas), len(table.tiers)), dtype=np.int64)
    for group, quota in enumerate(quotas):
        schedule = Schedule.build(table, currency, Money(quota, currency))
        edges[group] = [int(band.start.scaleb(currency.minor_units)) for band in schedule.bands]
    return placed_from_edges(table, edges)


def _per_transaction_cap(
    component: Commission, line: NDArray[np.int64], currency: Currency
) -> NDArray[np.int64]:
    cap = component.cap.per_transaction if component.cap is not None else None
    if cap is None:
        return line
    limit = int(cap.scaleb(currency.minor_units))
    # Both ways (decision D25): a refund's negative line is bounded like a sale's.
    return np.clip(line, -limit, limit)


def _earlier_window(given: RatingInput, rated: RatedRows, back: Ints) -> NDArray[np.bool_]:
    """Whether each clawback's row was credited in an earlier window (decision D24).

    A row of a version with a period window is of an earlier window when it is
    cancelled in a later period; a year window holds the whole fiscal year.
    """
    by_period = np.array(
        [c is not None and c.accumulate == "period" for c in given.components], dtype=bool
    )
    if not back.size or not by_period.any():
        return np.zeros(len(back), dtype=bool)
    gone = given.gone_period[rated.row[back]]
    earlier: NDArray[np.bool_] = by_period[rated.version[back]] & (gone != rated.period[back])
    return earlier


def _clawbacks(given: RatingInput, rated: RatedRows) -> tuple[Ints, Ints]:
    """Lines clawed back: cancelled through the last period within the version's days.

    Ordered by cancellation day, then line order.
    """
    rows = given.rows
    within = np.array(
        [
            -1 if c is None or c.clawback is None else c.clawback.within_days
            for c in given.components
        ],
        dtype=np.int64,
    )
    empty = np.zeros(0, dtype=np.intp)
    if int(within.max()) < 0:
        return empty, empty
    gone = given.gone_period[rated.row]
    cancelled = np.flatnonzero(gone < given.periods)
    at = rated.row[cancelled]
    days = rows.gone[at] - rows.day[at]
    allowed = within[rated.version[cancelled]]
    keep = (allowed >= 0) & (days <= allowed)
    back = cancelled[keep]
    if len(back) > 1:
        back = back[np.argsort(rows.gone[at[keep]], kind="stable")]
    return back.astype(np.intp), gone[back]
