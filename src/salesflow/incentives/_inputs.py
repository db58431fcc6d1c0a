"""What the engines take in: transactions, credit splits, assignments, adjustments.

Plain frozen value types, validated on construction, so a bad record fails where it is
made, naming the field. The engines validate the set as a whole (duplicate ids, splits
that do not sum, overlapping assignments) and name the record by its index.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from types import MappingProxyType
from typing import TYPE_CHECKING, final

from salesflow._values import check_date
from salesflow.errors import InvalidValueError
from salesflow.money import Money

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Mapping

__all__ = ["Adjustment", "Assignment", "Split", "Transaction"]


def _text(value: object, name: str) -> str:
    if not isinstance(value, str) or not value:
        msg = f"{name} must be a non-empty string, not {value!r}"
        raise InvalidValueError(msg, code="incentives.invalid_field")
    return value


def _optional_date(value: object, name: str) -> dt.date | None:
    return None if value is None else check_date(value, name)


@final
@dataclass(frozen=True, slots=True)
class Split:
    """A payee's share of a transaction's credit.

    Attributes:
        payee: The payee credited.
        share: The share, ``0 < share <= 1`` (``Decimal("0.6")`` is 60%). The shares
            of the splits that are not overlays sum to exactly 1.
        overlay: ``True`` for overlay credit (a specialist credited on top of the
            100%); it does not count toward the sum.
    """

    payee: str
    share: Decimal
    overlay: bool = False

    def __post_init__(self) -> None:
        _text(self.payee, "split payee")
        if not isinstance(self.share, Decimal) or not (0 < self.share <= 1):
            msg = f"split share must be a Decimal in (0, 1], not {self.share!r}"
            raise InvalidValueError(msg, code="incentives.invalid_share")


@final
@dataclass(frozen=True, slots=True)
class Transaction:
    """One transaction a plan credits: a booking, an invoice, a renewal.

    Attributes:
        id: Unique among the transactions given to one calculation.
        date: The day it counts on (booking or invoice date).
        amount: Its amount; negative for a refund or correction booked as its own
            transaction. Another currency than the plan's needs an exchange rate.
        owner: The payee it belongs to; ignored when ``splits`` is given.
        fields: The values plan filters read (``{"product": "saas"}``); names and types
            are declared in `Plan.fields`.
        splits: Credit splits; empty means all to ``owner``.
        cancelled: The day it was cancelled, if it was; see `Clawback`.
    """

    id: str
    date: dt.date
    amount: Money
    owner: str
    fields: Mapping[str, object] = field(default_factory=lambda: MappingProxyType({}))
    splits: tuple[Split, ...] = ()
    cancelled: dt.date | None = None

    def __post_init__(self) -> None:
        _text(self.id, "transaction id")
        check_date(self.date, "transaction date")
        if not isinstance(self.amount, Money):
            msg = f"transaction amount must be Money, not {self.amount!r}"
            raise InvalidValueError(msg, code="incentives.invalid_field")
        _text(self.owner, "transaction owner")
        if self.cancelled is not None and check_date(self.cancelled, "cancelled") < self.date:
            msg = f"transaction {self.id!r} is cancelled ({self.cancelled}) before its date"
            raise InvalidValueError(msg, code="incentives.cancelled_before_date")
        object.__setattr__(self, "fields", MappingProxyType(dict(self.fields)))
        object.__setattr__(self, "splits", tuple(self.splits))


@final
@dataclass(frozen=True, slots=True)
class Assignment:
    """A payee on a plan over a stretch of days.

    Attributes:
        payee: The payee (the same id as in the org and the transactions).
        plan: The plan id.
        start: First day on the plan (inclusive); ``None``: since always.
        end: Last day on the plan (inclusive); ``None``: still on it.
        target_incentive: The payee's yearly target incentive (variable pay at 100%),
            in the plan currency; needed by scorecards and target-incentive caps.
        attributes: Labels components group by (``{"team": "east-1"}``).
    """

    payee: str
    plan: str
    start: dt.date | None = None
    end: dt.date | None = None
    target_incentive: Money | None = None
    attributes: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    def __post_init__(self) -> None:
        _text(self.payee, "assignment payee")
        _text(self.plan, "assignment plan")
        start = _optional_date(self.start, "assignment start")
        end = _optional_date(self.end, "assignment end")
        if start is not None and end is not None and end < start:
            msg = f"assignment of {self.payee!r} ends ({end}) before it starts ({start})"
            raise InvalidValueError(msg, code="incentives.invalid_assignment")
        object.__setattr__(self, "attributes", MappingProxyType(dict(self.attributes)))

    def covers(self, day: dt.date) -> bool:
        """Whether the payee is on the plan on ``day``."""
        return (self.start is None or self.start <= day) and (self.end is None or day <= self.end)

    def overlaps(self, first: dt.date, last: dt.date) -> bool:
        """Whether the payee is on the plan on any day from ``first`` to ``last``."""
        return (self.start is None or self.start <= last) and (
            self.end is None or first <= self.end
        )


@final
@dataclass(frozen=True, slots=True)
class Adjustment:
    """A manual change to a payee's pay, recorded with who made it and why.

    Attributes:
        payee: The payee.
        plan: The plan id.
        period: The label of the statement period it is paid in (``"FY2027-M03"``, a
            `Period.label` of the plan's fiscal calendar): the statement period or a
            later one (an earlier one is refused: it can no longer be paid).
        amount: The amount, positive or negative, in the plan currency.
        reason: Why; shown on the statement.
        by: Who made it.
        component: The component it belongs to, if any.
    """

    payee: str
    plan: str
    period: str
    amount: Money
    reason: str
    by: str
    component: str | None = None

    def __post_init__(self) -> None:
        for name in ("payee", "plan", "period", "reason", "by"):
            _text(getattr(self, name), f"adjustment {name}")
        if not isinstance(self.amount, Money):
            msg = f"adjustment amount must be Money, not {self.amount!r}"
            raise InvalidValueError(msg, code="incentives.invalid_field")
