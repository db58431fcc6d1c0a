"""Properties of the expression language: the two evaluators agree; bad text fails cleanly."""

import math
from decimal import Decimal

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from salesflow.errors import EvaluationError, ExpressionSyntaxError, ExpressionTypeError
from salesflow.expressions import compile_expression
from salesflow.expressions._ast import unparse
from salesflow.expressions._parser import parse

from strategies.expressions import cases, schemas, syntax_trees, to_columns, token_soup

_PUBLIC_DTYPE_KIND = {
    "bool": "b",
    "int": "i",
    "decimal": "i",
    "double": "f",
    "string": "U",
    "date": "M",
    "timestamp": "M",
    "duration": "m",
    "null": "b",
}


def _same(a: object, b: object) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    if isinstance(a, Decimal) and isinstance(b, Decimal):
        return a == b and a.as_tuple().exponent == b.as_tuple().exponent
    return type(a) is type(b) and a == b


def _scalar_outcomes(expr, rows):
    outcomes = []
    for row in rows:
        try:
            outcomes.append(("value", expr.evaluate(row)))
        except EvaluationError:
            outcomes.append(("error", None))
    return outcomes


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(case=cases(), object_strings=st.booleans())
def test_scalar_and_vectorized_evaluators_agree_on_values_nulls_and_errors(case, object_strings):
    expr = compile_expression(case.source, case.schema)
    expected = _scalar_outcomes(expr, case.rows)
    columns = to_columns(case.schema, case.rows, object_strings=object_strings)
    column, errors, _ = expr._columns(columns, None)
    failed = np.zeros(len(case.rows), bool) if errors is None else errors
    assert column.values.dtype.kind == _PUBLIC_DTYPE_KIND[expr.type]
    got = column.to_list()
    for i, (outcome, value) in enumerate(expected):
        assert bool(failed[i]) == (outcome == "error"), f"row {i}: {case.rows[i]}"
        if outcome == "value":
            assert _same(got[i], value), f"row {i}: vectorized {got[i]!r}, scalar {value!r}"


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(case=cases(max_depth=2))
def test_vectorized_errors_raise_with_the_scalar_message_of_the_first_failing_row(case):
    expr = compile_expression(case.source, case.schema)
    expected = _scalar_outcomes(expr, case.rows)
    columns = to_columns(case.schema, case.rows, object_strings=False)
    failing = [i for i, (outcome, _) in enumerate(expected) if outcome == "error"]
    if not failing:
        assert len(expr.evaluate_columns(columns)) == len(case.rows)
        return
    with pytest.raises(EvaluationError) as vectorized:
        expr.evaluate_columns(columns)
    with pytest.raises(EvaluationError) as scalar:
        expr.evaluate(case.rows[failing[0]])
    assert vectorized.value.message == f"row {failing[0]}: {scalar.value.message}"
    assert vectorized.value.code == scalar.value.code


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(case=cases())
def test_matches_and_mask_treat_null_as_not_matching_in_both_evaluators(case):
    expr = compile_expression(case.source, case.schema)
    if expr.type != "bool":
        return
    expected = _scalar_outcomes(expr, case.rows)
    if any(outcome == "error" for outcome, _ in expected):
        return
    mask = expr.mask(to_columns(case.schema, case.rows, object_strings=True))
    assert mask.tolist() == [value is True for _, value in expected]
    assert [expr.matches(row) for row in case.rows] == mask.tolist()


def _compiles_or_fails_cleanly(text, schema):
    """Compile; on failure, check the error is a documented one with a location."""
    try:
        compile_expression(text, schema)
    except ExpressionSyntaxError as err:
        return err.line is not None and err.column is not None
    except ExpressionTypeError as err:
        return bool(err.problems) and all(p.location and p.location.line for p in err.problems)
    return True


@given(text=st.text(max_size=60), schema=schemas())
def test_arbitrary_text_compiles_or_raises_only_the_documented_errors(text, schema):
    assert _compiles_or_fails_cleanly(text, schema)


@given(text=token_soup(), schema=schemas())
def test_token_soup_compiles_or_raises_only_the_documented_errors(text, schema):
    assert _compiles_or_fails_cleanly(text, schema)


@given(tree=syntax_trees())
def test_printed_syntax_trees_parse_back_to_the_same_tree(tree):
    assert parse(unparse(tree)) == tree


@given(case=cases())
def test_printing_a_parsed_expression_keeps_its_meaning_and_its_tree(case):
    tree = parse(case.source)
    printed = unparse(tree)
    assert parse(printed) == tree
    assert (
        compile_expression(printed, case.schema).type
        == compile_expression(case.source, case.schema).type
    )
