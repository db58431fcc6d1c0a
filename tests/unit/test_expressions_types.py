"""Checking expressions against a schema: types, every problem at once, schemas as data."""

import json

import pytest
from pydantic import BaseModel, ValidationError

from salesflow.errors import DefinitionError, ExpressionTypeError, Severity
from salesflow.expressions import Field, Schema, compile_expression

SCHEMA = {
    "amount": "decimal(2)",
    "quota": "decimal(4)?",
    "count": "int",
    "rate": "double",
    "region": "string",
    "won": "bool",
    "close_date": "date?",
    "created": "timestamp",
    "age": "duration",
}


def _type_of(source, schema=SCHEMA):
    expr = compile_expression(source, schema)
    return expr.type, expr.nullable, expr.scale


def _problems(source, schema=SCHEMA, **options):
    with pytest.raises(ExpressionTypeError) as err:
        compile_expression(source, schema, **options)
    return err.value.problems


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("count + 1", ("int", False, None)),
        ("count / 2", ("int", False, None)),
        ("rate * count", ("double", False, None)),
        ("amount + count", ("decimal", False, 2)),
        ("amount * quota", ("decimal", True, 6)),
        ("amount + quota", ("decimal", True, 4)),
        ("amount * 1.10", ("decimal", False, 4)),
        ("amount > 1000.50", ("bool", False, None)),
        ("1.5 + 2", ("double", False, None)),
        ("rate > 0.5", ("bool", False, None)),
        ('region + "!"', ("string", False, None)),
        ("close_date - date('2026-01-01')", ("duration", True, None)),
        ("close_date + duration('2d')", ("date", True, None)),
        ("duration('1h') + created", ("timestamp", False, None)),
        ("created - created", ("duration", False, None)),
        ("won ? amount : null", ("decimal", True, 2)),
        ("won ? count : 2.5", ("double", False, None)),
        ("won ? amount : 2.5", ("decimal", False, 2)),
        ("close_date == null", ("bool", False, None)),
        ("quota > 1", ("bool", True, None)),
        ("size(region) + size([1, 2])", ("int", False, None)),
        ("int(amount) + int(rate)", ("int", False, None)),
        ("double(amount)", ("double", False, None)),
        ('decimal("12.345")', ("decimal", False, 3)),
        ("decimal(count)", ("decimal", False, 0)),
        ("string(count) + string(won) + string(close_date)", ("string", True, None)),
        ("max(amount, quota)", ("decimal", True, 4)),
        ("min(close_date, date('2026-01-01'))", ("date", True, None)),
        ("null", ("null", True, None)),
    ],
)
def test_result_types_follow_the_documented_rules(source, expected):
    assert _type_of(source) == expected


def test_every_problem_is_reported_at_once_with_its_position():
    problems = _problems('amonut > 1 && regoin == "east" && count + "x" > 0')
    assert [(p.code, p.location.line, p.location.column) for p in problems] == [
        ("expression_type.unknown_name", 1, 1),
        ("expression_type.unknown_name", 1, 15),
        ("expression_type.operand_types", 1, 41),
    ]
    assert all(p.severity is Severity.ERROR for p in problems)


def test_unknown_names_suggest_the_closest_field():
    (problem,) = _problems("amonut > 1")
    assert "did you mean 'amount'?" in problem.message


def test_unknown_functions_suggest_the_closest_builtin():
    (problem,) = _problems("sise(region)")
    assert problem.code == "expression_type.unknown_function"
    assert "did you mean 'size'?" in problem.message


def test_a_type_error_is_a_definition_error_a_type_error_and_carries_the_path():
    with pytest.raises(DefinitionError) as err:
        compile_expression("count + won", SCHEMA, path="rules[2].when")
    assert isinstance(err.value, TypeError)
    assert str(err.value.location) == "rules[2].when line 1, column 7"


def test_decimal_and_double_do_not_mix():
    (problem,) = _problems("amount + rate")
    assert problem.code == "expression_type.mixed_decimal_double"
    assert _type_of("double(amount) + rate")[0] == "double"


def test_decimal_division_is_refused_with_the_alternatives_named():
    (problem,) = _problems("amount / 4")
    assert problem.code == "expression_type.decimal_division"
    assert "multiply" in problem.message


def test_a_number_literal_divided_becomes_a_double_so_it_cannot_meet_a_decimal():
    (problem,) = _problems("amount > 10.0 / 4")
    assert problem.code == "expression_type.mixed_decimal_double"


def test_modulo_is_for_ints_only():
    (problem,) = _problems("rate % 2")
    assert problem.code == "expression_type.operand_types"


def test_dates_and_timestamps_do_not_compare():
    (problem,) = _problems("close_date < created")
    assert problem.code == "expression_type.operand_types"


def test_strings_cannot_be_repeated():
    (problem,) = _problems('"a" * 1000000000')
    assert problem.code == "expression_type.operand_types"


def test_a_condition_must_be_bool_when_one_is_expected():
    (problem,) = _problems("amount", expect="bool")
    assert problem.code == "expression_type.unexpected_type"
    assert "condition" in problem.message


def test_expect_widens_an_int_or_a_number_literal():
    assert compile_expression("count", SCHEMA, expect="double").type == "double"
    assert compile_expression("1.25", SCHEMA, expect="decimal").scale == 2


def test_the_condition_of_a_conditional_must_be_bool():
    (problem,) = _problems("count ? 1 : 2")
    assert problem.code == "expression_type.not_a_condition"


def test_branches_of_a_conditional_must_share_a_type():
    (problem,) = _problems('won ? 1 : "one"')
    assert problem.code == "expression_type.operand_types"


def test_logical_operators_need_bools():
    (problem,) = _problems("count && won")
    assert "needs bool operands" in problem.message


def test_functions_check_arity_call_style_and_argument_types():
    codes = [
        p.code
        for p in _problems(
            "region.startsWith() || startsWith(region, 'a') || size(1) > 0 || region.abs() > 0"
        )
    ]
    assert codes == [
        "expression_type.arity",
        "expression_type.call_style",
        "expression_type.operand_types",
        "expression_type.call_style",
    ]


def test_constructors_take_literal_text_only_and_check_it_now():
    codes = [
        p.code
        for p in _problems(
            'date(region) == null || date("2026-02-30") == null || duration("1ns") == null'
        )
    ]
    assert codes == [
        "expression_type.not_literal",
        "expression_type.bad_literal",
        "expression_type.bad_literal",
    ]


def test_timestamp_literals_need_an_offset_and_are_held_in_utc():
    expr = compile_expression('timestamp("2026-03-31T10:00:00+08:00")', {})
    assert expr.evaluate({}).isoformat() == "2026-03-31T02:00:00+00:00"
    (problem,) = _problems('timestamp("2026-03-31T10:00:00") == created')
    assert problem.code == "expression_type.bad_literal"


def test_lists_can_only_follow_in_or_be_sized():
    problems = _problems("[1, 2] == [1, 2]")
    assert [(p.code, p.location.column) for p in problems] == [
        ("expression_type.list_misuse", 1),
        ("expression_type.list_misuse", 11),
    ]


def test_list_items_must_match_the_tested_value():
    (problem,) = _problems('count in [1, "2"]')
    assert problem.code == "expression_type.operand_types"


def test_decimal_results_beyond_eighteen_places_are_refused():
    (problem,) = _problems("quota * quota * quota * quota * quota")
    assert problem.code == "expression_type.decimal_scale"


def test_a_decimal_literal_that_cannot_be_exact_is_refused():
    (problem,) = _problems("amount > 0.0000000000000000001")
    assert problem.code == "expression_type.number_out_of_range"


@pytest.mark.parametrize(
    "source", ["__import__('os')", "x.__class__", "amount.__class__", "eval('1')"]
)
def test_python_internals_are_unreachable(source):
    with pytest.raises(ExpressionTypeError) as err:
        compile_expression(source, SCHEMA)
    assert err.value.problems[0].code in {
        "expression_type.unknown_name",
        "expression_type.unknown_function",
    }


# -- schemas ------------------------------------------------------------------------------


def test_field_spellings_parse_to_fields():
    assert Field.model_validate("decimal(2)?") == Field(type="decimal", nullable=True, scale=2)
    assert Field.model_validate(" date ? ") == Field(type="date", nullable=True)
    assert str(Field(type="timestamp")) == "timestamp"


@pytest.mark.parametrize("spelling", ["decimal", "float", "int??", "decimal(19)", "list<int>"])
def test_bad_field_spellings_are_refused(spelling):
    with pytest.raises(ValidationError):
        Field.model_validate(spelling)


def test_only_decimal_fields_have_a_scale():
    with pytest.raises(ValidationError, match="only decimal"):
        Field(type="int", scale=2)


def test_schema_round_trips_through_json_in_the_compact_spelling():
    schema = Schema({"amount": "decimal(2)", "close_date": "date?", "won": Field(type="bool")})
    dumped = schema.model_dump_json()
    assert json.loads(dumped) == {"amount": "decimal(2)", "close_date": "date?", "won": "bool"}
    assert Schema.model_validate_json(dumped) == schema


def test_a_schema_embeds_in_a_definition_model():
    class Rule(BaseModel, frozen=True):
        schema_: Schema
        when: str

    rule = Rule.model_validate({"schema_": {"amount": "decimal(2)"}, "when": "amount > 1"})
    assert compile_expression(rule.when, rule.schema_).matches({"amount": 2})


def test_schema_names_must_be_writable_in_an_expression():
    with pytest.raises(ValidationError, match="reserved"):
        Schema({"in": "int"})
    with pytest.raises(ValidationError):
        Schema({"1st": "int"})


def test_a_bad_mapping_schema_is_a_definition_error_naming_the_field():
    with pytest.raises(DefinitionError) as err:
        compile_expression("a > 1", {"a": "integer"}, path="rule")
    assert err.value.problems[0].location.path == "rule.schema.a"


def test_schema_reads_like_a_mapping():
    schema = Schema(SCHEMA)
    assert "amount" in schema
    assert len(schema) == len(SCHEMA)
    assert list(schema) == list(SCHEMA)
    assert schema["quota"].scale == 4
    assert dict(schema.fields) == {k: Field.model_validate(v) for k, v in SCHEMA.items()}
