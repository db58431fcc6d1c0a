"""Parsing expressions: the CEL-subset grammar, literals, positions, bounds, refusals."""

from decimal import Decimal

import pytest

from salesflow.errors import ExpressionSyntaxError, ExpressionTypeError, ParseError
from salesflow.expressions import compile_expression
from salesflow.expressions._ast import (
    Binary,
    Call,
    Conditional,
    ListLiteral,
    Literal,
    LiteralKind,
    Name,
    Unary,
    unparse,
)
from salesflow.expressions._parser import MAX_DEPTH, MAX_LIST_ITEMS, MAX_SOURCE_LENGTH, parse


def _int(value):
    return Literal(LiteralKind.INT, value)


def test_multiplication_binds_tighter_than_addition_and_addition_than_comparison():
    assert parse("1 + 2 * 3 < 4") == Binary(
        "<", Binary("+", _int(1), Binary("*", _int(2), _int(3))), _int(4)
    )


def test_and_binds_tighter_than_or_and_the_conditional_is_loosest_and_right_associative():
    tree = parse("a || b && c ? d : e ? f : g")
    assert tree == Conditional(
        Binary("||", Name("a"), Binary("&&", Name("b"), Name("c"))),
        Name("d"),
        Conditional(Name("e"), Name("f"), Name("g")),
    )


def test_binary_operators_of_one_level_associate_to_the_left():
    assert parse("10 - 3 - 2") == Binary("-", Binary("-", _int(10), _int(3)), _int(2))


def test_unary_operators_bind_tighter_than_any_binary_operator():
    assert parse("-a * !b") == Binary("*", Unary("-", Name("a")), Unary("!", Name("b")))


def test_a_run_of_one_unary_operator_is_allowed_but_a_mix_is_not_as_in_cel():
    assert parse("!!a") == Unary("!", Unary("!", Name("a")))
    with pytest.raises(ExpressionSyntaxError):
        parse("-!a")


def test_in_is_a_relation_and_list_literals_allow_a_trailing_comma():
    assert parse('r in ["a", "b",]') == Binary(
        "in",
        Name("r"),
        ListLiteral((Literal(LiteralKind.STRING, "a"), Literal(LiteralKind.STRING, "b"))),
    )


def test_dotted_names_become_one_path_and_member_calls_keep_their_receiver():
    assert parse("deal.owner.name.startsWith('a')") == Call(
        "startsWith", (Literal(LiteralKind.STRING, "a"),), Name("deal.owner.name")
    )


def test_chinese_identifiers_are_names():
    assert parse("金额 > 100 && 区域 == '华东'") == Binary(
        "&&",
        Binary(">", Name("金额"), _int(100)),
        Binary("==", Name("区域"), Literal(LiteralKind.STRING, "华东")),
    )


def test_number_literals_keep_their_exact_digits_and_hex_ints_are_read():
    assert parse("1.50") == Literal(LiteralKind.NUMBER, Decimal("1.50"))
    assert parse("1.50").value.as_tuple().exponent == -2  # the written scale survives
    assert parse(".5") == Literal(LiteralKind.NUMBER, Decimal("0.5"))
    assert parse("1e3") == Literal(LiteralKind.NUMBER, Decimal("1E+3"))
    assert parse("0x1F") == _int(31)


@pytest.mark.parametrize(
    ("source", "text"),
    [
        (r'"a\"b"', 'a"b'),
        (r"'it\'s'", "it's"),
        (r'"\n\t\\"', "\n\t\\"),
        (r'"\u4e2d\U0001F600"', "中\U0001f600"),
        (r'"\x41\101"', "AA"),
        ('"华东"', "华东"),
    ],
)
def test_string_escapes_follow_cel(source, text):
    assert parse(source) == Literal(LiteralKind.STRING, text)


@pytest.mark.parametrize("source", [r'"\q"', r'"\u12"', r'"\ud800"', r'"\x00"', r'"\000"'])
def test_invalid_escapes_surrogates_and_nul_are_refused_at_the_string(source):
    with pytest.raises(ExpressionSyntaxError) as err:
        parse(source)
    assert err.value.line == 1
    assert err.value.column in {1, 2}


def test_line_comments_and_newlines_are_whitespace():
    assert parse("a // the amount\n  > 1") == Binary(">", Name("a"), _int(1))


def test_syntax_errors_name_the_line_column_and_what_was_expected():
    with pytest.raises(ExpressionSyntaxError) as err:
        parse("amount >\n  > 3")
    assert (err.value.line, err.value.column) == (2, 3)
    assert err.value.code == "expression_syntax.unexpected_token"
    assert "expected an operand" in err.value.message


def test_an_unfinished_expression_points_past_its_end():
    with pytest.raises(ExpressionSyntaxError) as err:
        parse("(a + 1")
    assert (err.value.line, err.value.column) == (1, 7)
    assert "expected ')'" in err.value.message


def test_an_unknown_character_is_reported_where_it_is():
    with pytest.raises(ExpressionSyntaxError) as err:
        parse("a # b")
    assert err.value.code == "expression_syntax.unexpected_character"
    assert err.value.column == 3


def test_syntax_errors_are_parse_errors_and_value_errors():
    with pytest.raises(ParseError):
        parse(")")
    with pytest.raises(ValueError, match="unexpected"):
        parse(")")


def test_reserved_words_cannot_be_names():
    with pytest.raises(ExpressionSyntaxError) as err:
        parse("if > 1")
    assert err.value.code == "expression_syntax.reserved_word"


def test_in_needs_a_word_boundary_so_index_is_not_in_dex():
    with pytest.raises(ExpressionSyntaxError):
        parse("a index")


def test_selecting_a_field_of_a_computed_value_is_refused():
    with pytest.raises(ExpressionSyntaxError) as err:
        parse("(a + b).c")
    assert err.value.code == "expression_syntax.select_on_value"


def test_an_int_literal_beyond_int64_is_refused_when_parsed():
    with pytest.raises(ExpressionSyntaxError) as err:
        parse("99999999999999999999")
    assert err.value.code == "expression_syntax.int_out_of_range"


def test_int64_minimum_is_written_as_a_negated_literal_as_in_cel():
    expr = compile_expression("-9223372036854775808", {})
    assert expr.evaluate({}) == -(2**63)
    with pytest.raises(ExpressionTypeError):
        compile_expression("9223372036854775808", {})


def test_a_source_longer_than_the_bound_is_refused_before_parsing():
    source = "1" + " " * MAX_SOURCE_LENGTH
    with pytest.raises(ExpressionSyntaxError) as err:
        parse(source)
    assert err.value.code == "expression_syntax.too_long"
    assert err.value.column == MAX_SOURCE_LENGTH + 1


@pytest.mark.parametrize(
    "source",
    [
        "1" + " + 1" * MAX_DEPTH,
        "!" * (MAX_DEPTH + 1) + "a",
        "f(" * (MAX_DEPTH + 1) + ")" * (MAX_DEPTH + 1),
        "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1),
    ],
    ids=["sum chain", "unary run", "nested calls", "nested lists"],
)
def test_nesting_deeper_than_the_bound_is_refused_without_recursion_errors(source):
    with pytest.raises(ExpressionSyntaxError) as err:
        parse(source)
    assert err.value.code == "expression_syntax.too_deep"


def test_parentheses_alone_do_not_count_as_nesting_but_still_parse():
    depth = 3000
    assert parse("(" * depth + "a" + ")" * depth) == Name("a")


def test_nesting_up_to_the_bound_is_accepted():
    assert compile_expression("1" + " + 1" * (MAX_DEPTH - 2), {}).evaluate({}) == MAX_DEPTH - 1


def test_a_list_literal_longer_than_the_bound_is_refused():
    with pytest.raises(ExpressionSyntaxError) as err:
        parse("[" + ", ".join(["1"] * (MAX_LIST_ITEMS + 1)) + "]")
    assert err.value.code == "expression_syntax.list_too_long"


def test_map_literals_indexing_and_macros_are_not_part_of_the_language():
    for source in ('{"a": 1}', "a[0]", "a.all(x, x > 0)"):
        with pytest.raises((ExpressionSyntaxError, ExpressionTypeError)):
            compile_expression(source, {"a": "int"})


def test_the_printer_adds_only_the_parentheses_precedence_needs():
    assert unparse(parse("(a + b) * c")) == "(a + b) * c"
    assert unparse(parse("a + (b * c)")) == "a + b * c"
    assert unparse(parse("a - (b - c)")) == "a - (b - c)"
    assert unparse(parse("(a ? b : c) ? d : e")) == "(a ? b : c) ? d : e"
    assert unparse(parse("-(a + b).size()")) == "-(a + b).size()"


def test_the_printer_keeps_a_number_literals_exact_digits():
    for source in ("1.50", "1e0", "0.000001", "1e-7", "1E+3"):
        tree = parse(source)
        assert parse(unparse(tree)).value.as_tuple() == tree.value.as_tuple()


@pytest.mark.parametrize(
    ("source", "code"),
    [
        ("9" * 5000, "expression_syntax.int_out_of_range"),
        ("9" * 5000 + ".5", "expression_syntax.number_out_of_range"),
        ("1e999999999999", "expression_syntax.number_out_of_range"),
        ("0x" + "F" * 17, "expression_syntax.int_out_of_range"),
    ],
)
def test_huge_number_literals_are_refused_when_parsed_without_converting_them(source, code):
    with pytest.raises(ExpressionSyntaxError) as err:
        parse(source)
    assert err.value.code == code


def test_a_tiny_number_literal_is_a_double_but_cannot_be_an_exact_decimal():
    tiny = "0." + "0" * 5000 + "1"
    assert compile_expression(tiny, {}).evaluate({}) == 0.0
    with pytest.raises(ExpressionTypeError) as err:
        compile_expression(f"amount > {tiny}", {"amount": "decimal(2)"})
    assert err.value.problems[0].code == "expression_type.number_out_of_range"
