"""Largest-remainder allocation: split a whole into parts that sum to it exactly.

This is the scalar reference; `salesflow.money._vectorized` computes the same thing
over int64 arrays and is tested against this module.

The method is Hamilton's (1792), also called the largest-remainder or Hare-Niemeyer
method: each part gets the floor of its exact quota, and the units left over go one
each to the parts with the largest remainders. See M. L. Balinski and H. P. Young,
*Fair Representation* (2nd ed., Brookings, 2001), ch. 2 and appendix A, and
https://en.wikipedia.org/wiki/Largest_remainder_method.
"""

from __future__ import annotations

import heapq
import math
import numbers
from collections.abc import Sequence
from decimal import Decimal
from fractions import Fraction
from itertools import repeat
from typing import TYPE_CHECKING, NoReturn, cast

from salesflow.errors import InvalidValueError, Location

from ._exact import EXACT
from ._money import Money, new_moneys

if TYPE_CHECKING:
    from collections.abc import Iterable

    from ._currency import Currency

__all__ = [
    "allocate",
    "allocate_equal",
    "allocate_units",
    "checked_weights",
    "exact_weights",
    "hamilton",
]

Weight = int | Decimal | Fraction


def allocate_units(total: int, weights: Sequence[int | Decimal | Fraction]) -> list[int]:
    """Split the integer ``total`` in proportion to ``weights`` (largest remainder).

    For plain counts (customers, visits, leads) and for money in minor units. With
    ``W`` the sum of the weights, part ``i``'s exact quota is ``total * w[i] / W``:

    1. each part gets the floor of its quota (toward zero for a negative total);
    2. the ``k`` units left over go, one each, to the ``k`` parts with the largest
       fractional remainders; equal remainders go to the lower index first.

    So the parts sum to ``total`` exactly, each is within one unit of its quota, a
    zero weight gets exactly zero, and ``allocate_units(-t, w)`` is
    ``[-p for p in allocate_units(t, w)]``. Weights may be ints, Decimals or
    Fractions; they are made integers exactly, never through floats.

    Args:
        total: The whole to split (any int, negative allowed).
        weights: One non-negative weight per part, not all zero.

    Raises:
        InvalidValueError: No weights (``"money.empty_weights"``); a weight that is
            negative (``"money.negative_weight"``), NaN, infinite, a float or not a
            number (``"money.invalid_weight"``), its index in ``location.path``;
            all weights zero (``"money.zero_weights"``).

    >>> allocate_units(10, [1, 1, 1])
    [4, 3, 3]
    >>> allocate_units(-10, [1, 1, 1])
    [-4, -3, -3]
    >>> allocate_units(100, [Decimal("0.5"), Fraction(1, 3), 0, Decimal("0.1667")])
    [50, 33, 0, 17]
    """
    return hamilton(_total(total), checked_weights(weights))


def allocate(total: Money, weights: Sequence[int | Decimal | Fraction]) -> list[Money]:
    """Split ``total`` in proportion to ``weights``, to the minor unit, summing exactly.

    The amount in minor units is split with `allocate_units` (see there for the
    method, the tie-break and the errors).

    Args:
        total: The amount; it must be on the currency's minor unit.
        weights: One non-negative weight per part, not all zero.

    Raises:
        InvalidValueError: ``total`` is between two minor units: round it first
            (``"money.not_on_minor_unit"``); or the weights are invalid.

    >>> allocate(Money("100.00", "CNY"), [3, 1, 1])
    [Money('60.00', 'CNY'), Money('20.00', 'CNY'), Money('20.00', 'CNY')]
    >>> allocate(Money("0.05", "USD"), [1, 1])
    [Money('0.03', 'USD'), Money('0.02', 'USD')]
    """
    if type(total) is not Money:
        msg = f"allocate splits Money, not {type(total).__name__}; use allocate_units for counts"
        raise InvalidValueError(
            msg,
            code="money.invalid_amount",
        )
    units = hamilton(total.to_minor_units(), checked_weights(weights))
    return _to_money(units, total.currency)


def allocate_equal(total: Money, parts: int) -> list[Money]:
    """Split ``total`` into ``parts`` equal shares, the extra minor units first.

    Raises:
        InvalidValueError: ``parts`` is not a positive int (``"money.invalid_count"``),
            or ``total`` is not on the minor unit.

    >>> allocate_equal(Money("100.00", "CNY"), 3)
    [Money('33.34', 'CNY'), Money('33.33', 'CNY'), Money('33.33', 'CNY')]
    """
    if isinstance(parts, bool) or not isinstance(parts, int) or parts < 1:
        msg = f"parts must be a positive int, not {parts!r}"
        raise InvalidValueError(msg, code="money.invalid_count")
    return allocate(total, [1] * parts)


def hamilton(total: int, weights: Sequence[int]) -> list[int]:
    """The largest-remainder split of ``total`` over checked non-negative int weights."""
    magnitude = abs(total)
    whole = sum(weights)
    parts: list[int] = []
    remainders: list[int] = []
    for weight in weights:
        part, remainder = divmod(magnitude * weight, whole)
        parts.append(part)
        remainders.append(remainder)
    leftover = magnitude - sum(parts)
    # nlargest is documented equal to sorted(..., reverse=True)[:n], which is stable:
    # equal remainders keep index order, so the lower index wins the tie.
    for index in heapq.nlargest(leftover, range(len(parts)), key=remainders.__getitem__):
        parts[index] += 1
    return [-part for part in parts] if total < 0 else parts


def checked_weights(weights: Sequence[Weight]) -> list[int]:
    """Weights for `hamilton`: exact integers, not empty, not all zero."""
    if isinstance(weights, str | bytes) or not isinstance(weights, Sequence):
        msg = f"weights must be a sequence of numbers, not {type(weights).__name__}"
        raise InvalidValueError(
            msg,
            code="money.invalid_weight",
        )
    if not weights:
        msg = "there are no weights to allocate over"
        raise InvalidValueError(msg, code="money.empty_weights")
    integers = exact_weights(weights)
    if not any(integers):
        msg = f"all {len(integers)} weights are zero: nothing to allocate in proportion to"
        raise InvalidValueError(
            msg,
            code="money.zero_weights",
        )
    return integers


def exact_weights(weights: Iterable[object]) -> list[int]:
    """Integers proportional to ``weights``: each times their least common denominator.

    Decimals have power-of-ten denominators, so for them this multiplies by
    ``10**places`` of the one with the most places; the ratios are kept exactly.
    """
    items = list(weights)
    if all(type(weight) is int for weight in items):
        # The common case, without the cost of Fractions.
        integers = cast("list[int]", items)
        negative = next((i for i, weight in enumerate(integers) if weight < 0), None)
        if negative is not None:
            _bad_weight(negative, integers[negative], "is negative", "money.negative_weight")
        return integers
    fractions = [_weight(index, weight) for index, weight in enumerate(items)]
    common = math.lcm(*(f.denominator for f in fractions)) if fractions else 1
    return [f.numerator * (common // f.denominator) for f in fractions]


def _weight(index: int, weight: object) -> Fraction:
    if isinstance(weight, bool):
        _bad_weight(index, weight, "is a bool, not a number", "money.invalid_weight")
    if isinstance(weight, numbers.Integral):
        value = Fraction(int(weight))
    elif isinstance(weight, Decimal | Fraction):
        if isinstance(weight, Decimal) and not weight.is_finite():
            _bad_weight(index, weight, "is not finite", "money.invalid_weight")
        value = Fraction(weight)
    elif isinstance(weight, float):
        _bad_weight(index, weight, "is a float; pass a Decimal or an int", "money.invalid_weight")
    else:
        _bad_weight(index, weight, "is not an int, Decimal or Fraction", "money.invalid_weight")
    if value < 0:
        _bad_weight(index, weight, "is negative", "money.negative_weight")
    return value


def _bad_weight(index: int, weight: object, problem: str, code: str) -> NoReturn:
    msg = f"weights[{index}] = {weight!r} {problem}"
    raise InvalidValueError(
        msg,
        code=code,
        location=Location(path=f"weights[{index}]"),
    )


def _total(total: object) -> int:
    if isinstance(total, bool) or not isinstance(total, numbers.Integral):
        msg = (
            f"the total to allocate must be an int, not {type(total).__name__}; "
            "for money use allocate"
        )
        raise InvalidValueError(
            msg,
            code="money.invalid_amount",
        )
    return int(total)


def _to_money(units: list[int], currency: Currency) -> list[Money]:
    # n x 10**-places is n with exponent -places, exactly: Decimal(n).scaleb(-places).
    unit = Decimal(1).scaleb(-currency.minor_units)
    return new_moneys(list(map(EXACT.multiply, units, repeat(unit))), currency)
