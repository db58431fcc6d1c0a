"""Carried-remainder allocation: exact splits whose running sums track exact shares."""

from fractions import Fraction

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from salesflow.money import (
    CARRY_ONE,
    allocate_grouped_carried,
    allocate_units,
    allocate_units_carried,
)

weights_lists = st.lists(st.integers(0, 1000), min_size=1, max_size=12).filter(any)
totals = st.one_of(st.integers(-(10**9), 10**9), st.integers(-50, 50))


@given(weights_lists, st.lists(totals, min_size=1, max_size=30))
def test_each_split_is_exact_and_each_part_is_floor_or_ceiling_of_its_quota(weights, sequence):
    carry = [0] * len(weights)
    for total in sequence:
        parts, carry = allocate_units_carried(total, weights, carry)
        assert sum(parts) == total
        for part, weight in zip(parts, weights, strict=True):
            quota = Fraction(total * weight, sum(weights))
            assert abs(part - quota) < 1


@given(weights_lists, st.lists(st.integers(0, 10**7), min_size=1, max_size=60))
def test_running_sums_stay_within_one_unit_of_the_exact_running_shares(weights, sequence):
    carry = [0] * len(weights)
    given_so_far = [0] * len(weights)
    exact_so_far = [Fraction(0)] * len(weights)
    for total in sequence:
        parts, carry = allocate_units_carried(total, weights, carry)
        for i, (part, weight) in enumerate(zip(parts, weights, strict=True)):
            given_so_far[i] += part
            exact_so_far[i] += Fraction(total * weight, sum(weights))
    # The fixed-point carry loses at most 2**-32 per split on top of the one unit.
    slack = Fraction(len(sequence) + 1, CARRY_ONE)
    for got, exact in zip(given_so_far, exact_so_far, strict=True):
        assert abs(got - exact) < 1 + slack


@given(weights_lists, totals)
def test_with_no_carry_it_is_the_plain_largest_remainder_split(weights, total):
    parts, _ = allocate_units_carried(total, weights, [0] * len(weights))
    assert parts == allocate_units(total, weights)


@st.composite
def grouped_inputs(draw):
    group_count = draw(st.integers(1, 6))
    groups = draw(st.lists(st.integers(0, group_count - 1), min_size=group_count, max_size=40))
    groups += list(range(group_count))  # every group has a member
    weights = [draw(st.integers(0, 10**6)) for _ in groups]
    for g in range(group_count):  # and a non-zero weight
        weights[groups.index(g)] = max(1, weights[groups.index(g)])
    group_totals = [
        draw(st.one_of(st.integers(-(10**12), 10**12), st.integers(-5, 5)))
        for _ in range(group_count)
    ]
    carry = [draw(st.integers(-CARRY_ONE + 1, CARRY_ONE - 1)) for _ in groups]
    return group_totals, weights, groups, carry


@given(grouped_inputs())
def test_grouped_version_equals_the_scalar_one_parts_and_carries(data):
    group_totals, weights, groups, carry = data
    parts, new_carry = allocate_grouped_carried(group_totals, weights, groups, carry)
    for g, total in enumerate(group_totals):
        members = [i for i, grp in enumerate(groups) if grp == g]
        expected_parts, expected_carry = allocate_units_carried(
            total, [weights[i] for i in members], [carry[i] for i in members]
        )
        assert parts[members].tolist() == expected_parts
        assert new_carry[members].tolist() == expected_carry


def test_two_thirds_of_a_monthly_amount_adds_up_to_two_thirds_of_the_year():
    carry = [0, 0]
    year = np.zeros(2, dtype=np.int64)
    for _ in range(12):
        parts, carry = allocate_units_carried(10_000_000, [2, 1], carry)
        year += parts
    # Split month by month on its own this is 6,666,667 x 12 = 80,000,004.
    assert year.tolist() == [80_000_000, 40_000_000]


@given(
    st.lists(st.integers(1, 2**40), min_size=2, max_size=6),
    st.integers(-(2**63) + 1, 2**63 - 1),
)
def test_groups_too_large_for_int64_take_the_exact_path_with_the_same_result(weights, total):
    carry = [0] * len(weights)
    parts, new_carry = allocate_grouped_carried([total], weights, [0] * len(weights), carry)
    expected_parts, expected_carry = allocate_units_carried(total, weights, carry)
    assert parts.tolist() == expected_parts
    assert new_carry.tolist() == expected_carry
