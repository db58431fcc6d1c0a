"""Decomposition engines: the scalar reference and the vectorized path.

Both take a `Layout` and fill two int64[P, N] arrays: each node's amount in each
finest period, and the part of a node's amount its reports do not carry (the gap:
freed by leavers and ramps under the ``gap`` policy, or everything when no report can
carry it). For every node with reports, in every period::

    amount[parent] == sum(amount[report] for its reports) + unassigned[parent]

Each parent's amount is split over its reports like this: locked reports take their
phased lock; the rest is split over the other reports by weight with largest
remainder, the gap taking a share by its gap weight (listed after the reports, so ties
go to reports first, lower node position first). Periods are split in order, each
carrying every report's unrounded remainder into the next (`allocate_units_carried`),
so a report's running total stays within about one minor unit of its exact running
share; a report that changes parent starts afresh under the new one.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from typing import TYPE_CHECKING

import numpy as np

from salesflow.errors import DefinitionError
from salesflow.money import Money, allocate_grouped_carried, allocate_units_carried
from salesflow.targets._layout import ABSENT, NO_LOCK, Layout

if TYPE_CHECKING:
    from numpy.typing import NDArray

__all__ = ["decompose_reference", "decompose_vectorized"]

Cells = tuple["NDArray[np.int64]", "NDArray[np.int64]"]


def decompose_reference(layout: Layout) -> Cells:
    """Fill the cells one period and one parent at a time (the readable reference)."""
    shape = layout.parent.shape
    amounts = np.zeros(shape, dtype=np.int64)
    unassigned = np.zeros(shape, dtype=np.int64)
    carries = _Carries()
    for p in range(shape[0]):
        reports: dict[int, list[int]] = defaultdict(list)
        for node in range(shape[1]):
            if layout.parent[p, node] >= 0:
                reports[int(layout.parent[p, node])].append(node)
        amounts[p, layout.root] = layout.root_amounts[p]
        queue = [layout.root]
        while queue:
            node = queue.pop(0)
            kids = reports.get(node, [])
            if kids:
                unassigned[p, node] = _split(
                    layout, (p, node), int(amounts[p, node]), kids, (amounts, carries)
                )
            queue.extend(kids)
    return amounts, unassigned


class _Carries:
    """Each report's carried remainder under its current parent, and each gap's."""

    def __init__(self) -> None:
        self.reports: dict[int, tuple[int, int]] = {}  # node -> (parent, carry)
        self.gaps: dict[int, int] = {}  # parent -> carry

    def before(self, parent: int, kids: list[int]) -> list[int]:
        """The carries of ``kids`` and of the gap; a report new under ``parent`` has 0."""
        carried = [self.reports.get(k, (parent, 0)) for k in kids]
        return [c if p == parent else 0 for p, c in carried] + [self.gaps.get(parent, 0)]

    def after(self, parent: int, kids: list[int], carries: list[int]) -> None:
        """Keep the carries after a split."""
        for kid, carry in zip(kids, carries, strict=False):
            self.reports[kid] = (parent, carry)
        self.gaps[parent] = carries[-1]


def _split(
    layout: Layout,
    cell: tuple[int, int],
    amount: int,
    kids: list[int],
    state: tuple[NDArray[np.int64], _Carries],
) -> int:
    """Split ``amount`` of ``cell`` (period, node) over ``kids``; return the gap's part."""
    p, node = cell
    amounts, carries = state
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
    parts, after = allocate_units_carried(rest, [*weights, gap], carries.before(node, free))
    carries.after(node, free, after)
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
    """Fill the cells period by period, one org level at a time, all parents at once.

    Periods go in date order, as in the reference, because each split carries the
    remainders of the one before (see `salesflow.money.allocate_grouped_carried`) and a
    node may sit at another level in another period.
    """
    periods, size = layout.parent.shape
    grid = _FlatGrid(layout)
    grid.amounts[np.arange(periods) * size + layout.root] = layout.root_amounts
    levels = _cells_by_level(grid.depth, layout.max_depth)
    bounds = [np.searchsorted(cells // size, np.arange(periods + 1)) for cells in levels]
    for period in range(periods):
        for cells, edges in zip(levels, bounds, strict=True):
            lo, hi = edges[period], edges[period + 1]
            if hi > lo:
                grid.split(cells[lo:hi])
    return grid.amounts.reshape(periods, size), grid.unassigned.reshape(periods, size)


class _FlatGrid:
    """The layout's arrays flattened over (period, node), the cells, and the carries."""

    def __init__(self, layout: Layout) -> None:
        periods, size = layout.parent.shape
        self.layout = layout
        self.size = size
        self.parent = layout.parent.ravel()
        self.depth = layout.depth.ravel()
        self.locked = layout.locked.ravel()
        self.weight = layout.weight.ravel()
        self.gap_weight = layout.gap_weight.ravel()
        self.amounts = np.zeros(periods * size, dtype=np.int64)
        self.unassigned = np.zeros(periods * size, dtype=np.int64)
        self.report_carry = np.zeros(size, dtype=np.int64)
        self.carried_under = np.full(size, ABSENT, dtype=np.intp)
        self.gap_carry = np.zeros(size, dtype=np.int64)

    def split(self, cells: NDArray[np.intp]) -> None:
        """Split the parents of ``cells`` (one period, one level) over them."""
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
        under = parents[~is_locked]
        weight = self.weight[free]
        weight_sum = np.zeros(len(groups), dtype=np.int64)
        np.add.at(weight_sum, group_of[~is_locked], weight)
        gap = self.gap_weight[parent_cells]
        gap = np.where((weight_sum == 0) & (gap == 0), 1, gap)
        carry = np.where(self.carried_under[nodes] == under, self.report_carry[nodes], 0)
        parts, after = allocate_grouped_carried(
            rest,
            np.concatenate([weight, gap]),
            np.concatenate([group_of[~is_locked], np.arange(len(groups))]),
            np.concatenate([carry, self.gap_carry[groups]]),
        )
        count = len(free)
        self.amounts[free] = parts[:count]
        self.unassigned[parent_cells] = parts[count:]
        self.report_carry[nodes] = after[:count]
        self.carried_under[nodes] = under
        self.gap_carry[groups] = after[count:]


def _cells_by_level(flat_depth: NDArray[np.intp], deepest: int) -> list[NDArray[np.intp]]:
    """The cells of each level 1..deepest, each in flat (period, node) order."""
    order = np.argsort(flat_depth, kind="stable")  # stable: keeps the tie-break order
    bounds = np.searchsorted(flat_depth[order], np.arange(1, deepest + 2))
    return [order[lo:hi] for lo, hi in itertools.pairwise(bounds)]


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
