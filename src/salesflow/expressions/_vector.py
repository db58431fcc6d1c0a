"""The vectorized evaluator: the checked program over numpy columns.

It computes what the scalar evaluator computes, row by row, for whole columns at
once. Every intermediate result is a `Vec`: values plus a null mask and an error
mask, so that ``&&``, ``||`` and ``?:`` can absorb an error on a row where the other
side decides, exactly as the scalar evaluator's short-circuits do.

Internal representations: bool, int64, float64, int64 scaled by ``10**scale`` for
decimals, numpy unicode (``<U``) for strings, and int64 days, microseconds and
microseconds for dates, timestamps and durations. Integer arithmetic is checked: an
int64 result that wrapped around is an error on its row, never a wrong number. Where
a cheap float estimate says an intermediate might leave int64, those rows are
recomputed exactly with Python integers.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal
from typing import TYPE_CHECKING, Any, Final

import numpy as np

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
    from collections.abc import Callable

    from numpy.typing import NDArray

    Array = NDArray[Any]  # internal: dtypes vary by kind and are checked by the tests

__all__ = ["Vec", "compile_vector", "internal_value", "python_value"]
_EPOCH: Final = dt.date(1970, 1, 1)
_DAY_US: Final = 86_400_000_000
_DATE_MIN: Final = (dt.date.min - _EPOCH).days
_DATE_MAX: Final = (dt.date.max - _EPOCH).days
_TS_MIN: Final = _DATE_MIN * _DAY_US
_TS_MAX: Final = (_DATE_MAX + 1) * _DAY_US - 1
_SAFE: Final = 2.0**62  # below it in magnitude, an int64 computation cannot have wrapped
_EXACT_DOUBLE: Final = 2**53
_ASCII_A_UPPER, _ASCII_Z_UPPER, _ASCII_A_LOWER, _ASCII_Z_LOWER = 65, 90, 97, 122
_CASE_SHIFT: Final = 32
_UTC: Final = dt.UTC


@dataclass(slots=True)
class Vec:
    """A column of intermediate results.

    ``values`` is an array of the column's length, or a 0-d array for a constant;
    ``nulls`` and ``errors`` are bool masks, or ``None`` when no row is null or
    failed. Values on null or failed rows are unspecified.
    """

    values: Array
    nulls: Array | None = None
    errors: Array | None = None


def compile_vector(root: Ir) -> Callable[[tuple[Vec, ...], int], Vec]:
    """Compile the checked program to one function of the field columns and the size."""
    return _compile(root)


def python_value(ty: Ty, value: object) -> object:
    """One internal element (a numpy scalar) as the scalar evaluator's Python value."""
    kind = ty.kind
    if kind is Kind.DECIMAL:
        return from_scaled(int(value), ty.scale or 0)  # type: ignore[call-overload]
    if kind is Kind.DATE:
        return _EPOCH + dt.timedelta(days=int(value))  # type: ignore[call-overload]
    if kind is Kind.TIMESTAMP:
        return dt.datetime(1970, 1, 1, tzinfo=_UTC) + dt.timedelta(microseconds=int(value))  # type: ignore[call-overload]
    if kind is Kind.DURATION:
        return dt.timedelta(microseconds=int(value))  # type: ignore[call-overload]
    if kind is Kind.NULL:
        return None
    return value.item() if isinstance(value, np.generic) else value


# -- masks -----------------------------------------------------------------------------


def _or(*masks: Array | None) -> Array | None:
    present = [m for m in masks if m is not None]
    if not present:
        return None
    result = present[0]
    for mask in present[1:]:
        result = result | mask
    return result


def _and_not(mask: Array | None, *excluded: Array | None) -> Array | None:
    if mask is None:
        return None
    other = _or(*excluded)
    return mask if other is None else mask & ~other


def _valid(vec: Vec) -> Array | None:
    """Rows that hold a value (neither null nor failed); ``None`` for all of them."""
    bad = _or(vec.nulls, vec.errors)
    return None if bad is None else ~bad


def _full(values: Array, n: int) -> Array:
    return values if values.shape == (n,) else np.broadcast_to(values, (n,))


# -- checked int64 arithmetic ---------------------------------------------------------


def _add(a: Array, b: Array) -> tuple[Array, Array]:
    result = a + b
    return result, ((a ^ result) & (b ^ result)) < 0


def _sub(a: Array, b: Array) -> tuple[Array, Array]:
    result = a - b
    return result, ((a ^ b) & (a ^ result)) < 0


def _exactly(
    n: int,
    estimate: Array,
    fast: Array,
    exact: Callable[..., int],
    *operands: Array,
) -> tuple[Array, Array]:
    """``fast``, with the rows whose float ``estimate`` nears int64's edge recomputed.

    Rows where ``|estimate| < 2**62`` cannot have wrapped (a float estimate is off
    by far less than a factor of two); the others, rare, are recomputed with Python
    integers and marked failed when the exact result leaves int64.
    """
    suspect = np.abs(estimate) >= _SAFE
    overflow = np.zeros(np.shape(fast), dtype=bool)
    if not suspect.any():
        return fast, overflow
    values = np.array(_full(fast, n), copy=True)
    failed = np.zeros(n, dtype=bool)
    rows = np.flatnonzero(_full(suspect, n))
    columns = [_full(op, n)[rows].tolist() for op in operands]
    for row, args in zip(rows.tolist(), zip(*columns, strict=True), strict=True):
        value = exact(*args)
        if INT64_MIN <= value <= INT64_MAX:
            values[row] = value
        else:
            failed[row] = True
    return values, failed


def _mul(n: int, a: Array, b: Array) -> tuple[Array, Array]:
    estimate = a.astype(np.float64) * b.astype(np.float64)
    return _exactly(n, estimate, a * b, lambda x, y: x * y, a, b)


def _rescale(n: int, a: Array, shift: int) -> tuple[Array, Array | None]:
    if shift == 0:
        return a, None
    factor = 10**shift
    estimate = a.astype(np.float64) * float(factor)
    return _exactly(n, estimate, a * np.int64(factor), lambda x: x * factor, a)


def _linear(
    n: int, a: Array, b: Array, *, shifts: tuple[int, int], sign: int
) -> tuple[Array, Array]:
    """``a * 10**shift_a + sign * b * 10**shift_b``, exactly, flagging int64 overflow."""
    shift_a, shift_b = shifts
    if shift_a == shift_b == 0:
        return _add(a, b) if sign > 0 else _sub(a, b)
    fa, fb = 10**shift_a, 10**shift_b
    big_a = a.astype(np.float64) * float(fa)
    big_b = b.astype(np.float64) * float(fb)
    estimate = np.maximum(np.abs(big_a), np.abs(big_b)) * 2.0
    with np.errstate(all="ignore"):
        fast = a * np.int64(fa) + np.int64(sign) * b * np.int64(fb)
    return _exactly(n, estimate, fast, lambda x, y: x * fa + sign * y * fb, a, b)


def _compare_scaled(op: Op, a: Array, scale_a: int, b: Array, scale_b: int) -> Array:
    """Compare decimals of different scales exactly, without scaling anything up.

    With ``b = q * 10**k + r`` (``0 <= r < 10**k``), ``a`` against ``b / 10**k`` is
    ``a`` against ``q``, and on a tie ``a`` is below when ``r > 0``.
    """
    if scale_a == scale_b:
        same: Array = _NUMPY_COMPARE[op](a, b)
        return same
    if scale_a > scale_b:
        return _compare_scaled(_MIRROR[op], b, scale_b, a, scale_a)
    q, r = np.divmod(b, np.int64(10 ** (scale_b - scale_a)))
    below = (a < q) | ((a == q) & (r != 0))
    equal = (a == q) & (r == 0)
    results: dict[Op, Array] = {
        Op.LT: below,
        Op.LE: below | equal,
        Op.GT: ~(below | equal),
        Op.GE: ~below,
        Op.EQ: equal,
        Op.NE: ~equal,
    }
    return results[op]


def _threshold(  # noqa: PLR0911 - one per operator
    op: Op, constant: Decimal, scale: int
) -> Callable[[Array], Array]:
    """``x <op> constant`` for ``x`` scaled by ``10**scale``, as one integer comparison.

    With ``F = floor(constant * 10**scale)``: ``x > c`` iff ``x > F``; ``x <= c`` iff
    ``x <= F``; the strict or non-strict other side depends on whether ``F`` is
    exactly ``c`` scaled; ``x == c`` needs that exactness.
    """
    scaled = constant.scaleb(scale, DECIMAL_CONTEXT)
    floor = scaled.to_integral_value(rounding=ROUND_FLOOR, context=DECIMAL_CONTEXT)
    exact = scaled == floor
    bound = int(floor)
    never: Callable[[Array], Array] = lambda x: np.zeros(np.shape(x), bool)  # noqa: E731
    always: Callable[[Array], Array] = lambda x: np.ones(np.shape(x), bool)  # noqa: E731
    if bound > INT64_MAX or bound < INT64_MIN:
        below = bound > INT64_MAX  # every int64 x is below the constant
        holds = {
            Op.LT: below,
            Op.LE: below,
            Op.GT: not below,
            Op.GE: not below,
            Op.EQ: False,
            Op.NE: True,
        }
        return always if holds[op] else never
    limit = np.int64(bound)
    match op:
        case Op.LT:
            return (lambda x: x < limit) if exact else (lambda x: x <= limit)
        case Op.LE:
            return lambda x: x <= limit
        case Op.GT:
            return lambda x: x > limit
        case Op.GE:
            return (lambda x: x >= limit) if exact else (lambda x: x > limit)
        case Op.EQ:
            return (lambda x: x == limit) if exact else never
    return (lambda x: x != limit) if exact else always


_NUMPY_COMPARE: Final = {
    Op.EQ: np.equal,
    Op.NE: np.not_equal,
    Op.LT: np.less,
    Op.LE: np.less_equal,
    Op.GT: np.greater,
    Op.GE: np.greater_equal,
}
_MIRROR: Final = {
    Op.EQ: Op.EQ,
    Op.NE: Op.NE,
    Op.LT: Op.GT,
    Op.LE: Op.GE,
    Op.GT: Op.LT,
    Op.GE: Op.LE,
}


# -- compilation ------------------------------------------------------------------------


def _compile(node: Ir) -> Callable[[tuple[Vec, ...], int], Vec]:  # noqa: PLR0911 - one per node class
    match node:
        case Const():
            return _constant(node)
        case FieldRef(index=index):
            return lambda env, _n: env[index]
        case Apply():
            return _apply(node)
        case Logic():
            return _logic(node)
        case Choose():
            return _choose(node)
        case IsNull():
            return _is_null(node)
        case Member():
            return _member(node)
    msg = f"not a program node: {node!r}"
    raise TypeError(msg)


def _constant(node: Const) -> Callable[[tuple[Vec, ...], int], Vec]:
    if node.value is None:
        vec = Vec(np.asarray(_FILL[node.ty.kind]), nulls=np.asarray(True))  # noqa: FBT003 - a mask value
    else:
        vec = Vec(np.asarray(internal_value(node.ty, node.value)))
    return lambda _env, _n: vec


_FILL: Final[dict[Kind, object]] = {
    Kind.BOOL: False,
    Kind.INT: np.int64(0),
    Kind.DOUBLE: 0.0,
    Kind.DECIMAL: np.int64(0),
    Kind.STRING: "",
    Kind.DATE: np.int64(0),
    Kind.TIMESTAMP: np.int64(0),
    Kind.DURATION: np.int64(0),
    Kind.NULL: False,
}


def internal_value(ty: Ty, value: Any) -> object:  # noqa: PLR0911, ANN401 - one per kind; typed by ty
    """A Python value of type ``ty`` as the vectorized evaluator holds it."""
    match ty.kind:
        case Kind.DECIMAL:
            scaled = to_scaled(value, ty.scale or 0)
            assert scaled is not None  # noqa: S101 - the checker only makes ones that fit
            return np.int64(scaled)
        case Kind.DATE:
            return np.int64((value - _EPOCH).days)
        case Kind.TIMESTAMP:
            delta = value - dt.datetime(1970, 1, 1, tzinfo=_UTC)
            return np.int64(delta // dt.timedelta(microseconds=1))
        case Kind.DURATION:
            return np.int64(value // dt.timedelta(microseconds=1))
        case Kind.INT:
            return np.int64(value)
        case Kind.DOUBLE:
            return np.float64(value)
    return value


def _apply(node: Apply) -> Callable[[tuple[Vec, ...], int], Vec]:
    impl = _implementation(node)
    args = [_compile(a) for a in node.args]

    def run(env: tuple[Vec, ...], n: int) -> Vec:
        vecs = [f(env, n) for f in args]
        nulls = _or(*(v.nulls for v in vecs))
        errors = _or(*(v.errors for v in vecs))
        values, failed = impl(n, *(v.values for v in vecs))
        if failed is not None:
            failed = _and_not(failed, nulls, errors)
            errors = _or(errors, failed)
        return Vec(values, _and_not(nulls, errors), errors)

    return run


def _logic(node: Logic) -> Callable[[tuple[Vec, ...], int], Vec]:
    left, right = _compile(node.left), _compile(node.right)
    conjunction = node.conjunction

    def run(env: tuple[Vec, ...], n: int) -> Vec:
        a, b = left(env, n), right(env, n)
        values = a.values & b.values if conjunction else a.values | b.values
        if a.nulls is None and a.errors is None and b.nulls is None and b.errors is None:
            return Vec(values)
        # A valid false (for &&) or true (for ||) on either side decides the row.
        deciding = [
            v.values == (not conjunction)
            if (valid := _valid(v)) is None
            else (v.values == (not conjunction)) & valid
            for v in (a, b)
        ]
        decided = deciding[0] | deciding[1]
        errors = _and_not(_or(a.errors, b.errors), decided)
        nulls = _and_not(_or(a.nulls, b.nulls), decided, errors)
        return Vec(values, nulls, errors)

    return run


def _choose(node: Choose) -> Callable[[tuple[Vec, ...], int], Vec]:
    condition = _compile(node.condition)
    branches = [_branch(b, node.ty) for b in (node.then, node.otherwise)]

    def run(env: tuple[Vec, ...], n: int) -> Vec:
        c = condition(env, n)
        then, otherwise = (branch(env, n) for branch in branches)
        values = np.where(c.values, then.values, otherwise.values)
        valid = _valid(c)
        take_then = c.values if valid is None else c.values & valid
        take_other = ~c.values if valid is None else ~c.values & valid
        errors = _or(
            c.errors,
            None if then.errors is None else take_then & then.errors,
            None if otherwise.errors is None else take_other & otherwise.errors,
        )
        nulls = _or(
            c.nulls,
            None if then.nulls is None else take_then & then.nulls,
            None if otherwise.nulls is None else take_other & otherwise.nulls,
        )
        return Vec(values, _and_not(nulls, errors), errors)

    return run


def _branch(node: Ir, ty: Ty) -> Callable[[tuple[Vec, ...], int], Vec]:
    """A ``?:`` branch, its decimals rescaled to the result's scale (checked)."""
    run = _compile(node)
    shift = (ty.scale or 0) - (node.ty.scale or 0)
    if ty.kind is not Kind.DECIMAL or shift == 0:
        return run

    def rescaled(env: tuple[Vec, ...], n: int) -> Vec:
        vec = run(env, n)
        values, failed = _rescale(n, vec.values, shift)
        failed = _and_not(failed, vec.nulls, vec.errors)
        return Vec(values, vec.nulls, _or(vec.errors, failed))

    return rescaled


def _is_null(node: IsNull) -> Callable[[tuple[Vec, ...], int], Vec]:
    operand = _compile(node.operand)
    negate = node.negate

    def run(env: tuple[Vec, ...], n: int) -> Vec:
        vec = operand(env, n)
        nulls = np.asarray(False) if vec.nulls is None else vec.nulls  # noqa: FBT003 - a mask value
        return Vec(~nulls if negate else nulls, None, vec.errors)

    return run


def _member(node: Member) -> Callable[[tuple[Vec, ...], int], Vec]:
    operand = _compile(node.operand)
    if all(isinstance(i, Const) and i.value is not None for i in node.items):
        return _member_of_constants(node, operand)
    items = [_compile(i) for i in node.items]
    scale = node.operand.ty.scale or 0
    scales = [i.ty.scale or 0 for i in node.items]

    def run(env: tuple[Vec, ...], n: int) -> Vec:
        vec = operand(env, n)
        found: Array = np.asarray(False)  # noqa: FBT003 - a mask value
        errors = vec.errors
        for item, item_scale in zip(items, scales, strict=True):
            candidate = item(env, n)
            equal = _compare_scaled(Op.EQ, vec.values, scale, candidate.values, item_scale)
            if candidate.nulls is not None:
                equal = equal & ~candidate.nulls
            found = found | equal
            errors = _or(errors, candidate.errors)
        return Vec(found, _and_not(vec.nulls, errors), errors)

    return run


def _member_of_constants(
    node: Member, operand: Callable[[tuple[Vec, ...], int], Vec]
) -> Callable[[tuple[Vec, ...], int], Vec]:
    """``x in [constants]`` as one `np.isin`, constants taken to ``x``'s scale."""
    ty = node.operand.ty
    if ty.kind is Kind.DECIMAL:
        # A constant with more places than x can hold never equals an x.
        scaled = (to_scaled(i.value, ty.scale or 0) for i in node.items if isinstance(i, Const))  # type: ignore[arg-type]
        table = np.array([v for v in scaled if v is not None], dtype=np.int64)
    else:
        table = np.array(
            [internal_value(i.ty, i.value) for i in node.items if isinstance(i, Const)]
        )

    def run(env: tuple[Vec, ...], n: int) -> Vec:
        vec = operand(env, n)
        found = np.isin(vec.values, table) if table.size else np.zeros(np.shape(vec.values), bool)
        return Vec(found, _and_not(vec.nulls, vec.errors), vec.errors)

    return run


# -- operations -------------------------------------------------------------------------


def _implementation(
    node: Apply,
) -> Callable[..., tuple[Array, Array | None]]:
    if node.op in COMPARISONS:
        return _comparison(node)
    name = f"_{node.op.value}_{node.kind.value}"
    factory = _FACTORIES.get(name) or _FACTORIES[f"_{node.op.value}"]
    return factory(node)


def _comparison(node: Apply) -> Callable[..., tuple[Array, None]]:
    op = node.op
    if node.kind is Kind.DECIMAL:
        left, right = node.args
        if isinstance(right, Const) and isinstance(right.value, Decimal):
            threshold = _threshold(op, right.value, left.ty.scale or 0)
            return lambda _n, a, _b: (threshold(a), None)
        if isinstance(left, Const) and isinstance(left.value, Decimal):
            threshold = _threshold(_MIRROR[op], left.value, right.ty.scale or 0)
            return lambda _n, _a, b: (threshold(b), None)
        scale_a, scale_b = (a.ty.scale or 0 for a in node.args)
        return lambda _n, a, b: (_compare_scaled(op, a, scale_a, b, scale_b), None)
    compare = _NUMPY_COMPARE[op]
    return lambda _n, a, b: (compare(a, b), None)


def _checked_int(
    node: Apply,
) -> Callable[..., tuple[Array, Array | None]]:
    op = node.op
    if op is Op.ADD:
        return lambda _n, a, b: _add(a, b)
    if op is Op.SUB:
        return lambda _n, a, b: _sub(a, b)
    return _mul


def _div_int(_: Apply) -> Callable[..., tuple[Array, Array | None]]:
    def divide(_n: int, a: Array, b: Array) -> tuple[Array, Array]:
        zero = b == 0
        overflow = (a == INT64_MIN) & (b == -1)
        safe = np.where(zero | overflow, np.int64(1), b)
        quotient, remainder = np.divmod(a, safe)
        # numpy floors; CEL truncates toward zero.
        quotient = quotient + ((remainder != 0) & ((a < 0) != (safe < 0)))
        return quotient, zero | overflow

    return divide


def _mod_int(_: Apply) -> Callable[..., tuple[Array, Array | None]]:
    def modulo(_n: int, a: Array, b: Array) -> tuple[Array, Array]:
        zero = b == 0
        # x % -1 is 0 like x % 1; avoiding -1 keeps INT64_MIN % -1 from trapping.
        safe = np.where(zero | (b == -1), np.int64(1), b)
        return np.fmod(a, safe), zero

    return modulo


def _neg_int(_: Apply) -> Callable[..., tuple[Array, Array | None]]:
    return lambda _n, a: (-a, a == INT64_MIN)


def _abs_int(_: Apply) -> Callable[..., tuple[Array, Array | None]]:
    return lambda _n, a: (np.abs(a), a == INT64_MIN)


def _double(node: Apply) -> Callable[..., tuple[Array, Array | None]]:
    ufunc = {Op.ADD: np.add, Op.SUB: np.subtract, Op.MUL: np.multiply}[node.op]
    return lambda _n, a, b: (ufunc(a, b), None)


def _div_double(_: Apply) -> Callable[..., tuple[Array, Array | None]]:
    def divide(_n: int, a: Array, b: Array) -> tuple[Array, Array]:
        zero = b == 0
        return a / np.where(zero, 1.0, b), zero

    return divide


def _neg_double(_: Apply) -> Callable[..., tuple[Array, Array | None]]:
    return lambda _n, a: (-a, None)


def _abs_double(_: Apply) -> Callable[..., tuple[Array, Array | None]]:
    return lambda _n, a: (np.abs(a), None)


def _add_decimal(
    node: Apply,
) -> Callable[..., tuple[Array, Array | None]]:
    scale = node.ty.scale or 0
    shift_a, shift_b = (scale - (a.ty.scale or 0) for a in node.args)
    sign = 1 if node.op is Op.ADD else -1
    return lambda n, a, b: _linear(n, a, b, shifts=(shift_a, shift_b), sign=sign)


def _mul_decimal(_: Apply) -> Callable[..., tuple[Array, Array | None]]:
    return _mul  # scaled integers multiply to the product at the sum of the scales


def _extreme(node: Apply) -> Callable[..., tuple[Array, Array | None]]:
    keep_first = Op.LE if node.op is Op.MIN else Op.GE
    if node.kind is Kind.DOUBLE:
        ufunc = np.minimum if node.op is Op.MIN else np.maximum  # NaN wins, as in the scalar path
        return lambda _n, a, b: (ufunc(a, b), None)
    if node.kind is Kind.DECIMAL:
        return _extreme_decimal(node, keep_first)
    compare = _NUMPY_COMPARE[keep_first]

    def pick(_n: int, a: Array, b: Array) -> tuple[Array, None]:
        chosen: Array = np.where(compare(a, b), a, b)
        return chosen, None

    return pick


def _extreme_decimal(node: Apply, keep_first: Op) -> Callable[..., tuple[Array, Array | None]]:
    scale = node.ty.scale or 0
    scale_a, scale_b = (a.ty.scale or 0 for a in node.args)

    def pick(n: int, a: Array, b: Array) -> tuple[Array, Array | None]:
        first = _compare_scaled(keep_first, a, scale_a, b, scale_b)
        wide_a, fail_a = _rescale(n, a, scale - scale_a)
        wide_b, fail_b = _rescale(n, b, scale - scale_b)
        values = np.where(first, wide_a, wide_b)
        if fail_a is None and fail_b is None:
            return values, None
        no = np.asarray(False)  # noqa: FBT003 - a mask value
        failed = np.where(first, no if fail_a is None else fail_a, no if fail_b is None else fail_b)
        return values, failed

    return pick


def _to_int_double(_: Apply) -> Callable[..., tuple[Array, Array | None]]:
    def to_int(_n: int, a: Array) -> tuple[Array, Array]:
        # 2**63 is exact in float64: in range means -2**63 <= trunc(a) < 2**63.
        bad = ~np.isfinite(a) | (a >= 2.0**63) | (a < -(2.0**63))
        return np.trunc(np.where(bad, 0.0, a)).astype(np.int64), bad

    return to_int


def _to_int_decimal(
    node: Apply,
) -> Callable[..., tuple[Array, Array | None]]:
    unit = np.int64(10 ** (node.args[0].ty.scale or 0))

    def to_int(_n: int, a: Array) -> tuple[Array, None]:
        quotient, remainder = np.divmod(a, unit)
        return quotient + ((remainder != 0) & (a < 0)), None

    return to_int


def _to_double_int(_: Apply) -> Callable[..., tuple[Array, Array | None]]:
    return lambda _n, a: (a.astype(np.float64), None)


def _to_double_decimal(
    node: Apply,
) -> Callable[..., tuple[Array, Array | None]]:
    scale = node.args[0].ty.scale or 0
    unit = float(10**scale)

    def to_double(n: int, a: Array) -> tuple[Array, None]:
        # Both operands exact in float64 makes one correctly rounded division,
        # which is what float(Decimal) gives; the rare larger values go exactly.
        values = a.astype(np.float64) / unit
        large = np.abs(a) > _EXACT_DOUBLE
        if large.any():
            values = np.array(_full(values, n), copy=True)
            for row in np.flatnonzero(_full(large, n)).tolist():
                values[row] = float(from_scaled(int(_full(a, n)[row]), scale))
        return values, None

    return to_double


def _to_decimal_int(
    _: Apply,
) -> Callable[..., tuple[Array, Array | None]]:
    return lambda _n, a: (a, None)


def _to_string_int(_: Apply) -> Callable[..., tuple[Array, Array | None]]:
    return lambda _n, a: (a.astype(np.str_), None)


def _to_string_bool(
    _: Apply,
) -> Callable[..., tuple[Array, Array | None]]:
    return lambda _n, a: (np.where(a, "true", "false"), None)


def _to_string_date(
    _: Apply,
) -> Callable[..., tuple[Array, Array | None]]:
    return lambda _n, a: (a.astype("datetime64[D]").astype(np.str_), None)


def _add_string(_: Apply) -> Callable[..., tuple[Array, Array | None]]:
    return lambda _n, a, b: (np.strings.add(a, b), None)


def _size_string(_: Apply) -> Callable[..., tuple[Array, Array | None]]:
    return lambda _n, a: (np.strings.str_len(a).astype(np.int64), None)


def _starts_with_string(
    _: Apply,
) -> Callable[..., tuple[Array, Array | None]]:
    return lambda _n, a, b: (np.strings.startswith(a, b), None)


def _ends_with_string(
    _: Apply,
) -> Callable[..., tuple[Array, Array | None]]:
    return lambda _n, a, b: (np.strings.endswith(a, b), None)


def _contains_string(
    _: Apply,
) -> Callable[..., tuple[Array, Array | None]]:
    return lambda _n, a, b: (np.strings.find(a, b) >= 0, None)


def _ascii_case(a: Array, low: int, high: int, shift: int) -> Array:
    """Shift the code points in ``[low, high]`` by ``shift``, leaving all others alone."""
    if a.dtype.itemsize == 0:
        return a
    codes = np.ascontiguousarray(a).view(np.uint32).reshape((*a.shape, -1))
    hit = (codes >= low) & (codes <= high)
    shifted = (
        codes + (hit * shift).astype(np.uint32)
        if shift > 0
        else codes - (hit * -shift).astype(np.uint32)
    )
    return shifted.reshape(-1).view(a.dtype).reshape(a.shape)


def _lower_ascii_string(
    _: Apply,
) -> Callable[..., tuple[Array, Array | None]]:
    return lambda _n, a: (_ascii_case(a, _ASCII_A_UPPER, _ASCII_Z_UPPER, _CASE_SHIFT), None)


def _upper_ascii_string(
    _: Apply,
) -> Callable[..., tuple[Array, Array | None]]:
    return lambda _n, a: (_ascii_case(a, _ASCII_A_LOWER, _ASCII_Z_LOWER, -_CASE_SHIFT), None)


def _not_bool(_: Apply) -> Callable[..., tuple[Array, Array | None]]:
    return lambda _n, a: (~a, None)


def _duration_arithmetic(
    node: Apply,
) -> Callable[..., tuple[Array, Array | None]]:
    combine = _add if node.op is Op.ADD else _sub

    def run(_n: int, a: Array, b: Array) -> tuple[Array, Array]:
        values, overflow = combine(a, b)
        return values, overflow | (values == INT64_MIN)  # int64's minimum is NaT, not a duration

    return run


def _neg_duration(_: Apply) -> Callable[..., tuple[Array, Array | None]]:
    return lambda _n, a: (-a, None)


def _shift(node: Apply) -> Callable[..., tuple[Array, Array | None]]:
    sign = 1 if node.op is Op.PLUS_DURATION else -1
    if node.kind is Kind.DATE:

        def shift_date(_n: int, a: Array, b: Array) -> tuple[Array, Array]:
            days, rest = np.divmod(b, np.int64(_DAY_US))
            values = a + sign * days  # both far from int64's edge: no wrap-around
            return values, (rest != 0) | (values < _DATE_MIN) | (values > _DATE_MAX)

        return shift_date

    def shift_timestamp(_n: int, a: Array, b: Array) -> tuple[Array, Array]:
        values, overflow = _add(a, b) if sign > 0 else _sub(a, b)
        return values, overflow | (values < _TS_MIN) | (values > _TS_MAX)

    return shift_timestamp


def _difference(node: Apply) -> Callable[..., tuple[Array, Array | None]]:
    unit = _DAY_US if node.kind is Kind.DATE else 1
    return lambda _n, a, b: ((a - b) * unit, None)  # at most ~3.2e17: no wrap-around


_FACTORIES: Final[dict[str, Callable[[Apply], Callable[..., tuple[Array, Array | None]]]]] = {
    "_add_int": _checked_int,
    "_sub_int": _checked_int,
    "_mul_int": _checked_int,
    "_div_int": _div_int,
    "_mod_int": _mod_int,
    "_neg_int": _neg_int,
    "_abs_int": _abs_int,
    "_add_double": _double,
    "_sub_double": _double,
    "_mul_double": _double,
    "_div_double": _div_double,
    "_neg_double": _neg_double,
    "_abs_double": _abs_double,
    "_add_decimal": _add_decimal,
    "_sub_decimal": _add_decimal,
    "_mul_decimal": _mul_decimal,
    "_neg_decimal": _neg_int,
    "_abs_decimal": _abs_int,
    "_min": _extreme,
    "_max": _extreme,
    "_to_int_double": _to_int_double,
    "_to_int_decimal": _to_int_decimal,
    "_to_double_int": _to_double_int,
    "_to_double_decimal": _to_double_decimal,
    "_to_decimal_int": _to_decimal_int,
    "_to_string_int": _to_string_int,
    "_to_string_bool": _to_string_bool,
    "_to_string_date": _to_string_date,
    "_add_string": _add_string,
    "_size_string": _size_string,
    "_starts_with_string": _starts_with_string,
    "_ends_with_string": _ends_with_string,
    "_contains_string": _contains_string,
    "_lower_ascii_string": _lower_ascii_string,
    "_upper_ascii_string": _upper_ascii_string,
    "_not_bool": _not_bool,
    "_add_duration": _duration_arithmetic,
    "_sub_duration": _duration_arithmetic,
    "_neg_duration": _neg_duration,
    "_plus_duration": _shift,
    "_minus_duration": _shift,
    "_difference": _difference,
}
