"""Whether two guards can hold at once, decided from their syntax trees.

A guard is read as a conjunction (``&&``) of parts. A part this module understands is
an *atom*: a comparison of a field with a constant (``amount >= 1000``, ``5 < n``),
membership of a field in a list of constants (``region in ["华东", "华南"]``) or its
negation, or a bare boolean field (``vip``, ``!vip``). Each atom narrows one field
to a range with a set of allowed or excluded values.

Two guards are **disjoint** when, for some field, the narrowing of both together
admits no value: that is a proof, sound for every type (integers are treated as
integers, a ``decimal(N)`` as the multiples of ``10**-N`` the engine lets it hold,
everything else as a dense order, which can only make a set larger). They
**overlap** when every part of both is an atom and every field's narrowing admits a
value: a witness exists, since atoms on different fields are independent. Otherwise
(an ``||``, arithmetic, a function call, ordering on strings) nothing is proved.
"""

from __future__ import annotations

import enum
import functools
import math
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import TYPE_CHECKING, Final, TypeGuard, final

from salesflow.expressions.syntax import (
    Binary,
    ListLiteral,
    Literal,
    LiteralKind,
    Name,
    Node,
    Unary,
    parse,
)

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = [
    "Overlap",
    "compare_guards",
    "conjuncts",
    "guard_tree",
    "never_holds",
    "remember_tree",
]

Value = int | Decimal | str | bool
_FLIP: Final = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "==", "!=": "!="}
_ORDERING: Final = frozenset({"<", "<=", ">", ">="})
_DECIMAL: Final = re.compile(r"decimal\((\d+)\)")


@enum.unique
class Overlap(enum.Enum):
    """What could be proved about two guards."""

    DISJOINT = "disjoint"  # no input satisfies both
    OVERLAPPING = "overlapping"  # some input satisfies both
    UNKNOWN = "unknown"  # neither could be proved


@final
@dataclass(frozen=True, slots=True)
class _Range:
    """The values a field may take: an interval, less excluded values, or a finite set."""

    low: Value | None = None
    low_closed: bool = False
    high: Value | None = None
    high_closed: bool = False
    allowed: frozenset[Value] | None = None
    excluded: frozenset[Value] = frozenset()
    ordered_text: bool = False  # an ordering on strings: sound for disjointness only

    def meet(self, other: _Range) -> _Range:
        low, low_closed = _tighter(
            (self.low, self.low_closed), (other.low, other.low_closed), upper=False
        )
        high, high_closed = _tighter(
            (self.high, self.high_closed), (other.high, other.high_closed), upper=True
        )
        allowed = self.allowed
        if other.allowed is not None:
            allowed = other.allowed if allowed is None else allowed & other.allowed
        return _Range(
            low,
            low_closed,
            high,
            high_closed,
            allowed,
            self.excluded | other.excluded,
            self.ordered_text or other.ordered_text,
        )

    def admits(self, value: Value) -> bool:
        if value in self.excluded:
            return False
        if self.low is not None and not _above(value, self.low, closed=self.low_closed):
            return False
        return self.high is None or _above(self.high, value, closed=self.high_closed)

    def satisfiable(self, *, grid: Decimal | None) -> bool:
        """Whether a value is left; ``grid`` is the spacing of a field's values, if any."""
        if self.allowed is not None:
            # An int field never equals 1.5, a decimal(2) never 0.125: such allowed
            # values admit nothing.
            return any(
                self.admits(value)
                for value in self.allowed
                if grid is None or _on_grid(value, grid) is not None
            )
        if self.low is None or self.high is None:
            return True  # unbounded on a side: infinitely many candidates, finitely excluded
        if grid is not None:
            return self._grid_left(grid)
        if _above(self.low, self.high, closed=False):
            return False
        if self.low == self.high:
            return self.low_closed and self.high_closed and self.low not in self.excluded
        return True

    def _grid_left(self, grid: Decimal) -> bool:
        """Whether a multiple of ``grid`` is left: counted in steps of the grid."""
        low, high = _steps(self.low, grid), _steps(self.high, grid)
        first = math.floor(low) + 1 if not self.low_closed else math.ceil(low)
        last = math.ceil(high) - 1 if not self.high_closed else math.floor(high)
        if last < first:
            return False
        # Only excluded values on the grid remove one: ``x != 2.5`` removes no integer.
        on_grid = (_on_grid(v, grid) for v in self.excluded)
        inside = sum(1 for step in on_grid if step is not None and first <= step <= last)
        return last - first + 1 > inside


def compare_guards(first: str, second: str, types: Mapping[str, str]) -> Overlap:
    """Whether two guards (expression sources) are disjoint, overlap, or unknown.

    Args:
        first: A guard's source.
        second: Another guard's source.
        types: Field types by field, as written in a definition's ``fields``
            (``"int"``, ``"decimal(2)"``, ``"bool?"``, ...). Integers are counted as
            integers and a ``decimal(N)`` as multiples of ``10**-N``, the values the
            engine lets it hold; other types, and a field left out, as dense.

    >>> compare_guards("amount < 1000", "amount >= 1000", {"amount": "int"})
    <Overlap.DISJOINT: 'disjoint'>
    >>> compare_guards("amount > 999.99", "amount < 1000", {"amount": "decimal(2)"})
    <Overlap.DISJOINT: 'disjoint'>
    >>> compare_guards('r in ["a", "b"]', 'r == "b" && n > 2', {"r": "string", "n": "int"})
    <Overlap.OVERLAPPING: 'overlapping'>
    """
    left, left_complete = _narrowing(first)
    right, right_complete = _narrowing(second)
    together = dict(left)
    for name, rng in right.items():
        together[name] = together[name].meet(rng) if name in together else rng
    try:
        for name, rng in together.items():
            if not _satisfiable(rng, types.get(name)):
                return Overlap.DISJOINT
    except TypeError:  # constants of mixed types: guards that did not type-check
        return Overlap.UNKNOWN
    exact = left_complete and right_complete
    if exact and not any(rng.ordered_text for rng in together.values()):
        return Overlap.OVERLAPPING
    return Overlap.UNKNOWN


def never_holds(source: str, types: Mapping[str, str]) -> bool:
    """Whether a guard was proved to hold for no input (``n > 1 && n < 2`` on an int).

    ``False`` means only that no proof was found. Raises what `parse` raises.

    >>> never_holds("n > 1 && n < 2", {"n": "int"}), never_holds("n > 1 && n < 2", {})
    (True, False)
    >>> never_holds("amount > 10.00 && amount < 10.01", {"amount": "decimal(2)?"})
    True
    """
    ranges, _ = _narrowing(source)
    try:
        return any(not _satisfiable(rng, types.get(name)) for name, rng in ranges.items())
    except TypeError:  # constants of mixed types: a guard that did not type-check
        return False


def conjuncts(node: Node) -> list[Node]:
    """The parts of a top-level ``&&`` chain, in source order."""
    parts: list[Node] = []
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, Binary) and current.op == "&&":
            stack += [current.right, current.left]
        else:
            parts.append(current)
    return parts


def guard_tree(source: str) -> Node:
    """The syntax tree of ``source``, parsed at most once per process while it is kept.

    Loading compiles every guard (which parses it) and linting reads the same guards'
    trees: parsing dominates both on big definitions, so the tree the compile step
    parsed is kept here (`remember_tree`) and read back instead of parsing again.

    Raises:
        ExpressionSyntaxError: The source does not parse.
    """
    with _TREES_LOCK:
        tree = _TREES.get(source)
        if tree is not None:
            _TREES.move_to_end(source)
            return tree
    tree = parse(source)
    remember_tree(source, tree)
    return tree


def remember_tree(source: str, tree: Node) -> None:
    """Keep ``tree`` as the parse of ``source`` for `guard_tree` (bounded, oldest dropped)."""
    with _TREES_LOCK:
        _TREES[source] = tree
        if len(_TREES) > _TREES_SIZE:
            _TREES.popitem(last=False)


# Trees are immutable, so one per source serves every definition; bounded like the
# compiled-expression cache it sits beside.
_TREES: OrderedDict[str, Node] = OrderedDict()
_TREES_SIZE: Final = 8192
_TREES_LOCK: Final = threading.Lock()


def _satisfiable(rng: _Range, type_name: str | None) -> bool:
    kind, grid = _kind(type_name)
    if kind == "bool" and rng.allowed is None:
        rng = replace(rng, allowed=frozenset({True, False}))
    return rng.satisfiable(grid=grid)


@functools.lru_cache(maxsize=256)
def _kind(type_name: str | None) -> tuple[str, Decimal | None]:
    """A field type as written (``"decimal(2)?"``): its name and the spacing of its values."""
    name = (type_name or "").replace(" ", "").removesuffix("?")
    if name == "int":
        return name, Decimal(1)
    scale = _DECIMAL.fullmatch(name)
    if scale is not None:
        return "decimal", Decimal(1).scaleb(-int(scale[1]))
    return name, None


@functools.lru_cache(maxsize=8192)
def _narrowing(source: str) -> tuple[dict[str, _Range], bool]:
    """Each field's range under a guard, and whether every part was an atom.

    Cached by source: big definitions repeat guards. Callers must not mutate the dict
    returned.
    """
    ranges: dict[str, _Range] = {}
    complete = True
    for part in conjuncts(guard_tree(source)):
        atom = _atom(part)
        if atom is None:
            complete = False
            continue
        name, rng = atom
        ranges[name] = ranges[name].meet(rng) if name in ranges else rng
    return ranges, complete


def _atom(node: Node) -> tuple[str, _Range] | None:  # noqa: PLR0911 - one per atom shape
    match node:
        case Name(path=name):
            return name, _Range(allowed=frozenset({True}))
        case Unary(op="!", operand=Name(path=name)):
            return name, _Range(allowed=frozenset({False}))
        case Unary(op="!", operand=Binary(op="in") as inner):
            member = _membership(inner)
            return None if member is None else (member[0], _Range(excluded=member[1]))
        case Binary(op="in"):
            member = _membership(node)
            return None if member is None else (member[0], _Range(allowed=member[1]))
        case Binary(op=op, left=Name(path=name), right=right) if op in _FLIP:
            value = _constant(right)
            return None if value is None else (name, _compared(op, value))
        case Binary(op=op, left=left, right=Name(path=name)) if op in _FLIP:
            value = _constant(left)
            return None if value is None else (name, _compared(_FLIP[op], value))
    return None


def _membership(node: Binary) -> tuple[str, frozenset[Value]] | None:
    if not isinstance(node.left, Name) or not isinstance(node.right, ListLiteral):
        return None
    values = [_constant(item) for item in node.right.items]
    if any(value is None for value in values):
        return None
    return node.left.path, frozenset(v for v in values if v is not None)


def _compared(op: str, value: Value) -> _Range:
    text = isinstance(value, str) and op in _ORDERING
    if op == "==":
        return _Range(allowed=frozenset({value}))
    if op == "!=":
        return _Range(excluded=frozenset({value}))
    if op in {">", ">="}:
        return _Range(low=value, low_closed=op == ">=", ordered_text=text)
    return _Range(high=value, high_closed=op == "<=", ordered_text=text)


def _constant(node: Node) -> Value | None:
    if isinstance(node, Literal) and node.kind is not LiteralKind.NULL:
        assert node.value is not None  # noqa: S101 - only NULL literals hold None
        return node.value
    if (
        isinstance(node, Unary)
        and node.op == "-"
        and isinstance(node.operand, Literal)
        and isinstance(node.operand.value, int | Decimal)
        and not isinstance(node.operand.value, bool)
    ):
        return -node.operand.value
    return None


def _steps(value: Value | None, grid: Decimal) -> Decimal:
    """``value`` counted in steps of ``grid`` (``999.99`` is 99,999 steps of 0.01).

    Raises:
        TypeError: ``value`` is not a number (a guard that did not type-check).
    """
    if not _number(value):
        message = f"not a number: {value!r}"
        raise TypeError(message)
    return Decimal(value) / grid


def _on_grid(value: Value, grid: Decimal) -> Decimal | None:
    """``value`` in steps of ``grid`` when it is a whole number of them, else ``None``."""
    if not _number(value) or not Decimal(value).is_finite():
        return None
    steps = Decimal(value) / grid
    return steps if steps == steps.to_integral_value() else None


def _number(value: Value | None) -> TypeGuard[int | Decimal]:
    return isinstance(value, int | Decimal) and not isinstance(value, bool)


def _above(a: Value, b: Value, *, closed: bool) -> bool:
    """``a >= b`` when closed, else ``a > b``."""
    return bool(a >= b) if closed else bool(a > b)  # type: ignore[operator]


def _tighter(
    a: tuple[Value | None, bool], b: tuple[Value | None, bool], *, upper: bool
) -> tuple[Value | None, bool]:
    if a[0] is None:
        return b
    if b[0] is None:
        return a
    if a[0] == b[0]:
        return a[0], a[1] and b[1]
    a_wins = _above(b[0], a[0], closed=False) if upper else _above(a[0], b[0], closed=False)
    return a if a_wins else b
