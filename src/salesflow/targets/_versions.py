"""Re-planning: new versions of a target breakdown, with the past kept and a diff.

A re-plan (a new total, a re-org, new weights) takes effect on a day. Every finest
period that ended before that day keeps the numbers people were already given; what
the new total leaves after those is broken down anew over the periods that remain, on
the new plan and org. Each version is a whole `TargetGrid`, kept in a
`TargetHistory` for audit and for `TargetHistory.diff`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, final

import numpy as np

from salesflow._values import check_date
from salesflow.errors import CalendarError, DefinitionError, InvalidValueError
from salesflow.money import Money
from salesflow.targets._grid import TargetGrid, decompose, grid_from_layout
from salesflow.targets._layout import ABSENT, NO_LOCK, Layout, build_layout, phase, to_units

if TYPE_CHECKING:
    import datetime as dt

    from numpy.typing import NDArray

    from salesflow.targets._grid import Engine
    from salesflow.targets._org import OrgTree
    from salesflow.targets._plan import TargetPlan

__all__ = ["TargetChange", "TargetHistory", "TargetVersion"]


@final
@dataclass(frozen=True, slots=True)
class TargetVersion:
    """One version of a breakdown.

    Attributes:
        number: 1 for the original plan, then 2, 3, ...
        effective: The first day its new numbers apply (the year's first day for 1).
        reason: Why it was made, for the audit trail.
        plan: The plan it was made from.
        org: The org it was made on.
        grid: Its numbers: the frozen past and the re-planned rest.
    """

    number: int
    effective: dt.date
    reason: str
    plan: TargetPlan
    org: OrgTree
    grid: TargetGrid


@final
@dataclass(frozen=True, slots=True)
class TargetChange:
    """A number that differs between two versions."""

    node: str
    period: str
    before: Money | int
    after: Money | int

    @property
    def delta(self) -> Money | int:
        """``after - before``."""
        before, after = self.before, self.after
        if isinstance(before, Money) and isinstance(after, Money):
            return after - before
        if isinstance(before, int) and isinstance(after, int):
            return after - before
        msg = f"{before!r} and {after!r} are not in one unit"
        raise InvalidValueError(msg, code="targets.mixed_units")


@final
@dataclass(frozen=True, slots=True)
class TargetHistory:
    """Every version of a breakdown, oldest first; immutable.

    >>> import datetime as dt
    >>> from salesflow.targets import OrgTree, TargetPlan
    >>> org = OrgTree.from_records([{"id": "co"}, {"id": "a", "parent": "co"}])
    >>> plan = TargetPlan.model_validate({"name": "p", "total": 1200, "fiscal_year": 2026,
    ...     "calendar": {"kind": "monthly"}, "grain": "month", "time": {"method": "equal"}})
    >>> history = TargetHistory.start(plan, org)
    >>> bigger = plan.model_copy(update={"total": 1500})
    >>> history = history.replan(effective=dt.date(2026, 7, 1), plan=bigger, reason="raise")
    >>> history.current.grid.value("a", "FY2026-H1"), history.current.grid.value("a", "FY2026-H2")
    (600, 900)
    >>> [(c.node, c.period, c.delta) for c in history.diff(1, 2, grain="half")]
    [('co', 'FY2026-H2', 300), ('a', 'FY2026-H2', 300)]
    """

    versions: tuple[TargetVersion, ...]

    @classmethod
    def start(
        cls, plan: TargetPlan, org: OrgTree, *, reason: str = "", engine: Engine = "vectorized"
    ) -> TargetHistory:
        """Version 1: the plan broken down as it stands."""
        year = plan.calendar.year(plan.fiscal_year)
        grid = decompose(plan, org, engine=engine)
        return cls((TargetVersion(1, year.start, reason, plan, org, grid),))

    @property
    def current(self) -> TargetVersion:
        """The latest version."""
        return self.versions[-1]

    def version(self, number: int) -> TargetVersion:
        """Version ``number`` (1-based)."""
        if not 1 <= number <= len(self.versions):
            msg = f"there is no version {number}; versions are 1..{len(self.versions)}"
            raise InvalidValueError(msg, code="targets.unknown_version")
        return self.versions[number - 1]

    def replan(
        self,
        *,
        effective: dt.date,
        plan: TargetPlan | None = None,
        org: OrgTree | None = None,
        reason: str = "",
        engine: Engine = "vectorized",
    ) -> TargetHistory:
        """A new version from ``effective`` on: the past kept, the rest broken down anew.

        Finest periods that end before ``effective`` keep the current version's numbers;
        the new total less what those periods hold is phased over the remaining periods
        (the one containing ``effective`` included) and split down the new org. Record
        a re-org as effective-dated changes in ``org`` from ``effective`` on: the org's
        past should stay as it was, or the kept periods no longer add up (`check` says
        so). Carried remainders start afresh at the re-plan.

        Args:
            effective: The first day the new numbers apply.
            plan: The new plan (same calendar, fiscal year and grain); default: the
                current one.
            org: The new org; default: the current one.
            reason: Why, for the audit trail.
            engine: As for `decompose`.

        Raises:
            DefinitionError: the plan changes the calendar, fiscal year or grain; or the
                new total cannot be carried by the remaining periods.
            CalendarError: ``effective`` is outside the fiscal year.
        """
        base = self.current
        new_plan = plan or base.plan
        new_org = org or base.org
        _check_compatible(base.plan, new_plan)
        frozen = _frozen_rows(base.grid, effective)
        layout = build_layout(new_plan, new_org)
        kept = int(base.grid.layout.root_amounts[:frozen].sum())
        open_periods = [i >= frozen for i in range(len(layout.periods))]
        rest = phase(to_units(new_plan.total) - kept, new_plan, open_periods)
        roots = np.array(rest, dtype=np.int64)
        roots[:frozen] = base.grid.layout.root_amounts[:frozen]
        locked = _locks_after(layout, base.grid, frozen)
        grid = grid_from_layout(replace(layout, root_amounts=roots, locked=locked), engine)
        grid = _with_past(grid, base.grid, frozen)
        version = TargetVersion(len(self.versions) + 1, effective, reason, new_plan, new_org, grid)
        return TargetHistory((*self.versions, version))

    def diff(self, old: int, new: int, *, grain: str | None = None) -> list[TargetChange]:
        """Every node and period (of ``grain``, default the finest) whose number changed.

        Nodes in only one of the versions count as zero in the other. Vectorized: a
        100,000-node diff by quarter takes a fraction of a second.
        """
        before, after = self.version(old).grid, self.version(new).grid
        periods, now = after.matrix(grain)
        _, was_own = before.matrix(grain)
        nodes = list(dict.fromkeys([*before.nodes, *after.nodes]))
        position = {node: i for i, node in enumerate(nodes)}
        was = np.zeros((len(periods), len(nodes)), dtype=np.int64)
        was[:, [position[n] for n in before.nodes]] = was_own
        now_all = np.zeros_like(was)
        now_all[:, [position[n] for n in after.nodes]] = now
        unit = after._unit  # noqa: SLF001 - one module family
        return [
            TargetChange(nodes[c], periods[r].label, unit(int(was[r, c])), unit(int(now_all[r, c])))
            for r, c in np.argwhere(was != now_all)
        ]


def _zero(grid: TargetGrid) -> Money | int:
    return grid._unit(0)  # noqa: SLF001 - one module family


def _check_compatible(old: TargetPlan, new: TargetPlan) -> None:
    same = (
        old.calendar == new.calendar
        and old.fiscal_year == new.fiscal_year
        and old.grain == new.grain
        and old.currency == new.currency
        and old.unit == new.unit
    )
    if not same:
        msg = "a re-plan keeps the calendar, fiscal year, grain and unit of the plan"
        raise DefinitionError(msg, code="targets.replan_incompatible")


def _frozen_rows(grid: TargetGrid, effective: dt.date) -> int:
    """How many finest periods end before ``effective`` (they keep their numbers)."""
    effective = check_date(effective, "effective")
    periods = grid.periods
    if not periods[0].start <= effective <= periods[-1].end:
        msg = f"{effective} is outside FY{grid.plan.fiscal_year}"
        raise CalendarError(msg, code="targets.replan_outside_year")
    return sum(1 for p in periods if p.end < effective)


def _locks_after(layout: Layout, past: TargetGrid, rows: int) -> NDArray[np.int64]:
    """Each lock less what its node already holds in the kept periods, over the rest."""
    locked = layout.locked.copy()
    plan = layout.plan
    for node, amount in plan.locks.items():
        column = layout.nodes.index(node)
        held = int(past.amounts[:rows, past.nodes.index(node)].sum()) if node in past.nodes else 0
        open_rows = (layout.parent[:, column] != ABSENT) & (np.arange(len(layout.periods)) >= rows)
        locked[:, column] = NO_LOCK
        phased = np.array(phase(to_units(amount) - held, plan, open_rows.tolist()), dtype=np.int64)
        locked[open_rows, column] = phased[open_rows]
    return locked


def _with_past(grid: TargetGrid, past: TargetGrid, rows: int) -> TargetGrid:
    """``grid`` with its first ``rows`` periods taken from ``past`` (matched by node id)."""
    amounts = grid.amounts.copy()
    unassigned = grid.unassigned.copy()
    amounts[:rows] = 0
    unassigned[:rows] = 0
    where = {node: i for i, node in enumerate(grid.nodes)}
    for column, node in enumerate(past.nodes):
        if node in where:
            amounts[:rows, where[node]] = past.amounts[:rows, column]
            unassigned[:rows, where[node]] = past.unassigned[:rows, column]
    return TargetGrid(grid.layout, amounts, unassigned)
