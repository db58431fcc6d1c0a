"""Decomposition engines: the scalar reference and the vectorized path.

Both take a `Layout` and fill two int64[P, N] arrays: each node's amount in each
finest period, and the part of a node's amount its reports do not carry (the gap:
freed by leavers and ramps under the ``gap`` policy, or everything when no report can
carry it). For every node with reports, in every period::

    amount[parent] == sum(amount[report] for its reports) + unassigned[parent]

Each parent's amount is split over its reports like this: locked reports take their
phased lock; the rest is split over the other reports by weight with largest
remainder, the gap taking a share by its gap weight (listed after the reports, so ties
go to reports first, lower node position first). A parent's periods are split in
order, each carrying every report's unrounded remainder into the next
(`allocate_units_carried`); when that leaves a report's running total a unit or more
from its exact running share, the parent's earlier splits are repaired
(`salesflow.targets._running.repair`), so every running total stays within one unit.
A report that changes parent starts afresh under the new one. Both engines split in
the order of `salesflow.targets._running.plan_splits`: a parent's whole year before
its reports'.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING

import numpy as np

from salesflow.errors import DefinitionError
from salesflow.money import CARRY_ONE, Money, allocate_grouped_carried, allocate_units_carried
from salesflow.targets._layout import NO_LOCK, Layout
from salesflow.targets._running import GAP, Schedule, flag_limit, plan_splits, repair

if TYPE_CHECKING:
    from numpy.typing import NDArray

__all__ = ["decompose_reference", "decompose_vectorized"]

Cells = tuple["NDArray[np.int64]", "NDArray[np.int64]"]


def decompose_reference(layout: Layout) -> Cells:
    """Fill the cells one parent and one period at a time (the readable reference)."""
    shape = layout.parent.shape
    amounts = np.zeros(shape, dtype=np.int64)
    unassigned = np.zeros(shape, dtype=np.int64)
    amounts[:, layout.root] = layout.root_amounts
    schedule = plan_splits(layout)
    carries = _Carries(schedule, flag_limit(layout))
    for batch in schedule.batches:
        p = int(batch[0]) // shape[1]
        reports: dict[int, list[int]] = defaultdict(list)
        for node in (batch % shape[1]).tolist():
            reports[int(layout.parent[p, node])].append(node)
        for node in sorted(reports):
            unassigned[p, node] = _split(layout, (p, node), reports[node], (amounts, carries))
            if schedule.repairable and carries.flagged():
                changes = repair(layout, (amounts, unassigned), schedule.stretch, (p, node))
                carries.take(node, changes)
    return amounts, unassigned


class _Carries:
    """Each report's carried remainder in its current stretch, and each gap's."""

    def __init__(self, schedule: Schedule, limit: int) -> None:
        self.stretch = schedule.stretch
        self.limit = limit
        self.reports: dict[int, tuple[int, int]] = {}  # node -> (stretch, carry)
        self.gaps: dict[int, int] = {}  # parent -> carry
        self.last: list[int] = []  # the carries the last split left

    def before(self, p: int, parent: int, kids: list[int]) -> list[int]:
        """The carries of ``kids`` and of the gap; a report new in its stretch has 0."""
        carried = [self.reports.get(k, (-1, 0)) for k in kids]
        fresh = [int(self.stretch[p, k]) for k in kids]
        return [c if s == f else 0 for (s, c), f in zip(carried, fresh, strict=True)] + [
            self.gaps.get(parent, 0)
        ]

    def after(self, p: int, parent: int, kids: list[int], carries: list[int]) -> None:
        """Keep the carries after a split."""
        for kid, carry in zip(kids, carries, strict=False):
            self.reports[kid] = (int(self.stretch[p, kid]), carry)
        self.gaps[parent] = carries[-1]
        self.last = carries

    def flagged(self) -> bool:
        """Whether a carry the last split left may be a running total a unit off."""
        return any(abs(c) >= self.limit for c in self.last)

    def take(self, parent: int, changes: list[tuple[int, int, int]]) -> None:
        """Take the units a repair moved off the carries of their stretches."""
        for row, node, delta in changes:
            if node == GAP:
                self.gaps[parent] -= delta * CARRY_ONE
                continue
            stretch, carry = self.reports[node]
            if stretch == self.stretch[row, node]:
                self.reports[node] = (stretch, carry - delta * CARRY_ONE)


def _split(
    layout: Layout,
    cell: tuple[int, int],
    kids: list[int],
    state: tuple[NDArray[np.int64], _Carries],
) -> int:
    """Split the amount of ``cell`` (period, node) over ``kids``; return the gap's part."""
    p, node = cell
    amounts, carries = state
    amount = int(amounts[p, node])
    locked = [k for k in kids if layout.locked[p, k] != NO_LOCK]
    free = [k for k in kids if layout.locked[p, k] == NO_LOCK]
    for k in locked:
        amounts[p, k] = layout.locked[p, k]
    rest = amount - sum(int(layout.locked[p, k]) for k in locked)
    _check_rest(layout, p, node, amount, rest)
    weights = [int(layout.weight[p, k]) for k in free]
    gap = int(layout.gap_weight[p, node])
    if not any(weights) and not gap:
        gap = 1
    parts, after = allocate_units_carried(rest, [*weights, gap], carries.before(p, node, free))
    carries.after(p, node, free, after)
    for k, part in zip(free, parts, strict=False):
        amounts[p, k] = part
    return parts[-1]


def _check_rest(layout: Layout, p: int, node: int, amount: int, rest: int) -> None:
    if (amount >= 0 > rest) or (amount <= 0 < rest):
        who = layout.nodes[node]
        period = layout.periods[p].label
        currency = layout.plan.currency

        def shown(units: int) -> str:
            return str(Money.from_minor_units(units, currency)) if currency else str(units)

        msg = (
            f"the locks under {who!r} in {period} add up to {shown(amount - rest)}, "
            f"more than its {shown(amount)}"
        )
        raise DefinitionError(msg, code="targets.locks_exceed_parent")


def decompose_vectorized(layout: Layout) -> Cells:
    """Fill the cells one batch of `plan_splits` at a time, all its parents at once.

    A batch is one generation of parents in one period; each parent's periods go in
    date order, because each split carries the remainders of the one before (see
    `salesflow.money.allocate_grouped_carried`).
    """
    periods, size = layout.parent.shape
    schedule = plan_splits(layout)
    grid = _FlatGrid(layout, schedule)
    grid.amounts[np.arange(periods) * size + layout.root] = layout.root_amounts
    for batch in schedule.batches:
        flagged = grid.split(batch)
        if schedule.repairable:
            for parent in flagged.tolist():
                grid.repair(int(batch[0]) // size, parent)
    return grid.amounts.reshape(periods, size), grid.unassigned.reshape(periods, size)


class _FlatGrid:
    """The layout's arrays flattened over (period, node), the cells, and the carries."""

    def __init__(self, layout: Layout, schedule: Schedule) -> None:
        periods, size = layout.parent.shape
        self.layout = layout
        self.size = size
        self.parent = layout.parent.ravel()
        self.locked = layout.locked.ravel()
        self.weight = layout.weight.ravel()
        self.gap_weight = layout.gap_weight.ravel()
        self.stretch = schedule.stretch
        self.flat_stretch = schedule.stretch.ravel()
        self.limit = flag_limit(layout)
        self.amounts = np.zeros(periods * size, dtype=np.int64)
        self.unassigned = np.zeros(periods * size, dtype=np.int64)
        self.report_carry = np.zeros(size, dtype=np.int64)
        self.carry_stretch = np.full(size, -1, dtype=np.int16)
        self.gap_carry = np.zeros(size, dtype=np.int64)

    def split(self, cells: NDArray[np.intp]) -> NDArray[np.intp]:
        """Split the parents of ``cells`` (one period) over them; the parents to check.

        Returns the parents (node positions, ascending) a carry of which may now be a
        running total a unit off.
        """
        size = self.size
        parents = self.parent[cells]
        groups, group_of = _compact(parents, size)
        parent_cells = (cells[0] // size) * size + groups
        is_locked = self.locked[cells] != NO_LOCK
        self.amounts[cells[is_locked]] = self.locked[cells[is_locked]]
        locked_sum = np.zeros(len(groups), dtype=np.int64)
        np.add.at(locked_sum, group_of[is_locked], self.locked[cells[is_locked]])
        rest = self.amounts[parent_cells] - locked_sum
        _check_rests(self.layout, parent_cells, self.amounts[parent_cells], rest)
        free = cells[~is_locked]
        nodes = free % size
        stretch = self.flat_stretch[free]
        weight = self.weight[free]
        weight_sum = np.zeros(len(groups), dtype=np.int64)
        np.add.at(weight_sum, group_of[~is_locked], weight)
        gap = self.gap_weight[parent_cells]
        gap = np.where((weight_sum == 0) & (gap == 0), 1, gap)
        carry = np.where(self.carry_stretch[nodes] == stretch, self.report_carry[nodes], 0)
        members = np.concatenate([group_of[~is_locked], np.arange(len(groups))])
        parts, after = allocate_grouped_carried(
            rest,
            np.concatenate([weight, gap]),
            members,
            np.concatenate([carry, self.gap_carry[groups]]),
        )
        count = len(free)
        self.amounts[free] = parts[:count]
        self.unassigned[parent_cells] = parts[count:]
        self.report_carry[nodes] = after[:count]
        self.carry_stretch[nodes] = stretch
        self.gap_carry[groups] = after[count:]
        flagged: NDArray[np.intp] = groups[np.unique(members[np.abs(after) >= self.limit])]
        return flagged

    def repair(self, period: int, parent: int) -> None:
        """Repair ``parent``'s splits up to ``period`` (see `repair`), carries and all."""
        shape = self.layout.parent.shape
        cells = (self.amounts.reshape(shape), self.unassigned.reshape(shape))
        for row, node, delta in repair(self.layout, cells, self.stretch, (period, parent)):
            if node == GAP:
                self.gap_carry[parent] -= delta * CARRY_ONE
            elif self.carry_stretch[node] == self.stretch[row, node]:
                self.report_carry[node] -= delta * CARRY_ONE


def _compact(keys: NDArray[np.intp], space: int) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """The distinct keys in order, and each key's position among them (no sort)."""
    present = np.zeros(space, dtype=bool)
    present[keys] = True
    rank = np.cumsum(present) - 1
    return np.flatnonzero(present), rank[keys]


def _check_rests(
    layout: Layout, groups: NDArray[np.intp], amount: NDArray[np.int64], rest: NDArray[np.int64]
) -> None:
    bad = ((amount >= 0) & (rest < 0)) | ((amount <= 0) & (rest > 0))
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        p, node = divmod(int(groups[first]), layout.parent.shape[1])
        _check_rest(layout, p, node, int(amount[first]), int(rest[first]))
