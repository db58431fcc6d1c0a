"""Properties of Money arithmetic, rounding and conversions, against Fraction references."""

import math
import pickle
from decimal import Context, Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel

from salesflow.errors import InvalidValueError
from salesflow.money import Money, from_minor_units_array, to_minor_units_array

from strategies.money import amounts, money, money_on_minor_unit

MODES = ["half_up", "half_even", "half_down", "down", "up", "floor", "ceiling"]


def reference_round(value: Fraction, mode: str) -> int:
    """Round a Fraction to an integer by the definition of each mode."""
    floor = math.floor(value)
    fraction = value - floor
    away = floor + 1 if value > 0 else floor  # next integer away from zero, if inexact
    toward = floor if value > 0 else floor + 1  # next integer toward zero, if inexact
    if fraction == 0:
        return floor
    nearest = {
        "half_up": away,
        "half_down": toward,
        "half_even": floor if floor % 2 == 0 else floor + 1,
    }
    if mode in nearest:
        if fraction != Fraction(1, 2):
            return floor if fraction < Fraction(1, 2) else floor + 1
        return nearest[mode]
    return {"down": toward, "up": away, "floor": floor, "ceiling": floor + 1}[mode]


@given(money("CNY"), money("CNY"), money("CNY"))
def test_addition_is_exact_associative_and_commutative(a, b, c):
    assert (a + b) + c == a + (b + c)
    assert a + b == b + a
    assert Fraction((a + b).amount) == Fraction(a.amount) + Fraction(b.amount)


@given(money(), money())
def test_subtraction_undoes_addition(a, b):
    b = Money(b.amount, a.currency)
    assert (a + b) - b == a


@given(money(), st.integers(-(10**6), 10**6))
def test_multiplication_by_an_int_is_repeated_addition_exactly(a, n):
    assert Fraction((a * n).amount) == Fraction(a.amount) * n


@given(money(), amounts(max_places=8, max_digits=10))
def test_multiplication_by_a_decimal_is_exact(a, factor):
    assert Fraction((a * factor).amount) == Fraction(a.amount) * Fraction(factor)


@given(money(), st.integers(1, 10**6) | st.integers(-(10**6), -1))
def test_division_by_a_number_is_exact_or_refused(a, divisor):
    exact = Fraction(a.amount) / divisor
    # A finite decimal exists when the reduced denominator has no prime but 2 and 5.
    denominator = exact.denominator
    for prime in (2, 5):
        while denominator % prime == 0:
            denominator //= prime
    if denominator == 1:
        assert Fraction((a / divisor).amount) == exact
    else:
        with pytest.raises(InvalidValueError, match="no exact decimal value"):
            a / divisor


@given(money(), st.integers(1, 10**6) | st.integers(-(10**6), -1), st.sampled_from(MODES))
def test_divide_rounds_the_exact_quotient_by_the_named_mode(a, divisor, mode):
    places = a.currency.minor_units
    exact = Fraction(a.amount) / divisor * 10**places
    expected = Fraction(reference_round(exact, mode), 10**places)
    assert Fraction(a.divide(divisor, rounding=mode).amount) == expected


@given(money(), st.sampled_from(MODES), st.integers(-3, 6))
def test_round_follows_the_definition_of_each_mode(a, mode, places):
    expected = Fraction(reference_round(Fraction(a.amount) * Fraction(10) ** places, mode))
    expected /= Fraction(10) ** places
    rounded = a.round(rounding=mode, places=places)
    assert Fraction(rounded.amount) == expected


@given(money(), money())
def test_ratio_is_exact_when_it_terminates_and_close_otherwise(a, b):
    b = Money(b.amount, a.currency)
    if b.amount == 0:
        return
    ratio = a / b
    exact = Fraction(a.amount) / Fraction(b.amount)
    if exact == 0:
        assert ratio == 0
    else:
        assert abs(Fraction(ratio) - exact) <= abs(exact) * Fraction(1, 10**49)


@given(money(), money())
def test_equal_money_hashes_equal_and_ordering_matches_amounts(a, b):
    b = Money(b.amount, a.currency)
    assert (a == b) == (a.amount == b.amount)
    if a == b:
        assert hash(a) == hash(b)
    assert (a < b) == (a.amount < b.amount)
    assert (a >= b) == (a.amount >= b.amount)


@given(money())
def test_trailing_zeros_do_not_change_equality_or_hash(a):
    wide = Context(prec=100)
    padded = Money(a.amount.quantize(Decimal(1).scaleb(-10, wide), context=wide), a.currency)
    assert str(padded.amount) != str(a.amount)
    assert padded == a
    assert hash(padded) == hash(a)


@given(money())
def test_repr_and_pickle_round_trip(a):
    assert eval(repr(a), {"Money": Money}) == a  # noqa: S307 - our own repr
    assert pickle.loads(pickle.dumps(a)) == a  # noqa: S301 - our own data


@given(money())
def test_str_then_parse_round_trips(a):
    assert Money.parse(str(a)) == a


@given(money_on_minor_unit())
def test_minor_units_round_trip(a):
    assert Money.from_minor_units(a.to_minor_units(), a.currency) == a


@given(st.lists(money_on_minor_unit("CNY"), max_size=20))
def test_minor_unit_arrays_round_trip(items):
    assert from_minor_units_array(to_minor_units_array(items, "CNY"), "CNY") == items


@given(money())
def test_is_on_minor_unit_agrees_with_exact_conversion(a):
    on_grid = Fraction(a.amount) * 10**a.currency.minor_units
    assert a.is_on_minor_unit() == (on_grid.denominator == 1)
    if not a.is_on_minor_unit():
        with pytest.raises(InvalidValueError):
            a.to_minor_units()


class Holder(BaseModel, frozen=True):
    value: Money


@given(money())
def test_pydantic_json_round_trip_is_exact(a):
    back = Holder.model_validate_json(Holder(value=a).model_dump_json())
    assert back.value == a
    assert str(back.value) == str(a)


@given(money())
def test_money_text_form_validates_in_pydantic(a):
    assert Holder.model_validate({"value": str(a)}).value == a
