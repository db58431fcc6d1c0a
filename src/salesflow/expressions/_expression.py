"""Compiled expressions: the public face of the language."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, final

import numpy as np
from pydantic import ValidationError

from salesflow.errors import (
    DefinitionError,
    EvaluationError,
    InvalidValueError,
    Location,
    Problem,
    Severity,
)
from salesflow.expressions._check import check
from salesflow.expressions._parser import parse
from salesflow.expressions._scalar import bind_row, compile_scalar
from salesflow.expressions._schema import Field, FieldType, Schema
from salesflow.expressions._types import INT64_MIN, Kind, Ty, from_scaled
from salesflow.expressions._vector import Vec, compile_vector, python_value

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from numpy.typing import ArrayLike, NDArray

    Array = NDArray[Any]  # internal: dtypes vary by kind

__all__ = ["Column", "Expression", "compile_expression"]

_EPOCH_DAYS: Final = dt.date(1970, 1, 1)
_DATE_MIN: Final = (dt.date.min - _EPOCH_DAYS).days
_DATE_MAX: Final = (dt.date.max - _EPOCH_DAYS).days
_DAY_US: Final = 86_400_000_000
_TS_MIN: Final = _DATE_MIN * _DAY_US
_TS_MAX: Final = (_DATE_MAX + 1) * _DAY_US - 1
_TEMPORAL_DTYPES: Final = {
    Kind.DATE: np.dtype("datetime64[D]"),
    Kind.TIMESTAMP: np.dtype("datetime64[us]"),
    Kind.DURATION: np.dtype("timedelta64[us]"),
}
_TEMPORAL_RANGE: Final = {
    Kind.DATE: (_DATE_MIN, _DATE_MAX),
    Kind.TIMESTAMP: (_TS_MIN, _TS_MAX),
    Kind.DURATION: (INT64_MIN + 1, 2**63 - 1),
}


@final
@dataclass(frozen=True, slots=True, eq=False)
class Column:
    """A vectorized result: values and a null mask.

    Attributes:
        values: One value per row, in the dtype of the result's type: ``bool``,
            ``int64``, ``float64``, ``int64`` scaled by ``10**scale`` for ``decimal``,
            numpy unicode for ``string``, ``datetime64[D]``, ``datetime64[us]`` (UTC)
            and ``timedelta64[us]``. Null rows hold 0, ``""``, ``False`` or NaT.
        nulls: ``True`` where the result is null.
        type: The result's type name (as in a schema; ``"null"`` for a bare ``null``).
        scale: Digits after the point of a decimal result, else ``None``.

    >>> expr = compile_expression("amount * 2", {"amount": "decimal(2)?"})
    >>> col = expr.evaluate_columns({"amount": np.ma.masked_array([150, 0], mask=[0, 1])})
    >>> col.values.tolist(), col.nulls.tolist(), col.to_list()
    ([300, 0], [False, True], [Decimal('3.00'), None])
    """

    values: NDArray[np.generic]
    nulls: NDArray[np.bool_]
    type: str
    scale: int | None = None

    def __len__(self) -> int:
        """The number of rows."""
        return len(self.values)

    def to_list(self) -> list[object]:
        """The values as the scalar evaluator returns them, ``None`` for null.

        ``Decimal`` for decimals, ``date``, UTC ``datetime`` and ``timedelta`` for the
        temporal types.
        """
        nulls = self.nulls.tolist()
        items: list[object]
        if self.type == "decimal":
            scale = self.scale or 0
            items = [from_scaled(v, scale) for v in self.values.tolist()]
        elif self.type == "timestamp":
            items = [
                v if v is None else v.replace(tzinfo=dt.UTC)
                for v in self.values.astype(object).tolist()
            ]
        else:
            items = (
                self.values.astype(object).tolist()
                if self.type in {"date", "duration"}
                else self.values.tolist()
            )
        return [None if null else item for item, null in zip(items, nulls, strict=True)]


@final
class Expression:
    """An expression compiled against a schema, ready to evaluate rows or columns.

    Build one with `compile_expression`. Compiled expressions are immutable, safe to
    share between threads, and pickle by their source (they compile again on load).

    Attributes:
        source: The text it was compiled from.
        schema: The schema it was checked against.
        type: The result's type name: ``"bool"``, ``"int"``, ``"double"``,
            ``"decimal"``, ``"string"``, ``"date"``, ``"timestamp"``, ``"duration"``,
            or ``"null"`` for an expression that is always null.
        nullable: Whether the result can be null.
        scale: For a decimal result, its digits after the point; else ``None``.
        names: The fields the expression reads.

    >>> expr = compile_expression('amount > 1000 && region == "east"',
    ...                           {"amount": "decimal(2)", "region": "string"})
    >>> expr.type, sorted(expr.names)
    ('bool', ['amount', 'region'])
    >>> from decimal import Decimal
    >>> expr.matches({"amount": Decimal("1000.01"), "region": "east"})
    True
    """

    __slots__ = (
        "_bind",
        "_expect",
        "_fields",
        "_path",
        "_run",
        "_vector",
        "names",
        "nullable",
        "scale",
        "schema",
        "source",
        "type",
    )

    def __init__(
        self, source: str, schema: Schema, *, expect: FieldType | None, path: str | None
    ) -> None:
        """Compile; use `compile_expression`, which also accepts a plain mapping schema."""
        tree = parse(source, path=path)
        checked = check(tree, schema, expect=None if expect is None else Kind(expect), path=path)
        self.source = source
        self.schema = schema
        self._expect = expect
        self._path = path
        self._fields = checked.fields
        root_ty = checked.root.ty
        self.type = root_ty.kind.value
        self.nullable = root_ty.nullable
        self.scale = root_ty.scale if root_ty.kind is Kind.DECIMAL else None
        self.names = frozenset(name for name, _ in checked.fields)
        self._run = compile_scalar(checked.root, path=path)
        self._bind = bind_row(checked.fields, path=path)
        self._vector = compile_vector(checked.root)

    def __repr__(self) -> str:
        """``Expression('amount > 1000', type='bool')``."""
        return f"Expression({self.source!r}, type={self.type!r})"

    def __reduce__(self) -> tuple[Callable[..., Expression], tuple[object, ...]]:
        """Pickle as source, schema and options; unpickling compiles again."""
        return (_recompile, (self.source, self.schema, self._expect, self._path))

    # -- rows -----------------------------------------------------------------------

    def evaluate(self, row: Mapping[str, object]) -> object:
        """Evaluate on one row.

        Args:
            row: The field values by name: ``bool``, ``int``, ``float``, ``Decimal``,
                ``str``, ``date``, aware ``datetime``, ``timedelta``, or ``None`` for
                a nullable field. Fields the expression does not use are ignored.

        Returns:
            The result as a Python value, ``None`` for null.

        Raises:
            EvaluationError: A field is missing or has a value of the wrong type,
                or the evaluation fails (division by zero, int64 overflow, ...).

        >>> compile_expression("a / b", {"a": "int", "b": "int"}).evaluate({"a": -7, "b": 2})
        -3
        """
        return self._run(self._bind(row))

    def matches(self, row: Mapping[str, object]) -> bool:
        """Whether a condition holds for a row; null counts as not matching.

        Raises:
            InvalidValueError: The expression is not a condition (bool).
            EvaluationError: As `evaluate`.

        >>> expr = compile_expression("amount > 100", {"amount": "int?"})
        >>> expr.matches({"amount": 150}), expr.matches({"amount": None})
        (True, False)
        """
        self._require_condition()
        return self._run(self._bind(row)) is True

    # -- columns ----------------------------------------------------------------------

    def evaluate_columns(
        self, columns: Mapping[str, ArrayLike | Column], size: int | None = None
    ) -> Column:
        """Evaluate on whole columns at once; the same results as `evaluate` per row.

        Args:
            columns: One array per field, all of one length: ``bool``; ``int64`` (or a
                narrower integer) for ``int`` and, scaled by ``10**scale``, for
                ``decimal``; ``float64`` for ``double``; numpy unicode or ``object``
                (``str``/``None``) for ``string``; ``datetime64[D]`` for ``date``;
                ``datetime64[us]`` (UTC) for ``timestamp``; ``timedelta64[us]`` for
                ``duration``. Nulls are masked entries of a ``numpy.ma`` array, NaT,
                or ``None`` in an object array.
            size: The number of rows, needed only when the expression reads no field
                and ``columns`` is empty.

        Returns:
            The results, with their null mask.

        Raises:
            EvaluationError: A column is missing, of the wrong dtype or length, has
                nulls where the field is not nullable, or a row fails; a failing
                row's error is the one `evaluate` raises for it, prefixed with
                ``row N``.

        >>> expr = compile_expression("amount * 2", {"amount": "int"})
        >>> expr.evaluate_columns({"amount": np.array([1, 2, 3])}).values.tolist()
        [2, 4, 6]
        """
        column, errors, loaded = self._columns(columns, size)
        if errors is not None and errors.any():
            raise self._row_error(int(np.flatnonzero(errors)[0]), loaded)
        return column

    def mask(
        self, columns: Mapping[str, ArrayLike | Column], size: int | None = None
    ) -> NDArray[np.bool_]:
        """The rows where a condition holds; null counts as not matching.

        Raises:
            InvalidValueError: The expression is not a condition (bool).
            EvaluationError: As `evaluate_columns`.

        >>> expr = compile_expression('region == "east"', {"region": "string?"})
        >>> expr.mask({"region": np.array(["east", "west", None], dtype=object)}).tolist()
        [True, False, False]
        """
        self._require_condition()
        column = self.evaluate_columns(columns, size)
        return np.asarray(column.values, dtype=bool) & ~column.nulls

    # -- internals ----------------------------------------------------------------------

    def _require_condition(self) -> None:
        if self.type not in {"bool", "null"}:
            message = f"{self.source!r} is {self.type}, not a condition (bool)"
            raise InvalidValueError(message, code="expression.not_a_condition")

    def _columns(
        self, columns: Mapping[str, ArrayLike | Column], size: int | None
    ) -> tuple[Column, NDArray[np.bool_] | None, tuple[Vec, ...]]:
        """Evaluate columns; also return the failed-row mask and the loaded inputs."""
        loaded = tuple(_load_column(name, ty, columns, self._path) for name, ty in self._fields)
        n = _common_length(loaded, columns, size, self._fields, self._path)
        with np.errstate(all="ignore"):
            result = self._vector(loaded, n)
        errors = None if result.errors is None else np.broadcast_to(result.errors, (n,))
        return _to_column(result, n, self.type, self.scale), errors, loaded

    def _row_error(self, row: int, loaded: tuple[Vec, ...]) -> EvaluationError:
        values = {
            name: None
            if vec.nulls is not None and vec.nulls[row]
            else python_value(ty, vec.values[row])
            for (name, ty), vec in zip(self._fields, loaded, strict=True)
        }
        try:
            self.evaluate(values)
        except EvaluationError as err:
            return EvaluationError(
                f"row {row}: {err.message}", code=err.code, location=err.location
            )
        return EvaluationError(f"row {row}: evaluation failed", code="evaluation.failed")


def compile_expression(
    source: str,
    schema: Schema | Mapping[str, str | Field],
    *,
    expect: FieldType | None = None,
    path: str | None = None,
) -> Expression:
    """Parse, type-check and compile an expression.

    Args:
        source: The expression text (a CEL subset; see docs/expressions.md).
        schema: The fields it may use: a `Schema`, or a mapping of names to type
            spellings (``"decimal(2)"``, ``"date?"``) or `Field` objects.
        expect: The type the result must have, e.g. ``"bool"`` for a condition;
            an int or a number literal widens to ``"double"`` or ``"decimal"``.
            Default ``None``: any type.
        path: Where the expression sits in a larger document
            (``"workflow.transitions[3].guard"``), put into every error location.

    Returns:
        The compiled expression.

    Raises:
        ExpressionSyntaxError: The text is not well-formed or exceeds a cost bound
            (length, nesting, list size); the location points at the fault.
        ExpressionTypeError: It does not type-check; ``problems`` lists every
            problem with its line and column.
        DefinitionError: The schema itself is invalid.

    >>> expr = compile_expression("金额 > 100", {"金额": "int"}, expect="bool")
    >>> expr.evaluate({"金额": 120})
    True
    """
    if not isinstance(source, str):
        message = f"an expression is text, not {type(source).__name__}"
        raise InvalidValueError(message, code="expression.not_text")
    return Expression(source, _as_schema(schema, path), expect=expect, path=path)


def _recompile(
    source: str, schema: Schema, expect: FieldType | None, path: str | None
) -> Expression:
    return Expression(source, schema, expect=expect, path=path)


def _as_schema(schema: Schema | Mapping[str, str | Field], path: str | None) -> Schema:
    if isinstance(schema, Schema):
        return schema
    try:
        return Schema.model_validate(dict(schema))
    except ValidationError as err:
        problems = [
            Problem(
                "expression.schema",
                Severity.ERROR,
                error["msg"],
                Location(path=".".join(filter(None, [path, "schema", *map(str, error["loc"])]))),
            )
            for error in err.errors()
        ]
        raise DefinitionError.from_problems(problems) from None


# -- columns in and out -------------------------------------------------------------------


def _column_error(name: str, message: str, path: str | None) -> EvaluationError:
    return EvaluationError(
        f"column {name!r}: {message}",
        code="evaluation.bad_column",
        location=Location(path=path) if path else None,
    )


def _load_column(
    name: str, ty: Ty, columns: Mapping[str, ArrayLike | Column], path: str | None
) -> Vec:
    """Check one input column once and bring it to the internal representation."""
    if name not in columns:
        raise _column_error(name, "missing", path)
    raw = columns[name]
    nulls: Array | None = None
    if isinstance(raw, Column):
        if raw.scale != ty.scale:
            raise _column_error(name, f"scale {raw.scale}, the field's is {ty.scale}", path)
        values, nulls = raw.values, raw.nulls
    elif isinstance(raw, np.ma.MaskedArray):
        values = np.ma.getdata(raw)
        mask = np.ma.getmask(raw)
        nulls = None if mask is np.ma.nomask else np.asarray(mask, dtype=bool)
    else:
        values = np.asarray(raw)
    if values.ndim != 1:
        raise _column_error(name, f"expected a 1-dimensional array, got shape {values.shape}", path)
    values, own_nulls = _LOADERS[ty.kind](name, ty, values, path)
    nulls = own_nulls if nulls is None else nulls if own_nulls is None else nulls | own_nulls
    if nulls is not None and not nulls.any():
        nulls = None
    if nulls is not None:
        if not ty.nullable:
            count, first = int(nulls.sum()), int(np.flatnonzero(nulls)[0])
            raise _column_error(
                name, f"{count} nulls (first at row {first}); the field is not nullable", path
            )
        values = np.where(nulls, np.zeros((), values.dtype), values)
    _check_range(name, ty, values, nulls, path)
    return Vec(values, nulls)


def _check_range(
    name: str,
    ty: Ty,
    values: Array,
    nulls: Array | None,
    path: str | None,
) -> None:
    if ty.kind not in _TEMPORAL_RANGE:
        return
    low, high = _TEMPORAL_RANGE[ty.kind]
    bad = (values < low) | (values > high)
    if nulls is not None:
        bad &= ~nulls
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise _column_error(name, f"row {row} is outside the {ty.kind.value} range", path)


def _load_bool(name: str, ty: Ty, values: Array, path: str | None) -> tuple[Array, None]:
    if values.dtype != np.bool_:
        raise _column_error(name, f"expected dtype bool for {ty}, got {values.dtype}", path)
    return values, None


def _load_integer(name: str, ty: Ty, values: Array, path: str | None) -> tuple[Array, None]:
    kind, size = values.dtype.kind, values.dtype.itemsize
    if kind == "i" or (kind == "u" and size < 8):  # noqa: PLR2004 - uint64 may not fit int64
        return values.astype(np.int64, copy=False), None
    what = f"int64 scaled by 10**{ty.scale}" if ty.kind is Kind.DECIMAL else "int64"
    raise _column_error(name, f"expected {what} for {ty}, got {values.dtype}", path)


def _load_double(name: str, ty: Ty, values: Array, path: str | None) -> tuple[Array, None]:
    kind, size = values.dtype.kind, values.dtype.itemsize
    if kind in "fi" or (kind == "u" and size < 8):  # noqa: PLR2004 - uint64 may not fit int64
        return values.astype(np.float64, copy=False), None
    raise _column_error(name, f"expected float64 for {ty}, got {values.dtype}", path)


def _load_string(name: str, ty: Ty, values: Array, path: str | None) -> tuple[Array, Array | None]:
    if values.dtype.kind == "U":
        return values, None
    if values.dtype.kind not in "OT":
        raise _column_error(
            name, f"expected numpy unicode or object strings for {ty}, got {values.dtype}", path
        )
    items = values.astype(object).tolist()
    nulls = np.fromiter((item is None for item in items), dtype=bool, count=len(items))
    for row, item in enumerate(items):
        if item is not None and (not isinstance(item, str) or item.endswith("\x00")):
            # numpy unicode arrays drop trailing NULs, which would change the value.
            found = f"{type(item).__name__} {item!r:.40}"
            raise _column_error(
                name, f"row {row}: expected a str without trailing NUL, found {found}", path
            )
    text = np.array(["" if item is None else item for item in items], dtype=np.str_)
    return text, nulls


def _loader_of_temporal(
    kind: Kind,
) -> Callable[[str, Ty, Array, str | None], tuple[Array, Array | None]]:
    dtype = _TEMPORAL_DTYPES[kind]

    def load(name: str, ty: Ty, values: Array, path: str | None) -> tuple[Array, Array | None]:
        if values.dtype != dtype:
            raise _column_error(name, f"expected {dtype} for {ty}, got {values.dtype}", path)
        return values.view(np.int64), np.isnat(values)

    return load


_LOADERS: Final = {
    Kind.BOOL: _load_bool,
    Kind.INT: _load_integer,
    Kind.DECIMAL: _load_integer,
    Kind.DOUBLE: _load_double,
    Kind.STRING: _load_string,
    Kind.DATE: _loader_of_temporal(Kind.DATE),
    Kind.TIMESTAMP: _loader_of_temporal(Kind.TIMESTAMP),
    Kind.DURATION: _loader_of_temporal(Kind.DURATION),
}


def _common_length(
    loaded: tuple[Vec, ...],
    columns: Mapping[str, object],
    size: int | None,
    fields: tuple[tuple[str, Ty], ...],
    path: str | None,
) -> int:
    lengths = {name: len(vec.values) for (name, _), vec in zip(fields, loaded, strict=True)}
    if size is None:
        if lengths:
            size = next(iter(lengths.values()))
        elif columns:
            size = len(np.asarray(next(iter(columns.values()))))
        else:
            message = "size= is needed: the expression reads no column and none was given"
            raise InvalidValueError(message, code="expression.size_needed")
    wrong = {name: length for name, length in lengths.items() if length != size}
    if wrong:
        name, length = next(iter(wrong.items()))
        raise _column_error(name, f"{length} rows, expected {size}", path)
    return size


def _to_column(result: Vec, n: int, type_name: str, scale: int | None) -> Column:
    values = np.broadcast_to(result.values, (n,))
    nulls = np.zeros(n, dtype=bool) if result.nulls is None else np.broadcast_to(result.nulls, (n,))
    if result.errors is not None:  # failed rows have no value; only internal callers see them
        nulls = nulls | np.broadcast_to(result.errors, (n,))
    kind = Kind(type_name)
    if kind in _TEMPORAL_DTYPES:
        values = np.where(nulls, np.int64(INT64_MIN), values).view(_TEMPORAL_DTYPES[kind])
    elif nulls.any():
        values = np.where(nulls, np.zeros((), values.dtype), values)
    else:
        values = np.array(values, copy=True)
    if kind is Kind.NULL:
        values = np.zeros(n, dtype=bool)
    return Column(values, np.array(nulls, copy=True), type_name, scale)
