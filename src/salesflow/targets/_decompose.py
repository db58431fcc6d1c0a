"""Decomposition engines: the scalar reference and the vectorized path.

Both take a `Layout` and fill two int64[P, N] arrays: each node's amount in each
finest period, and the part of a node's amount its reports do not carry (the gap:
freed by leavers and ramps under the ``gap`` policy, or everything when no report can
carry it). For every node with reports, in every period::

    amount[parent] == sum(amount[report] for its reports) + unassigned[parent]

Each parent's amount is split over its reports like this: locked reports take their
phased lock; the rest is split over the other reports by weight with largest
remainder, the gap taking a share by its gap weight (listed after the reports, so ties
go to reports first, lower node position first).
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from typing import TYPE_CHECKING

import numpy as np

from salesflow.errors import DefinitionError
from salesflow.money import allocate_grouped, allocate_units
from salesflow.targets._layout import NO_LOCK, Layout

if TYPE_CHECKING:
    from numpy.typing import NDArray

__all__ = ["decompose_reference", "decompose_vectorized"]

Cells = tuple["NDArray[np.int64]", "NDArray[np.int64]"]


def decompose_reference(layout: Layout) -> Cells:
    """Fill the cells one period and one parent at a time (the readable reference)."""
    shape = layout.parent.shape
    amounts = np.zeros(shape, dtype=np.int64)
    unassigned = np.zeros(shape, dtype=np.int64)
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
                    layout, (p, node), int(amounts[p, node]), kids, amounts
                )
            queue.extend(kids)
    return amounts, unassigned


def _split(
    layout: Layout, cell: tuple[int, int], amount: int, kids: list[int], amounts: NDArray[np.int64]
) -> int:
    """Split ``amount`` of ``cell`` (period, node) over ``kids``; return the gap's part."""
    p, node = cell
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
    parts = allocate_units(rest, [*weights, gap])
    for k, part in zip(free, parts, strict=False):
        amounts[p, k] = part
    return parts[-1]


def _check_rest(layout: Layout, p: int, node: int, amount: int, rest: int) -> None:
    if (amount >= 0 > rest) or (amount <= 0 < rest):
        who = layout.nodes[node]
        period = layout.periods[p].label
        msg = (
            f"the locks under {who!r} in {period} add up to more than its {amount} "
            f"(minor units): {amount - rest}"
        )
        raise DefinitionError(msg, code="targets.locks_exceed_parent")


def decompose_vectorized(layout: Layout) -> Cells:
    """Fill the cells one org level at a time, all periods and parents at once."""
    periods, size = layout.parent.shape
    amounts = np.zeros(periods * size, dtype=np.int64)
    unassigned = np.zeros(periods * size, dtype=np.int64)
    amounts[np.arange(periods) * size + layout.root] = layout.root_amounts
    flat_parent = layout.parent.ravel()
    flat_depth = layout.depth.ravel()
    flat_locked = layout.locked.ravel()
    flat_weight = layout.weight.ravel()
    flat_gap = layout.gap_weight.ravel()
    for cells in _cells_by_level(flat_depth, layout.max_depth):
        parent_cells = (cells // size) * size + flat_parent[cells]
        groups, group_of = _compact(parent_cells, periods * size)
        is_locked = flat_locked[cells] != NO_LOCK
        locked_cells = cells[is_locked]
        amounts[locked_cells] = flat_locked[locked_cells]
        locked_sum = np.zeros(len(groups), dtype=np.int64)
        np.add.at(locked_sum, group_of[is_locked], flat_locked[locked_cells])
        rest = amounts[groups] - locked_sum
        _check_rests(layout, groups, amounts[groups], rest)
        free = ~is_locked
        free_weight = flat_weight[cells[free]]
        weight_sum = np.zeros(len(groups), dtype=np.int64)
        np.add.at(weight_sum, group_of[free], free_weight)
        gap = flat_gap[groups]
        gap = np.where((weight_sum == 0) & (gap == 0), 1, gap)
        with_gap = np.flatnonzero(gap)
        parts = allocate_grouped(
            rest,
            np.concatenate([free_weight, gap[with_gap]]),
            np.concatenate([group_of[free], with_gap]),
        )
        amounts[cells[free]] = parts[: len(free_weight)]
        unassigned[groups[with_gap]] = parts[len(free_weight) :]
    shape = layout.parent.shape
    return amounts.reshape(shape), unassigned.reshape(shape)


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
