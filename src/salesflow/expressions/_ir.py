"""The checked program: what both evaluators compile.

Every node carries its concrete `Ty`; implicit widenings (int to double or decimal)
are explicit ``to_double``/``to_decimal`` applications, so the evaluators never
decide a type. Both evaluators read the same nodes and the same operator names,
which is where their semantics are shared; they differ only in how they compute.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, final

if TYPE_CHECKING:
    from salesflow.expressions._types import Kind, Ty

__all__ = [
    "COMPARISONS",
    "Apply",
    "Choose",
    "Const",
    "FieldRef",
    "Ir",
    "IsNull",
    "Logic",
    "Member",
    "Op",
]


@enum.unique
class Op(enum.Enum):
    """Strict operations: a null operand makes the result null.

    The operand kind that selects the implementation is `Apply.kind`.
    """

    ADD = "add"  # int, double, decimal, string (concatenation), duration
    SUB = "sub"  # int, double, decimal, duration
    MUL = "mul"  # int, double, decimal
    DIV = "div"  # int (truncating), double
    MOD = "mod"  # int (sign of the dividend)
    NEG = "neg"  # int, double, decimal, duration
    NOT = "not"  # bool
    EQ = "eq"
    NE = "ne"
    LT = "lt"
    LE = "le"
    GT = "gt"
    GE = "ge"
    PLUS_DURATION = "plus_duration"  # date or timestamp, duration -> same
    MINUS_DURATION = "minus_duration"  # date or timestamp, duration -> same
    DIFFERENCE = "difference"  # date - date or timestamp - timestamp -> duration
    SIZE = "size"  # string length in code points
    STARTS_WITH = "starts_with"
    ENDS_WITH = "ends_with"
    CONTAINS = "contains"
    LOWER_ASCII = "lower_ascii"
    UPPER_ASCII = "upper_ascii"
    ABS = "abs"
    MIN = "min"
    MAX = "max"
    TO_INT = "to_int"  # from double or decimal, truncating toward zero
    TO_DOUBLE = "to_double"  # from int or decimal, correctly rounded
    TO_DECIMAL = "to_decimal"  # from int, scale 0
    TO_STRING = "to_string"  # from int, bool or date


COMPARISONS = frozenset({Op.EQ, Op.NE, Op.LT, Op.LE, Op.GT, Op.GE})


@dataclass(frozen=True, slots=True)
class Ir:
    """Base of the checked program's nodes: type and source position."""

    ty: Ty
    line: int = field(default=1, compare=False, kw_only=True)
    column: int = field(default=1, compare=False, kw_only=True)


@final
@dataclass(frozen=True, slots=True)
class Const(Ir):
    """A constant, as the scalar evaluator's Python value (``None`` for null)."""

    value: object


@final
@dataclass(frozen=True, slots=True)
class FieldRef(Ir):
    """The field at ``index`` of the expression's field list."""

    index: int
    name: str


@final
@dataclass(frozen=True, slots=True)
class Apply(Ir):
    """A strict operation on operands of kind ``kind``."""

    op: Op
    kind: Kind
    args: tuple[Ir, ...]


@final
@dataclass(frozen=True, slots=True)
class Logic(Ir):
    """``&&`` or ``||`` with Kleene's nulls; a deciding side absorbs the other's error."""

    conjunction: bool
    left: Ir
    right: Ir


@final
@dataclass(frozen=True, slots=True)
class Choose(Ir):
    """``condition ? then : otherwise``; only the chosen branch's errors count."""

    condition: Ir
    then: Ir
    otherwise: Ir


@final
@dataclass(frozen=True, slots=True)
class IsNull(Ir):
    """``x == null`` (or ``x != null`` when ``negate``); never null itself."""

    operand: Ir
    negate: bool


@final
@dataclass(frozen=True, slots=True)
class Member(Ir):
    """``x in [items]``: null when ``x`` is null; null items never match."""

    operand: Ir
    items: tuple[Ir, ...]
