"""The syntax tree of an expression, as written, and a printer back to source.

The tree is what the parser produces and what the checker reads. It says nothing
about types; `_check` turns it into the typed program the two evaluators compile.
Positions (``line``, ``column``, both 1-based) are kept for messages and do not take
part in equality, so a tree printed and parsed again compares equal to itself.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from decimal import Decimal
from typing import final

__all__ = [
    "Binary",
    "Call",
    "Conditional",
    "ListLiteral",
    "Literal",
    "LiteralKind",
    "Name",
    "Node",
    "Unary",
    "unparse",
]


@enum.unique
class LiteralKind(enum.Enum):
    """What a literal was written as."""

    INT = "int"  # digits or 0x hex digits; the sign is a separate unary minus
    NUMBER = "number"  # digits with a fraction or exponent; typed double or decimal by use
    STRING = "string"
    BOOL = "bool"
    NULL = "null"


@dataclass(frozen=True, slots=True)
class Node:
    """Base of every syntax node: where it starts in the source."""

    line: int = field(default=1, compare=False, kw_only=True)
    column: int = field(default=1, compare=False, kw_only=True)


@final
@dataclass(frozen=True, slots=True)
class Literal(Node):
    """A constant written in the source.

    ``value`` is an `int` for INT, the exact `Decimal` of the digits for NUMBER (so
    ``1.50`` keeps its two places), a `str`, a `bool`, or ``None`` for NULL.
    """

    kind: LiteralKind
    value: int | Decimal | str | bool | None


@final
@dataclass(frozen=True, slots=True)
class Name(Node):
    """A field of the schema, possibly a dotted path such as ``deal.amount``."""

    path: str


@final
@dataclass(frozen=True, slots=True)
class Unary(Node):
    """``!x`` or ``-x``; the position is the operator's."""

    op: str
    operand: Node


@final
@dataclass(frozen=True, slots=True)
class Binary(Node):
    """An infix operator (``||``, ``&&``, relations, ``in``, arithmetic) at its position."""

    op: str
    left: Node
    right: Node


@final
@dataclass(frozen=True, slots=True)
class Conditional(Node):
    """``condition ? then : otherwise``; the position is the ``?``."""

    condition: Node
    then: Node
    otherwise: Node


@final
@dataclass(frozen=True, slots=True)
class Call(Node):
    """A function call, ``f(args)`` or, with a ``target``, ``target.f(args)``."""

    function: str
    args: tuple[Node, ...]
    target: Node | None = None


@final
@dataclass(frozen=True, slots=True)
class ListLiteral(Node):
    """``[a, b, c]``; the position is the opening bracket."""

    items: tuple[Node, ...]


# Binding strength, loosest first, as in CEL's grammar.
_CONDITIONAL, _OR, _AND, _RELATION, _SUM, _PRODUCT, _UNARY, _MEMBER = range(1, 9)
_BINARY_PRECEDENCE = {
    "||": _OR,
    "&&": _AND,
    "==": _RELATION,
    "!=": _RELATION,
    "<": _RELATION,
    "<=": _RELATION,
    ">": _RELATION,
    ">=": _RELATION,
    "in": _RELATION,
    "+": _SUM,
    "-": _SUM,
    "*": _PRODUCT,
    "/": _PRODUCT,
    "%": _PRODUCT,
}
_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def unparse(node: Node) -> str:
    """Print a tree as source that parses back to an equal tree.

    Parentheses are added only where precedence needs them.

    >>> unparse(Binary("*", Binary("+", Name("a"), Literal(LiteralKind.INT, 1)), Name("b")))
    '(a + 1) * b'
    """
    return _print(node, _CONDITIONAL)


def _print(node: Node, at_least: int) -> str:
    text, strength = _print_bare(node)
    return f"({text})" if strength < at_least else text


def _print_bare(node: Node) -> tuple[str, int]:  # noqa: PLR0911 - one per node class
    match node:
        case Literal():
            return _print_literal(node), _MEMBER
        case Name(path=path):
            return path, _MEMBER
        case ListLiteral(items=items):
            return "[" + ", ".join(_print(i, _CONDITIONAL) for i in items) + "]", _MEMBER
        case Call(function=name, args=args, target=target):
            inner = ", ".join(_print(a, _CONDITIONAL) for a in args)
            receiver = "" if target is None else _print(target, _MEMBER) + "."
            return f"{receiver}{name}({inner})", _MEMBER
        case Unary(op=op, operand=operand):
            return _print_unary(op, operand), _UNARY
        case Binary(op=op, left=left, right=right):
            strength = _BINARY_PRECEDENCE[op]
            return f"{_print(left, strength)} {op} {_print(right, strength + 1)}", strength
        case Conditional(condition=c, then=t, otherwise=o):
            parts = (_print(c, _OR), _print(t, _OR), _print(o, _CONDITIONAL))
            return "{} ? {} : {}".format(*parts), _CONDITIONAL
    msg = f"not a syntax node: {node!r}"
    raise TypeError(msg)


def _print_unary(op: str, operand: Node) -> str:
    # The grammar allows runs of one operator (``!!x``, ``--x``) but not a mix (``-!x``),
    # and a run ends in a member expression.
    if isinstance(operand, Unary) and operand.op == op:
        return op + _print_unary(operand.op, operand.operand)
    return op + _print(operand, _MEMBER)


def _print_literal(node: Literal) -> str:
    match node.kind:
        case LiteralKind.STRING:
            return _quote(str(node.value))
        case LiteralKind.BOOL:
            return "true" if node.value else "false"
        case LiteralKind.NULL:
            return "null"
        case LiteralKind.NUMBER:
            assert isinstance(node.value, Decimal)  # noqa: S101 - invariant of LiteralKind.NUMBER
            return _print_number(node.value)
    return str(node.value)


def _print_number(value: Decimal) -> str:
    # Keep the exact digits and exponent: ``1.50`` and ``1.5`` differ in scale.
    text = str(value)
    if ("." in text or "E" in text) and Decimal(text).as_tuple() == value.as_tuple():
        return text
    _, digits, exponent = value.as_tuple()
    return "".join(map(str, digits)) + f"e{exponent}"


def _quote(text: str) -> str:
    out = []
    for char in text:
        if char in _ESCAPES:
            out.append(_ESCAPES[char])
        elif char.isprintable():
            out.append(char)
        elif ord(char) <= 0xFFFF:  # noqa: PLR2004 - the \u escape holds four hex digits
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(f"\\U{ord(char):08x}")
    return '"' + "".join(out) + '"'
