"""The result of a decomposition: every node's number in every period, explained."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING, Literal, final

import numpy as np

from salesflow._interop import require_pandas
from salesflow._values import check_enum
from salesflow.errors import CalendarError, InvalidValueError, Location, Problem, Severity
from salesflow.money import Money
from salesflow.periods import Grain
from salesflow.targets._decompose import decompose_reference, decompose_vectorized
from salesflow.targets._layout import (
    ABSENT,
    NO_LOCK,
    ROOT,
    Layout,
    build_layout,
    has_reports,
    weight_basis,
)
from salesflow.targets._plan import FreedTarget

if TYPE_CHECKING:
    from collections.abc import Iterator

    import pandas as pd
    from numpy.typing import NDArray

    from salesflow.periods import Period
    from salesflow.targets._org import OrgTree
    from salesflow.targets._plan import TargetPlan

__all__ = ["CellSource", "Derivation", "TargetGrid", "TargetRow", "decompose", "grid_from_layout"]

Engine = Literal["vectorized", "reference"]


@enum.unique
class CellSource(enum.Enum):
    """Where a finest-period cell's number came from."""

    TOTAL = "total"  # the root: the plan total phased over time
    LOCK = "lock"  # a locked number phased over time
    SHARE = "share"  # a share of the parent's number, by weight
    ABSENT = "absent"  # the node is not in the org in that period: zero


@final
@dataclass(frozen=True, slots=True)
class Derivation:
    """How one finest-period cell was derived, for a person disputing a number.

    Attributes:
        node: The node.
        period: The finest period.
        amount: The cell's number.
        source: Where it came from.
        parent: The parent it was split from (``None`` for the root or absent).
        parent_amount: The parent's number in the period.
        shared: What was split among the unlocked reports (the parent's number less
            the locked reports' numbers).
        weight: This node's weight among them.
        total_weight: The sum of the weights, the gap's included.
        basis: What the node's weight is made of, in the plan's words
            (``"capacity 2, active 3 of 7 days, ramp 50%"``).
        share: ``weight / total_weight``, exact.
    """

    node: str
    period: Period
    amount: Money | int
    source: CellSource
    parent: str | None = None
    parent_amount: Money | int | None = None
    shared: Money | int | None = None
    weight: int = 0
    total_weight: int = 0
    basis: str = ""

    @property
    def share(self) -> Fraction:
        """The node's exact share of what was shared."""
        return Fraction(self.weight, self.total_weight) if self.total_weight else Fraction(0)

    def __str__(self) -> str:
        """One line for a person: the number and how it came about."""
        head = f"{self.node} {self.period.label}: {self.amount}"
        if self.source is CellSource.SHARE:
            share = self.share
            basis = f" [{self.basis}]" if self.basis else ""
            return (
                f"{head} = {share} ({float(share * 100):.4g}%) of {self.shared} "
                f"shared under {self.parent} ({self.parent_amount}){basis}"
            )
        if self.source is CellSource.LOCK:
            return f"{head}: a locked number, phased like the total"
        if self.source is CellSource.TOTAL:
            return f"{head}: the plan total phased over time"
        return f"{head}: not in the org in this period"


@final
@dataclass(frozen=True, slots=True)
class TargetRow:
    """One cell in long format: a node, a period of any grain, and its number."""

    node: str
    period: str
    grain: str
    start: str
    end: str
    amount: Money | int
    unassigned: Money | int


@final
class TargetGrid:
    """Every node's number in every period of a plan.

    Cells are held at the plan's finest grain as int64 minor units (or counts);
    coarser periods are sums, so every coarser cell is exactly the sum of the cells it
    contains. ``unassigned`` holds, per node and period, the part of its number that its
    reports do not carry (the visible gap).
    """

    __slots__ = ("_memo", "amounts", "layout", "unassigned")

    def __init__(
        self, layout: Layout, amounts: NDArray[np.int64], unassigned: NDArray[np.int64]
    ) -> None:
        """Wrap the engine's arrays (use `decompose` to make one)."""
        self.layout = layout
        self.amounts = amounts
        self.unassigned = unassigned
        self.amounts.setflags(write=False)
        self.unassigned.setflags(write=False)
        # Lookups repeated by value/status/diff: node columns and period rows.
        self._memo: dict[object, object] = {}

    @property
    def plan(self) -> TargetPlan:
        """The plan decomposed."""
        return self.layout.plan

    @property
    def nodes(self) -> tuple[str, ...]:
        """Every node, in the org's record order (the columns of `amounts`)."""
        return self.layout.nodes

    @property
    def periods(self) -> tuple[Period, ...]:
        """The finest periods (the rows of `amounts`)."""
        return self.layout.periods

    def __eq__(self, other: object) -> bool:
        """Equal when the nodes, periods and every cell are equal."""
        if not isinstance(other, TargetGrid):
            return NotImplemented
        return (
            self.nodes == other.nodes
            and self.periods == other.periods
            and np.array_equal(self.amounts, other.amounts)
            and np.array_equal(self.unassigned, other.unassigned)
        )

    __hash__ = None  # type: ignore[assignment]  # a grid is a mutable-looking container

    def value(self, node: str, period: Period | str | None = None) -> Money | int:
        """A node's number for a period of any grain at or above the finest.

        Args:
            node: The node id.
            period: A `Period` of the plan's calendar, or its label; ``None`` for the
                whole fiscal year.

        Raises:
            InvalidValueError: ``node`` is not in the plan.
            CalendarError: the period is not made of whole finest periods of the plan.
        """
        return self._unit(int(self.amounts[self._rows(period), self._column(node)].sum()))

    def gap(self, node: str, period: Period | str | None = None) -> Money | int:
        """The part of a node's number that its reports do not carry."""
        return self._unit(int(self.unassigned[self._rows(period), self._column(node)].sum()))

    def explain(self, node: str, period: Period | str) -> Derivation:
        """How the cell of ``node`` in the finest ``period`` was derived."""
        column = self._column(node)
        row = self._finest_row(period)
        layout = self.layout
        amount = self._unit(int(self.amounts[row, column]))
        period_ = layout.periods[row]
        parent = int(layout.parent[row, column])
        if parent == ABSENT:
            return Derivation(node, period_, amount, CellSource.ABSENT)
        if parent == ROOT:
            return Derivation(node, period_, amount, CellSource.TOTAL)
        if layout.locked[row, column] != NO_LOCK:
            return Derivation(node, period_, amount, CellSource.LOCK, layout.nodes[parent])
        return self._share(row, column, parent, amount)

    def rows(self, grain: str | None = None) -> Iterator[TargetRow]:
        """Every cell in long format (node x period), at ``grain`` or the finest.

        For interop: ``pandas.DataFrame(grid.rows("month"))``.
        """
        calendar = self.plan.calendar
        level = check_enum(Grain, grain, "grain") if grain else self.plan.grain
        for period in calendar.periods(self.plan.fiscal_year, level):
            rows = self._rows(period)
            totals = self.amounts[rows].sum(axis=0)
            gaps = self.unassigned[rows].sum(axis=0)
            for column, node in enumerate(self.nodes):
                yield TargetRow(
                    node,
                    period.label,
                    level.value,
                    period.start.isoformat(),
                    period.end.isoformat(),
                    self._unit(int(totals[column])),
                    self._unit(int(gaps[column])),
                )

    def to_frame(self, grain: str | None = None) -> pd.DataFrame:
        """Every cell in long format as a pandas DataFrame (needs the [dataframe] extra).

        One row per node and period of ``grain`` (default: the finest), with columns
        ``node``, ``period``, ``start``, ``end``, ``target`` and ``gap`` in minor units
        (int64, exact; counts for a count plan) and ``unit`` (the currency code, or the
        plan's unit). Built with numpy, so a 5M-cell grid takes a fraction of a second.
        """
        require_pandas()
        import pandas as pd  # noqa: PLC0415 - an optional dependency, imported on use

        periods, targets = self.matrix(grain)
        gaps = np.stack([self.unassigned[self._rows(p)].sum(axis=0) for p in periods])
        size = len(self.nodes)
        currency = self.plan.currency
        return pd.DataFrame(
            {
                "node": np.tile(np.array(self.nodes, dtype=object), len(periods)),
                "period": np.repeat([p.label for p in periods], size),
                "start": np.repeat(np.array([p.start for p in periods], "datetime64[D]"), size),
                "end": np.repeat(np.array([p.end for p in periods], "datetime64[D]"), size),
                "target": targets.ravel(),
                "gap": gaps.ravel(),
                "unit": str(currency) if currency is not None else self.plan.unit,
            }
        )

    def check(self) -> list[Problem]:
        """Coherence findings, returned as data.

        Sums that do not add up, negative cells in a plan with a positive total, nodes
        in the org without a number for the year, numbers for nodes not in the org.
        """
        problems = self._sum_problems()
        negative = np.argwhere(self.amounts < 0 if self._positive_total() else False)
        problems += [self._cell_problem("targets.negative_cell", r, c) for r, c in negative[:20]]
        absent = np.argwhere((self.layout.parent == ABSENT) & (self.amounts != 0))
        problems += [self._cell_problem("targets.absent_target", r, c) for r, c in absent[:20]]
        present = (self.layout.parent != ABSENT).any(axis=0)
        zero = present & (self.amounts.sum(axis=0) == 0)
        problems += self._carried_by_nobody()
        problems += self._held_without_reports()
        problems += [
            Problem(
                "targets.no_target",
                Severity.WARNING,
                f"{self.nodes[c]!r} is in the org but has no target in FY{self.plan.fiscal_year}",
                Location(path=f"nodes.{self.nodes[c]}"),
            )
            for c in np.flatnonzero(zero)
        ]
        return problems

    # -- helpers --------------------------------------------------------------------

    def _carried_by_nobody(self) -> list[Problem]:
        """Under ``redistribute``, a gap means no report could carry the number."""
        if self.plan.freed is FreedTarget.GAP:
            return []
        return [
            Problem(
                "targets.carried_by_nobody",
                Severity.WARNING,
                f"{self.nodes[c]!r} in {self.layout.periods[r].label}: "
                f"{self._unit(int(self.unassigned[r, c]))} that no active report can carry",
                Location(path=f"cells.{self.nodes[c]}.{self.layout.periods[r].label}"),
            )
            for r, c in np.argwhere(self.unassigned != 0)[:20]
        ]

    def _held_without_reports(self) -> list[Problem]:
        """A node with reports in some periods holds a number itself in others."""
        layout = self.layout
        reported = has_reports(layout)
        sometimes = reported.any(axis=0)
        held = sometimes & ~reported & (self.amounts != 0) & (self.unassigned == 0)
        return [
            Problem(
                "targets.held_without_reports",
                Severity.WARNING,
                f"{self.nodes[c]!r} has no active report in {layout.periods[r].label} but "
                f"holds {self._unit(int(self.amounts[r, c]))} itself",
                Location(path=f"cells.{self.nodes[c]}.{layout.periods[r].label}"),
            )
            for r, c in np.argwhere(held)[:20]
        ]

    def _positive_total(self) -> bool:
        return int(self.layout.root_amounts.sum()) >= 0

    def _sum_problems(self) -> list[Problem]:
        layout = self.layout
        periods, size = layout.parent.shape
        rows = np.repeat(np.arange(periods), size).reshape(periods, size)
        has_parent = layout.parent >= 0
        sums = np.zeros((periods, size), dtype=np.int64)
        np.add.at(sums, (rows[has_parent], layout.parent[has_parent]), self.amounts[has_parent])
        wrong = has_reports(layout) & (sums + self.unassigned != self.amounts)
        return [self._cell_problem("targets.incoherent_sum", r, c) for r, c in np.argwhere(wrong)]

    def _cell_problem(self, code: str, row: int, column: int) -> Problem:
        label = self.layout.periods[row].label
        node = self.nodes[column]
        amount = self._unit(int(self.amounts[row, column]))
        messages = {
            "targets.incoherent_sum": f"{node!r} in {label}: {amount} is not the sum of "
            "its reports and its gap",
            "targets.negative_cell": f"{node!r} in {label} has a negative target {amount}",
            "targets.absent_target": f"{node!r} is not in the org in {label} but has {amount}",
        }
        severity = Severity.WARNING if code == "targets.negative_cell" else Severity.ERROR
        return Problem(code, severity, messages[code], Location(path=f"cells.{node}.{label}"))

    def _share(self, row: int, column: int, parent: int, amount: Money | int) -> Derivation:
        layout = self.layout
        siblings = np.flatnonzero(layout.parent[row] == parent)
        free = siblings[layout.locked[row, siblings] == NO_LOCK]
        locked = siblings[layout.locked[row, siblings] != NO_LOCK]
        total_weight = int(layout.weight[row, free].sum())
        gap = int(layout.gap_weight[row, parent])
        total_weight += gap if total_weight or gap else 1
        parent_amount = int(self.amounts[row, parent])
        return Derivation(
            node=layout.nodes[column],
            period=layout.periods[row],
            amount=amount,
            source=CellSource.SHARE,
            parent=layout.nodes[parent],
            parent_amount=self._unit(parent_amount),
            shared=self._unit(parent_amount - int(layout.locked[row, locked].sum())),
            weight=int(layout.weight[row, column]),
            total_weight=total_weight,
            basis=weight_basis(layout, row, column),
        )

    def _unit(self, units: int) -> Money | int:
        currency = self.plan.currency
        return Money.from_minor_units(units, currency) if currency is not None else units

    def _column(self, node: str) -> int:
        index = self._memo.get("index")
        if index is None:
            index = {n: i for i, n in enumerate(self.nodes)}
            self._memo["index"] = index
        assert isinstance(index, dict)  # noqa: S101 - narrows the memo's type
        column = index.get(node)
        if column is None:
            msg = f"{node!r} is not in the plan's org"
            raise InvalidValueError(msg, code="targets.unknown_node")
        return int(column)

    def matrix(
        self, grain: str | Grain | None = None
    ) -> tuple[tuple[Period, ...], NDArray[np.int64]]:
        """Every node's number in every period of ``grain``: (periods, int64[periods, nodes]).

        Minor units (or counts), columns in `nodes` order; the fast way to read many
        cells at once. Cached per grain.
        """
        level = check_enum(Grain, grain, "grain") if grain else self.plan.grain
        key = ("matrix", level)
        if key not in self._memo:
            periods = self.plan.calendar.periods(self.plan.fiscal_year, level)
            sums = np.stack([self.amounts[self._rows(p)].sum(axis=0) for p in periods])
            sums.setflags(write=False)
            self._memo[key] = (periods, sums)
        cached = self._memo[key]
        assert isinstance(cached, tuple)  # noqa: S101 - narrows the memo's type
        return cached

    def _period(self, period: Period | str | None) -> Period:
        calendar = self.plan.calendar
        if period is None:
            return calendar.year(self.plan.fiscal_year)
        return calendar.parse(period) if isinstance(period, str) else period

    def _rows(self, period: Period | str | None) -> NDArray[np.intp]:
        key = ("rows", period)
        cached = self._memo.get(key)
        if cached is not None:
            assert isinstance(cached, np.ndarray)  # noqa: S101 - narrows the memo's type
            return cached
        wanted = self._period(period)
        rows = [i for i, p in enumerate(self.periods) if wanted.contains(p)]
        covered = sum(self.periods[i].days for i in rows)
        if not rows or covered != wanted.days:
            msg = f"{wanted.label} is not made of whole {self.plan.grain.value}s of the plan"
            raise CalendarError(msg, code="targets.period_not_in_plan")
        found = np.array(rows, dtype=np.intp)
        self._memo[key] = found
        return found

    def _finest_row(self, period: Period | str) -> int:
        rows = self._rows(period)
        if len(rows) != 1:
            msg = f"explain takes one {self.plan.grain.value}, not {self._period(period).label}"
            raise CalendarError(msg, code="targets.not_finest")
        return int(rows[0])


def decompose(plan: TargetPlan, org: OrgTree, *, engine: Engine = "vectorized") -> TargetGrid:
    """Break ``plan``'s total down ``org`` and fiscal time.

    Args:
        plan: The target plan.
        org: The org, effective-dated.
        engine: ``"vectorized"`` (default, numpy) or ``"reference"`` (one cell at a
            time; the readable definition). They give identical grids.

    Raises:
        DefinitionError: the plan does not fit the org (every problem at once), or locks
            exceed their parent's number in some period.

    >>> from salesflow.targets import OrgTree, TargetPlan
    >>> org = OrgTree.from_records([
    ...     {"id": "co"},
    ...     {"id": "ann", "parent": "co", "attributes": {"capacity": 3}},
    ...     {"id": "bob", "parent": "co", "attributes": {"capacity": 1}},
    ... ])
    >>> plan = TargetPlan.model_validate({
    ...     "name": "FY2026", "total": "1200000.00 CNY", "fiscal_year": 2026,
    ...     "calendar": {"kind": "monthly"}, "grain": "month", "time": {"method": "equal"},
    ...     "org": [{"method": "attribute", "attribute": "capacity"}],
    ... })
    >>> grid = decompose(plan, org)
    >>> grid.value("ann"), grid.value("bob", "FY2026-Q1")
    (Money('900000.00', 'CNY'), Money('75000.00', 'CNY'))
    >>> why = grid.explain("bob", "FY2026-M02")
    >>> why.share, why.shared, why.basis
    (Fraction(1, 4), Money('100000.00', 'CNY'), 'capacity 1')
    """
    return grid_from_layout(build_layout(plan, org), engine)


def grid_from_layout(layout: Layout, engine: Engine = "vectorized") -> TargetGrid:
    """Run an engine over a prepared layout (`decompose` and re-planning share this)."""
    engines = {"vectorized": decompose_vectorized, "reference": decompose_reference}
    if engine not in engines:
        msg = f"engine {engine!r} is not one of 'vectorized', 'reference'"
        raise InvalidValueError(msg, code="targets.unknown_engine")
    run = engines[engine]
    amounts, unassigned = run(layout)
    _empty_seats_to_gap(layout, amounts, unassigned)
    return TargetGrid(layout, amounts, unassigned)


def _empty_seats_to_gap(
    layout: Layout, amounts: NDArray[np.int64], unassigned: NDArray[np.int64]
) -> None:
    """A node with planned but empty seats and no one active under it: all of it is gap.

    Under the ``gap`` policy a node whose only reports have not joined yet (or have all
    left) has no one to split among; its number is then the gap, not a number it
    carries itself.
    """
    if not layout.gap_weight.any():
        return
    empty = (layout.gap_weight > 0) & ~has_reports(layout) & (layout.parent != ABSENT)
    unassigned[empty] = amounts[empty]
