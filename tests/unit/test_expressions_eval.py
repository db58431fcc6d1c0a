"""Evaluating expressions: semantics, in both evaluators, and the inputs they accept."""

import datetime as dt
import decimal
import pickle
import threading
from decimal import Decimal

import numpy as np
import pytest

from salesflow.errors import EvaluationError, InvalidValueError
from salesflow.expressions import Column, compile_expression

from strategies.expressions import to_columns

INT64_MAX = 2**63 - 1
INT64_MIN = -(2**63)
UTC = dt.UTC


def both(source, schema=None, row=None):
    """Evaluate one row with each evaluator; return the shared outcome.

    The outcome is the value, or the EvaluationError's code when both fail.
    """
    schema = schema or {}
    row = row or {}
    expr = compile_expression(source, schema)
    try:
        scalar = expr.evaluate(row)
    except EvaluationError as err:
        scalar = err.code
    columns = to_columns(schema, [row], object_strings=False)
    try:
        vectorized = expr.evaluate_columns(columns, size=1).to_list()[0]
    except EvaluationError as err:
        vectorized = err.code
    assert scalar == vectorized or (scalar != scalar and vectorized != vectorized)  # noqa: PLR0124 - NaN
    return scalar


# -- integers ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("-7 / 2", -3),  # CEL truncates toward zero
        ("7 / -2", -3),
        ("-7 % 3", -1),  # the remainder takes the dividend's sign
        ("7 % -3", 1),
        ("-9223372036854775808 % -1", 0),
        ("9223372036854775806 + 1", INT64_MAX),
        ("(4611686018427387904 - 1) * 2", 2**63 - 2),
        ("-4611686018427387904 * 2", INT64_MIN),
        ("abs(-9223372036854775807)", INT64_MAX),
    ],
)
def test_int_arithmetic_is_cel_int64_arithmetic(source, expected):
    assert both(source) == expected


@pytest.mark.parametrize(
    "source",
    [
        "9223372036854775807 + 1",
        "-9223372036854775808 - 1",
        "4611686018427387904 * 2",
        "3037000500 * 3037000500",
        "-9223372036854775808 / -1",
        "-(-9223372036854775808)",
        "abs(-9223372036854775808)",
    ],
)
def test_int64_overflow_is_an_error_in_both_evaluators_never_a_wrap_around(source):
    assert both(source) == "evaluation.overflow"


@pytest.mark.parametrize("source", ["n / 0", "n % 0", "double(n) / 0.0"])
def test_division_and_modulo_by_zero_are_errors_in_both_evaluators(source):
    assert both(source, {"n": "int"}, {"n": 5}) == "evaluation.division_by_zero"


def test_an_error_carries_the_operators_position():
    expr = compile_expression("1 +\n  n / 0", {"n": "int"}, path="rules[0]")
    with pytest.raises(EvaluationError) as err:
        expr.evaluate({"n": 1})
    assert str(err.value.location) == "rules[0] line 2, column 5"


# -- decimals and doubles ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "op", "literal", "expected"),
    [
        ("1000.50", ">", "1000.50", False),
        ("1000.51", ">", "1000.50", True),
        ("1000.50", ">", "1000.505", False),  # more places than the field: compared exactly
        ("1000.51", ">", "1000.505", True),
        ("1000.50", "<", "1000.505", True),
        ("1000.51", "<=", "1000.505", False),
        ("1000.50", "==", "1000.505", False),
        ("1000.50", "!=", "1000.505", True),
        ("1000.50", ">=", "1000.5", True),
        ("1000.50", "==", "1000.500000", True),
    ],
)
def test_decimal_comparisons_with_literals_are_exact(amount, op, literal, expected):
    row = {"amount": Decimal(amount)}
    assert both(f"amount {op} {literal}", {"amount": "decimal(2)"}, row) is expected


def test_a_literal_beyond_what_the_field_can_hold_compares_as_larger_than_every_value():
    schema = {"amount": "decimal(4)"}
    largest = {"amount": Decimal(2**63 - 1).scaleb(-4)}
    assert both("amount < 99999999999999999.5", schema, largest) is True
    assert both("amount >= 99999999999999999.5", schema, largest) is False


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("3", "3.00", [False, True, False]),
        ("3", "3.01", [True, False, False]),
        ("-3", "-3.01", [False, False, True]),
    ],
)
def test_decimals_of_different_scales_compare_exactly(a, b, expected):
    schema = {"a": "decimal(0)", "b": "decimal(2)"}
    row = {"a": Decimal(a), "b": Decimal(b)}
    assert [both(f"a {op} b", schema, row) for op in ("<", "==", ">")] == expected


def test_decimal_arithmetic_is_exact_and_keeps_its_static_scale():
    schema = {"amount": "decimal(2)", "rate": "decimal(4)"}
    row = {"amount": Decimal("1500.50"), "rate": Decimal("0.0825")}
    result = both("amount * rate + amount", schema, row)
    assert result == Decimal("1624.291250")
    assert result.as_tuple().exponent == -6


def test_decimal_results_ignore_the_hosts_decimal_context():
    expr = compile_expression("amount * 3", {"amount": "decimal(2)"})
    with decimal.localcontext() as ctx:
        ctx.prec = 3
        assert expr.evaluate({"amount": Decimal("1234.56")}) == Decimal("3703.68")


def test_decimal_overflow_of_the_scaled_int64_is_an_error():
    schema = {"amount": "decimal(2)"}
    big = Decimal(INT64_MAX).scaleb(-2)
    assert both("amount + 0.01", schema, {"amount": big}) == "evaluation.overflow"
    assert both("amount - 0.01", schema, {"amount": big}) == big - Decimal("0.01")


def test_a_rescaled_sum_is_exact_even_when_an_operand_alone_would_overflow():
    # 10**17 at scale 2 needs 10**19 > int64; the sum with -9 * 10**16 fits.
    schema = {"a": "decimal(0)", "b": "decimal(2)"}
    row = {"a": Decimal(10**17), "b": Decimal(-(9 * 10**16))}
    assert both("a + b", schema, row) == Decimal(10**16)


def test_int_widens_to_decimal_and_to_double():
    assert both("amount + 1", {"amount": "decimal(2)"}, {"amount": Decimal("0.5")}) == Decimal(
        "1.50"
    )
    assert both("rate + 1", {"rate": "double"}, {"rate": 0.5}) == 1.5


def test_double_arithmetic_is_ieee_in_both_evaluators():
    assert both("0.1 + 0.2") == 0.30000000000000004


def test_min_and_max_of_doubles_are_nan_when_either_is_nan():
    schema = {"x": "double"}
    result = both("min(x, 1.0)", schema, {"x": float("nan")})
    assert result != result  # noqa: PLR0124 - NaN


def test_int_of_a_double_truncates_and_refuses_what_int64_cannot_hold():
    assert both("int(-2.7)") == -2
    assert both("int(1e19)") == "evaluation.overflow"
    assert both("int(x)", {"x": "double"}, {"x": float("inf")}) == "evaluation.overflow"


def test_double_of_a_decimal_is_correctly_rounded():
    assert both('double(decimal("0.1"))') == 0.1
    schema = {"a": "decimal(3)"}
    assert both("double(a)", schema, {"a": Decimal("9007199254740993.123")}) == float(
        Decimal("9007199254740993.123")
    )


# -- nulls --------------------------------------------------------------------------------

_KLEENE = [None, True, False]


@pytest.mark.parametrize("a", _KLEENE)
@pytest.mark.parametrize("b", _KLEENE)
def test_and_or_follow_sqls_three_valued_logic(a, b):
    schema = {"a": "bool?", "b": "bool?"}
    row = {"a": a, "b": b}
    expected_and = False if False in (a, b) else None if None in (a, b) else True
    expected_or = True if True in (a, b) else None if None in (a, b) else False
    assert both("a && b", schema, row) is expected_and
    assert both("a || b", schema, row) is expected_or


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("!a", None),
        ("n > 1", None),
        ("n + 1", None),
        ("n == null", True),
        ("n != null", False),
        ("a ? 1 : 2", None),
        ("n in [1, 2]", None),
        ("size(s)", None),
    ],
)
def test_null_propagates_and_only_equality_with_null_tests_for_it(source, expected):
    schema = {"a": "bool?", "n": "int?", "s": "string?"}
    assert both(source, schema, {"a": None, "n": None, "s": None}) is expected


def test_a_null_list_item_never_matches():
    schema = {"n": "int", "m": "int?"}
    assert both("n in [m, 3]", schema, {"n": 1, "m": None}) is False
    assert both("n in [m, 1]", schema, {"n": 1, "m": None}) is True


def test_a_condition_that_is_null_does_not_match():
    expr = compile_expression("n > 1", {"n": "int?"})
    assert expr.matches({"n": None}) is False
    columns = {"n": np.ma.masked_array([5, 0], mask=[False, True])}
    assert expr.mask(columns).tolist() == [True, False]


# -- errors and short circuits --------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("false && n / 0 == 1", False),
        ("n / 0 == 1 && false", False),  # CEL: the deciding side absorbs the error
        ("true || n / 0 == 1", True),
        ("n / 0 == 1 || true", True),
        ("true && n / 0 == 1", "evaluation.division_by_zero"),
        ("z && n / 0 == 1", "evaluation.division_by_zero"),
        ("true ? 1 : n / 0", 1),
        ("n != 0 && 10 / n > 1", False),
    ],
)
def test_errors_are_absorbed_only_where_the_other_side_decides(source, expected):
    assert both(source, {"n": "int", "z": "bool?"}, {"n": 0, "z": None}) == expected


def test_vectorized_errors_name_the_first_failing_row_with_the_scalar_message():
    expr = compile_expression("10 / n", {"n": "int"})
    with pytest.raises(EvaluationError) as err:
        expr.evaluate_columns({"n": np.array([5, 2, 0, 0])})
    assert err.value.message == "row 2: division by zero"
    assert err.value.code == "evaluation.division_by_zero"


# -- time ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("72h", dt.timedelta(hours=72)),
        ("1h30m", dt.timedelta(minutes=90)),
        ("-1.5h", dt.timedelta(minutes=-90)),
        ("2d", dt.timedelta(days=2)),
        ("90s", dt.timedelta(seconds=90)),
        ("250ms", dt.timedelta(milliseconds=250)),
        ("0", dt.timedelta(0)),
    ],
)
def test_duration_literals_use_cels_units_plus_days(text, expected):
    assert both(f'duration("{text}")') == expected


def test_dates_move_by_whole_days_and_subtract_to_durations():
    schema = {"d": "date"}
    row = {"d": dt.date(2026, 3, 31)}
    assert both('d + duration("2d")', schema, row) == dt.date(2026, 4, 2)
    assert both('d - duration("48h")', schema, row) == dt.date(2026, 3, 29)
    assert both('d + duration("36h")', schema, row) == "evaluation.not_whole_days"
    assert both('d - date("2026-01-01")', schema, row) == dt.timedelta(days=89)


def test_leaving_the_calendar_is_an_error():
    schema = {"d": "date"}
    assert both('d + duration("2d")', schema, {"d": dt.date(9999, 12, 31)}) == "evaluation.overflow"


def test_timestamps_are_instants_in_utc():
    schema = {"t": "timestamp"}
    local = dt.datetime(2026, 3, 31, 18, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    result = both('t + duration("1h30m")', schema, {"t": local})
    assert result == dt.datetime(2026, 3, 31, 11, 30, tzinfo=UTC)
    assert result.tzinfo is UTC
    assert both('t > timestamp("2026-03-31T09:59:59Z")', schema, {"t": local}) is True


# -- strings --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("s.lowerAscii()", "àb华x"),
        ("s.upperAscii()", "àB华X"),
        ("size(s)", 4),
        ('s.startsWith("àB")', True),
        ('s.endsWith("华x")', True),
        ('s.contains("B华")', True),
        ('s.contains("")', True),
        ('s + "!"', "àB华x!"),
        ("string(42) + string(true) + string(date('2026-03-31'))", "42true2026-03-31"),
    ],
)
def test_string_functions_count_code_points_and_change_ascii_case_only(source, expected):
    assert both(source, {"s": "string"}, {"s": "àB华x"}) == expected


# -- rows in ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spelling", "value"),
    [
        ("int", True),
        ("int", 1.0),
        ("int", 2**63),
        ("double", Decimal("1.5")),
        ("decimal(2)", Decimal("1.005")),
        ("decimal(2)", 1.5),
        ("string", 5),
        ("date", dt.datetime(2026, 1, 1, tzinfo=UTC)),
        ("timestamp", dt.datetime(2026, 1, 1)),  # noqa: DTZ001 - naive: which instant is it?
        ("duration", 5),
        ("bool", 1),
        ("int", None),
    ],
)
def test_a_row_value_of_the_wrong_type_is_refused_naming_the_field(spelling, value):
    expr = compile_expression("v == v", {"v": spelling})
    with pytest.raises(EvaluationError) as err:
        expr.evaluate({"v": value})
    assert err.value.code == "evaluation.bad_value"
    assert "'v'" in err.value.message


@pytest.mark.parametrize(
    ("spelling", "value", "expected"),
    [
        ("int", np.int64(7), 7),
        ("double", 3, 3.0),
        ("decimal(2)", 3, Decimal("3.00")),
        ("decimal(2)", Decimal("1.500"), Decimal("1.50")),
        ("bool", np.bool_(1), True),
    ],
)
def test_equivalent_row_values_are_accepted(spelling, value, expected):
    result = compile_expression("v", {"v": spelling}).evaluate({"v": value})
    assert result == expected
    assert type(result) is type(expected)


def test_a_missing_field_is_named_even_when_its_branch_is_not_taken():
    expr = compile_expression("true || a > 1", {"a": "int"})
    with pytest.raises(EvaluationError) as err:
        expr.evaluate({})
    assert err.value.code == "evaluation.missing_field"
    assert "'a'" in err.value.message


# -- columns in and out ---------------------------------------------------------------------------


def test_columns_of_the_wrong_dtype_are_refused_once_per_call():
    expr = compile_expression("d > date('2026-01-01')", {"d": "date"})
    with pytest.raises(EvaluationError) as err:
        expr.evaluate_columns({"d": np.array(["2026-01-02"], dtype="datetime64[ns]")})
    assert "expected datetime64[D]" in err.value.message


@pytest.mark.parametrize(
    ("columns", "fragment"),
    [
        ({}, "missing"),
        ({"n": np.array([1.5])}, "expected int64"),
        ({"n": np.array([[1]])}, "1-dimensional"),
        ({"n": np.ma.masked_array([1, 2], mask=[0, 1])}, "not nullable"),
        ({"n": np.array([1, 2]), "s": np.array(["a"])}, "1 rows, expected 2"),
        ({"n": np.array([1]), "s": np.array([3], dtype=object)}, "expected a str"),
    ],
)
def test_bad_columns_are_refused_naming_the_column(columns, fragment):
    expr = compile_expression("n > 1 && s == 'a'", {"n": "int", "s": "string"})
    with pytest.raises(EvaluationError, match=fragment):
        expr.evaluate_columns(columns)


def test_object_string_columns_carry_nulls_as_none():
    expr = compile_expression('s + "!"', {"s": "string?"})
    column = expr.evaluate_columns({"s": np.array(["a", None], dtype=object)})
    assert column.to_list() == ["a!", None]


def test_results_come_back_in_the_documented_dtypes_with_a_null_mask():
    schema = {"d": "date?", "n": "int"}
    expr = compile_expression('d + duration("1d")', schema)
    column = expr.evaluate_columns(
        {"d": np.array(["2026-03-31", "NaT"], dtype="datetime64[D]"), "n": np.array([1, 2])}
    )
    assert column.values.dtype == np.dtype("datetime64[D]")
    assert column.nulls.tolist() == [False, True]
    assert column.to_list() == [dt.date(2026, 4, 1), None]
    assert np.isnat(column.values[1])


def test_decimal_results_are_scaled_int64_with_their_scale():
    expr = compile_expression("amount * 1.5", {"amount": "decimal(2)"})
    column = expr.evaluate_columns({"amount": np.array([1001, -3])})
    assert (column.values.dtype, column.scale) == (np.dtype(np.int64), 3)
    assert column.values.tolist() == [15015, -45]
    assert column.to_list() == [Decimal("15.015"), Decimal("-0.045")]


def test_an_expression_without_fields_needs_a_size_for_columns():
    expr = compile_expression("1 + 1", {})
    assert expr.evaluate_columns({}, size=3).values.tolist() == [2, 2, 2]
    with pytest.raises(InvalidValueError):
        expr.evaluate_columns({})


def test_a_column_result_can_be_fed_back_as_an_input():
    doubled = compile_expression("amount * 2", {"amount": "decimal(2)"}).evaluate_columns(
        {"amount": np.array([150])}
    )
    assert isinstance(doubled, Column)
    check = compile_expression("total > 2.5", {"total": "decimal(2)"})
    assert check.mask({"total": doubled}).tolist() == [True]


# -- the API ---------------------------------------------------------------------------------


def test_matches_and_mask_are_for_conditions_only():
    expr = compile_expression("n + 1", {"n": "int"})
    with pytest.raises(InvalidValueError):
        expr.matches({"n": 1})
    with pytest.raises(InvalidValueError):
        expr.mask({"n": np.array([1])})


def test_compiled_expressions_report_their_source_type_and_fields():
    expr = compile_expression(
        "amount > 1 && region == 'east'", {"amount": "int", "region": "string", "x": "int"}
    )
    assert expr.source == "amount > 1 && region == 'east'"
    assert expr.names == frozenset({"amount", "region"})
    assert repr(expr) == "Expression(\"amount > 1 && region == 'east'\", type='bool')"


def test_compiled_expressions_pickle_and_still_evaluate():
    expr = compile_expression("amount > 1000.50", {"amount": "decimal(2)"}, path="rule.when")
    copy = pickle.loads(pickle.dumps(expr))  # noqa: S301 - our own object
    assert copy.matches({"amount": Decimal("1000.51")})
    assert copy.source == expr.source


def test_one_compiled_expression_serves_many_threads():
    expr = compile_expression("n * 2 + 1", {"n": "int"})
    results: dict[int, list[int]] = {}

    def work(k):
        results[k] = [expr.evaluate({"n": k * 1000 + i}) for i in range(500)]

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(results[k] == [(k * 1000 + i) * 2 + 1 for i in range(500)] for k in range(4))


def test_the_source_must_be_text():
    with pytest.raises(InvalidValueError):
        compile_expression(b"1 + 1", {})  # type: ignore[arg-type]
