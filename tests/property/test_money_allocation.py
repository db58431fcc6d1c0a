"""Properties of largest-remainder allocation, scalar and vectorized."""

from fractions import Fraction

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from salesflow.money import (
    Money,
    allocate,
    allocate_array,
    allocate_equal,
    allocate_grouped,
    allocate_units,
    scale_weights,
)

from strategies.money import (
    grouped_inputs,
    int_weights,
    mixed_weights,
    money_on_minor_unit,
    totals,
)


def exact_shares(total, weights):
    fractions = [Fraction(w) for w in weights]
    whole = sum(fractions)
    return [total * f / whole for f in fractions]


@given(totals(), mixed_weights())
def test_allocation_parts_sum_exactly_to_the_total(total, weights):
    assert sum(allocate_units(total, weights)) == total


@given(totals(), mixed_weights())
def test_each_part_is_within_one_unit_of_its_exact_share(total, weights):
    for part, share in zip(
        allocate_units(total, weights), exact_shares(total, weights), strict=True
    ):
        assert abs(part - share) < 1


@given(totals(), mixed_weights())
def test_each_part_is_its_share_rounded_toward_zero_or_one_unit_further(total, weights):
    for part, share in zip(
        allocate_units(total, weights), exact_shares(total, weights), strict=True
    ):
        toward_zero = int(share)  # int() truncates a Fraction toward zero
        assert part in {toward_zero, toward_zero + (1 if total > 0 else -1)}


@given(totals(), mixed_weights())
def test_zero_weight_gets_exactly_zero(total, weights):
    for part, weight in zip(allocate_units(total, weights), weights, strict=True):
        if weight == 0:
            assert part == 0


@given(totals(), mixed_weights())
def test_allocation_is_symmetric_under_negation(total, weights):
    assert allocate_units(-total, weights) == [-p for p in allocate_units(total, weights)]


@given(totals(), st.integers(1, 40))
def test_equal_weights_differ_by_at_most_one_unit_with_the_extra_units_first(total, count):
    parts = allocate_units(total, [1] * count)
    assert max(parts) - min(parts) <= 1
    magnitudes = [abs(p) for p in parts]
    assert magnitudes == sorted(magnitudes, reverse=True)


@given(totals(), mixed_weights())
def test_the_units_left_over_go_to_the_largest_remainders_then_lower_index(total, weights):
    parts = allocate_units(total, weights)
    shares = exact_shares(abs(total), weights)
    remainders = [s - int(s) for s in shares]
    bonus = [abs(p) - int(s) for p, s in zip(parts, shares, strict=True)]
    # Every part with the extra unit ranks above every part without it.
    ranked = sorted(range(len(parts)), key=lambda i: (-remainders[i], i))
    given_extra = [bonus[i] for i in ranked]
    assert given_extra == sorted(given_extra, reverse=True)


@given(totals(), mixed_weights(), st.data())
def test_scaling_all_weights_by_a_positive_factor_changes_nothing(total, weights, data):
    factor = data.draw(st.integers(1, 10**6))
    assert allocate_units(total, [w * factor for w in weights]) == allocate_units(total, weights)


@given(money_on_minor_unit(), mixed_weights())
def test_money_allocation_sums_to_the_total_in_its_currency(total, weights):
    parts = allocate(total, weights)
    assert Money.sum(parts, total.currency) == total
    assert all(part.is_on_minor_unit() for part in parts)


@given(money_on_minor_unit(), st.integers(1, 30))
def test_allocate_equal_is_allocate_with_equal_weights(total, count):
    assert allocate_equal(total, count) == allocate(total, [1] * count)


@given(totals(), int_weights(max_size=20))
def test_allocate_array_equals_the_scalar_allocation(total, weights):
    got = allocate_array(total, np.array(weights, dtype=np.int64))
    assert got.dtype == np.int64
    assert got.tolist() == allocate_units(total, weights)


@given(totals(), mixed_weights())
def test_scaled_weights_allocate_like_the_original_ones(total, weights):
    assert allocate_array(total, scale_weights(weights)).tolist() == allocate_units(total, weights)


@given(grouped_inputs())
def test_grouped_allocation_equals_the_scalar_allocation_group_by_group(inputs):
    group_totals, weights, groups = inputs
    got = allocate_grouped(group_totals, weights, groups)
    assert got.dtype == np.int64
    for group, total in enumerate(group_totals.tolist()):
        positions = np.flatnonzero(groups == group)
        assert got[positions].tolist() == allocate_units(total, weights[positions].tolist())


@given(grouped_inputs(), st.randoms(use_true_random=False))
def test_grouped_allocation_does_not_depend_on_how_groups_are_interleaved(inputs, random):
    group_totals, weights, groups = inputs
    # Moving whole groups around, keeping each group's internal order, moves the parts.
    keys = {g: random.random() for g in range(len(group_totals))}
    order = np.array(sorted(range(len(groups)), key=lambda i: (keys[int(groups[i])], i)))
    moved = allocate_grouped(group_totals, weights[order], groups[order])
    assert moved.tolist() == allocate_grouped(group_totals, weights, groups)[order].tolist()


@given(grouped_inputs())
def test_grouped_allocation_is_deterministic(inputs):
    first = allocate_grouped(*inputs)
    assert allocate_grouped(*inputs).tolist() == first.tolist()
