"""numpy paths: int64 minor units, scaled weights, allocation of one or many totals."""

from decimal import Decimal
from fractions import Fraction

import numpy as np
import pytest

from salesflow.errors import CurrencyMismatchError, InvalidValueError, MoneyOverflowError
from salesflow.money import (
    Money,
    allocate_array,
    allocate_grouped,
    allocate_units,
    from_minor_units_array,
    scale_weights,
    to_minor_units_array,
)
from salesflow.money import _vectorized as vectorized

INT64_MAX = 2**63 - 1
INT64_MIN = -(2**63)


def groupwise_reference(totals, weights, groups):
    """allocate_units per group, written out plainly."""
    parts = [0] * len(weights)
    for group, total in enumerate(totals):
        positions = [i for i, g in enumerate(groups) if g == group]
        for position, part in zip(
            positions, allocate_units(int(total), [int(weights[i]) for i in positions]), strict=True
        ):
            parts[position] = part
    return parts


# -- minor units ----------------------------------------------------------------------


def test_to_minor_units_array_converts_money_decimals_strings_and_ints():
    amounts = [Money("1234.57", "CNY"), Decimal("-0.01"), "3.5", 2]
    result = to_minor_units_array(amounts, "CNY")
    assert result.dtype == np.int64
    assert result.tolist() == [123457, -1, 350, 200]


def test_to_minor_units_array_of_nothing_is_an_empty_int64_array():
    result = to_minor_units_array([], "JPY")
    assert result.dtype == np.int64
    assert result.shape == (0,)


def test_to_minor_units_array_refuses_amounts_between_minor_units_naming_the_index():
    with pytest.raises(InvalidValueError) as info:
        to_minor_units_array(["1", "1.005"], "CNY")
    assert info.value.code == "money.not_on_minor_unit"
    assert info.value.path == "amounts[1]"


def test_to_minor_units_array_rounds_when_told_how():
    assert to_minor_units_array(["1.005", "-1.005"], "CNY", rounding="half_up").tolist() == [
        101,
        -101,
    ]


def test_to_minor_units_array_names_the_index_and_value_that_overflows_int64():
    limit = Decimal(INT64_MAX).scaleb(-2)  # 92233720368547758.07 CNY is the largest
    assert to_minor_units_array([limit], "CNY").tolist() == [INT64_MAX]
    with pytest.raises(MoneyOverflowError) as info:
        to_minor_units_array(["1", limit + Decimal("0.01")], "CNY")
    assert info.value.path == "amounts[1]"
    assert "92233720368547758.08" in info.value.message
    with pytest.raises(MoneyOverflowError):
        to_minor_units_array([-limit - Decimal("0.02")], "CNY")
    assert to_minor_units_array([-limit - Decimal("0.01")], "CNY").tolist() == [INT64_MIN]


def test_to_minor_units_array_refuses_money_in_another_currency():
    with pytest.raises(CurrencyMismatchError) as info:
        to_minor_units_array([Money("1", "USD")], "CNY")
    assert info.value.path == "amounts[0]"


def test_to_minor_units_array_refuses_floats():
    with pytest.raises(InvalidValueError) as info:
        to_minor_units_array([1.5], "CNY")  # type: ignore[list-item]
    assert info.value.code == "money.float_refused"


def test_from_minor_units_array_gives_money_back():
    assert from_minor_units_array(np.array([123457, -1], dtype=np.int64), "CNY") == [
        Money("1234.57", "CNY"),
        Money("-0.01", "CNY"),
    ]
    assert from_minor_units_array([5], "KWD") == [Money("0.005", "KWD")]


def test_from_minor_units_array_needs_integers():
    with pytest.raises(InvalidValueError):
        from_minor_units_array(np.array([1.5]), "CNY")


# -- scale_weights --------------------------------------------------------------------


def test_scale_weights_gives_the_smallest_exact_integers_in_the_same_ratios():
    assert scale_weights([Decimal("0.25"), Decimal("0.5"), Decimal("0.125")]).tolist() == [2, 4, 1]
    assert scale_weights([Decimal("0.1"), 2]).tolist() == [1, 20]
    assert scale_weights([Fraction(1, 3), Fraction(1, 2)]).tolist() == [2, 3]
    assert scale_weights([0, 0]).tolist() == [0, 0]
    assert scale_weights([]).tolist() == []


def test_scale_weights_result_allocates_like_the_original_weights():
    weights = [Decimal("0.333"), Decimal("0.3331"), Decimal("0.1"), 0]
    assert allocate_array(1000, scale_weights(weights)).tolist() == allocate_units(1000, weights)


def test_scale_weights_refuses_bad_weights_naming_the_index():
    with pytest.raises(InvalidValueError) as info:
        scale_weights([Decimal(1), Decimal(-1)])
    assert info.value.path == "weights[1]"


def test_scale_weights_names_the_weight_that_overflows_int64():
    with pytest.raises(MoneyOverflowError) as info:
        scale_weights([Decimal("1E-30"), Decimal(1)])
    assert info.value.path == "weights[1]"


# -- allocate_array and allocate_grouped ------------------------------------------------


def test_allocate_array_matches_allocate_units():
    assert allocate_array(1000, np.array([1, 1, 1])).tolist() == [334, 333, 333]
    assert allocate_array(10, [47_000, 16_000, 15_800, 12_000, 6_100, 3_100]).tolist() == [
        5,
        2,
        1,
        1,
        1,
        0,
    ]
    assert allocate_array(-10, np.array([1, 1, 1])).tolist() == [-4, -3, -3]


def test_allocate_grouped_splits_each_total_over_its_own_unsorted_weights():
    totals = np.array([100, -10], dtype=np.int64)
    weights = np.array([1, 1, 1, 2, 1], dtype=np.int64)
    groups = np.array([0, 1, 0, 1, 0])
    # group 0: 100 over 1, 1, 1 at positions 0, 2, 4 -> 34, 33, 33
    # group 1: -10 over 1, 2 at positions 1, 3 -> -3, -7
    assert allocate_grouped(totals, weights, groups).tolist() == [34, -3, 33, -7, 33]


def test_allocate_grouped_tie_break_is_position_within_the_group():
    totals = np.array([2, 2])
    weights = np.array([1, 1, 1, 1, 1, 1])
    groups = np.array([1, 0, 1, 0, 1, 0])
    # each group: 2 units over three equal weights -> its first two positions get one
    assert allocate_grouped(totals, weights, groups).tolist() == [1, 1, 1, 1, 0, 0]


def test_allocate_grouped_at_the_int64_limits_matches_the_reference():
    totals = [INT64_MAX, INT64_MIN, INT64_MIN, INT64_MAX - 1, 2**62, 7]
    weights = [1, 1, 2, 2**62, 2**62 - 1, 3, 2**61, 1, 2**40, 2**40 + 1, 5, 2**62, 2**62]
    groups = [0, 0, 1, 2, 2, 2, 3, 3, 4, 4, 4, 5, 5]
    got = allocate_grouped(np.array(totals), np.array(weights), np.array(groups))
    assert got.tolist() == groupwise_reference(totals, weights, groups)


def test_allocate_grouped_of_nothing_is_empty():
    assert (
        allocate_grouped(
            np.array([], dtype=np.int64), np.array([], dtype=np.int64), np.array([], dtype=np.intp)
        ).tolist()
        == []
    )


@pytest.mark.parametrize(
    ("weights", "groups", "code", "path"),
    [
        ([1, -2, 3], [0, 0, 1], "money.negative_weight", "weights[1]"),
        ([1, 2, 3], [0, 2, 1], "money.invalid_group", "groups[1]"),
        ([1, 2, 3], [0, -1, 1], "money.invalid_group", "groups[1]"),
        ([1, 2, 3], [0, 0, 0], "money.empty_weights", "totals[1]"),
        ([1, 0, 0], [0, 1, 1], "money.zero_weights", "totals[1]"),
    ],
)
def test_allocate_grouped_names_the_offending_position_or_group(weights, groups, code, path):
    with pytest.raises(InvalidValueError) as info:
        allocate_grouped(np.array([10, 10]), np.array(weights), np.array(groups))
    assert info.value.code == code
    assert info.value.path == path


def test_zero_weights_found_even_where_an_int64_sum_would_wrap_to_zero():
    # 4 * 2**62 = 2**64 wraps to 0 in int64; the group is not all zeros.
    weights = np.array([2**62] * 4, dtype=np.int64)
    got = allocate_grouped(np.array([10]), weights, np.zeros(4, dtype=np.intp))
    assert got.tolist() == [3, 3, 2, 2]


@pytest.mark.parametrize(
    ("totals", "weights", "groups"),
    [
        (np.array([[1]]), np.array([1]), np.array([0])),
        (np.array([1]), np.array([1.0]), np.array([0])),
        (np.array([1]), np.array([True]), np.array([0])),
        (np.array([1]), np.array([1, 1]), np.array([0])),
        (np.array([1]), np.array([1]), np.array([0.0])),
    ],
)
def test_allocate_grouped_refuses_arrays_of_the_wrong_shape_or_dtype(totals, weights, groups):
    with pytest.raises(InvalidValueError):
        allocate_grouped(totals, weights, groups)


def test_uint64_weights_beyond_int64_are_an_overflow_error():
    with pytest.raises(MoneyOverflowError) as info:
        allocate_array(10, np.array([1, 2**63], dtype=np.uint64))
    assert info.value.path == "weights[1]"


def test_allocate_array_total_must_fit_int64():
    with pytest.raises(MoneyOverflowError):
        allocate_array(2**63, np.array([1]))
    with pytest.raises(InvalidValueError):
        allocate_array(1.5, np.array([1]))  # type: ignore[arg-type]


# -- each internal path, held to the reference ------------------------------------------


def _spy(monkeypatch, name):
    calls = []
    original = getattr(vectorized, name)

    def spy(*args, **kwargs):
        calls.append(name)
        return original(*args, **kwargs)

    monkeypatch.setattr(vectorized, name, spy)
    return calls


TWO = [0, 1, 0, 1]


@pytest.mark.parametrize(
    ("path", "totals", "weights", "groups"),
    [
        # products overflow int64, sums small: float estimate corrected in uint64
        ("_wide_quotients", [INT64_MAX, 2**62 + 12345], [2**20 + 1, 3, 2**19, 7], TWO),
        # products overflow and sums beyond 2**48: Python ints
        ("_allocate_exactly", [INT64_MAX - 5, 10], [2**50, 2**50 + 3, 1, 2], TWO),
        # |INT64_MIN| is not an int64: Python ints
        ("_allocate_exactly", [INT64_MIN, 10], [1, 2, 1, 2], TWO),
        # keys with the index do not fit int64; with the position in the group they do
        (
            "_rank_order_two_pass",
            [3, 1, 2, 1],
            [2**58, 2**58 - 1, 2**58 + 1, 3, 2**57, 5, 2**57 + 7, 2**58],
            [0, 1, 2, 3, 0, 1, 2, 3],
        ),
        # remainders too wide even with the position in the group: dense ranks
        ("_dense_ranks", [1, 1], [2**61 - 1, 2**61 - 3, 2**60 + 1, 3], TWO),
    ],
)
def test_each_internal_path_gives_the_reference_result(monkeypatch, path, totals, weights, groups):
    calls = _spy(monkeypatch, path)
    got = allocate_grouped(np.array(totals), np.array(weights), np.array(groups))
    assert calls, f"{path} was not used"
    assert got.tolist() == groupwise_reference(totals, weights, groups)


def test_lexsort_fallback_gives_the_reference_result(monkeypatch):
    # Pretend int64 is tiny so that no packed key fits.
    monkeypatch.setattr(vectorized, "_INT64_MAX", 5)
    groups = np.array([0, 1, 0, 1, 0, 1], dtype=np.intp)
    remainders = np.array([3, 1, 3, 0, 5, 1], dtype=np.int64)
    order = vectorized._rank_order_two_pass(groups, remainders, np.array([9, 9]), span=18)
    # by group, remainder descending, then position
    assert order.tolist() == [4, 0, 2, 1, 5, 3]
