"""Running totals within one unit: the order of the splits, and the repair.

Each parent's amount is split period after period, each split carrying every report's
unrounded remainder into the next (`salesflow.money.allocate_units_carried`). That
keeps each cell the floor or the ceiling of its exact share, and most running totals
close to their exact running shares, but on its own it cannot promise they stay within
one unit: which report should take a leftover unit now depends on the periods to
come (when weights change, or reports come and go, no rule that looks only at the
past can keep the promise; a small exhaustive game shows it for four reports).

Looking ahead always can. Take one parent's splits over the year: each report's
cells (floor or ceiling of each share, summing to the parent's amount in every
period) and its running totals (floor or ceiling of each running share) are the
integer points of a network flow: the parent's leftover units of each period flow to
its reports, then along each report's chain of periods, whose edges are bounded by
the floor and the ceiling of its running share. The exact shares are a fractional
flow, so an integer one exists (network matrices are totally unimodular). So the
splits of a parent run period by period, and when one leaves a running total a whole
unit (or more) from its exact running share, an augmenting path through the parent's
earlier periods moves a few leftover units between its reports to restore the bound
(`repair`). It is found in the parent's splits alone, so every parent's splits must
be done, for the whole year, before its reports' own splits read their amounts: the
parents go in the order of the reporting lines of the whole year (`plan_splits`).

A running share starts afresh when a report comes under another parent (a stretch);
a report away for a while (absent, or locked) and back under the same parent goes on
with it. The gap (the part of a parent's amount its reports do not carry) is a member
of the split like the reports, with one stretch for the year.
"""

from __future__ import annotations

import itertools
import math
from collections import deque
from dataclasses import dataclass, field
from fractions import Fraction
from typing import TYPE_CHECKING, Final, final

import numpy as np

from salesflow.money import CARRY_ONE
from salesflow.targets._layout import ABSENT, NO_LOCK, Layout

if TYPE_CHECKING:
    from collections.abc import Iterator

    from numpy.typing import NDArray

__all__ = ["GAP", "Schedule", "flag_limit", "plan_splits", "repair"]

GAP: Final = -1
"""The node of a change to a parent's gap (see `repair`)."""


@final
@dataclass(frozen=True, slots=True, eq=False)
class Schedule:
    """In what order the engines split, and each report's stretches.

    Attributes:
        batches: Flat (period, node) cells to split, one array per batch in order;
            the cells of a batch are in one period and node order, and their
            parents' amounts are known before it.
        stretch: int16[P, N], for each cell split as a share (a report, not locked),
            the first period of its stretch under its parent; -1 elsewhere.
        repairable: Whether every parent's splits come before its reports' (the
            reporting lines of the whole year never loop), so `repair` may change a
            parent's earlier splits.
    """

    batches: list[NDArray[np.intp]]
    stretch: NDArray[np.int16]
    repairable: bool


def plan_splits(layout: Layout) -> Schedule:
    """The order of the splits: parent by parent, each for the whole year.

    A parent's splits come once every node it reports to, at any time of the year,
    has been split: one batch per generation of parents (the longest line of the
    year's reporting lines above it) and period. When the lines loop over the year
    (one node above another in spring, below it in autumn), no such order exists and
    the splits go period by period, level by level, without repairs.
    """
    periods, size = layout.parent.shape
    generation = _generations(layout)
    levels = layout.max_depth + 1 if generation is None else int(generation.max()) + 1
    narrow = np.int16 if levels < 2**15 else np.intp  # radix sort for small keys
    by_row = []
    for row in range(periods):
        parent = layout.parent[row]
        nodes = np.flatnonzero(parent >= 0)
        key = layout.depth[row, nodes] if generation is None else generation[parent[nodes]]
        order = np.argsort(key.astype(narrow), kind="stable")  # stable: node order kept
        bounds = np.searchsorted(key[order], np.arange(levels + 1))
        nodes = row * size + nodes[order]
        by_row.append([nodes[lo:hi] for lo, hi in itertools.pairwise(bounds)])
    if generation is None:
        steps = [(row, level) for row in range(periods) for level in range(levels)]
    else:
        steps = [(row, level) for level in range(levels) for row in range(periods)]
    batches = [by_row[row][level] for row, level in steps if len(by_row[row][level])]
    return Schedule(batches, _stretches(layout), repairable=generation is not None)


def flag_limit(layout: Layout) -> int:
    """A carry at least this far from zero may be a running total a unit off.

    Carries are fixed-point (`CARRY_ONE` a unit), each split's fraction rounded down,
    so a carry is within two fixed-point units a period of the exact remainder.
    """
    return CARRY_ONE - 2 * (len(layout.periods) + 1)


def repair(
    layout: Layout,
    cells: tuple[NDArray[np.int64], NDArray[np.int64]],
    stretch: NDArray[np.int16],
    split: tuple[int, int],
) -> list[tuple[int, int, int]]:
    """Bring back within one unit every running total of a parent's splits so far.

    ``split`` is (period, parent): the parent's splits up to and including that period
    are done (``cells`` holds them: amounts and gaps), those before it keep every
    running total within one unit, and the last may have left some a unit off. Moves
    leftover units between the parent's reports (and its gap) in its splits so far,
    along shortest augmenting paths, and writes them into ``cells``.

    Returns:
        The changes made, as (period, node, +1 or -1); the node is `GAP` for the
        parent's gap. The engines take them off their carries.

    Raises:
        RuntimeError: no path restores the bound, which the flow argument rules out.
    """
    amounts, unassigned = cells
    network = _Network.of_splits(layout, cells, stretch, split)
    changes: list[tuple[int, int, int]] = []
    for member in network.off_bound():
        path = network.augmenting_path(member)
        if path is None:
            msg = f"no repair keeps the running totals under {layout.nodes[split[1]]!r}"
            raise RuntimeError(msg)
        changes += network.augment(path)
    for row, node, delta in changes:
        if node == GAP:
            unassigned[row, split[1]] += delta
        else:
            amounts[row, node] += delta
    return changes


def _generations(layout: Layout) -> NDArray[np.intp] | None:
    """Each node's longest line of parents over the year's reporting lines, or None.

    None when the lines loop (a node above another at one time, below it at another).
    """
    parent = layout.parent
    size = parent.shape[1]
    rows, nodes = np.nonzero(parent[1:] != parent[:-1])  # moves are few: only they
    tails = np.concatenate([parent[0], parent[rows + 1, nodes]])
    heads = np.concatenate([np.arange(size), nodes])
    edges = np.unique(tails[tails >= 0] * size + heads[tails >= 0])
    above, below = np.divmod(edges, size)
    waiting = np.bincount(below, minlength=size)
    generation = np.full(size, -1, dtype=np.intp)
    current = np.flatnonzero(waiting == 0)
    level = 0
    while len(current):
        generation[current] = level
        done = np.zeros(size, dtype=bool)
        done[current] = True
        freed = below[done[above]]
        waiting -= np.bincount(freed, minlength=size)
        freed = np.unique(freed)
        current = freed[waiting[freed] == 0]
        level += 1
    return None if (generation < 0).any() else generation


def _stretches(layout: Layout) -> NDArray[np.int16]:
    """The first period of each share cell's stretch under its parent (-1 elsewhere)."""
    parent = layout.parent
    shares = (parent >= 0) & (layout.locked == NO_LOCK)
    # Most nodes keep one parent all year, a share in every period: one stretch from 0.
    changing = np.flatnonzero(
        ((parent[1:] != parent[:-1]) | (shares[1:] != shares[:-1])).any(axis=0) | ~shares[0]
    )
    stretch = np.where(shares, np.int16(0), np.int16(-1))
    stretch[:, changing] = _first_periods(parent[:, changing], shares[:, changing])
    return stretch


def _first_periods(parent: NDArray[np.intp], shares: NDArray[np.bool_]) -> NDArray[np.int16]:
    """`_stretches` of a few nodes: a stretch starts where the share's parent changes."""
    periods, size = parent.shape
    rows = np.arange(periods, dtype=np.int16)[:, None]
    last = np.maximum.accumulate(np.where(shares, rows, np.int16(-1)), axis=0)
    before = np.vstack([np.full((1, size), -1, dtype=np.int16), last[:-1]])
    previous = np.where(before >= 0, parent[before.clip(0), np.arange(size)], ABSENT)
    starts = shares & (previous != parent)
    first = np.maximum.accumulate(np.where(starts, rows, np.int16(-1)), axis=0)
    return np.where(shares, first, np.int16(-1))


@dataclass(slots=True)
class _Member:
    """One report's stretch (or the gap) in a parent's splits so far.

    In each of its splits (``rows``), ``fractions`` is what its exact share has above
    its floor and ``taken`` whether it took a leftover unit (its cell is the floor
    plus that); ``running`` and ``units`` are their sums so far.
    """

    node: int
    rows: list[int] = field(default_factory=list)
    fractions: list[Fraction] = field(default_factory=list)
    taken: list[int] = field(default_factory=list)
    running: list[Fraction] = field(default_factory=list)
    units: list[int] = field(default_factory=list)  # leftover units taken so far

    def add(self, row: int, share: Fraction, cell: int) -> None:
        floor = math.floor(share)
        self.rows.append(row)
        self.fractions.append(share - floor)
        self.taken.append(cell - floor)
        self.running.append(share - floor + (self.running[-1] if self.running else 0))
        self.units.append(cell - floor + (self.units[-1] if self.units else 0))

    def take(self, i: int, delta: int) -> None:
        """Take ``delta`` more leftover units in split ``i``."""
        self.taken[i] += delta
        for j in range(i, len(self.units)):
            self.units[j] += delta

    def fits(self, i: int, units: int) -> bool:
        """Whether ``units`` taken up to split ``i`` keep it within one unit there."""
        return math.floor(self.running[i]) <= units <= math.ceil(self.running[i])


_Node = tuple[int, int]  # (member, split index) or (-1, period) or _SINK
_SINK: Final[_Node] = (-2, 0)


@dataclass(slots=True)
class _Network:
    """A parent's splits so far as a flow: leftover units to members, along their chains.

    Node (m, i) is member m's i-th split: it receives that split's leftover unit (if
    taken) and its units so far, and passes them on to (m, i + 1), or after its last
    split to the sink. Node (-1, row) is the parent's split in period ``row``.
    """

    members: list[_Member]
    by_row: dict[int, list[tuple[int, int]]]

    @classmethod
    def of_splits(
        cls,
        layout: Layout,
        cells: tuple[NDArray[np.int64], NDArray[np.int64]],
        stretch: NDArray[np.int16],
        split: tuple[int, int],
    ) -> _Network:
        """The splits of ``split``'s parent up to its period, as `repair` takes them."""
        last, parent = split
        amounts, unassigned = cells
        members: dict[tuple[int, int], _Member] = {}
        rows, nodes = np.nonzero(layout.parent[: last + 1] == parent)
        for row in np.unique(rows).tolist():
            kids = nodes[rows == row]
            is_free = layout.locked[row, kids] == NO_LOCK
            free = kids[is_free]
            rest = int(amounts[row, parent]) - int(layout.locked[row, kids[~is_free]].sum())
            weights = layout.weight[row, free].tolist()
            gap = int(layout.gap_weight[row, parent])
            gap = gap if any(weights) or gap else 1
            whole = sum(weights) + gap
            for kid, weight in zip(free.tolist(), weights, strict=True):
                key = (kid, int(stretch[row, kid]))
                members.setdefault(key, _Member(kid)).add(
                    row, Fraction(rest * weight, whole), int(amounts[row, kid])
                )
            members.setdefault((GAP, 0), _Member(GAP)).add(
                row, Fraction(rest * gap, whole), int(unassigned[row, parent])
            )
        network = cls(list(members.values()), {})
        for m, member in enumerate(network.members):
            for i, row in enumerate(member.rows):
                network.by_row.setdefault(row, []).append((m, i))
        return network

    def off_bound(self) -> Iterator[int]:
        """The members whose units so far are a unit off (their last split's)."""
        for m, member in enumerate(self.members):
            end = len(member.rows) - 1
            if not member.fits(end, member.units[end]):
                yield m

    def augmenting_path(self, off: int) -> list[_Node] | None:
        """A shortest path that gives ``off`` a unit more (or less) at its end."""
        member = self.members[off]
        end = len(member.rows) - 1
        short = member.units[end] < math.floor(member.running[end])
        start, goal = (_SINK, (off, end)) if short else ((off, end), _SINK)
        came: dict[_Node, _Node] = {start: start}
        queue = deque([start])
        while queue:
            node = queue.popleft()
            if node == goal:
                return _walk_back(came, goal)
            for step in self._steps(node, off):
                if step not in came:
                    came[step] = node
                    queue.append(step)
        return None

    def _steps(self, node: _Node, off: int) -> Iterator[_Node]:
        """Where one unit may be moved from ``node`` with every bound still kept."""
        m, i = node
        if node == _SINK:
            yield from self._from_sink(off)
        elif m == -1:
            for m2, i2 in self.by_row[i]:
                if not self.members[m2].taken[i2] and self.members[m2].fractions[i2]:
                    yield (m2, i2)
        else:
            yield from self._along_chain(m, i, off)

    def _from_sink(self, off: int) -> Iterator[_Node]:
        for m, member in enumerate(self.members):
            end = len(member.rows) - 1
            if m != off and member.fits(end, member.units[end] - 1):
                yield (m, end)

    def _along_chain(self, m: int, i: int, off: int) -> Iterator[_Node]:
        member = self.members[m]
        units = member.units[i]
        if i and member.fits(i - 1, member.units[i - 1] - 1):
            yield (m, i - 1)  # one unit fewer up to the split before
        if member.fits(i, units + 1):
            if i + 1 < len(member.rows):
                yield (m, i + 1)  # one unit more from this split on
            elif m != off:
                yield _SINK
        if member.taken[i]:
            yield (-1, member.rows[i])  # give this split's leftover unit back

    def augment(self, path: list[_Node]) -> list[tuple[int, int, int]]:
        """Move one unit along ``path``; the cells changed, as (period, node, delta)."""
        changes = []
        for here, there in itertools.pairwise(path):
            if here[0] >= 0 and there[0] == -1:
                changes.append(self._take(here, -1))
            elif here[0] == -1 and there[0] >= 0:
                changes.append(self._take(there, 1))
        return changes

    def _take(self, node: _Node, delta: int) -> tuple[int, int, int]:
        member = self.members[node[0]]
        member.take(node[1], delta)
        return (member.rows[node[1]], member.node, delta)


def _walk_back(came: dict[_Node, _Node], goal: _Node) -> list[_Node]:
    path = [goal]
    while came[path[-1]] != path[-1]:
        path.append(came[path[-1]])
    return path[::-1]
