"""The shared definitions of a decomposition: periods, the root's phasing, and weights.

Both engines (the scalar reference and the vectorized one) start from one `Layout`:
the finest periods, the root amount of each (the total phased down the fiscal-time
tree), and for every node in every period its parent, depth, integer weight, the
weight it leaves as a gap, and its locked amount. They differ only in how they then
allocate each parent's amount over its reports.

Weights are integers so that both engines split with exact integer arithmetic:

- a report's weight in a period is ``base * sum(ramp(day))`` over the days of the period
  it is active, with ``base`` its rule's weight scaled by one power of ten for the whole
  org and ``ramp(day)`` its ramp factor scaled likewise (``RAMP_SCALE`` for a fully
  ramped person). Siblings share a period, so the period's length cancels out;
- the gap weight is what it does not carry in that period under the ``gap`` policy:
  ``base * sum(full - ramp(day))`` over the days of the period from its first day to the
  end of the plan, active or not (a leaver's days after leaving count in full).
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import TYPE_CHECKING, Final, final

import numpy as np
from dateutil.relativedelta import relativedelta

from salesflow.errors import DefinitionError, Location, MoneyOverflowError, Problem, Severity
from salesflow.money import Money, allocate_units, scale_weights
from salesflow.periods import Grain, Period
from salesflow.targets._plan import FreedTarget, OrgMethod, OrgRule, TargetPlan, TimeMethod

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from numpy.typing import NDArray

    from salesflow.targets._org import OrgMember, OrgTree, RecordArrays

__all__ = ["ABSENT", "ROOT", "Layout", "build_layout", "has_reports", "phase", "to_units"]

ROOT: Final = -1
"""`Layout.parent` of the root."""
ABSENT: Final = -2
"""`Layout.parent` of a node that is not in the org in a period."""
NO_LOCK: Final = np.iinfo(np.int64).min
"""`Layout.locked` of a cell without a locked amount."""


@final
@dataclass(frozen=True, slots=True, eq=False)
class Layout:
    """Everything a decomposition engine needs, as arrays over (period, node).

    Attributes:
        plan: The plan.
        org: The org it was laid out on.
        periods: The plan's finest periods, in order (P of them).
        nodes: Every node id of the org (N of them), in the org's record order.
        root: The position of the root in `nodes`.
        root_amounts: int64[P], the total phased over the periods, in minor units.
        parent: intp[P, N], the position of each node's parent in each period;
            `ROOT` for the root, `ABSENT` where the node is not in the org.
        depth: intp[P, N], each node's depth in each period (-1 when absent).
        weight: int64[P, N], each node's weight among its siblings in each period.
        gap_weight: int64[P, N], the weight it leaves to the gap (0 unless ``gap``).
        locked: int64[P, N], a locked node's phased amount; `NO_LOCK` elsewhere.
    """

    plan: TargetPlan
    org: OrgTree
    periods: tuple[Period, ...]
    nodes: tuple[str, ...]
    root: int
    root_amounts: NDArray[np.int64]
    parent: NDArray[np.intp]
    depth: NDArray[np.intp]
    weight: NDArray[np.int64]
    gap_weight: NDArray[np.int64]
    locked: NDArray[np.int64]

    @property
    def max_depth(self) -> int:
        """The deepest level any node reaches in any period."""
        return int(self.depth.max())


# Totals, locks and weights stay below this, so sums and products of a few of them
# never leave int64 (the vectorized engine's arithmetic).
UNIT_LIMIT: Final = 2**62


def has_reports(layout: Layout) -> NDArray[np.bool_]:
    """bool[P, N]: whether each node has at least one report in each period."""
    found = np.zeros(layout.parent.shape, dtype=bool)
    rows, columns = np.nonzero(layout.parent >= 0)
    found[rows, layout.parent[rows, columns]] = True
    return found


def to_units(value: Money | int, what: str = "the total") -> int:
    """An amount of the plan's unit as an integer (minor units for money).

    Raises:
        MoneyOverflowError: it does not fit the int64 arithmetic of the engines.
    """
    units = value.to_minor_units() if isinstance(value, Money) else value
    if abs(units) >= UNIT_LIMIT:
        msg = f"{what} {value} is too large: its minor units must stay below 2**62"
        raise MoneyOverflowError(msg, code="targets.too_large")
    return units


def build_layout(plan: TargetPlan, org: OrgTree) -> Layout:
    """Compute the shared definitions of ``plan`` over ``org``.

    Raises:
        DefinitionError: every problem at once: a rule's attribute or history missing
            for a node, a lock on an unknown node, seasonality indices that do not
            cover the year.
    """
    periods = plan.calendar.periods(plan.fiscal_year, plan.grain)
    problems = _plan_problems(plan, org)
    bases, base_problems = _base_weights(plan, org)
    problems += base_problems
    nodes = org.ids
    position: dict[str, int] = {node: i for i, node in enumerate(nodes)}
    shape = (len(periods), len(nodes))
    parent = np.full(shape, ABSENT, dtype=np.intp)
    weight = np.zeros(shape, dtype=np.int64)
    gap_weight = np.zeros(shape, dtype=np.int64)
    if problems:
        raise DefinitionError.from_problems(problems)
    frame = _Frame(
        plan,
        position,
        np.array([p.start.toordinal() for p in periods], dtype=np.int64),
        np.array([p.end.toordinal() for p in periods], dtype=np.int64),
    )
    arrays = org.arrays
    steady = _steady_records(arrays, frame)
    for records in arrays.by_node:
        if steady[records[0]]:
            continue
        history = [(bases[i], org.members[i]) for i in records]
        _place_node(history, frame, parent, weight)
        if plan.freed is FreedTarget.GAP:
            _place_gap(history, frame, gap_weight)
    bases_array = np.array(bases, dtype=np.int64)
    _place_steady(np.flatnonzero(steady), arrays, bases_array, frame, parent=parent, weight=weight)
    root = position[org.root]
    depth = _depths(parent, root)
    _weights_from_reports(plan, org, (parent, depth), (weight, gap_weight))
    return Layout(
        plan=plan,
        org=org,
        periods=periods,
        nodes=nodes,
        root=root,
        root_amounts=np.array(
            phase(to_units(plan.total), plan, (parent[:, root] != ABSENT).tolist()),
            dtype=np.int64,
        ),
        parent=parent,
        depth=depth,
        weight=weight,
        gap_weight=gap_weight,
        locked=_locked(plan, position, parent),
    )


def weight_basis(layout: Layout, row: int, column: int) -> str:
    """What a node's weight in a period is made of, in the plan's words.

    For example ``"capacity 2, active 3 of 7 days, ramp 50%"``: the rule's number,
    the days of the period it was active (when not all), and its average ramp factor
    over them (when not 100%).
    """
    node, period, plan, org = layout.nodes[column], layout.periods[row], layout.plan, layout.org
    history = org.history(node)
    member = next(m for m in history if m.last_day >= period.start)
    rule = _rule_for(plan, member.role)
    parts = [_rule_words(rule, member)]
    active = org.active_days(node, period.start, period.end)
    if active != period.days:
        parts.append(f"active {active} of {period.days} days")
    carried = sum(
        factor
        * max(
            0,
            (
                min(m.last_day.toordinal(), last, period.end.toordinal())
                - max(m.first_day.toordinal(), first, period.start.toordinal())
                + 1
            ),
        )
        for m in history
        for first, last, factor in _ramp_segments(plan, history[0].start)
    )
    if active and carried != RAMP_SCALE * active:
        parts.append(f"ramp {float(Fraction(carried, RAMP_SCALE * active) * 100):.4g}%")
    return ", ".join(parts)


def _rule_words(rule: OrgRule | None, member: OrgMember) -> str:
    if rule is None or rule.method is OrgMethod.EQUAL:
        return "equal weight"
    if rule.method is OrgMethod.REPORTS:
        return "the sum of its reports' weights"
    value = _raw_weight(rule, member)
    what = rule.attribute if rule.method is OrgMethod.ATTRIBUTE else "history"
    return f"{what} {value}"


def phase(total: int, plan: TargetPlan, active: Sequence[bool] | None) -> list[int]:
    """Split ``total`` down the fiscal-time tree to the plan's finest periods.

    Each level (year → half → quarter → month → week → day, down to the plan's grain)
    is split by the plan's time method with largest-remainder allocation, so every
    coarser period is exactly the sum of its children. With ``active`` (one flag per
    finest period), periods where the node is absent get nothing.

    Raises:
        DefinitionError: ``active`` leaves no period to carry a non-zero total.
    """
    year = plan.calendar.year(plan.fiscal_year)
    finest = plan.calendar.periods(plan.fiscal_year, plan.grain)
    flags = (
        dict.fromkeys(finest, True) if active is None else dict(zip(finest, active, strict=True))
    )
    out: dict[Period, int] = {}
    _phase_into(year, total, plan, flags, out)
    return [out[p] for p in finest]


def _phase_into(
    period: Period, amount: int, plan: TargetPlan, flags: dict[Period, bool], out: dict[Period, int]
) -> None:
    if period.grain is plan.grain:
        out[period] = amount
        return
    children = period.children()
    weights = [
        _time_weight(child, plan) if _any_active(child, plan, flags) else 0 for child in children
    ]
    if not any(weights):
        if amount:
            msg = f"no period of {period.label} can carry {amount}"
            raise DefinitionError(msg, code="targets.nothing_to_carry")
        parts = [0] * len(children)
    else:
        parts = allocate_units(amount, weights)
    for child, part in zip(children, parts, strict=True):
        _phase_into(child, part, plan, flags, out)


def _any_active(period: Period, plan: TargetPlan, flags: dict[Period, bool]) -> bool:
    if period.grain is plan.grain:
        return flags[period]
    return any(flags[p] for p in flags if period.contains(p))


def _time_weight(period: Period, plan: TargetPlan) -> int | Decimal:
    method = plan.time.method
    if method is TimeMethod.EQUAL:
        return 1
    if method is TimeMethod.SEASONALITY and period.grain is not None:
        grain = plan.time.seasonality_grain
        if period.grain is grain or not period.grain.is_finer_than(grain):
            inside = plan.calendar.periods(plan.fiscal_year, grain)
            indices = plan.time.seasonality
            return sum((indices[p.index] for p in inside if period.contains(p)), Decimal(0))
    working = plan.time.business_calendar
    if working is not None and method is not TimeMethod.DAYS:
        return working.count_business_days(period.start, period.end)
    return period.days


def _plan_problems(plan: TargetPlan, org: OrgTree) -> list[Problem]:
    problems = [
        Problem(
            "targets.lock_on_root",
            Severity.ERROR,
            f"{node!r} is the root: its number is the plan's total, set that instead",
            Location(path=f"plan.locks.{node}"),
        )
        for node in plan.locks
        if node == org.root
    ]
    problems += [
        Problem(
            "targets.unknown_lock",
            Severity.ERROR,
            f"lock on {node!r}, which is not in the org",
            Location(path=f"plan.locks.{node}"),
        )
        for node in plan.locks
        if node not in org
    ]
    if plan.time.method is TimeMethod.SEASONALITY:
        grain = plan.time.seasonality_grain
        if grain is Grain.YEAR:
            problems.append(
                Problem(
                    "targets.seasonality_grain",
                    Severity.ERROR,
                    "seasonality indices need a grain finer than the year",
                    Location(path="plan.time.seasonality_grain"),
                )
            )
        else:
            count = len(plan.calendar.periods(plan.fiscal_year, grain))
            missing = sorted(set(range(1, count + 1)) - set(plan.time.seasonality))
            extra = sorted(set(plan.time.seasonality) - set(range(1, count + 1)))
            if missing or extra:
                problems.append(
                    Problem(
                        "targets.seasonality_indices",
                        Severity.ERROR,
                        f"FY{plan.fiscal_year} has {count} {grain.value}s; "
                        f"missing indices {missing}, unknown indices {extra}",
                        Location(path="plan.time.seasonality"),
                    )
                )
    return problems


def _rule_for(plan: TargetPlan, role: str) -> OrgRule | None:
    """The rule for reports of ``role``: its own, else the default, else none (equal)."""
    default = None
    for rule in plan.org:
        if rule.role == role:
            return rule
        if rule.role is None:
            default = rule
    return default


def _raw_weight(rule: OrgRule | None, member: OrgMember) -> Decimal | int | None:
    if rule is None or rule.method is OrgMethod.EQUAL:
        return 1
    if rule.method is OrgMethod.REPORTS:
        return 0  # filled in per period from its reports, see _weights_from_reports
    if rule.method is OrgMethod.ATTRIBUTE:
        assert rule.attribute is not None  # noqa: S101 - checked by OrgRule
        number = _number(member.attributes.get(rule.attribute))
        if number is None:
            return rule.missing
        return number if number >= 0 else None
    return rule.history.get(member.id, rule.missing)


def _from_reports(plan: TargetPlan, member: OrgMember) -> bool:
    rule = _rule_for(plan, member.role)
    return rule is not None and rule.method is OrgMethod.REPORTS


def _weights_from_reports(
    plan: TargetPlan,
    org: OrgTree,
    arrays: tuple[NDArray[np.intp], NDArray[np.intp]],
    weights: tuple[NDArray[np.int64], NDArray[np.int64]],
) -> None:
    """Give every node weighted by its reports the sum of their weights, per period.

    Deepest level first, so a region weighted by its teams, weighted by their people,
    adds up people. Under the ``gap`` policy a node's vacancies count too: its planned
    capacity, not only the part that is staffed.
    """
    parent, depth = arrays
    weight, gap_weight = weights
    bottom_up = np.zeros(parent.shape[1], dtype=bool)
    position: dict[str, int] = {node: i for i, node in enumerate(org.ids)}
    for member in org.members:
        if _from_reports(plan, member):
            bottom_up[position[member.id]] = True
    if not bottom_up.any():
        return
    weight[:, bottom_up] = gap_weight[:, bottom_up]
    rows = np.arange(parent.shape[0])[:, None].repeat(parent.shape[1], axis=1)
    for level in range(int(depth.max()), 0, -1):
        at = (depth == level) & (parent >= 0)
        up = at.copy()
        up[at] = bottom_up[parent[at]]
        np.add.at(weight, (rows[up], parent[up]), weight[up])


def _number(value: object) -> Decimal | int | None:
    """An attribute as an exact number: ints, Decimals, and text such as ``"2.5"``."""
    if isinstance(value, int | Decimal):
        return value if isinstance(value, int) or value.is_finite() else None
    if isinstance(value, str):
        try:
            number = Decimal(value.strip())
        except ArithmeticError:
            return None
        return number if number.is_finite() else None
    return None


def _base_weights(plan: TargetPlan, org: OrgTree) -> tuple[list[int], list[Problem]]:
    """Each record's base weight (in record order), scaled to integers together."""
    raw: list[Decimal | int | None] = []
    problems: list[Problem] = []
    for i, member in enumerate(org.members):
        rule = _rule_for(plan, member.role)
        value = _raw_weight(rule, member) if member.parent is not None else 1
        if value is None:
            what = f"attribute {rule.attribute!r}" if rule and rule.attribute else "history"
            problems.append(
                Problem(
                    "targets.missing_weight",
                    Severity.ERROR,
                    f"{member.id!r} has no usable {what} (a non-negative number) for its weight",
                    Location(path=f"members[{i}]"),
                )
            )
        raw.append(value)
    problems += _zero_weight_problems(plan, org, raw)
    bases = [int(w) for w in scale_weights([w or 0 for w in raw])]
    # A period's weight is base x ramp x days; a parent's reports add up.
    if bases and max(bases) * RAMP_SCALE * 366 * len(bases) >= UNIT_LIMIT:
        problems.append(
            Problem(
                "targets.weights_too_large",
                Severity.ERROR,
                f"weights need up to {max(bases)} as exact integers (too many digits or "
                "too large); round them to fewer significant digits",
                Location(path="plan.org"),
            )
        )
    return bases, problems


def _zero_weight_problems(
    plan: TargetPlan, org: OrgTree, raw: Sequence[Decimal | int | None]
) -> list[Problem]:
    """A parent whose unlocked reports all weigh zero has nothing to split by.

    Reports whose weight is missing (``None``) are reported already and not counted.
    """
    weights: dict[str, list[Decimal | int | None]] = {}
    for member, value in zip(org.members, raw, strict=True):
        if member.parent is None or member.id in plan.locks or _from_reports(plan, member):
            continue
        weights.setdefault(member.parent, []).append(value)
    return [
        Problem(
            "targets.zero_weights",
            Severity.ERROR,
            f"every report of {parent!r} weighs 0 under its rule: nothing to split its target by",
            Location(path=f"nodes.{parent}"),
        )
        for parent, values in weights.items()
        if None not in values and not any(values)
    ]


# Ramp factors are scaled by this power of ten (they are given to at most 4 places).
RAMP_SCALE: Final = 10_000


def _ramp_segments(plan: TargetPlan, start: dt.date | None) -> tuple[tuple[int, int, int], ...]:
    """(first ordinal, last ordinal, scaled factor) pieces of a node's ramp."""
    if start is None or not plan.ramp:
        return ((dt.date.min.toordinal(), dt.date.max.toordinal(), RAMP_SCALE),)
    return _ramp_from(plan.ramp, start)


@functools.lru_cache(maxsize=4096)
def _ramp_from(ramp: tuple[Decimal, ...], start: dt.date) -> tuple[tuple[int, int, int], ...]:
    """The pieces for one start day (many hires share one; cached)."""
    pieces = []
    for month, factor in enumerate(ramp):
        lo = start + relativedelta(months=month)
        hi = start + relativedelta(months=month + 1) - dt.timedelta(days=1)
        pieces.append((lo.toordinal(), hi.toordinal(), int(factor * RAMP_SCALE)))
    full_from = start + relativedelta(months=len(ramp))
    pieces.append((full_from.toordinal(), dt.date.max.toordinal(), RAMP_SCALE))
    return tuple(pieces)


@final
@dataclass(frozen=True, slots=True)
class _Frame:
    """What placing a node needs: the plan, node positions, and period bounds."""

    plan: TargetPlan
    position: Mapping[str, int]
    starts: NDArray[np.int64]  # first day of each period, as an ordinal
    ends: NDArray[np.int64]  # last day of each period, as an ordinal

    def overlap(self, lo: int, hi: int) -> NDArray[np.int64]:
        """Days of ``lo..hi`` (inclusive ordinals) that fall in each period."""
        days: NDArray[np.int64] = np.minimum(self.ends, hi) - np.maximum(self.starts, lo) + 1
        return np.clip(days, 0, None)


def _place_node(
    history: Sequence[tuple[int, OrgMember]],
    frame: _Frame,
    parent: NDArray[np.intp],
    weight: NDArray[np.int64],
) -> None:
    """Fill one node's column: its parent per period and its weight."""
    ramp = _ramp_segments(frame.plan, history[0][1].start)
    column = frame.position[history[0][1].id]
    # The earliest record active in a period decides the parent: go latest-first so
    # earlier records overwrite.
    for _, member in reversed(history):
        present = frame.overlap(member.first_day.toordinal(), member.last_day.toordinal()) > 0
        parent[present, column] = ROOT if member.parent is None else frame.position[member.parent]
    for base, member in history:
        lo, hi = member.first_day.toordinal(), member.last_day.toordinal()
        for first, last, factor in ramp:
            weight[:, column] += base * factor * frame.overlap(max(lo, first), min(hi, last))


def _steady_records(arrays: RecordArrays, frame: _Frame) -> NDArray[np.bool_]:
    """Records of nodes in one place, fully ramped, for the whole plan (the common case)."""
    first_day, last_day = int(frame.starts[0]), int(frame.ends[-1])
    year_start = dt.date.fromordinal(first_day)
    ramped_by = (year_start - relativedelta(months=len(frame.plan.ramp))).toordinal()
    return (
        arrays.single
        & (arrays.first <= first_day)
        & (arrays.last >= last_day)
        & (arrays.start <= ramped_by)
    )


def _place_steady(  # noqa: PLR0913 - the arrays it fills and the ones it reads
    records: NDArray[np.intp],
    arrays: RecordArrays,
    bases: NDArray[np.int64],
    frame: _Frame,
    *,
    parent: NDArray[np.intp],
    weight: NDArray[np.int64],
) -> None:
    """Fill the columns of steady nodes at once, vectorized.

    Equal to `_place_node` for such a node: one parent throughout, and a weight of
    ``base * RAMP_SCALE * days`` in every period.
    """
    columns = arrays.node[records]
    parent[:, columns] = arrays.parent[records]
    days = frame.ends - frame.starts + 1
    weight[:, columns] = np.outer(days * RAMP_SCALE, bases[records])


def _place_gap(
    history: Sequence[tuple[int, OrgMember]], frame: _Frame, gap_weight: NDArray[np.int64]
) -> None:
    """Add what one node does not carry to the gap of its parent.

    That is its ramp shortfall while active, its days after leaving (under its last
    parent) and its days before joining (under its first parent): a planned head whose
    seat is empty.
    """
    ramp = _ramp_segments(frame.plan, history[0][1].start)
    joiner_base, joiner = history[0]
    if joiner.parent is not None and joiner.start is not None:
        before = frame.overlap(dt.date.min.toordinal(), joiner.first_day.toordinal() - 1)
        gap_weight[:, frame.position[joiner.parent]] += joiner_base * RAMP_SCALE * before
    for base, member in history:
        if member.parent is None:
            continue
        column = frame.position[member.parent]
        lo, last_day = member.first_day.toordinal(), member.last_day.toordinal()
        # A leaver's last record leaves its days after leaving to the gap too.
        hi = dt.date.max.toordinal() if member is history[-1][1] else last_day
        for first, last, factor in ramp:
            planned = frame.overlap(max(lo, first), min(hi, last))
            carried = frame.overlap(max(lo, first), min(last_day, last))
            gap_weight[:, column] += base * (RAMP_SCALE * planned - factor * carried)


def _depths(parent: NDArray[np.intp], root: int) -> NDArray[np.intp]:
    """Each cell's depth; a period with the structure of the one before reuses its depths."""
    depth = np.empty_like(parent)
    unchanged = np.all(parent[1:] == parent[:-1], axis=1)
    for row in range(parent.shape[0]):
        if row and unchanged[row - 1]:
            depth[row] = depth[row - 1]
        else:
            depth[row] = _row_depth(parent[row], root)
    return depth


def _row_depth(parent: NDArray[np.intp], root: int) -> NDArray[np.intp]:
    """Depth of each node in one period's structure (-1 when absent): count the steps."""
    link = np.where(parent >= 0, parent, -1)
    link[root] = -1
    depth = np.zeros(len(parent), dtype=np.intp)
    cursor = link
    while (moving := cursor >= 0).any():
        depth += moving
        if int(depth.max()) > len(parent):  # OrgTree refuses cycles; never loop on one
            msg = "the org's reporting lines form a cycle in some period"
            raise DefinitionError(msg, code="org.cycle")
        cursor = np.where(moving, link[np.where(moving, cursor, 0)], -1)
    depth[parent == ABSENT] = -1
    return depth


def _locked(
    plan: TargetPlan, position: Mapping[str, int], parent: NDArray[np.intp]
) -> NDArray[np.int64]:
    locked = np.full(parent.shape, NO_LOCK, dtype=np.int64)
    for node, amount in plan.locks.items():
        column = position[node]
        present = parent[:, column] != ABSENT
        if not present.any():
            msg = f"{node!r} is locked but not in the org in FY{plan.fiscal_year}"
            raise DefinitionError(
                msg, code="targets.lock_absent", location=Location(path=f"plan.locks.{node}")
            )
        units = to_units(amount, f"the lock of {node!r}")
        locked[:, column] = phase(units, plan, present.tolist())
        locked[~present, column] = NO_LOCK
    return locked
