"""The safe expression language for rules written as text.

Workflow guards, alert conditions, incentive filters and routing rules are written
in a subset of CEL (Common Expression Language)::

    amount > 1000.50 && region in ["east", "north"]
        && close_date - date("2026-03-31") < duration("30d")

An expression is parsed once (never ``eval``/``exec``), checked against a `Schema`
of typed fields, and compiled to two evaluators that always agree: one for a row
(`Expression.evaluate`, `Expression.matches`) and one for numpy columns
(`Expression.evaluate_columns`, `Expression.mask`). The language, its types, its
null logic and its bounds are described in ``docs/expressions.md``.

>>> expr = compile_expression('amount > 1000 && region == "east"',
...                           {"amount": "decimal(2)", "region": "string"}, expect="bool")
>>> from decimal import Decimal
>>> expr.matches({"amount": Decimal("1200.00"), "region": "east"})
True
"""

from salesflow.expressions._expression import Column, Expression, compile_expression
from salesflow.expressions._schema import Field, FieldType, Schema

__all__ = ["Column", "Expression", "Field", "FieldType", "Schema", "compile_expression"]
