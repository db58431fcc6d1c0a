"""What the engines give out: statement lines, statements, the ledger of issued pay.

Both engines build these same types from the same data, so a reference statement and a
batch statement compare equal field for field; explanations are rendered from a line's
fields by one function, never stored separately by an engine.
"""

from __future__ import annotations

from collections import deque
from dataclasses import MISSING, dataclass, fields
from itertools import repeat
from typing import TYPE_CHECKING, Any, Final, Literal, TypeVar, final

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Callable, Iterable, Mapping, Sequence
    from decimal import Decimal

    from salesflow.errors import Problem
    from salesflow.money import Money

    from ._explain import Locale
    from ._plan import CreditKind

__all__ = ["Line", "LineKind", "Statement", "lines_from_columns", "statements_from_columns"]

LineKind = Literal[
    "credit",
    "clawback",
    "gate",
    "cap",
    "floor",
    "bonus",
    "milestone",
    "scorecard",
    "pool",
    "contest",
    "recalculation",
    "adjustment",
    "draw",
    "draw_recovery",
]
LineKind.__doc__ = """What a statement line is.

* ``"credit"``: a credit row rated by a commission's table.
* ``"clawback"``: a cancelled transaction paying back what its credit line earned.
* ``"gate"``: pay withheld (negative) or released (positive) by a gate.
* ``"cap"``: pay cut by a cap (per period or per year); per-transaction caps show
  on the credit line itself.
* ``"floor"``: pay topped up to a floor.
* ``"bonus"``, ``"milestone"``, ``"scorecard"``, ``"pool"``, ``"contest"``: those
  components' pay.
* ``"recalculation"``: the change in what an earlier period earned since its
  statement was issued (late or changed transactions, new quotas): earlier statements
  are never rewritten.
* ``"adjustment"``: a manual adjustment.
* ``"draw"``: a draw topping the period's pay up to the draw amount.
* ``"draw_recovery"``: a recoverable draw taken back from pay above the draw amount.
"""


@final
@dataclass(frozen=True, slots=True)
class Line:
    """One line of a statement. The lines of a statement sum to its total.

    Attributes:
        kind: The `LineKind`.
        amount: What the line pays, rounded at the plan's rounding point.
        component: The component id; ``None`` for draws, plan-wide adjustments and
            the plan cap's lines.
        transaction: The transaction id, for credit and clawback lines (and bonuses
            per transaction).
        date: The transaction's date (credit), its cancellation date (clawback).
        credit: The `CreditKind` of a credit row.
        basis: What the line is computed on: the credited amount for a credit line,
            the measure value for a bonus, pool or contest, the pay before a cap or
            gate for those lines.
        before: The running total before the credit row (cumulative rating; 0 when
            rated individually).
        tiers: The 0-based tiers the credit row crossed; on a contest line of payees
            tied under ``ties: share``, the 0-based prize positions they split.
        rates: The rates of those tiers.
        exact: The unrounded amount, where rounding happened.
        capped_from: A credit line cut by a per-transaction cap: what it paid before.
        attainment: The attainment the line was computed at (gates, milestones,
            scorecards), as an exact Decimal fraction of quota.
        threshold: A gate line's threshold (the gate's ``attainment``): the gate
            passed when ``attainment >= threshold``.
        rank: A contest line's rank.
        period: For a recalculation line, the label of the earlier period it concerns.
        note: The reason of an adjustment and who made it; the measure of a gate or
            a scorecard KPI line; ``"per_period"`` or ``"per_year"`` on a component's
            cap line, ``"plan_per_period"`` or ``"plan_per_year"`` on the plan cap's;
            the team of a pool line; the group of a contest line; ``"recoverable"``
            or ``"non_recoverable"`` on a draw line.
        days: A scorecard KPI line of a period the payee was on the plan for part of,
            under ``proration: days``: (days on the plan, days in the period).
    """

    kind: LineKind
    amount: Money
    component: str | None = None
    transaction: str | None = None
    date: dt.date | None = None
    credit: CreditKind | None = None
    basis: Money | None = None
    before: Money | None = None
    tiers: tuple[int, ...] = ()
    rates: tuple[Decimal, ...] = ()
    exact: Decimal | None = None
    capped_from: Money | None = None
    attainment: Decimal | None = None
    threshold: Decimal | None = None
    rank: int | None = None
    period: str | None = None
    note: str | None = None
    days: tuple[int, int] | None = None

    def explain(self, locale: Locale = "en") -> str:
        """Why this line pays what it pays, in ``"en"`` or ``"zh"`` (see `explain`)."""
        from ._explain import explain  # noqa: PLC0415 - _explain imports this module

        return explain(self, locale)


@final
@dataclass(frozen=True, slots=True)
class Statement:
    """A payee's pay under one plan for one statement period.

    Attributes:
        payee: The payee.
        plan: The plan id.
        period: The statement period's label (``"FY2027-M03"``, see `Period.label`).
        lines: The lines, in a fixed order (see docs/incentives.md).
        total: The sum of the lines: what is payable for the period.
        problems: Findings about this payee's data in the period (credit that could
            not be given, for instance), as data.
    """

    payee: str
    plan: str
    period: str
    lines: tuple[Line, ...]
    total: Money
    problems: tuple[Problem, ...] = ()


T = TypeVar("T", Line, Statement)


def lines_from_columns(
    count: int, columns: Mapping[str, Sequence[object]], **same: object
) -> list[Line]:
    """``count`` lines built field by field: what the batch engine's statements use.

    Equal to ``[Line(**{name: column[i] for name, column in columns.items()}, **same)
    for i in range(count)]``, in less than half the time: each field is set on every
    line in one C-level pass.

    Args:
        count: The number of lines.
        columns: Per field, one value per line.
        same: Per field, the one value of every line. Fields in neither take their
            default; ``kind`` and ``amount`` have none and must be given.

    Raises:
        TypeError: A field that `Line` does not have, or one without a default missing.
    """
    return _from_columns(Line, count, columns, same)


def statements_from_columns(
    count: int, columns: Mapping[str, Sequence[object]], **same: object
) -> list[Statement]:
    """`lines_from_columns` for `Statement` objects."""
    return _from_columns(Statement, count, columns, same)


def _from_columns(
    kind: type[T], count: int, columns: Mapping[str, Sequence[object]], same: Mapping[str, object]
) -> list[T]:
    # The slots' own setters bypass the frozen __setattr__, as the generated __init__
    # does through object.__setattr__; neither class has a __post_init__ to call.
    slots = _SLOTS[kind]
    unknown = (columns.keys() | same.keys()) - slots.keys()
    if unknown:
        msg = f"{kind.__name__} has no field {min(unknown)!r}"
        raise TypeError(msg)
    made: list[T] = list(map(object.__new__, repeat(kind, count)))
    for name, (default, set_slot) in slots.items():
        values: Iterable[object] | None = columns.get(name)
        if values is None:
            value = same.get(name, default)
            if value is MISSING:
                msg = f"{kind.__name__} needs {name!r}"
                raise TypeError(msg)
            values = repeat(value, count)
        deque(map(set_slot, made, values), maxlen=0)
    return made


def _slots(kind: type[Line | Statement]) -> dict[str, tuple[object, Callable[[Any, Any], None]]]:
    assert not hasattr(kind, "__post_init__")  # noqa: S101 - the bulk path would skip it
    return {item.name: (item.default, kind.__dict__[item.name].__set__) for item in fields(kind)}


_SLOTS: Final = {Line: _slots(Line), Statement: _slots(Statement)}
