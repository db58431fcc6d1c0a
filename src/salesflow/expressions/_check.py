"""Type checking: syntax tree and schema in, checked program (`_ir`) out.

The checker reports every problem it finds, not just the first: a subexpression
that fails gets the ERROR type, which is accepted everywhere without a further
report, so one mistake is reported once.

Numbers with a fraction (``1.5``) are typed by their use, the way Go types its
untyped constants: beside a decimal they are exact decimals, beside a double they are
doubles, and on their own they are doubles. Until their use is known they have the
NUMBER kind; `_Checker.settle` gives them their final kind.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Final, final

from salesflow.errors import ExpressionTypeError, Location, Problem, Severity
from salesflow.expressions._ast import (
    Binary,
    Call,
    Conditional,
    ListLiteral,
    Literal,
    LiteralKind,
    Name,
    Node,
    Unary,
)
from salesflow.expressions._ir import (
    Apply,
    Choose,
    Const,
    FieldRef,
    Ir,
    IsNull,
    Logic,
    Member,
    Op,
)
from salesflow.expressions._types import (
    DECIMAL_MAX_SCALE,
    INT64_MAX,
    ORDERED,
    Kind,
    Ty,
    to_scaled,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from salesflow.expressions._schema import Schema

__all__ = ["Checked", "check", "duration_from_text"]

_BOOL: Final = Ty(Kind.BOOL)
_NULL: Final = Ty(Kind.NULL, nullable=True)
_ERROR: Final = Ty(Kind.ERROR)
_NUMERIC: Final = frozenset({Kind.INT, Kind.DOUBLE, Kind.DECIMAL, Kind.NUMBER})
_TEMPORAL: Final = frozenset({Kind.DATE, Kind.TIMESTAMP})
_ARITHMETIC: Final = {"+": Op.ADD, "-": Op.SUB, "*": Op.MUL, "/": Op.DIV, "%": Op.MOD}
_COMPARISON: Final = {
    "==": Op.EQ,
    "!=": Op.NE,
    "<": Op.LT,
    "<=": Op.LE,
    ">": Op.GT,
    ">=": Op.GE,
}
_MICROSECONDS: Final = {
    "d": 86_400_000_000,
    "h": 3_600_000_000,
    "m": 60_000_000,
    "s": 1_000_000,
    "ms": 1_000,
    "us": 1,
    "µs": 1,
}
_DURATION_PART: Final = re.compile(r"(\d+(?:\.\d+)?)(d|h|ms|m|s|us|µs)")
_DURATION: Final = re.compile(r"([+-]?)((?:\d+(?:\.\d+)?(?:d|h|ms|m|s|us|µs))+|0)")
_DATE: Final = re.compile(r"\d{4}-\d{2}-\d{2}")
_TIMESTAMP: Final = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?(?:[Zz]|[+-]\d{2}:\d{2})"
)
_DECIMAL_TEXT: Final = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)")
_DURATION_LIMIT: Final = INT64_MAX  # microseconds; int64 minimum is numpy's NaT


@final
@dataclass(frozen=True, slots=True)
class Checked:
    """The outcome of checking: the program and the fields it reads, in order."""

    root: Ir
    fields: tuple[tuple[str, Ty], ...]


@final
@dataclass(frozen=True, slots=True)
class _Function:
    """A built-in: how it is called and how its arguments are checked."""

    arity: int
    member: bool  # called as target.f(...) (the target counts in arity)
    plain: bool  # called as f(...)


_FUNCTIONS: Final = {
    "size": _Function(1, member=True, plain=True),
    "startsWith": _Function(2, member=True, plain=False),
    "endsWith": _Function(2, member=True, plain=False),
    "contains": _Function(2, member=True, plain=False),
    "lowerAscii": _Function(1, member=True, plain=False),
    "upperAscii": _Function(1, member=True, plain=False),
    "abs": _Function(1, member=False, plain=True),
    "min": _Function(2, member=False, plain=True),
    "max": _Function(2, member=False, plain=True),
    "int": _Function(1, member=False, plain=True),
    "double": _Function(1, member=False, plain=True),
    "decimal": _Function(1, member=False, plain=True),
    "string": _Function(1, member=False, plain=True),
    "date": _Function(1, member=False, plain=True),
    "timestamp": _Function(1, member=False, plain=True),
    "duration": _Function(1, member=False, plain=True),
}
_STRING_PREDICATES: Final = {
    "startsWith": Op.STARTS_WITH,
    "endsWith": Op.ENDS_WITH,
    "contains": Op.CONTAINS,
}


@final
@dataclass(frozen=True, slots=True)
class _ListValue(Ir):
    """A checked list literal; only `in` and size() may consume one."""

    items: tuple[Ir, ...]


def check(node: Node, schema: Schema, *, expect: Kind | None, path: str | None) -> Checked:
    """Type-check ``node`` against ``schema``.

    Args:
        node: The parsed expression.
        schema: The fields it may use.
        expect: The kind the result must have (widening int or a number literal to
            it where allowed), or ``None`` for any.
        path: The document path to put in problem locations.

    Raises:
        ExpressionTypeError: Listing every problem found.
    """
    checker = _Checker(schema, path)
    root = checker.finish(checker.visit(node), expect, node)
    if checker.problems:
        raise ExpressionTypeError.from_problems(checker.problems)
    return Checked(root, tuple(checker.fields))


def duration_from_text(text: str) -> dt.timedelta | None:
    """Read CEL's duration syntax (``"1h30m"``, ``"-1.5h"``, plus ``d`` for days).

    Returns ``None`` when the text is not a duration, not a whole number of
    microseconds, or out of range.

    >>> duration_from_text("1h30m"), duration_from_text("2d"), duration_from_text("1ns")
    (datetime.timedelta(seconds=5400), datetime.timedelta(days=2), None)
    """
    match = _DURATION.fullmatch(text)
    if match is None:
        return None
    total = Decimal(0)
    for number, unit in _DURATION_PART.findall(match[2]):
        total += Decimal(number) * _MICROSECONDS[unit]
    if total != total.to_integral_value() or total > _DURATION_LIMIT:
        return None
    micros = int(total)
    return dt.timedelta(microseconds=-micros if match[1] == "-" else micros)


class _Checker:
    """One checking run: accumulates problems and the fields referenced."""

    def __init__(self, schema: Schema, path: str | None) -> None:
        self.schema = schema
        self.path = path
        self.problems: list[Problem] = []
        self.fields: list[tuple[str, Ty]] = []
        self._field_index: dict[str, int] = {}

    # -- reporting ---------------------------------------------------------------

    def report(self, where: Node | Ir, refinement: str, message: str) -> Ir:
        """Record a problem at ``where``; return an ERROR node to carry on with."""
        location = Location(path=self.path, line=where.line, column=where.column)
        self.problems.append(
            Problem(f"expression_type.{refinement}", Severity.ERROR, message, location)
        )
        return Const(_ERROR, None, line=where.line, column=where.column)

    # -- dispatch ------------------------------------------------------------------

    def visit(self, node: Node) -> Ir:
        """Check one syntax node."""
        visitor: Callable[[Node], Ir] = getattr(self, f"_visit_{type(node).__name__}")
        return visitor(node)

    def value(self, node: Node) -> Ir:
        """Check a node used as a value: a list literal is an error here."""
        result = self.visit(node)
        if isinstance(result, _ListValue):
            return self.report(
                node, "list_misuse", "a list can only be used after 'in' or inside size()"
            )
        return result

    def finish(self, root: Ir, expect: Kind | None, node: Node) -> Ir:
        """Give the root its final type, or check it against ``expect``."""
        if isinstance(root, _ListValue):
            return self.report(
                node, "list_misuse", "a list can only be used after 'in' or inside size()"
            )
        kind = root.ty.kind
        if expect is None or kind in {Kind.ERROR, Kind.NULL, expect}:
            return self.settle(root, Kind.DOUBLE) if kind is Kind.NUMBER else root
        if kind in {Kind.INT, Kind.NUMBER} and expect in {Kind.DOUBLE, Kind.DECIMAL}:
            return self.settle(root, expect)
        wanted = "a condition (bool)" if expect is Kind.BOOL else f"a {expect.value}"
        return self.report(node, "unexpected_type", f"expected {wanted}, found {root.ty}")

    # -- leaves --------------------------------------------------------------------

    def _visit_Literal(self, node: Literal) -> Ir:  # noqa: N802 - dispatched by class name
        kind = {
            LiteralKind.INT: Kind.INT,
            LiteralKind.NUMBER: Kind.NUMBER,
            LiteralKind.STRING: Kind.STRING,
            LiteralKind.BOOL: Kind.BOOL,
            LiteralKind.NULL: Kind.NULL,
        }[node.kind]
        if kind is Kind.INT and isinstance(node.value, int) and node.value > INT64_MAX:
            return self.report(
                node,
                "int_out_of_range",
                f"integer literal {node.value} does not fit in int64 (only -{node.value} does)",
            )
        ty = _NULL if kind is Kind.NULL else Ty(kind)
        return Const(ty, node.value, line=node.line, column=node.column)

    def _visit_Name(self, node: Name) -> Ir:  # noqa: N802 - dispatched by class name
        if node.path not in self.schema:
            message = f"unknown name {node.path!r}"
            close = difflib.get_close_matches(node.path, list(self.schema), n=1)
            if close:
                message += f"; did you mean {close[0]!r}?"
            return self.report(node, "unknown_name", message)
        ty = self.schema[node.path].to_ty()
        if node.path not in self._field_index:
            self._field_index[node.path] = len(self.fields)
            self.fields.append((node.path, ty))
        index = self._field_index[node.path]
        return FieldRef(ty, index, node.path, line=node.line, column=node.column)

    def _visit_ListLiteral(self, node: ListLiteral) -> Ir:  # noqa: N802 - dispatched by name
        # Items are checked against each other where the list is used (after `in`).
        items = tuple(self.value(item) for item in node.items)
        return _ListValue(Ty(Kind.LIST), items, line=node.line, column=node.column)

    # -- operators -----------------------------------------------------------------

    def _visit_Unary(self, node: Unary) -> Ir:  # noqa: N802 - dispatched by class name
        if (
            node.op == "-"
            and isinstance(node.operand, Literal)
            and node.operand.kind
            in {
                LiteralKind.INT,
                LiteralKind.NUMBER,
            }
        ):
            # -9223372036854775808 is a literal in CEL, not the negation of one.
            value = node.operand.value
            assert isinstance(value, int | Decimal)  # noqa: S101 - by the literal's kind
            kind = Kind.INT if node.operand.kind is LiteralKind.INT else Kind.NUMBER
            negated = value.copy_negate() if isinstance(value, Decimal) else -value
            return Const(Ty(kind), negated, line=node.line, column=node.column)
        operand = self.value(node.operand)
        kind = operand.ty.kind
        if kind in {Kind.ERROR, Kind.NULL}:
            return operand
        if node.op == "!" and kind is Kind.BOOL:
            return self.apply(Op.NOT, Kind.BOOL, (operand,), operand.ty, node)
        if node.op == "-" and kind in {*_NUMERIC, Kind.DURATION}:
            return self.apply(Op.NEG, kind, (operand,), operand.ty, node)
        return self.report(
            node, "operand_types", f"operator {node.op} cannot be applied to {operand.ty}"
        )

    def _visit_Binary(self, node: Binary) -> Ir:  # noqa: N802 - dispatched by class name
        if node.op in {"&&", "||"}:
            return self.logic(node)
        left = self.value(node.left)
        if node.op == "in":
            return self.membership(node, left)
        right = self.value(node.right)
        if _ERROR in {left.ty, right.ty}:
            return Const(_ERROR, None, line=node.line, column=node.column)
        if node.op in _COMPARISON:
            return self.compare(node, _COMPARISON[node.op], left, right)
        return self.arithmetic(node, _ARITHMETIC[node.op], left, right)

    def logic(self, node: Binary) -> Ir:
        """``&&`` and ``||``: bool (or null) operands."""
        sides = []
        for side in (node.left, node.right):
            operand = self.value(side)
            if operand.ty.kind is Kind.NULL:
                operand = Const(
                    Ty(Kind.BOOL, nullable=True), None, line=side.line, column=side.column
                )
            elif operand.ty.kind not in {Kind.BOOL, Kind.ERROR}:
                operand = self.report(
                    side,
                    "operand_types",
                    f"operator {node.op} needs bool operands, found {operand.ty}",
                )
            sides.append(operand)
        left, right = sides
        ty = Ty(Kind.BOOL, nullable=left.ty.nullable or right.ty.nullable)
        return Logic(ty, node.op == "&&", left, right, line=node.line, column=node.column)

    def membership(self, node: Binary, left: Ir) -> Ir:
        """``x in [items]``."""
        right = self.visit(node.right)
        if not isinstance(right, _ListValue):
            if right.ty.kind is not Kind.ERROR:
                self.report(node.right, "operand_types", "the right of 'in' must be a list literal")
            return Const(_ERROR, None, line=node.line, column=node.column)
        items = [item for item in right.items if item.ty.kind is not Kind.NULL]
        common = left.ty
        for item in items:
            common = self.unify(common, item.ty, node, "'in' operands") or _ERROR
        ty = Ty(Kind.BOOL, nullable=left.ty.nullable)
        if common.kind is Kind.ERROR:
            return Const(_ERROR, None, line=node.line, column=node.column)
        if left.ty.kind is Kind.NULL:
            return Const(ty.as_nullable(), None, line=node.line, column=node.column)
        if common.kind is Kind.NUMBER:
            common = Ty(Kind.DOUBLE)
        operand = self.settle(left, common.kind)
        settled = tuple(self.settle(item, common.kind) for item in items)
        return Member(ty, operand, settled, line=node.line, column=node.column)

    def compare(self, node: Binary, op: Op, left: Ir, right: Ir) -> Ir:
        """Equality and ordering: same kinds, after numeric widening."""
        if Kind.NULL in {left.ty.kind, right.ty.kind} and op in {Op.EQ, Op.NE}:
            if left.ty.kind is right.ty.kind:
                return Const(_BOOL, value=op is Op.EQ, line=node.line, column=node.column)
            operand = right if left.ty.kind is Kind.NULL else left
            if operand.ty.kind is Kind.NUMBER:
                operand = self.settle(operand, Kind.DOUBLE)
            return IsNull(_BOOL, operand, op is Op.NE, line=node.line, column=node.column)
        common = self.unify(left.ty, right.ty, node, f"operator {node.op}")
        if common is None:
            return Const(_ERROR, None, line=node.line, column=node.column)
        ty = Ty(Kind.BOOL, nullable=left.ty.nullable or right.ty.nullable)
        if common.kind is Kind.NULL:
            return Const(ty.as_nullable(), None, line=node.line, column=node.column)
        if op not in {Op.EQ, Op.NE} and common.kind not in ORDERED:
            return self.report(node, "operand_types", f"{common} values have no order")
        kind = Kind.DOUBLE if common.kind is Kind.NUMBER else common.kind
        args = (self.settle(left, kind), self.settle(right, kind))
        return self.apply(op, kind, args, ty, node)

    def arithmetic(self, node: Binary, op: Op, left: Ir, right: Ir) -> Ir:  # noqa: PLR0911 - one per rule
        """``+ - * / %`` on numbers, strings, dates, timestamps and durations."""
        if Kind.NULL in {left.ty.kind, right.ty.kind}:
            return self.arithmetic_with_null(node, op, left, right)
        kinds = (left.ty.kind, right.ty.kind)
        nullable = left.ty.nullable or right.ty.nullable
        if kinds[0] in _NUMERIC and kinds[1] in _NUMERIC:
            return self.numeric(node, op, left, right)
        if kinds == (Kind.STRING, Kind.STRING) and op is Op.ADD:
            return self.apply(Op.ADD, Kind.STRING, (left, right), Ty(Kind.STRING, nullable), node)
        if kinds == (Kind.DURATION, Kind.DURATION) and op in {Op.ADD, Op.SUB}:
            return self.apply(op, Kind.DURATION, (left, right), Ty(Kind.DURATION, nullable), node)
        if kinds[0] in _TEMPORAL and kinds[1] is Kind.DURATION and op in {Op.ADD, Op.SUB}:
            shift = Op.PLUS_DURATION if op is Op.ADD else Op.MINUS_DURATION
            return self.apply(shift, kinds[0], (left, right), Ty(kinds[0], nullable), node)
        if kinds[0] is Kind.DURATION and kinds[1] in _TEMPORAL and op is Op.ADD:
            ty = Ty(kinds[1], nullable)
            return self.apply(Op.PLUS_DURATION, kinds[1], (right, left), ty, node)
        if kinds[0] == kinds[1] and kinds[0] in _TEMPORAL and op is Op.SUB:
            ty = Ty(Kind.DURATION, nullable)
            return self.apply(Op.DIFFERENCE, kinds[0], (left, right), ty, node)
        return self.report(
            node,
            "operand_types",
            f"operator {node.op} cannot be applied to {left.ty} and {right.ty}",
        )

    def arithmetic_with_null(self, node: Binary, op: Op, left: Ir, right: Ir) -> Ir:
        """A literal null operand: type as if it had the other operand's type."""
        if left.ty.kind is right.ty.kind:
            return Const(_NULL, None, line=node.line, column=node.column)
        other = left if right.ty.kind is Kind.NULL else right
        stand_in = Const(other.ty.as_nullable(), None, line=node.line, column=node.column)
        pair = (left, stand_in) if other is left else (stand_in, right)
        return self.arithmetic(node, op, *pair)

    def numeric(self, node: Binary, op: Op, left: Ir, right: Ir) -> Ir:
        """Arithmetic on two numeric operands, widening int and settling literals."""
        common = self.unify(left.ty, right.ty, node, f"operator {node.op}")
        if common is None:
            return Const(_ERROR, None, line=node.line, column=node.column)
        kind = common.kind
        if op is Op.MOD and kind is not Kind.INT:
            return self.report(
                node, "operand_types", f"operator % needs int operands, not {kind.value}"
            )
        if op is Op.DIV and kind is Kind.DECIMAL:
            return self.report(
                node,
                "decimal_division",
                "decimal division is not exact; multiply instead (amount * 0.25, not amount / 4),"
                " or divide doubles: double(amount) / 4.0",
            )
        if op is Op.DIV and kind is Kind.NUMBER:
            kind = Kind.DOUBLE
        args = (self.settle(left, kind), self.settle(right, kind))
        return self.numeric_apply(op, kind, args, node)

    def numeric_apply(self, op: Op, kind: Kind, args: tuple[Ir, ...], where: Node | Ir) -> Ir:
        """Apply a numeric op to operands already of ``kind``; decimal scales follow the op."""
        nullable = any(a.ty.nullable for a in args)
        if kind is not Kind.DECIMAL:
            return self.apply(op, kind, args, Ty(kind, nullable), where)
        scales = [a.ty.scale or 0 for a in args]
        scale = sum(scales) if op is Op.MUL else max(scales)
        if scale > DECIMAL_MAX_SCALE:
            return self.report(
                where,
                "decimal_scale",
                f"the decimal result would have {scale} digits after the point; at most"
                f" {DECIMAL_MAX_SCALE} fit (convert with double(x) for approximate arithmetic)",
            )
        return self.apply(op, kind, args, Ty(kind, nullable, scale), where)

    # -- ternary -------------------------------------------------------------------

    def _visit_Conditional(self, node: Conditional) -> Ir:  # noqa: N802 - dispatched by name
        condition = self.value(node.condition)
        if condition.ty.kind is Kind.NULL:
            condition = Const(
                Ty(Kind.BOOL, nullable=True), None, line=node.line, column=node.column
            )
        elif condition.ty.kind not in {Kind.BOOL, Kind.ERROR}:
            condition = self.report(
                node.condition,
                "not_a_condition",
                f"the condition before '?' is {condition.ty}, not bool",
            )
        then, otherwise = self.value(node.then), self.value(node.otherwise)
        common = self.unify(then.ty, otherwise.ty, node, "the branches of '?:'")
        if common is None or Kind.ERROR in {common.kind, condition.ty.kind}:
            return Const(_ERROR, None, line=node.line, column=node.column)
        nullable = condition.ty.nullable or then.ty.nullable or otherwise.ty.nullable
        if common.kind in {Kind.NULL, Kind.NUMBER}:
            ty = Ty(common.kind, nullable)
            return Choose(ty, condition, then, otherwise, line=node.line, column=node.column)
        then, otherwise = self.settle(then, common.kind), self.settle(otherwise, common.kind)
        return self.choose(condition, then, otherwise, node, nullable=nullable)

    def choose(
        self, condition: Ir, then: Ir, otherwise: Ir, where: Node | Ir, *, nullable: bool
    ) -> Ir:
        """A `Choose` of two settled branches of one kind."""
        kind = then.ty.kind if then.ty.kind is not Kind.NULL else otherwise.ty.kind
        scale = None
        if kind is Kind.DECIMAL:
            scale = max(b.ty.scale or 0 for b in (then, otherwise) if b.ty.kind is Kind.DECIMAL)
        then, otherwise = (self.stand_in(b, kind, scale) for b in (then, otherwise))
        ty = Ty(kind, nullable, scale)
        return Choose(ty, condition, then, otherwise, line=where.line, column=where.column)

    # -- calls ---------------------------------------------------------------------

    def _visit_Call(self, node: Call) -> Ir:  # noqa: N802 - dispatched by class name
        function = _FUNCTIONS.get(node.function)
        if function is None:
            message = f"unknown function {node.function!r}"
            close = difflib.get_close_matches(node.function, list(_FUNCTIONS), n=1)
            if close:
                message += f"; did you mean {close[0]!r}?"
            for arg in node.args:
                self.visit(arg)
            return self.report(node, "unknown_function", message)
        if not self.call_shape_ok(node, function):
            return Const(_ERROR, None, line=node.line, column=node.column)
        nodes = ((node.target,) if node.target is not None else ()) + node.args
        if node.function == "size":
            return self.size(node, self.visit(nodes[0]))
        args = tuple(self.value(arg) for arg in nodes)
        if any(a.ty.kind is Kind.ERROR for a in args):
            return Const(_ERROR, None, line=node.line, column=node.column)
        checker: Callable[[Call, tuple[Ir, ...], tuple[Node, ...]], Ir] = getattr(
            self, f"_call_{node.function}"
        )
        return checker(node, args, nodes)

    def call_shape_ok(self, node: Call, function: _Function) -> bool:
        """Report a wrong call style or argument count; ``True`` when neither."""
        as_member = node.target is not None
        count = len(node.args) + as_member
        name = node.function
        if as_member and not function.member:
            self.report(
                node, "call_style", f"{name}() is a function: write {name}(x), not x.{name}()"
            )
            return False
        if not as_member and not function.plain:
            example = "s." + name + ("()" if function.arity == 1 else "(t)")
            self.report(node, "call_style", f"{name} is called on a string: write {example}")
            return False
        if count != function.arity:
            expected = function.arity - as_member
            plural = "s" if expected != 1 else ""
            message = f"{name} takes {expected} argument{plural}, got {len(node.args)}"
            self.report(node, "arity", message)
            return False
        return True

    def size(self, node: Call, arg: Ir) -> Ir:
        """The size of a string (in code points) or of a list literal."""
        if isinstance(arg, _ListValue):
            return Const(Ty(Kind.INT), len(arg.items), line=node.line, column=node.column)
        return self.typed_call(node, (arg,), {Kind.STRING: (Op.SIZE, Kind.INT)})

    def typed_call(
        self, node: Call, args: tuple[Ir, ...], signatures: dict[Kind, tuple[Op | None, Kind]]
    ) -> Ir:
        """Calls whose first argument's kind picks the op and the result kind.

        ``signatures`` maps the first argument's kind to ``(op, result kind)``; an op
        of ``None`` means the argument is already the result.
        """
        kind = args[0].ty.kind
        if kind is Kind.ERROR:
            return args[0]
        if kind is Kind.NULL:
            results = {result for _, result in signatures.values()}
            ty = Ty(results.pop(), nullable=True) if len(results) == 1 else _NULL
            return Const(ty, None, line=node.line, column=node.column)
        if kind not in signatures:
            accepted = ", ".join(k.value for k in signatures)
            return self.report(
                node, "operand_types", f"{node.function}() takes {accepted}, not {args[0].ty}"
            )
        op, result = signatures[kind]
        if op is None:
            return args[0]
        nullable = any(a.ty.nullable for a in args)
        return self.apply(op, kind, args, Ty(result, nullable), node)

    def _call_startsWith(self, node: Call, args: tuple[Ir, ...], nodes: tuple[Node, ...]) -> Ir:  # noqa: N802 - CEL's name
        return self.string_predicate(node, args, nodes)

    def _call_endsWith(self, node: Call, args: tuple[Ir, ...], nodes: tuple[Node, ...]) -> Ir:  # noqa: N802 - CEL's name
        return self.string_predicate(node, args, nodes)

    def _call_contains(self, node: Call, args: tuple[Ir, ...], nodes: tuple[Node, ...]) -> Ir:
        return self.string_predicate(node, args, nodes)

    def string_predicate(self, node: Call, args: tuple[Ir, ...], nodes: tuple[Node, ...]) -> Ir:
        """s.startsWith(t), s.endsWith(t), s.contains(t)."""
        if args[1].ty.kind not in {Kind.STRING, Kind.NULL}:
            return self.report(
                nodes[1], "operand_types", f"{node.function}() takes a string, not {args[1].ty}"
            )
        op = _STRING_PREDICATES[node.function]
        if args[1].ty.kind is Kind.NULL:
            args = (args[0], self.stand_in(args[1], Kind.STRING, None))
        return self.typed_call(node, args, {Kind.STRING: (op, Kind.BOOL)})

    def _call_lowerAscii(self, node: Call, args: tuple[Ir, ...], _: tuple[Node, ...]) -> Ir:  # noqa: N802 - CEL's name
        return self.typed_call(node, args, {Kind.STRING: (Op.LOWER_ASCII, Kind.STRING)})

    def _call_upperAscii(self, node: Call, args: tuple[Ir, ...], _: tuple[Node, ...]) -> Ir:  # noqa: N802 - CEL's name
        return self.typed_call(node, args, {Kind.STRING: (Op.UPPER_ASCII, Kind.STRING)})

    def _call_abs(self, node: Call, args: tuple[Ir, ...], _: tuple[Node, ...]) -> Ir:
        kind = args[0].ty.kind
        if kind in _NUMERIC:
            return self.numeric_apply(Op.ABS, kind, args, node)
        signatures: dict[Kind, tuple[Op | None, Kind]] = {
            k: (Op.ABS, k) for k in (Kind.INT, Kind.DOUBLE, Kind.DECIMAL)
        }
        return self.typed_call(node, args, signatures)

    def _call_min(self, node: Call, args: tuple[Ir, ...], _: tuple[Node, ...]) -> Ir:
        return self.extreme(node, Op.MIN, args)

    def _call_max(self, node: Call, args: tuple[Ir, ...], _: tuple[Node, ...]) -> Ir:
        return self.extreme(node, Op.MAX, args)

    def extreme(self, node: Call, op: Op, args: tuple[Ir, ...]) -> Ir:
        """min(a, b) and max(a, b) of two values of one ordered kind."""
        common = self.unify(args[0].ty, args[1].ty, node, f"{node.function}()")
        if common is None:
            return Const(_ERROR, None, line=node.line, column=node.column)
        if common.kind is Kind.NULL:
            return Const(_NULL, None, line=node.line, column=node.column)
        if common.kind not in ORDERED - {Kind.BOOL}:
            return self.report(
                node, "operand_types", f"{node.function}() needs ordered values, not {common}"
            )
        if common.kind is Kind.NUMBER:
            ty = Ty(Kind.NUMBER, common.nullable)
            return Apply(ty, op, Kind.NUMBER, args, line=node.line, column=node.column)
        settled = tuple(self.settle(a, common.kind) for a in args)
        return self.numeric_apply(op, common.kind, settled, node)

    def _call_int(self, node: Call, args: tuple[Ir, ...], _: tuple[Node, ...]) -> Ir:
        arg = self.settle(args[0], Kind.DOUBLE) if args[0].ty.kind is Kind.NUMBER else args[0]
        signatures: dict[Kind, tuple[Op | None, Kind]] = {
            Kind.INT: (None, Kind.INT),
            Kind.DOUBLE: (Op.TO_INT, Kind.INT),
            Kind.DECIMAL: (Op.TO_INT, Kind.INT),
        }
        return self.typed_call(node, (arg,), signatures)

    def _call_double(self, node: Call, args: tuple[Ir, ...], _: tuple[Node, ...]) -> Ir:
        arg = self.settle(args[0], Kind.DOUBLE) if args[0].ty.kind is Kind.NUMBER else args[0]
        signatures: dict[Kind, tuple[Op | None, Kind]] = {
            Kind.DOUBLE: (None, Kind.DOUBLE),
            Kind.INT: (Op.TO_DOUBLE, Kind.DOUBLE),
            Kind.DECIMAL: (Op.TO_DOUBLE, Kind.DOUBLE),
        }
        return self.typed_call(node, (arg,), signatures)

    def _call_decimal(self, node: Call, args: tuple[Ir, ...], _: tuple[Node, ...]) -> Ir:  # noqa: PLR0911 - one per argument kind
        arg = args[0]
        match arg.ty.kind:
            case Kind.DECIMAL:
                return arg
            case Kind.NUMBER:
                return self.settle(arg, Kind.DECIMAL)
            case Kind.INT:
                return self.settle(arg, Kind.DECIMAL)
            case Kind.NULL:
                return Const(
                    Ty(Kind.DECIMAL, nullable=True, scale=0),
                    None,
                    line=node.line,
                    column=node.column,
                )
            case Kind.STRING:
                text = self.literal_text(node, arg)
                if text is None:
                    return Const(_ERROR, None, line=node.line, column=node.column)
                if _DECIMAL_TEXT.fullmatch(text) is None:
                    return self.report(
                        node, "bad_literal", f"decimal({text!r}): not a decimal number"
                    )
                number = Const(Ty(Kind.NUMBER), Decimal(text), line=node.line, column=node.column)
                return self.settle(number, Kind.DECIMAL)
        return self.report(
            node, "operand_types", f"decimal() takes a literal string or an int, not {arg.ty}"
        )

    def _call_string(self, node: Call, args: tuple[Ir, ...], _: tuple[Node, ...]) -> Ir:
        signatures: dict[Kind, tuple[Op | None, Kind]] = {
            Kind.STRING: (None, Kind.STRING),
            Kind.INT: (Op.TO_STRING, Kind.STRING),
            Kind.BOOL: (Op.TO_STRING, Kind.STRING),
            Kind.DATE: (Op.TO_STRING, Kind.STRING),
        }
        return self.typed_call(node, args, signatures)

    def _call_date(self, node: Call, args: tuple[Ir, ...], _: tuple[Node, ...]) -> Ir:
        return self.constructor(node, args[0], Kind.DATE, _parse_date)

    def _call_timestamp(self, node: Call, args: tuple[Ir, ...], _: tuple[Node, ...]) -> Ir:
        return self.constructor(node, args[0], Kind.TIMESTAMP, _parse_timestamp)

    def _call_duration(self, node: Call, args: tuple[Ir, ...], _: tuple[Node, ...]) -> Ir:
        return self.constructor(node, args[0], Kind.DURATION, duration_from_text)

    def constructor(
        self, node: Call, arg: Ir, kind: Kind, parser: Callable[[str], object | None]
    ) -> Ir:
        """date("..."), timestamp("..."), duration("..."): constants from literal text."""
        if arg.ty.kind is kind:
            return arg
        text = self.literal_text(node, arg)
        if text is None:
            return Const(_ERROR, None, line=node.line, column=node.column)
        value = parser(text)
        if value is None:
            examples = {
                Kind.DATE: '"2026-03-31"',
                Kind.TIMESTAMP: '"2026-03-31T10:00:00Z" (with Z or an offset)',
                Kind.DURATION: '"72h", "1h30m", "90s", "2d" (units d h m s ms us)',
            }
            return self.report(
                node, "bad_literal", f"{node.function}({text!r}): write it like {examples[kind]}"
            )
        return Const(Ty(kind), value, line=node.line, column=node.column)

    def literal_text(self, node: Call, arg: Ir) -> str | None:
        """The text of a string literal argument, or report that it must be one."""
        if isinstance(arg, Const) and arg.ty.kind is Kind.STRING and isinstance(arg.value, str):
            return arg.value
        self.report(
            node,
            "not_literal",
            f'{node.function}() takes a literal string, e.g. {node.function}("...")',
        )
        return None

    # -- types ---------------------------------------------------------------------

    def unify(self, a: Ty, b: Ty, where: Node, what: str) -> Ty | None:
        """The common type of two operands, or report why there is none.

        int widens to double and decimal; a NUMBER literal takes the other's kind;
        null takes the other's type; decimal and double do not mix.
        """
        nullable = a.nullable or b.nullable
        kinds = {a.kind, b.kind}
        if Kind.ERROR in kinds:
            return _ERROR
        if Kind.NULL in kinds:
            other = b if a.kind is Kind.NULL else a
            return other.as_nullable()
        if a.kind is b.kind:
            return Ty(a.kind, nullable, _max_scale(a, b), a.element)
        if kinds <= _NUMERIC:
            if kinds >= {Kind.DECIMAL, Kind.DOUBLE}:
                self.report(
                    where,
                    "mixed_decimal_double",
                    f"{what}: decimal and double do not mix; convert with double(x) or decimal(x)",
                )
                return None
            for kind in (Kind.DECIMAL, Kind.DOUBLE, Kind.NUMBER):
                if kind in kinds:
                    return Ty(kind, nullable, _max_scale(a, b))
        self.report(where, "operand_types", f"{what}: {a} and {b} do not go together")
        return None

    def settle(self, node: Ir, kind: Kind) -> Ir:  # noqa: PLR0911 - one per node shape
        """Make ``node`` of ``kind``: widen an int, give a NUMBER literal its kind."""
        current = node.ty.kind
        if current is kind or current in {Kind.ERROR, Kind.NULL}:
            return node
        if current is Kind.INT and kind in {Kind.DOUBLE, Kind.DECIMAL}:
            if isinstance(node, Const) and isinstance(node.value, int):
                # Folded here, once, for both evaluators: `amount > 1000` then compares
                # a field with a constant of its own kind.
                value = float(node.value) if kind is Kind.DOUBLE else Decimal(node.value)
                ty = Ty(kind, scale=0 if kind is Kind.DECIMAL else None)
                return Const(ty, value, line=node.line, column=node.column)
            op = Op.TO_DOUBLE if kind is Kind.DOUBLE else Op.TO_DECIMAL
            ty = Ty(kind, node.ty.nullable, 0 if kind is Kind.DECIMAL else None)
            return self.apply(op, Kind.INT, (node,), ty, node)
        if current is not Kind.NUMBER:
            return node
        match node:
            case Const(value=Decimal() as value):
                return self.settle_number(node, value, kind)
            case Apply(op=op, args=args):
                return self.numeric_apply(op, kind, tuple(self.settle(a, kind) for a in args), node)
            case Choose(condition=c, then=t, otherwise=o):
                settled = (self.settle(t, kind), self.settle(o, kind))
                return self.choose(c, *settled, node, nullable=node.ty.nullable)
        return node

    def settle_number(self, node: Ir, value: Decimal, kind: Kind) -> Ir:
        """A number literal as a double or an exact decimal constant."""
        if kind is Kind.DOUBLE:
            number = float(value)
            if number in {float("inf"), float("-inf")}:
                return self.report(
                    node, "number_out_of_range", f"{value} is out of range for a double"
                )
            return Const(Ty(Kind.DOUBLE), number, line=node.line, column=node.column)
        scale = max(0, -int(value.as_tuple().exponent))
        if scale > DECIMAL_MAX_SCALE or to_scaled(value, scale) is None:
            return self.report(
                node,
                "number_out_of_range",
                f"{value} does not fit a decimal (at most {DECIMAL_MAX_SCALE} digits after the"
                " point, and 18 to 19 digits in all)",
            )
        return Const(Ty(Kind.DECIMAL, scale=scale), value, line=node.line, column=node.column)

    def stand_in(self, node: Ir, kind: Kind, scale: int | None) -> Ir:
        """Give a null literal a concrete type, so the evaluators know its kind."""
        if node.ty.kind is not Kind.NULL or not isinstance(node, Const):
            return node
        return Const(Ty(kind, nullable=True, scale=scale), None, line=node.line, column=node.column)

    def apply(self, op: Op, kind: Kind, args: tuple[Ir, ...], ty: Ty, where: Node | Ir) -> Ir:
        """Build an `Apply`, typing null-literal operands as ``kind``."""
        args = tuple(self.stand_in(a, kind, a.ty.scale) for a in args)
        return Apply(ty, op, kind, args, line=where.line, column=where.column)


def _max_scale(a: Ty, b: Ty) -> int | None:
    scales = [t.scale for t in (a, b) if t.scale is not None]
    return max(scales) if scales else None


def _parse_date(text: str) -> dt.date | None:
    if _DATE.fullmatch(text) is None:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return None


def _parse_timestamp(text: str) -> dt.datetime | None:
    if _TIMESTAMP.fullmatch(text) is None:
        return None
    try:
        return dt.datetime.fromisoformat(text.upper()).astimezone(dt.UTC)
    except (ValueError, OverflowError):
        return None
