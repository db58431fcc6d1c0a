"""The types the checker reasons with.

`Ty` is internal: users see types through `Field` (schema side) and the
``type``/``nullable``/``scale`` attributes of a compiled `Expression`.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from decimal import Clamped, Context, Decimal, DivisionByZero, Inexact, InvalidOperation, Overflow
from typing import Final, final

__all__ = [
    "DECIMAL_CONTEXT",
    "DECIMAL_MAX_SCALE",
    "INT64_MAX",
    "INT64_MIN",
    "ORDERED",
    "Kind",
    "Ty",
    "from_scaled",
    "to_scaled",
]

INT64_MIN: Final = -(2**63)
INT64_MAX: Final = 2**63 - 1
DECIMAL_MAX_SCALE: Final = 18
"""Most digits after the point a decimal can have: 10**18 still fits in int64."""
_INT64_DIGITS: Final = 19

DECIMAL_CONTEXT: Final = Context(
    prec=60, traps=[InvalidOperation, DivisionByZero, Overflow, Inexact, Clamped]
)
"""The context for every decimal operation, never the thread's current one.

Operands fit int64 at scale 18 or less, so every sum and product has fewer than 60
digits and is exact; `Inexact` is trapped so a slip would raise, not round. Using
an explicit context also keeps a host's ``decimal.getcontext()`` settings (say,
``prec=6`` for display) out of the arithmetic.
"""


@enum.unique
class Kind(enum.Enum):
    """The kind of a value; `Ty` adds nullability, scale and list element."""

    BOOL = "bool"
    INT = "int"  # int64; overflow is an error, never a wrap-around
    DOUBLE = "double"  # IEEE 754 binary64
    DECIMAL = "decimal"  # exact, fixed point: int64 scaled by 10**scale
    STRING = "string"
    DATE = "date"
    TIMESTAMP = "timestamp"  # an instant, UTC, microseconds
    DURATION = "duration"  # microseconds, within int64
    NULL = "null"  # the type of the literal ``null``
    NUMBER = "number"  # a literal with a fraction, before its use makes it double or decimal
    LIST = "list"  # list literals, only on the right of ``in`` and inside size()
    ERROR = "error"  # stands in for a subexpression that failed to check; never reported twice


ORDERED: Final = frozenset(
    {
        Kind.BOOL,
        Kind.INT,
        Kind.DOUBLE,
        Kind.DECIMAL,
        Kind.STRING,
        Kind.DATE,
        Kind.TIMESTAMP,
        Kind.DURATION,
        Kind.NUMBER,
    }
)
"""Kinds with ``<``, min and max."""


@final
@dataclass(frozen=True, slots=True)
class Ty:
    """A checked type.

    Attributes:
        kind: What the value is.
        nullable: Whether the value may be null.
        scale: Digits after the point, for DECIMAL only.
        element: The element type, for LIST only.
    """

    kind: Kind
    nullable: bool = False
    scale: int | None = None
    element: Ty | None = None

    def __str__(self) -> str:
        """Spell as in a schema: ``decimal(2)?``, ``list<int>``."""
        if self.kind is Kind.DECIMAL:
            text = f"decimal({self.scale})"
        elif self.kind is Kind.LIST:
            text = "list" if self.element is None else f"list<{self.element}>"
        elif self.kind is Kind.NUMBER:
            text = "double"  # what a number literal is unless a decimal is beside it
        else:
            text = self.kind.value
        return text + ("?" if self.nullable and self.kind is not Kind.NULL else "")

    def as_nullable(self) -> Ty:
        """The same type, nullable."""
        return Ty(self.kind, nullable=True, scale=self.scale, element=self.element)


def to_scaled(value: Decimal, scale: int) -> int | None:
    """``value * 10**scale`` as an int, if exact and within int64; else ``None``.

    >>> to_scaled(Decimal("12.5"), 2), to_scaled(Decimal("0.125"), 2), to_scaled(Decimal(9E19), 0)
    (1250, None, None)
    """
    if not value.is_finite():
        return None
    sign, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)  # noqa: S101 - finite numbers have an int exponent
    significant = len(digits)
    while significant > 1 and digits[significant - 1] == 0:
        significant -= 1
    shift = exponent + scale + (len(digits) - significant)
    if shift < 0 or significant + shift > _INT64_DIGITS:
        return None
    coefficient = int("".join(map(str, digits[:significant]))) * 10**shift
    result = -coefficient if sign else coefficient
    return result if INT64_MIN <= result <= INT64_MAX else None


def from_scaled(scaled: int, scale: int) -> Decimal:
    """The decimal ``scaled * 10**-scale``, with exactly ``scale`` places.

    >>> from_scaled(1250, 2), from_scaled(-5, 0)
    (Decimal('12.50'), Decimal('-5'))
    """
    return Decimal(scaled).scaleb(-scale, DECIMAL_CONTEXT)
