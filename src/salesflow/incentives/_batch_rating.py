"""The batch engine's commission lines (spec section 4, row level), over numpy.

For one commission, every selected credit row rated cumulatively becomes a sale event,
and every cancellation inside the row's own window a cancel event. Events are ordered
by (payee, window, day, sale before cancel, credit-row order) by sorting one int64 key
with the fields packed in its bits (and, when they fit, the sales' amounts: the sort
carries them); one cumulative sum gives every running total. With one table, each
event's rounded running payout R is computed once and a sale's line is its R minus
the R of the event before it (decision D5's running totals). The events are decoded,
summed and rated block by block, so the temporaries stay in the processor's cache.
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
_EVERY: Final = slice(None)
_KEY_BITS: Final = 62  # an int64 sort key's bits, its sign left clear
_INT32_MAX: Final = int(np.iinfo(np.int32).max)
_PERIOD_BITS: Final = 0x7F  # a period index in a byte, the top bit a flag
_BLOCK: Final = 1 << 16  # values rated at once: the temporaries stay in the core's cache
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
    cancelled = None
    if len(chosen) == 1 and component is not None and component.rating == "cumulative":
        rated, cancelled = _rated_in_one_version(given, chosen[0][1], chosen[0][0])
    else:
        rows_at = np.concatenate([picked for _, picked in chosen])
        version = np.concatenate([np.full(len(p), v, dtype=np.intp) for v, p in chosen])
        if len(chosen) > 1:
            order = np.argsort(rows_at, kind="stable")
            rows_at, version = rows_at[order], version[order]
        window = _windows(given, rows_at, version)
        gone = given.gone_period[rows_at]
        rated = _rated_by_version(given, rows_at, version, (window, gone))
    back, back_period = _clawbacks(given, rated, cancelled)
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
    window, gone = windows
    periodic = window is not None and bool(window.any())
    # A cancellation in the row's own window lowers the running total from its day on.
    if periodic:
        assert window is not None  # noqa: S101 - periodic implies windows
        in_window = np.where(window == YEAR_WINDOW, gone < given.periods, gone == window - 1)
        cancels = np.flatnonzero(in_window)
        del in_window
    else:
        window = None
        cancels = np.flatnonzero(gone < given.periods)
    keys = _EventKeys(given.rows, rows_at, window, cancels)
    order = keys.ordered()
    del keys
    decoded = _Decoded(order)
    del order
    decoded.run(given.rows.amount)
    group = decoded.group
    widths = int(window.max()) + 1 if window is not None else 1
    payee = group if widths == 1 else (group // widths).astype(np.int32)
    return _Events(decoded.position, decoded.sale, decoded.after, decoded.start, payee)


@final
class _EventKeys:
    """The events' sort keys: (group, slot, low bits), packed in one int64.

    A group is a (payee, window). Sale e (the e-th of ``rows_at``: credit order, so
    by day) takes slot ``2e + 1``; a cancellation dated d takes slot ``2b``, b the
    number of sales dated d or before: after every sale of its day, before the next
    day's. The low bits hold a cancellation's rank by (day, credit order) and, when
    every amount fits them, a sale's amount (less the smallest): the sort then
    carries the amounts, and nothing is gathered in the events' order after it.

    Sorted as values (numpy's fastest sort), the keys give the events in (group, day,
    sale first, credit order) order; a lexsort where they would not fit.
    """

    def __init__(self, rows: CreditRows, rows_at: Ints, window: Ints | None, cancels: Ints) -> None:
        """The keys of the sales ``rows_at`` (windows ``window``) and of ``cancels``."""
        self.rows, self.rows_at, self.window = rows, rows_at, window
        self.count = len(rows_at)
        gone = rows.gone[rows_at[cancels]]
        by_day = np.argsort(gone, kind="stable")
        self.cancels, self.gone = cancels[by_day], gone[by_day]
        amounts = self._column(rows.amount)
        self.lowest = int(amounts.min(initial=0))
        highest = int(amounts.max(initial=0))
        self.largest = max(-self.lowest, highest)
        self.widths = int(window.max()) + 1 if window is not None else 1
        payees = int(self._column(rows.payee).max(initial=0)) + 1
        group_bits = max(payees * self.widths - 1, 1).bit_length()
        slot_bits = (2 * self.count).bit_length()
        rank_bits = max(len(cancels) - 1, 0).bit_length()
        amount_bits = (highest - self.lowest).bit_length()
        self.packed = group_bits + slot_bits + max(rank_bits, amount_bits) <= _KEY_BITS
        self.low_bits = max(rank_bits, amount_bits) if self.packed else rank_bits
        self.group_shift = slot_bits + self.low_bits
        self.fits = group_bits + self.group_shift <= _KEY_BITS and not (
            cancels.size and _unsorted(self._column(rows.day))
        )

    def ordered(self) -> _Packed | _Lexsorted:
        """The events in order: the sorted keys, or a lexsort's order."""
        if not self.fits:
            return self._lexsorted()
        key = np.empty(self.count + len(self.cancels), dtype=np.int64)
        for lo in range(0, self.count, _BLOCK):
            hi = min(lo + _BLOCK, self.count)
            part = key[lo:hi]
            np.left_shift(self._groups(slice(lo, hi)), self.group_shift, out=part)
            part |= np.arange(2 * lo + 1, 2 * hi, 2, dtype=np.int64) << self.low_bits
            if self.packed:
                part |= self._column(self.rows.amount, slice(lo, hi)) - self.lowest
        backs = key[self.count :]
        if len(backs):
            sales = np.searchsorted(self._column(self.rows.day), self.gone, side="right")
            np.left_shift(self._groups(self.cancels), self.group_shift, out=backs)
            backs |= (2 * sales.astype(np.int64)) << self.low_bits
            backs |= np.arange(len(backs), dtype=np.int64)
        key.sort()
        return _Packed(key, self)

    def _column(self, column: NDArray[Any], sales: slice | Ints = _EVERY) -> NDArray[Any]:
        """A row column at some sales (a slice or positions), in its own dtype."""
        if len(self.rows_at) == len(self.rows):
            return column[sales]
        return column[self.rows_at[sales]]

    def _groups(self, sales: slice | Ints) -> NDArray[np.int64]:
        """The (payee, window) group of some sales, as int64."""
        group = self._column(self.rows.payee, sales).astype(np.int64)
        if self.window is not None:
            group *= self.widths
            group += self.window[sales]
        return group

    def _lexsorted(self) -> _Lexsorted:
        group = self._groups(_EVERY)
        if not self.cancels.size:
            order = np.argsort(group, kind="stable").astype(np.int64)
            return _Lexsorted(order, group[order], self)
        groups = np.concatenate([group, group[self.cancels]])
        days = np.concatenate([self._column(self.rows.day), self.gone]).astype(np.int64)
        kinds = np.r_[np.zeros(self.count, np.int64), np.ones(len(self.cancels), np.int64)]
        order = np.lexsort((np.arange(len(groups)), kinds, days, groups)).astype(np.int64)
        return _Lexsorted(order, groups[order], self)


def _unsorted(values: NDArray[Any]) -> bool:
    return bool(np.any(values[1:] < values[:-1]))


@final
class _Packed:
    """The events in order as sorted `_EventKeys`, decoded block by block."""

    def __init__(self, key: NDArray[np.int64], keys: _EventKeys) -> None:
        """The sorted ``key`` of ``keys``."""
        self.key, self.count, self.cancels = key, keys.count, keys.cancels
        self.rows_at, self.largest = keys.rows_at, keys.largest
        self._shifts = (keys.group_shift, keys.low_bits)
        self._lowest = keys.lowest if keys.packed else None

    def group_fits_int32(self) -> bool:
        """Whether every group number fits int32 (the largest is in the last key)."""
        return not len(self.key) or int(self.key[-1] >> self._shifts[0]) <= _INT32_MAX

    def block(
        self, lo: int, hi: int, out: _Decoded, amount: NDArray[np.int64]
    ) -> NDArray[np.int64]:
        """The events ``lo`` to ``hi - 1`` into ``out``; their signed amounts returned."""
        group_shift, low_bits = self._shifts
        part = self.key[lo:hi]
        np.right_shift(part, group_shift, out=out.group[lo:hi])
        slot = part >> low_bits
        slot &= (1 << (group_shift - low_bits)) - 1
        low = part & ((1 << low_bits) - 1)
        position = out.position[lo:hi]
        np.right_shift(slot, 1, out=position)
        back = None
        if out.sale is not None:
            sale = out.sale[lo:hi]
            np.not_equal(slot & 1, 0, out=sale)
            back = np.flatnonzero(~sale)
            position[back] = self.cancels[low[back]]
        if self._lowest is None:
            values = _amounts(amount, self.rows_at, position)
        else:
            values = low
            values += self._lowest
        if back is not None:
            # A cancel event stands for its row, and carries the row's amount negated.
            values[back] = -_amounts(amount, self.rows_at, position[back])
        return values


@final
class _Lexsorted:
    """The events in order as a lexsort gives them: event numbers and their groups.

    Sales are numbered ``0..n-1`` in credit order, cancels after them (by day).
    """

    def __init__(
        self, order: NDArray[np.int64], groups: NDArray[np.int64], keys: _EventKeys
    ) -> None:
        """``order``, the event numbers in order, and their ``groups``."""
        self.key, self.groups, self.count, self.cancels = order, groups, keys.count, keys.cancels
        self.rows_at, self.largest = keys.rows_at, keys.largest

    def group_fits_int32(self) -> bool:
        """Whether every group number fits int32."""
        return not len(self.groups) or int(self.groups.max()) <= _INT32_MAX

    def block(
        self, lo: int, hi: int, out: _Decoded, amount: NDArray[np.int64]
    ) -> NDArray[np.int64]:
        """As `_Packed.block`."""
        out.group[lo:hi] = self.groups[lo:hi]
        position = self.key[lo:hi].copy()
        sale = position < self.count
        back = np.flatnonzero(~sale)
        position[back] = self.cancels[position[back] - self.count]
        out.position[lo:hi] = position
        if out.sale is not None:
            out.sale[lo:hi] = sale
        values = _amounts(amount, self.rows_at, position)
        values[back] *= -1
        return values


def _amounts(amount: NDArray[np.int64], rows_at: Ints, position: Ints) -> NDArray[np.int64]:
    """The amounts of the sales at ``position`` in ``rows_at``."""
    return amount.take(position if len(rows_at) == len(amount) else rows_at.take(position))


@final
class _Decoded:
    """The ordered events decoded, with their running totals, block by block.

    Each event's position in ``rows_at``, its group, whether it is a sale (``None``:
    all are), whether it starts its group, and the running total of its group after
    it. The running totals are summed block by block, each block going on from the
    last one's total, and written over the sorted keys (each block read first): the
    temporaries stay in the cache.
    """

    def __init__(self, order: _Packed | _Lexsorted) -> None:
        """Room for the columns of the events ``order``."""
        size = len(order.key)
        self._order = order
        self.position = np.empty(size, dtype=np.int32)
        self.group: Ints = np.empty(size, dtype=np.int32 if order.group_fits_int32() else np.int64)
        self.sale = np.empty(size, dtype=bool) if order.cancels.size else None
        self.start = np.empty(size, dtype=bool)
        self.after = order.key if isinstance(order, _Packed) else np.empty(size, dtype=np.int64)
        self._carry = np.zeros(1, dtype=np.int64)  # the running total at the last block's end

    def run(self, amount: NDArray[np.int64]) -> None:
        """Decode every block; refuse a running total beyond int64."""
        size = len(self.after)
        for lo in range(0, size, _BLOCK):
            block = slice(lo, min(lo + _BLOCK, size))
            values = self._order.block(block.start, block.stop, self, amount)
            self._running_totals(block, values)
        # Only where the largest amount times the events' number reaches 2**62 could a
        # running total leave int64 (the sums wrap exactly otherwise).
        if self._order.largest * size >= _SAFE:
            _check_exact(self._signed(), self.start)

    def _running_totals(self, block: slice, values: NDArray[np.int64]) -> None:
        """The block's running totals into ``after``, going on from the carry."""
        group, start = self.group[block], self.start[block]
        np.not_equal(group[1:], group[:-1], out=start[1:])
        start[0] = block.start == 0 or group[0] != self.group[block.start - 1]
        if not start[0]:  # the block goes on with the last block's group
            np.add(values[:1], self._carry, out=values[:1])
        # Each group's first value less the group before's total: one running sum then
        # restarts at every group (wrapping int64 arithmetic is exact where sums fit).
        starts = np.flatnonzero(start)
        if not starts.size or starts[0]:
            starts = np.r_[0, starts]
        totals = np.add.reduceat(values, starts)
        values[starts[1:]] -= totals[:-1]
        np.cumsum(values, out=self.after[block])
        self._carry[0] = self.after[block.stop - 1]

    def _signed(self) -> NDArray[np.int64]:
        """Each event's signed amount again: its running total less the one before."""
        values = self.after.copy()
        with np.errstate(over="ignore"):
            values[1:] -= self.after[:-1]
        np.copyto(values, self.after, where=self.start)
        return values


def _picker(rows_at: Ints, size: int) -> Callable[[NDArray[Any]], NDArray[Any]]:
    """Gather by ``rows_at`` (ascending, unique), or the column itself when it is every row."""
    if len(rows_at) == size:
        return lambda column: column
    return lambda column: column[rows_at]


def _check_exact(values: NDArray[np.int64], start: NDArray[np.bool_]) -> None:
    total = 0
    for value, first in zip(values.tolist(), start.tolist(), strict=True):
        total = value if first else total + value
        if not -_INT64_MAX <= total <= _INT64_MAX:
            msg = "a running total exceeds int64 minor units"
            raise MoneyOverflowError(msg, code="incentives.int64_overflow")


def _rated_in_one_version(
    given: RatingInput, rows_at: Ints, version: int
) -> tuple[RatedRows, Ints]:
    """Cumulative rating with one table; lines in event order, and the cancelled ones.

    The cancelled lines are those of rows cancelled through the last period.

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
    lines = _SaleLines(given, rows_at, events, groups)
    lines.rate(events, placed, groups, given.rounding)
    del events
    capped = _per_transaction_cap(component, lines.line, given.currency)
    details = _RatedDetails(
        lines.after, lines.row, given.rows.amount, placed, lines.groups, given.rounding
    )
    versions = np.broadcast_to(np.full(1, version, dtype=np.int8), len(lines.row))
    rated = RatedRows(lines.row, lines.period, capped, lines.line, versions, details, lines.payee)
    return rated, lines.cancelled()


@final
class _SaleLines:
    """The lines of the sale events, in event order, with what they show.

    A line is its event's R minus the R of the event before it (0 before a group's
    first). Events are rated block by block, so rating's temporaries stay in the
    cache; the cancel events (they move the running totals) are dropped block by
    block too, and each line's period (and whether its row is cancelled) read then.

    The lines' row, payee, running total and group are written over the events' own
    columns: a sale's line goes at or before its event's place, once that place was
    read, so no column of the year is copied.
    """

    def __init__(
        self, given: RatingInput, rows_at: Ints, events: _Events, groups: Ints | None
    ) -> None:
        """Room for the lines of ``events`` (the groups ``groups`` of an attainment table)."""
        sale = events.sale
        size = len(events.after) if sale is None else int(np.count_nonzero(sale))
        self._given, self._rows_at, self._written = given, rows_at, 0
        self.line = np.empty(size, dtype=np.int64)
        self.period = np.empty(size, dtype=given.row_period.dtype)
        self._codes = _period_codes(given)
        self._cancelled: list[Ints] = []
        self._groups = groups
        self.groups = None if groups is None else groups[:size]
        self.row = events.position[:size]
        self.payee = events.payee[:size]
        self.after = events.after[:size]

    def rate(
        self, events: _Events, placed: PlacedTable, groups: Ints | None, rounding: str
    ) -> None:
        """Rate every event and keep the sales' lines."""
        shared = np.zeros(1, np.intp)
        previous = 0
        for lo in range(0, len(events.after), _BLOCK):
            hi = lo + _BLOCK
            r = rate_values(
                events.after[lo:hi], shared if groups is None else groups[lo:hi], placed, rounding
            )[0]
            step = np.empty_like(r)
            step[0] = r[0] - previous
            np.subtract(r[1:], r[:-1], out=step[1:])
            np.copyto(step, r, where=events.start[lo:hi])
            previous = int(r[-1])
            self._keep(events, slice(lo, hi), step)

    def _keep(self, events: _Events, block: slice, step: NDArray[np.int64]) -> None:
        """The lines of the sales among the events ``block``, written after the last ones."""
        at = slice(self._written, self._written + len(step))
        if events.sale is not None:
            sales = np.flatnonzero(events.sale[block])
            at = slice(self._written, self._written + len(sales))
            # Fancy indexing copies the block first: writing at or before it is safe.
            self.row[at] = events.position[block][sales]
            self.payee[at] = events.payee[block][sales]
            self.after[at] = events.after[block][sales]
            if self._groups is not None:
                self._groups[at] = self._groups[block][sales]
            step = step[sales]
        self._written = at.stop
        self.line[at] = step
        if len(self._rows_at) != len(self._given.rows):  # positions in rows_at to rows
            self.row[at] = self._rows_at.take(self.row[at])
        row = self.row[at]
        if self._codes is None:
            np.take(self._given.row_period, row, out=self.period[at])
            cancelled = self._given.gone_period.take(row) < self._given.periods
        else:
            code = self._codes.take(row)
            np.bitwise_and(code, _PERIOD_BITS, out=self.period[at], casting="unsafe")
            cancelled = code > _PERIOD_BITS
        self._cancelled.append(np.flatnonzero(cancelled) + at.start)

    def cancelled(self) -> Ints:
        """The lines whose row is cancelled through the last period, in line order."""
        return np.concatenate(self._cancelled) if self._cancelled else np.zeros(0, np.intp)


def _period_codes(given: RatingInput) -> NDArray[np.uint8] | None:
    """Each row's period in one byte, its top bit set when cancelled through the last.

    The lines read both with one gather, in their random order, from a table a
    quarter the size of the two int16 columns. ``None`` beyond 127 periods.
    """
    if given.periods > _PERIOD_BITS:
        return None
    codes = given.row_period.astype(np.uint8)
    codes |= (given.gone_period < given.periods).view(np.uint8) << 7
    return codes


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


def _clawbacks(given: RatingInput, rated: RatedRows, cancelled: Ints | None) -> tuple[Ints, Ints]:
    """Lines clawed back: cancelled through the last period within the version's days.

    Ordered by cancellation day, then line order. ``cancelled``: the lines whose row
    is cancelled through the last period, when known (else read by the lines' rows).
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
    if cancelled is None:
        cancelled = np.flatnonzero(given.gone_period[rated.row] < given.periods)
    at = rated.row[cancelled]
    days = rows.gone[at] - rows.day[at]
    allowed = within[rated.version[cancelled]]
    keep = (allowed >= 0) & (days <= allowed)
    back = cancelled[keep]
    if len(back) > 1:
        back = back[np.argsort(rows.gone[at[keep]], kind="stable")]
    return back.astype(np.intp), given.gone_period[rated.row[back]]
