"""Money: construction, arithmetic, comparison, rounding, division and minor units."""

import dataclasses
import pickle
from decimal import Decimal

import numpy as np
import pytest

from salesflow.errors import CurrencyMismatchError, InvalidValueError, UnknownCurrencyError
from salesflow.money import Currency, Money


def cny(amount):
    return Money(amount, "CNY")


# -- construction ------------------------------------------------------------------------


@pytest.mark.parametrize("amount", ["1234.57", 1234, Decimal("1234.57"), np.int64(7)])
def test_money_accepts_str_int_and_decimal_amounts(amount):
    assert cny(amount).amount == Decimal(str(amount))


def test_amount_keeps_its_digits_as_given():
    assert str(cny("1.50").amount) == "1.50"
    assert cny("0.035").amount == Decimal("0.035")


def test_currency_is_validated_and_normalised():
    money = Money("1", "usd")
    assert money.currency is Currency("USD")
    with pytest.raises(UnknownCurrencyError):
        Money("1", "XYZ")


def test_float_amount_is_refused_with_a_pointer_to_from_float():
    with pytest.raises(InvalidValueError) as info:
        Money(0.1, "CNY")  # type: ignore[arg-type]
    assert info.value.code == "money.float_refused"
    assert "Money.from_float" in info.value.message


@pytest.mark.parametrize(
    "amount", [Decimal("NaN"), Decimal("sNaN"), Decimal("Infinity"), Decimal("-Inf")]
)
def test_nan_and_infinity_are_refused(amount):
    with pytest.raises(InvalidValueError) as info:
        cny(amount)
    assert info.value.code == "money.not_finite"


@pytest.mark.parametrize(
    "amount", ["", "1e3", "1_000", " 1", "1.", ".5", "NaN", "1,000", "¥1", "١٢", "+-1"]
)
def test_amount_text_must_be_plain_decimal_notation(amount):
    with pytest.raises(InvalidValueError) as info:
        cny(amount)
    assert info.value.code == "money.invalid_amount"


@pytest.mark.parametrize("amount", [True, None, [1], object()])
def test_other_amount_types_are_refused(amount):
    with pytest.raises(InvalidValueError):
        cny(amount)


def test_negative_zero_is_stored_as_zero():
    assert str(cny("-0.00")) == "0.00 CNY"
    assert not cny("-0").amount.is_signed()


def test_money_is_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        cny("1").amount = Decimal(2)  # type: ignore[misc]


def test_money_survives_pickling():
    original = cny("1234.57")
    copy = pickle.loads(pickle.dumps(original))  # noqa: S301 - our own data
    assert copy == original
    assert copy.currency is Currency("CNY")


def test_from_float_reads_the_shortest_repr_and_rounds_with_the_named_mode():
    # 2.675 is stored as 2.67499999...; read as printed, half_up gives 2.68.
    assert Money.from_float(2.675, "CNY", rounding="half_up") == cny("2.68")
    assert Money.from_float(2.675, "CNY", rounding="half_even") == cny("2.68")
    assert Money.from_float(0.125, "USD", rounding="half_even") == Money("0.12", "USD")
    assert Money.from_float(1234.5678, "CNY", rounding="down", places=3) == cny("1234.567")


@pytest.mark.parametrize("value", [float("nan"), float("inf")])
def test_from_float_refuses_non_finite_values(value):
    with pytest.raises(InvalidValueError):
        Money.from_float(value, "CNY", rounding="half_up")


def test_zero_is_zero_in_the_currency():
    assert Money.zero("JPY") == Money("0", "JPY")


# -- equality and hashing -------------------------------------------------------------


def test_equality_is_numeric_and_hash_agrees():
    assert cny("1.0") == cny("1.00") == cny(1)
    assert hash(cny("1.0")) == hash(cny("1.00"))
    assert len({cny("1.0"), cny("1.00"), cny("1")}) == 1


def test_same_amount_in_different_currencies_is_not_equal():
    assert Money("1", "CNY") != Money("1", "USD")


def test_money_is_never_equal_to_a_bare_number():
    assert cny("1") != Decimal(1)
    assert cny("1") != 1


# -- arithmetic -----------------------------------------------------------------------


def test_addition_and_subtraction_within_one_currency():
    assert cny("1.10") + cny("2.20") == cny("3.30")
    assert cny("1.10") - cny("2.20") == cny("-1.10")


def test_mixing_currencies_raises_naming_both():
    with pytest.raises(CurrencyMismatchError) as info:
        cny("1") + Money("1", "USD")
    assert info.value.code == "money.currency_mismatch"
    assert "CNY" in info.value.message
    assert "USD" in info.value.message
    with pytest.raises(CurrencyMismatchError):
        cny("1") - Money("1", "USD")


def test_addition_is_exact_beyond_the_default_28_digit_context():
    big = cny("1" * 30 + ".01")
    assert (big + cny("0.01")).amount == Decimal("1" * 30 + ".02")
    assert (big * 10**10).amount == Decimal("1" * 30 + "0100000000")


def test_builtin_sum_works_from_its_zero_start():
    assert sum([cny("1.10"), cny("2.20"), cny("3.30")]) == cny("6.60")


def test_only_a_literal_zero_can_be_added_from_the_left():
    with pytest.raises(TypeError):
        1 + cny("1")  # type: ignore[operator]


def test_money_sum_adds_in_one_currency_and_gives_zero_for_none():
    assert Money.sum([], "CNY") == Money.zero("CNY")
    assert Money.sum(iter([cny("1"), cny("2.5")]), "cny") == cny("3.5")
    with pytest.raises(CurrencyMismatchError):
        Money.sum([cny("1"), Money("1", "USD")], "CNY")


def test_negation_and_absolute_value():
    assert -cny("1.5") == cny("-1.5")
    assert abs(cny("-1.5")) == cny("1.5")
    assert +cny("1.5") == cny("1.5")
    assert not (-cny("0")).amount.is_signed()


def test_multiplication_by_int_and_decimal_is_exact():
    assert cny("1234.57") * Decimal("0.035") == cny("43.20995")
    assert 3 * cny("0.10") == cny("0.30")
    assert cny("0.10") * 3 == cny("0.30")


def test_multiplication_by_float_is_refused():
    with pytest.raises(InvalidValueError) as info:
        cny("1") * 1.5  # type: ignore[operator]
    assert info.value.code == "money.float_refused"


def test_multiplication_by_money_is_not_defined():
    with pytest.raises(TypeError):
        cny("1") * cny("2")  # type: ignore[operator]


def test_multiplication_by_nan_is_refused():
    with pytest.raises(InvalidValueError):
        cny("1") * Decimal("NaN")


def test_division_by_a_number_is_exact_when_the_quotient_terminates():
    assert cny("100") / 8 == cny("12.5")
    assert cny("1.00") / Decimal("0.5") == cny("2")
    # 1 / 2**70 = 5**70 / 10**70: 70 decimals, beyond the default 28-digit context.
    assert cny("1") / 2**70 == cny("0." + str(5**70).zfill(70))


def test_division_without_an_exact_quotient_raises_instead_of_rounding():
    with pytest.raises(InvalidValueError) as info:
        cny("100") / 3
    assert info.value.code == "money.inexact_division"
    assert "divide" in info.value.message


def test_division_by_zero_raises_invalid_value_error():
    with pytest.raises(InvalidValueError) as info:
        cny("1") / 0
    assert info.value.code == "money.division_by_zero"
    with pytest.raises(InvalidValueError):
        cny("1") / cny("0")


def test_money_divided_by_money_is_a_decimal_ratio():
    assert cny("50") / cny("200") == Decimal("0.25")
    third = cny("1") / cny("3")
    assert isinstance(third, Decimal)
    assert third == Decimal("0." + "3" * 50)


def test_ratio_requires_one_currency():
    with pytest.raises(CurrencyMismatchError):
        cny("1") / Money("1", "USD")


def test_divide_rounds_the_exact_quotient_once():
    assert cny("100").divide(3, rounding="half_up") == cny("33.33")
    assert cny("100").divide(3, rounding="up") == cny("33.34")
    assert cny("-100").divide(3, rounding="floor") == cny("-33.34")
    # 113.00 / 1.13 (price with 13% VAT back to the net price) is exactly 100.
    assert cny("113.00").divide(Decimal("1.13"), rounding="half_up") == cny("100.00")
    assert cny("1").divide(8, rounding="half_even", places=2) == cny("0.12")


def test_divide_does_not_round_twice():
    assert cny("0.045").divide(3, rounding="half_up") == cny("0.02")  # exactly 0.015
    # 0.0149999666... rounds half_up to 0.01; rounding first to 3 places would give
    # 0.015, then 0.02.
    assert cny("0.0449999").divide(3, rounding="half_up") == cny("0.01")


# -- comparison -----------------------------------------------------------------------


def test_comparisons_within_one_currency():
    assert cny("1") < cny("2")
    assert cny("2") <= cny("2.00")
    assert cny("3") > cny("2")
    assert cny("2") >= cny("2")
    assert max([cny("1"), cny("3"), cny("2")]) == cny("3")


@pytest.mark.parametrize("compare", ["__lt__", "__le__", "__gt__", "__ge__"])
def test_comparing_currencies_raises(compare):
    with pytest.raises(CurrencyMismatchError):
        getattr(cny("1"), compare)(Money("2", "USD"))


def test_comparing_with_a_number_is_not_defined():
    with pytest.raises(TypeError):
        assert cny("1") < 2  # type: ignore[operator]


# -- rounding and minor units ---------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "mode", "expected"),
    [
        ("1.005", "half_up", "1.01"),
        ("-1.005", "half_up", "-1.01"),
        ("1.005", "half_even", "1.00"),
        ("1.015", "half_even", "1.02"),
        ("1.005", "half_down", "1.00"),
        ("1.009", "down", "1.00"),
        ("-1.009", "down", "-1.00"),
        ("1.001", "up", "1.01"),
        ("-1.001", "up", "-1.01"),
        ("-1.001", "floor", "-1.01"),
        ("1.001", "ceiling", "1.01"),
        ("-1.009", "ceiling", "-1.00"),
    ],
)
def test_round_applies_the_named_mode_at_the_minor_unit(amount, mode, expected):
    assert str(cny(amount).round(rounding=mode).amount) == expected


def test_round_to_the_currency_minor_unit_by_default():
    assert Money("1234.5", "JPY").round(rounding="half_up") == Money("1235", "JPY")
    assert Money("1.23456", "KWD").round(rounding="half_up") == Money("1.235", "KWD")


def test_round_to_other_places_including_negative_ones():
    assert cny("1.23456").round(rounding="half_up", places=4) == cny("1.2346")
    assert cny("123456").round(rounding="half_up", places=-3) == cny("123000")
    assert cny("-0.001").round(rounding="half_up") == cny("0")
    assert not cny("-0.001").round(rounding="half_up").amount.is_signed()


def test_unknown_rounding_mode_is_refused_with_the_list_of_modes():
    with pytest.raises(InvalidValueError) as info:
        cny("1.005").round(rounding="bankers")  # type: ignore[arg-type]
    assert info.value.code == "money.unknown_rounding"
    assert "'half_even'" in info.value.message


def test_is_on_minor_unit():
    assert cny("1.23").is_on_minor_unit()
    assert cny("1.230").is_on_minor_unit()
    assert cny("5").is_on_minor_unit()
    assert not cny("1.235").is_on_minor_unit()
    assert not Money("0.5", "JPY").is_on_minor_unit()


def test_to_minor_units_is_exact_or_refuses():
    assert cny("1234.57").to_minor_units() == 123457
    assert Money("1234", "JPY").to_minor_units() == 1234
    assert Money("-1.234", "KWD").to_minor_units() == -1234
    assert cny("1" * 30).to_minor_units() == int("1" * 30 + "00")
    with pytest.raises(InvalidValueError) as info:
        cny("0.125").to_minor_units()
    assert info.value.code == "money.not_on_minor_unit"


def test_to_minor_units_rounds_when_asked():
    assert cny("0.125").to_minor_units(rounding="half_even") == 12
    assert cny("0.125").to_minor_units(rounding="half_up") == 13


def test_from_minor_units_places_the_decimal_point_by_currency():
    assert Money.from_minor_units(123457, "CNY") == cny("1234.57")
    assert str(Money.from_minor_units(123457, "CNY").amount) == "1234.57"
    assert Money.from_minor_units(-5, "JPY") == Money("-5", "JPY")
    assert Money.from_minor_units(1, "KWD") == Money("0.001", "KWD")
    assert Money.from_minor_units(np.int64(7), "CNY") == cny("0.07")


@pytest.mark.parametrize("units", [1.0, "5", True])
def test_from_minor_units_takes_integers_only(units):
    with pytest.raises(InvalidValueError):
        Money.from_minor_units(units, "CNY")  # type: ignore[arg-type]
