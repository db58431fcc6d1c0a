"""The scalar evaluator: the checked program as nested closures, one row at a time.

Everything that depends on types is decided here, once, at compile time: each node
becomes a closure specialised for its operand kinds and for whether its operands
can be null, so evaluating a row does no type dispatch. This is the reference the
vectorized evaluator must agree with.
"""

from __future__ import annotations

import datetime as dt
import math
import numbers
import operator
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Final, NoReturn

import numpy as np

from salesflow.errors import EvaluationError, Location
from salesflow.expressions._ir import (
    COMPARISONS,
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
    DECIMAL_CONTEXT,
    INT64_MAX,
    INT64_MIN,
    Kind,
    Ty,
    from_scaled,
    to_scaled,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

__all__ = ["Env", "bind_row", "compile_scalar"]

Env = tuple[object, ...]
"""The validated values of an expression's fields, in the checker's field order."""

_DURATION_MAX: Final = dt.timedelta(microseconds=INT64_MAX)
_DAY: Final = dt.timedelta(days=1)
_ZERO: Final = dt.timedelta(0)
_ASCII_LOWER: Final = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
_ASCII_UPPER: Final = str.maketrans("abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ")
_COMPARE: Final = {
    Op.EQ: operator.eq,
    Op.NE: operator.ne,
    Op.LT: operator.lt,
    Op.LE: operator.le,
    Op.GT: operator.gt,
    Op.GE: operator.ge,
}


def compile_scalar(root: Ir, *, path: str | None = None) -> Callable[[Env], object]:
    """Compile the checked program to one closure over an `Env`.

    A decimal result is given exactly its static scale (``3`` at scale 2 is
    ``Decimal("3.00")``), so equal programs print equal results.
    """
    run = _Compiler(path).compile(root)
    if root.ty.kind is not Kind.DECIMAL:
        return run
    quantum = Decimal(1).scaleb(-(root.ty.scale or 0))

    def quantized(env: Env) -> object:
        value = run(env)
        return None if value is None else value.quantize(quantum, context=DECIMAL_CONTEXT)  # type: ignore[attr-defined]

    return quantized


def bind_row(
    fields: Sequence[tuple[str, Ty]], *, path: str | None = None
) -> Callable[[Mapping[str, object]], Env]:
    """A function that reads and validates a row's fields into an `Env`.

    Every field the expression uses is checked, whether or not the row's values
    would reach it, so a row is accepted or refused the same way every time.
    """
    names = [name for name, _ in fields]
    checks = [_validator(name, ty, path) for name, ty in fields]

    def missing(row: Mapping[str, object]) -> NoReturn:
        absent = [name for name in names if name not in row]
        message = f"the row has no field {', '.join(map(repr, absent))}"
        raise EvaluationError(message, code="evaluation.missing_field", location=_where(path))

    if len(fields) == 1:
        (name0,), (check0,) = names, checks

        def bind1(row: Mapping[str, object]) -> Env:
            try:
                return (check0(row[name0]),)
            except KeyError:
                missing(row)

        return bind1
    if len(fields) == 2:  # noqa: PLR2004 - the common guard shape, worth its own closure
        (name0, name1), (check0, check1) = names, checks

        def bind2(row: Mapping[str, object]) -> Env:
            try:
                return (check0(row[name0]), check1(row[name1]))
            except KeyError:
                missing(row)

        return bind2

    pairs = list(zip(names, checks, strict=True))

    def bind(row: Mapping[str, object]) -> Env:
        try:
            return tuple([check(row[name]) for name, check in pairs])
        except KeyError:
            missing(row)

    return bind


def _where(path: str | None, node: Ir | None = None) -> Location | None:
    if node is None:
        return Location(path=path) if path else None
    return Location(path=path, line=node.line, column=node.column)


# -- row validation -----------------------------------------------------------------


def _validator(name: str, ty: Ty, path: str | None) -> Callable[[object], object]:
    """The check and normalisation of one field's value in a row."""
    convert = _CONVERTERS[ty.kind](ty)

    def refuse(value: object, reason: str) -> NoReturn:
        message = f"field {name!r} ({ty}): {reason}, found {type(value).__name__} {value!r:.60}"
        raise EvaluationError(message, code="evaluation.bad_value", location=_where(path))

    def check(value: object) -> object:
        if value is None:
            if ty.nullable:
                return None
            refuse(value, "not nullable")
        result = convert(value)
        if result is _REFUSED:
            refuse(value, f"expected {_EXPECTED[ty.kind]}")
        return result

    return _with_fast_path(ty, check)


def _with_fast_path(ty: Ty, check: Callable[[object], object]) -> Callable[[object], object]:
    """``check``, behind an exact-type test that lets the common values straight through."""
    if ty.kind is Kind.TIMESTAMP:

        def check_timestamp(value: object) -> object:
            if type(value) is dt.datetime and value.tzinfo is dt.UTC:
                return value
            return check(value)

        return check_timestamp
    if ty.kind is Kind.INT:

        def check_int(value: object) -> object:
            if type(value) is int and INT64_MIN <= value <= INT64_MAX:
                return value
            return check(value)

        return check_int
    fast_type = _FAST_TYPES.get(ty.kind)
    if fast_type is None:
        return check

    def check_fast(value: object) -> object:
        if type(value) is fast_type:
            return value
        return check(value)

    return check_fast


_REFUSED: Final = object()
_FAST_TYPES: Final[dict[Kind, type]] = {
    Kind.DOUBLE: float,
    Kind.STRING: str,
    Kind.BOOL: bool,
    Kind.DATE: dt.date,
}
_EXPECTED: Final = {
    Kind.BOOL: "a bool",
    Kind.INT: "an int within int64 (not a bool)",
    Kind.DOUBLE: "a float or an int",
    Kind.DECIMAL: "a Decimal or int with at most that many places, within int64 when scaled",
    Kind.STRING: "a str",
    Kind.DATE: "a datetime.date (not a datetime)",
    Kind.TIMESTAMP: "a timezone-aware datetime.datetime",
    Kind.DURATION: "a datetime.timedelta within int64 microseconds",
}


def _as_bool(_: Ty) -> Callable[[object], object]:
    return lambda v: bool(v) if isinstance(v, np.bool_) else _REFUSED


def _as_int(_: Ty) -> Callable[[object], object]:
    def convert(value: object) -> object:
        # numpy's integers are Integral too; Python's bool is, but is not an int here.
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            return _REFUSED
        number = int(value)
        return number if INT64_MIN <= number <= INT64_MAX else _REFUSED

    return convert


def _as_double(_: Ty) -> Callable[[object], object]:
    def convert(value: object) -> object:
        # Decimal is not a numbers.Real: decimal to double is explicit, as in expressions.
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            return _REFUSED
        try:
            return float(value)
        except OverflowError:
            return _REFUSED

    return convert


def _as_decimal(ty: Ty) -> Callable[[object], object]:
    scale = ty.scale or 0
    low, high = from_scaled(INT64_MIN, scale), from_scaled(INT64_MAX, scale)

    def convert(value: object) -> object:
        if isinstance(value, bool) or not isinstance(value, Decimal | numbers.Integral):
            return _REFUSED
        number = value if isinstance(value, Decimal) else Decimal(int(value))
        exponent = number.as_tuple().exponent
        if isinstance(exponent, int) and -scale <= exponent <= 0 and low <= number <= high:
            return number  # at most `scale` places and in range: nothing to normalise
        exact = to_scaled(number, scale)
        return _REFUSED if exact is None else from_scaled(exact, scale)

    return convert


def _as_string(_: Ty) -> Callable[[object], object]:
    return lambda v: str(v) if isinstance(v, str) else _REFUSED


def _as_date(_: Ty) -> Callable[[object], object]:
    return lambda v: v if isinstance(v, dt.date) and not isinstance(v, dt.datetime) else _REFUSED


def _as_timestamp(_: Ty) -> Callable[[object], object]:
    def convert(value: object) -> object:
        if not isinstance(value, dt.datetime) or value.utcoffset() is None:
            return _REFUSED
        try:
            return value.astimezone(dt.UTC)
        except OverflowError:
            return _REFUSED

    return convert


def _as_duration(_: Ty) -> Callable[[object], object]:
    def convert(value: object) -> object:
        if not isinstance(value, dt.timedelta) or abs(value) > _DURATION_MAX:
            return _REFUSED
        return value

    return convert


_CONVERTERS: Final[dict[Kind, Callable[[Ty], Callable[[object], object]]]] = {
    Kind.BOOL: _as_bool,
    Kind.INT: _as_int,
    Kind.DOUBLE: _as_double,
    Kind.DECIMAL: _as_decimal,
    Kind.STRING: _as_string,
    Kind.DATE: _as_date,
    Kind.TIMESTAMP: _as_timestamp,
    Kind.DURATION: _as_duration,
}


# -- compilation ---------------------------------------------------------------------


class _Compiler:
    def __init__(self, path: str | None) -> None:
        self.path = path

    def fail(self, node: Ir, code: str, message: str) -> EvaluationError:
        return EvaluationError(message, code=f"evaluation.{code}", location=_where(self.path, node))

    def compile(self, node: Ir) -> Callable[[Env], object]:  # noqa: PLR0911 - one per node class
        match node:
            case Const(value=value):
                return lambda _env: value
            case FieldRef(index=index):
                return operator.itemgetter(index)
            case Apply():
                return self.apply(node)
            case Logic():
                return self.logic(node)
            case Choose():
                return self.choose(node)
            case IsNull(operand=operand, negate=negate):
                inner = self.compile(operand)
                return lambda env: (inner(env) is None) is not negate
            case Member():
                return self.member(node)
        msg = f"not a program node: {node!r}"
        raise TypeError(msg)

    def apply(self, node: Apply) -> Callable[[Env], object]:
        impl = self.implementation(node)
        nullable = any(a.ty.nullable for a in node.args)
        fused = _fused_comparison(node, impl)
        if fused is not None:
            return fused
        args = [self.compile(a) for a in node.args]
        if len(args) == 1:
            (f,) = args
            if nullable:
                return lambda env: None if (v := f(env)) is None else impl(v)
            return lambda env: impl(f(env))
        f, g = args
        if nullable:

            def strict(env: Env) -> object:
                a, b = f(env), g(env)
                return None if a is None or b is None else impl(a, b)

            return strict
        return lambda env: impl(f(env), g(env))

    def implementation(self, node: Apply) -> Callable[..., object]:
        if node.op in COMPARISONS:
            return _COMPARE[node.op]
        factory = getattr(self, f"_{node.op.value}_{node.kind.value}", None)
        if factory is None:
            factory = getattr(self, f"_{node.op.value}")
        return factory(node)  # type: ignore[no-any-return]

    def logic(self, node: Logic) -> Callable[[Env], object]:
        left, right = self.compile(node.left), self.compile(node.right)
        # Kleene logic, and CEL's rule that a side which decides the result absorbs an
        # error on the other side, whichever side it is on.
        decisive = not node.conjunction

        def run(env: Env) -> object:
            try:
                a = left(env)
            except EvaluationError:
                if right(env) is decisive:
                    return decisive
                raise
            if a is decisive:
                return decisive
            b = right(env)
            if b is decisive:
                return decisive
            return None if a is None or b is None else not decisive

        return run

    def choose(self, node: Choose) -> Callable[[Env], object]:
        condition = self.compile(node.condition)
        then = self.rescaled(node.then, node.ty)
        otherwise = self.rescaled(node.otherwise, node.ty)

        def run(env: Env) -> object:
            chosen = condition(env)
            if chosen is None:
                return None
            return then(env) if chosen else otherwise(env)

        return run

    def rescaled(self, node: Ir, ty: Ty) -> Callable[[Env], object]:
        """``node``, range-checked when its value is widened to a larger decimal scale."""
        run = self.compile(node)
        if ty.kind is not Kind.DECIMAL or (node.ty.scale or 0) == ty.scale:
            return run
        check = self.decimal_range(node, ty.scale or 0)
        return lambda env: None if (v := run(env)) is None else check(v)

    def member(self, node: Member) -> Callable[[Env], object]:
        operand = self.compile(node.operand)
        if all(isinstance(i, Const) for i in node.items):
            constants = frozenset(i.value for i in node.items if isinstance(i, Const))
            return lambda env: None if (v := operand(env)) is None else v in constants
        items = [self.compile(i) for i in node.items]

        def run(env: Env) -> object:
            value = operand(env)
            candidates = [item(env) for item in items]  # all, as the vectorized path does
            if value is None:
                return None
            return any(c is not None and c == value for c in candidates)

        return run

    # -- numbers -------------------------------------------------------------------

    def int_range(self, node: Ir) -> Callable[[int], int]:
        def check(value: int) -> int:
            if INT64_MIN <= value <= INT64_MAX:
                return value
            raise self.fail(node, "overflow", f"int64 overflow ({value})")

        return check

    def decimal_range(self, node: Ir, scale: int) -> Callable[[Any], Decimal]:  # Any: env values
        low, high = from_scaled(INT64_MIN, scale), from_scaled(INT64_MAX, scale)

        def check(value: Decimal) -> Decimal:
            if low <= value <= high:
                return value
            raise self.fail(
                node, "overflow", f"decimal overflow: {value} does not fit scale {scale} in int64"
            )

        return check

    def _add_int(self, node: Apply) -> Callable[..., object]:
        check = self.int_range(node)
        return lambda a, b: check(a + b)

    def _sub_int(self, node: Apply) -> Callable[..., object]:
        check = self.int_range(node)
        return lambda a, b: check(a - b)

    def _mul_int(self, node: Apply) -> Callable[..., object]:
        check = self.int_range(node)
        return lambda a, b: check(a * b)

    def _div_int(self, node: Apply) -> Callable[..., object]:
        check = self.int_range(node)

        def divide(a: int, b: int) -> int:
            if b == 0:
                raise self.fail(node, "division_by_zero", "division by zero")
            quotient = abs(a) // abs(b)  # truncating toward zero, as CEL and C do
            return check(-quotient if (a < 0) != (b < 0) else quotient)

        return divide

    def _mod_int(self, node: Apply) -> Callable[..., object]:
        def modulo(a: int, b: int) -> int:
            if b == 0:
                raise self.fail(node, "division_by_zero", "modulo by zero")
            remainder = abs(a) % abs(b)  # takes the dividend's sign, as CEL and C do
            return -remainder if a < 0 else remainder

        return modulo

    def _neg_int(self, node: Apply) -> Callable[..., object]:
        check = self.int_range(node)
        return lambda a: check(-a)

    def _abs_int(self, node: Apply) -> Callable[..., object]:
        check = self.int_range(node)
        return lambda a: check(abs(a))

    def _add_double(self, _: Apply) -> Callable[..., object]:
        return operator.add

    def _sub_double(self, _: Apply) -> Callable[..., object]:
        return operator.sub

    def _mul_double(self, _: Apply) -> Callable[..., object]:
        return operator.mul

    def _div_double(self, node: Apply) -> Callable[..., object]:
        def divide(a: float, b: float) -> float:
            if b == 0:
                raise self.fail(node, "division_by_zero", "division by zero")
            return a / b

        return divide

    def _neg_double(self, _: Apply) -> Callable[..., object]:
        return operator.neg

    def _abs_double(self, _: Apply) -> Callable[..., object]:
        return abs

    def _decimal_op(self, node: Apply, op: Callable[..., Decimal]) -> Callable[..., object]:
        check = self.decimal_range(node, node.ty.scale or 0)
        return lambda *args: check(op(*args))

    def _add_decimal(self, node: Apply) -> Callable[..., object]:
        return self._decimal_op(node, DECIMAL_CONTEXT.add)

    def _sub_decimal(self, node: Apply) -> Callable[..., object]:
        return self._decimal_op(node, DECIMAL_CONTEXT.subtract)

    def _mul_decimal(self, node: Apply) -> Callable[..., object]:
        return self._decimal_op(node, DECIMAL_CONTEXT.multiply)

    def _neg_decimal(self, node: Apply) -> Callable[..., object]:
        return self._decimal_op(node, DECIMAL_CONTEXT.minus)

    def _abs_decimal(self, node: Apply) -> Callable[..., object]:
        return self._decimal_op(node, DECIMAL_CONTEXT.abs)

    def _min(self, node: Apply) -> Callable[..., object]:
        return self.extreme(node, operator.le)

    def _max(self, node: Apply) -> Callable[..., object]:
        return self.extreme(node, operator.ge)

    def extreme(
        self, node: Apply, keeps_first: Callable[[Any, Any], bool]
    ) -> Callable[..., object]:
        if node.kind is Kind.DOUBLE:

            def pick_double(a: float, b: float) -> float:
                if math.isnan(a) or math.isnan(b):
                    return math.nan  # as numpy's minimum/maximum: NaN wins
                return a if keeps_first(a, b) else b

            return pick_double
        if node.kind is Kind.DECIMAL and len({a.ty.scale for a in node.args}) > 1:
            check = self.decimal_range(node, node.ty.scale or 0)
            return lambda a, b: check(a if keeps_first(a, b) else b)
        return lambda a, b: a if keeps_first(a, b) else b

    def _to_int_double(self, node: Apply) -> Callable[..., object]:
        check = self.int_range(node)

        def to_int(value: float) -> int:
            if not math.isfinite(value):
                raise self.fail(node, "overflow", f"int({value}) is not a number in range")
            return check(int(value))

        return to_int

    def _to_int_decimal(self, _: Apply) -> Callable[..., object]:
        return int  # truncates toward zero; always fits int64

    def _to_double(self, _: Apply) -> Callable[..., object]:
        return float  # correctly rounded from int and from Decimal

    def _to_decimal_int(self, _: Apply) -> Callable[..., object]:
        return Decimal

    def _to_string_int(self, _: Apply) -> Callable[..., object]:
        return str

    def _to_string_bool(self, _: Apply) -> Callable[..., object]:
        return lambda value: "true" if value else "false"

    def _to_string_date(self, _: Apply) -> Callable[..., object]:
        return dt.date.isoformat

    # -- strings ---------------------------------------------------------------------

    def _add_string(self, _: Apply) -> Callable[..., object]:
        return operator.add

    def _size_string(self, _: Apply) -> Callable[..., object]:
        return len

    def _starts_with_string(self, _: Apply) -> Callable[..., object]:
        return str.startswith

    def _ends_with_string(self, _: Apply) -> Callable[..., object]:
        return str.endswith

    def _contains_string(self, _: Apply) -> Callable[..., object]:
        return lambda a, b: b in a

    def _lower_ascii_string(self, _: Apply) -> Callable[..., object]:
        return lambda a: a.translate(_ASCII_LOWER)

    def _upper_ascii_string(self, _: Apply) -> Callable[..., object]:
        return lambda a: a.translate(_ASCII_UPPER)

    def _not_bool(self, _: Apply) -> Callable[..., object]:
        return operator.not_

    # -- time --------------------------------------------------------------------------

    def duration_range(self, node: Ir, op: Callable[..., dt.timedelta]) -> Callable[..., object]:
        def run(*args: dt.timedelta) -> dt.timedelta:
            try:
                result = op(*args)
            except OverflowError:
                result = None
            if result is None or abs(result) > _DURATION_MAX:
                raise self.fail(node, "overflow", "duration out of range (int64 microseconds)")
            return result

        return run

    def _add_duration(self, node: Apply) -> Callable[..., object]:
        return self.duration_range(node, operator.add)

    def _sub_duration(self, node: Apply) -> Callable[..., object]:
        return self.duration_range(node, operator.sub)

    def _neg_duration(self, _: Apply) -> Callable[..., object]:
        return operator.neg  # the range is symmetric

    def _shift(self, node: Apply, op: Callable[..., object]) -> Callable[..., object]:
        whole_days = node.kind is Kind.DATE

        def shift(point: dt.date, by: dt.timedelta) -> object:
            if whole_days and by % _DAY != _ZERO:
                raise self.fail(node, "not_whole_days", f"a date moves by whole days, not by {by}")
            try:
                return op(point, by)
            except OverflowError:
                raise self.fail(node, "overflow", f"{node.kind.value} out of range") from None

        return shift

    def _plus_duration(self, node: Apply) -> Callable[..., object]:
        return self._shift(node, operator.add)

    def _minus_duration(self, node: Apply) -> Callable[..., object]:
        return self._shift(node, operator.sub)

    def _difference(self, _: Apply) -> Callable[..., object]:
        return operator.sub


def _fused_comparison(node: Apply, impl: Callable[..., object]) -> Callable[[Env], object] | None:
    """``field <op> constant`` in one closure: the shape most guards have."""
    if node.op not in COMPARISONS:
        return None
    left, right = node.args
    if not (isinstance(left, FieldRef) and isinstance(right, Const) and right.value is not None):
        return None
    index, constant = left.index, right.value
    if left.ty.nullable:
        return lambda env: None if (v := env[index]) is None else impl(v, constant)
    return lambda env: impl(env[index], constant)
