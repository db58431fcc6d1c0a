"""Hypothesis strategies for the expression language.

- `cases`: a random schema, a random well-typed expression over it, and random rows
  (nulls and int64 edges included), for checking the two evaluators against each
  other.
- `syntax_trees`: random syntax trees (not necessarily well-typed), for the printer.
- `token_soup`: text made of the language's own tokens in random order, for fuzzing
  the parser deeper than random characters get.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

import numpy as np
from hypothesis import strategies as st

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

if TYPE_CHECKING:
    from collections.abc import Callable

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
DURATION_LIMIT_US = 2**63 - 1
KINDS = ("bool", "int", "double", "decimal", "string", "date", "timestamp", "duration")
ORDERED = ("int", "double", "decimal", "string", "date", "timestamp", "duration")
_NAME_POOL = ("a", "b", "c", "金额", "deal.amount", "d_2", "区域", "x")
_TEXT = "abcAZ华东 -'\"\\\n"
_DECIMAL_SCALES = (0, 2, 4)
_EDGE_INTS = (0, 1, -1, 2, 3, 7, -7, 10, 100, 2**31, 2**62, -(2**62), INT64_MAX, INT64_MIN)


@dataclass(frozen=True)
class Case:
    """A schema, an expression over it, and rows to evaluate it on."""

    schema: dict[str, str]
    source: str
    rows: list[dict[str, object]]


# -- schemas and rows ----------------------------------------------------------------


@st.composite
def schemas(draw: st.DrawFn) -> dict[str, str]:
    """A schema of 1 to 6 fields; types and nullability at random."""
    names = draw(st.lists(st.sampled_from(_NAME_POOL), min_size=1, max_size=6, unique=True))
    schema = {}
    for name in names:
        kind = draw(st.sampled_from(KINDS))
        if kind == "decimal":
            kind = f"decimal({draw(st.sampled_from(_DECIMAL_SCALES))})"
        schema[name] = kind + ("?" if draw(st.booleans()) else "")
    return schema


def _ints() -> st.SearchStrategy[int]:
    return st.one_of(
        st.sampled_from(_EDGE_INTS),
        st.integers(-1000, 1000),
        st.integers(INT64_MIN, INT64_MAX),
    )


def _decimals(scale: int) -> st.SearchStrategy[Decimal]:
    scaled = st.one_of(st.integers(-100_000, 100_000), st.sampled_from(_EDGE_INTS))
    return scaled.map(lambda v: Decimal(v).scaleb(-scale))


def values_of(spelling: str) -> st.SearchStrategy[object]:
    """Python values for a field spelled like ``"decimal(2)?"``."""
    kind = spelling.rstrip("?")
    base: st.SearchStrategy[object]
    if kind.startswith("decimal"):
        base = _decimals(int(kind[8:-1]))
    else:
        base = {
            "bool": st.booleans(),
            "int": _ints(),
            "double": st.one_of(
                st.sampled_from([0.0, -0.0, 1.5, -2.25, 1e300, float("inf"), float("nan")]),
                st.floats(),
            ),
            "string": st.text(alphabet=_TEXT, max_size=5),
            "date": st.dates(),
            "timestamp": st.datetimes(timezones=st.just(dt.UTC)),
            "duration": st.one_of(
                st.timedeltas(min_value=dt.timedelta(days=-30), max_value=dt.timedelta(days=30)),
                st.integers(-DURATION_LIMIT_US, DURATION_LIMIT_US).map(
                    lambda us: dt.timedelta(microseconds=us)
                ),
            ),
        }[kind]
    return st.none() | base if spelling.endswith("?") else base


def rows_for(
    schema: dict[str, str], max_rows: int = 6
) -> st.SearchStrategy[list[dict[str, object]]]:
    """Rows of values for every field of ``schema``."""
    row = st.fixed_dictionaries({name: values_of(spelling) for name, spelling in schema.items()})
    return st.lists(row, min_size=1, max_size=max_rows)


def to_columns(
    schema: dict[str, str], rows: list[dict[str, object]], *, object_strings: bool
) -> dict[str, object]:
    """The rows as numpy columns, the way a host would build them."""
    columns: dict[str, object] = {}
    for name, spelling in schema.items():
        values = [row[name] for row in rows]
        mask = [v is None for v in values]
        kind = spelling.rstrip("?")
        columns[name] = _column(kind, values, mask, object_strings=object_strings)
    return columns


def _column(kind: str, values: list[object], mask: list[bool], *, object_strings: bool) -> object:
    if kind == "string" and object_strings:
        return np.array(values, dtype=object)
    if kind in {"date", "timestamp", "duration"}:
        unit = {
            "date": "datetime64[D]",
            "timestamp": "datetime64[us]",
            "duration": "timedelta64[us]",
        }
        plain = [
            None
            if v is None
            else v.astimezone(dt.UTC).replace(tzinfo=None)
            if isinstance(v, dt.datetime)
            else v
            for v in values
        ]
        return np.array(["NaT" if v is None else v for v in plain], dtype=unit[kind])
    fill: object = {"bool": False, "int": 0, "double": 0.0, "string": ""}.get(kind, 0)
    if kind.startswith("decimal"):
        scale = int(kind[8:-1])
        data = [0 if v is None else int(v.scaleb(scale)) for v in values]  # type: ignore[union-attr]
        return np.ma.masked_array(np.array(data, dtype=np.int64), mask=mask)
    data = [fill if v is None else v for v in values]
    dtype = {"bool": bool, "int": np.int64, "double": np.float64, "string": np.str_}[kind]
    return np.ma.masked_array(np.array(data, dtype=dtype), mask=mask)


# -- well-typed expressions ------------------------------------------------------------

_STAMPS = st.datetimes(
    min_value=dt.datetime(1, 1, 2),  # noqa: DTZ001 - naive bounds of a UTC-labelled literal
    max_value=dt.datetime(9999, 12, 30),  # noqa: DTZ001
)
_LITERALS: dict[str, st.SearchStrategy[str]] = {
    "bool": st.sampled_from(["true", "false"]),
    "int": _ints().map(str),
    "double": st.sampled_from(["1.5", "0.1", "2.0", "-3.25", "1e300", "double(7)", "0.0"]),
    "string": st.text(alphabet="abAB华 ", max_size=4).map(lambda t: f'"{t}"'),
    "date": st.dates().map(lambda d: f'date("{d.isoformat()}")'),
    "timestamp": _STAMPS.map(lambda t: f'timestamp("{t.isoformat(timespec="microseconds")}Z")'),
    "duration": st.sampled_from(
        [
            'duration("72h")',
            'duration("2d")',
            'duration("-1h30m")',
            'duration("0")',
            'duration("1.5s")',
        ]
    ),
}


class _Generator:
    """Draws well-typed source text of a wanted kind over a schema.

    Decimal expressions carry their scale so products never pass 18 places (which
    the checker would rightly refuse).
    """

    def __init__(self, draw: st.DrawFn, schema: dict[str, str]) -> None:
        self.draw = draw
        self.fields: dict[str, list[tuple[str, int]]] = {}
        for name, spelling in schema.items():
            kind = spelling.rstrip("?")
            scale = int(kind[8:-1]) if kind.startswith("decimal") else 0
            self.fields.setdefault(kind.split("(")[0], []).append((name, scale))

    def pick(self, options: list[str]) -> str:
        return self.draw(st.sampled_from(options))

    def leaf(self, kind: str) -> tuple[str, int]:
        fields = self.fields.get(kind, [])
        if fields and self.draw(st.booleans()):
            return self.draw(st.sampled_from(fields))
        return self.literal(kind)

    def literal(self, kind: str) -> tuple[str, int]:
        if kind == "decimal":
            choices = [("0.01", 2), ("1000.5", 1), ("-2.25", 2), ("3", 0), ("0.0001", 4)]
            text, scale = self.draw(st.sampled_from(choices))
            return f'decimal("{text}")', scale
        return self.draw(_LITERALS[kind]), 0

    def expr(self, kind: str, depth: int) -> tuple[str, int]:
        if depth <= 0 or self.draw(st.integers(0, 3)) == 0:
            return self.leaf(kind)
        builder = getattr(self, f"_{kind}")
        return builder(depth - 1)  # type: ignore[no-any-return]

    def sub(self, kind: str, depth: int) -> str:
        return f"({self.expr(kind, depth)[0]})"

    def conditional(self, kind: str, depth: int) -> tuple[str, int]:
        (then, s1), (other, s2) = self.expr(kind, depth), self.expr(kind, depth)
        return f"({self.sub('bool', depth)} ? ({then}) : ({other}))", max(s1, s2)

    def pick_rule(
        self, *rules: Callable[[int], tuple[str, int]]
    ) -> Callable[[int], tuple[str, int]]:
        return self.draw(st.sampled_from(rules))

    def two(self, function: str, kind: str, depth: int) -> str:
        return f"{function}({self.expr(kind, depth)[0]}, {self.expr(kind, depth)[0]})"

    # -- bool

    def _bool(self, depth: int) -> tuple[str, int]:
        rule = self.pick_rule(
            self.comparison,
            self.logic,
            self.negation,
            self.string_test,
            self.null_test,
            self.membership,
            self.numeric_mix,
            lambda d: self.conditional("bool", d),
            lambda _d: self.leaf("bool"),
        )
        return rule(depth)

    def comparison(self, depth: int) -> tuple[str, int]:
        kind = self.pick([*ORDERED, "bool"])
        op = self.pick(["==", "!=", "<", "<=", ">", ">="])
        return f"{self.sub(kind, depth)} {op} {self.sub(kind, depth)}", 0

    def logic(self, depth: int) -> tuple[str, int]:
        op = self.pick(["&&", "||"])
        return f"{self.sub('bool', depth)} {op} {self.sub('bool', depth)}", 0

    def negation(self, depth: int) -> tuple[str, int]:
        return f"!{self.sub('bool', depth)}", 0

    def string_test(self, depth: int) -> tuple[str, int]:
        method = self.pick(["startsWith", "endsWith", "contains"])
        return f"{self.sub('string', depth)}.{method}({self.sub('string', depth)})", 0

    def null_test(self, depth: int) -> tuple[str, int]:
        kind = self.pick(list(KINDS))
        return f"{self.sub(kind, depth)} {self.pick(['==', '!='])} null", 0

    def membership(self, depth: int) -> tuple[str, int]:
        kind = self.pick(["int", "string", "decimal", "date", "double"])
        count = self.draw(st.integers(0, 3))
        items = ", ".join(self.expr(kind, depth - 1)[0] for _ in range(count))
        return f"{self.sub(kind, depth)} in [{items}]", 0

    def numeric_mix(self, depth: int) -> tuple[str, int]:
        """Int widening and number literals adapting to double or decimal."""
        kind = self.pick(["double", "decimal"])
        other = self.pick([kind, "int"])
        literal = self.pick(["1.5", "0.25", "-2.0", "100"])
        op = self.pick(["<", "==", ">="])
        return f"{self.sub(kind, depth)} {op} {self.sub(other, depth)} + {literal}", 0

    # -- numbers

    def _int(self, depth: int) -> tuple[str, int]:
        rule = self.pick_rule(
            lambda d: (f"{self.sub('int', d)} {self.pick(list('+-*/%'))} {self.sub('int', d)}", 0),
            lambda d: (f"{self.pick(['-', 'abs'])}({self.expr('int', d)[0]})", 0),
            lambda d: (self.two(self.pick(["min", "max"]), "int", d), 0),
            lambda d: (f"size({self.expr('string', d)[0]})", 0),
            lambda d: (f"int({self.expr(self.pick(['double', 'decimal']), d)[0]})", 0),
            lambda d: self.conditional("int", d),
            lambda _d: self.leaf("int"),
        )
        return rule(depth)

    def _double(self, depth: int) -> tuple[str, int]:
        rule = self.pick_rule(
            self.double_arithmetic,
            lambda d: (f"double({self.expr(self.pick(['int', 'decimal']), d)[0]})", 0),
            lambda d: (self.two(self.pick(["min", "max"]), "double", d), 0),
            lambda d: (f"{self.pick(['-', 'abs'])}({self.expr('double', d)[0]})", 0),
            lambda d: self.conditional("double", d),
            lambda d: (f"{self.sub('double', d)} * 1.5", 0),
        )
        return rule(depth)

    def double_arithmetic(self, depth: int) -> tuple[str, int]:
        right = self.sub(self.pick(["double", "int"]), depth)
        return f"{self.sub('double', depth)} {self.pick(list('+-*/'))} {right}", 0

    def _decimal(self, depth: int) -> tuple[str, int]:
        rule = self.pick_rule(
            self.decimal_sum,
            self.decimal_product,
            self.decimal_extreme,
            self.decimal_negation,
            lambda d: self.conditional("decimal", d),
            self.decimal_plus_literal,
        )
        return rule(depth)

    def decimal_negation(self, depth: int) -> tuple[str, int]:
        operand, scale = self.expr("decimal", depth)
        return f"{self.pick(['-', 'abs'])}({operand})", scale

    def decimal_sum(self, depth: int) -> tuple[str, int]:
        (left, ls), (right, rs) = (
            self.expr("decimal", depth),
            self.expr(self.pick(["decimal", "int"]), depth),
        )
        return f"({left}) {self.pick(['+', '-'])} ({right})", max(ls, rs)

    def decimal_product(self, depth: int) -> tuple[str, int]:
        (left, ls), (right, rs) = (
            self.expr("decimal", depth),
            self.expr(self.pick(["decimal", "int"]), depth),
        )
        if ls + rs <= 18:
            return f"({left}) * ({right})", ls + rs
        return left, ls

    def decimal_extreme(self, depth: int) -> tuple[str, int]:
        (left, ls), (right, rs) = self.expr("decimal", depth), self.expr("decimal", depth)
        return f"{self.pick(['min', 'max'])}({left}, {right})", max(ls, rs)

    def decimal_plus_literal(self, depth: int) -> tuple[str, int]:
        left, scale = self.expr("decimal", depth)
        literal = self.pick(["0.5", "1.25", "100", "0.001"])
        places = len(literal.split(".")[1]) if "." in literal else 0
        return f"({left}) + {literal}", max(scale, places)

    # -- strings and time

    def _string(self, depth: int) -> tuple[str, int]:
        rule = self.pick_rule(
            lambda d: (f"{self.sub('string', d)} + {self.sub('string', d)}", 0),
            lambda d: (f"{self.sub('string', d)}.{self.pick(['lowerAscii', 'upperAscii'])}()", 0),
            lambda d: (f"string({self.expr(self.pick(['int', 'bool', 'date']), d)[0]})", 0),
            lambda d: self.conditional("string", d),
            lambda _d: self.leaf("string"),
        )
        return rule(depth)

    def _date(self, depth: int) -> tuple[str, int]:
        rule = self.pick_rule(
            lambda d: (
                f"{self.sub('date', d)} {self.pick(['+', '-'])} {self.sub('duration', d)}",
                0,
            ),
            lambda d: (self.two(self.pick(["min", "max"]), "date", d), 0),
            lambda d: self.conditional("date", d),
        )
        return rule(depth)

    def _timestamp(self, depth: int) -> tuple[str, int]:
        rule = self.pick_rule(
            lambda d: (
                f"{self.sub('timestamp', d)} {self.pick(['+', '-'])} {self.sub('duration', d)}",
                0,
            ),
            lambda d: (f"{self.sub('duration', d)} + {self.sub('timestamp', d)}", 0),
        )
        return rule(depth)

    def difference(self, depth: int) -> tuple[str, int]:
        kind = self.pick(["date", "timestamp"])
        return f"{self.sub(kind, depth)} - {self.sub(kind, depth)}", 0

    def _duration(self, depth: int) -> tuple[str, int]:
        rule = self.pick_rule(
            self.difference,
            lambda d: (
                f"{self.sub('duration', d)} {self.pick(['+', '-'])} {self.sub('duration', d)}",
                0,
            ),
            lambda d: (f"-{self.sub('duration', d)}", 0),
            lambda d: (self.two(self.pick(["min", "max"]), "duration", d), 0),
        )
        return rule(depth)


@st.composite
def expressions_over(draw: st.DrawFn, schema: dict[str, str], max_depth: int = 3) -> str:
    """Well-typed source text over ``schema`` (any result kind)."""
    kind = draw(st.sampled_from(KINDS))
    return _Generator(draw, schema).expr(kind, max_depth)[0]


@st.composite
def cases(draw: st.DrawFn, max_depth: int = 3) -> Case:
    """A schema, a well-typed expression over it, and rows."""
    schema = draw(schemas())
    source = draw(expressions_over(schema, max_depth))
    return Case(schema, source, draw(rows_for(schema)))


# -- syntax trees and token soup ----------------------------------------------------------

_FUNCTIONS = ("size", "abs", "min", "max", "int", "double", "string", "startsWith", "f")
_BINARY = ("||", "&&", "==", "!=", "<", "<=", ">", ">=", "in", "+", "-", "*", "/", "%")


def _literals() -> st.SearchStrategy[Node]:
    return st.one_of(
        st.integers(0, INT64_MAX).map(lambda v: Literal(LiteralKind.INT, v)),
        st.decimals(allow_nan=False, allow_infinity=False, min_value=0, max_value=10**20).map(
            lambda v: Literal(LiteralKind.NUMBER, v)
        ),
        st.text(max_size=5)
        .filter(lambda s: "\x00" not in s)
        .map(lambda v: Literal(LiteralKind.STRING, v)),
        st.booleans().map(lambda v: Literal(LiteralKind.BOOL, v)),
        st.just(Literal(LiteralKind.NULL, None)),
        st.sampled_from(_NAME_POOL).map(Name),
    )


def syntax_trees(max_leaves: int = 12) -> st.SearchStrategy[Node]:
    """Random syntax trees, as the parser would build them (not necessarily typed)."""
    return st.recursive(
        _literals(),
        lambda children: st.one_of(
            st.builds(Unary, st.sampled_from(["!", "-"]), children),
            st.builds(Binary, st.sampled_from(_BINARY), children, children),
            st.builds(Conditional, children, children, children),
            st.builds(
                Call,
                st.sampled_from(_FUNCTIONS),
                st.lists(children, max_size=3).map(tuple),
                st.none() | children,
            ),
            st.builds(ListLiteral, st.lists(children, max_size=3).map(tuple)),
        ),
        max_leaves=max_leaves,
    )


_TOKENS = (
    "a", "金额", "deal.amount", "1", "0x1F", "1.5", "1e3", ".5", '"s"', "'t'", "true", "false",
    "null", "(", ")", "[", "]", ",", ".", "?", ":", "!", "-", "+", "*", "/", "%", "==", "!=",
    "<", "<=", ">", ">=", "&&", "||", "in", "size", "startsWith", "(", ")", "x.__class__",
    "9223372036854775808", "\\", '"\\q"', "//c\n",
)  # fmt: skip


def token_soup(max_tokens: int = 25) -> st.SearchStrategy[str]:
    """Text made of the language's tokens in random order."""
    return st.lists(st.sampled_from(_TOKENS), max_size=max_tokens).map(" ".join)
