"""Largest-remainder (Hamilton) allocation: the scalar reference."""

from decimal import Decimal
from fractions import Fraction

import pytest

from salesflow.errors import InvalidValueError
from salesflow.money import Money, allocate, allocate_equal, allocate_units


def cny(amount):
    return Money(amount, "CNY")


def test_textbook_example_of_the_largest_remainder_method():
    # Wikipedia, "Largest remainder method", Hare quota example: 10 seats over
    # 47,000 / 16,000 / 15,800 / 12,000 / 6,100 / 3,100 votes gives 5 2 1 1 1 0.
    votes = [47_000, 16_000, 15_800, 12_000, 6_100, 3_100]
    assert allocate_units(10, votes) == [5, 2, 1, 1, 1, 0]


def test_a_hundred_yuan_in_three_equal_parts_gives_the_extra_fen_to_the_first():
    assert allocate_equal(cny("100.00"), 3) == [cny("33.34"), cny("33.33"), cny("33.33")]


def test_parts_sum_exactly_to_the_total():
    parts = allocate(cny("1000000.01"), [Decimal("0.3"), Decimal("0.3"), Decimal("0.4")])
    assert sum(parts) == cny("1000000.01")
    # Quotas 300000.003, 300000.003, 400000.004: floors leave 1 fen for the largest
    # remainder, 0.004 fen on the third.
    assert parts == [cny("300000.00"), cny("300000.00"), cny("400000.01")]


def test_ties_in_remainder_go_to_the_lower_index():
    assert allocate_units(2, [1, 1, 1]) == [1, 1, 0]
    assert allocate_units(1, [2, 1, 1]) == [1, 0, 0]
    assert allocate_units(2, [1, 2, 1, 2]) == [0, 1, 0, 1]  # 1/3, 2/3, 1/3, 2/3


def test_zero_weight_gets_exactly_zero():
    assert allocate_units(10, [0, 1, 0, 1, 0]) == [0, 5, 0, 5, 0]
    assert allocate_units(1, [0, 1, 1]) == [0, 1, 0]


def test_negative_total_is_the_mirror_of_the_positive_one():
    assert allocate_units(-10, [1, 1, 1]) == [-4, -3, -3]
    assert allocate(cny("-100.00"), [1, 1, 1]) == [cny("-33.34"), cny("-33.33"), cny("-33.33")]


def test_zero_total_gives_zero_parts():
    assert allocate_units(0, [1, 2, 3]) == [0, 0, 0]


def test_weights_may_be_decimals_and_fractions_exactly():
    # 1/3 and 0.5: quotas 40 and 60 of 100 exactly (weights 2/6 and 3/6).
    assert allocate_units(100, [Fraction(1, 3), Decimal("0.5")]) == [40, 60]
    assert allocate_units(100, [Decimal("0.1"), Decimal("0.2"), Decimal("0.7")]) == [10, 20, 70]


def test_allocate_works_in_the_currency_minor_unit():
    assert allocate(Money("100", "JPY"), [1, 1, 1]) == [
        Money("34", "JPY"),
        Money("33", "JPY"),
        Money("33", "JPY"),
    ]
    assert allocate(Money("1.000", "KWD"), [1, 2]) == [Money("0.333", "KWD"), Money("0.667", "KWD")]


def test_allocated_amounts_are_written_on_the_minor_unit():
    assert [str(part.amount) for part in allocate(cny("10"), [1, 1])] == ["5.00", "5.00"]


def test_total_off_the_minor_unit_must_be_rounded_first():
    with pytest.raises(InvalidValueError) as info:
        allocate(cny("100.005"), [1, 1])
    assert info.value.code == "money.not_on_minor_unit"
    assert "round" in info.value.message


def test_allocate_takes_money_only():
    with pytest.raises(InvalidValueError):
        allocate(100, [1, 1])  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("weights", "code", "index"),
    [
        ([1, -1, 2], "money.negative_weight", 1),
        ([Decimal(1), Decimal("-0.5")], "money.negative_weight", 1),
        ([1, Decimal("NaN")], "money.invalid_weight", 1),
        ([Decimal("Infinity")], "money.invalid_weight", 0),
        ([1, 2, 0.5], "money.invalid_weight", 2),
        ([True, 1], "money.invalid_weight", 0),
        (["1", 1], "money.invalid_weight", 0),
        ([1, Fraction(-1, 2)], "money.negative_weight", 1),
    ],
)
def test_bad_weight_raises_naming_its_index(weights, code, index):
    with pytest.raises(InvalidValueError) as info:
        allocate_units(10, weights)
    assert info.value.code == code
    assert info.value.path == f"weights[{index}]"
    assert f"weights[{index}]" in info.value.message


def test_no_weights_is_an_error():
    with pytest.raises(InvalidValueError) as info:
        allocate_units(10, [])
    assert info.value.code == "money.empty_weights"


def test_all_zero_weights_is_an_error():
    with pytest.raises(InvalidValueError) as info:
        allocate_units(10, [0, Decimal(0), Fraction(0)])
    assert info.value.code == "money.zero_weights"


@pytest.mark.parametrize("weights", ["123", 5, {1, 2}])
def test_weights_must_be_a_sequence(weights):
    with pytest.raises(InvalidValueError):
        allocate_units(10, weights)  # type: ignore[arg-type]


@pytest.mark.parametrize("total", [1.5, Decimal(10), True, "10"])
def test_allocate_units_total_must_be_an_int(total):
    with pytest.raises(InvalidValueError):
        allocate_units(total, [1, 1])  # type: ignore[arg-type]


@pytest.mark.parametrize("parts", [0, -1, 1.5, True])
def test_allocate_equal_needs_a_positive_count(parts):
    with pytest.raises(InvalidValueError) as info:
        allocate_equal(cny("1"), parts)  # type: ignore[arg-type]
    assert info.value.code == "money.invalid_count"


def test_huge_totals_are_exact():
    total = 10**40 + 1
    parts = allocate_units(total, [1, 1])
    assert parts == [5 * 10**39 + 1, 5 * 10**39]
