"""Money over numpy: int64 minor units, and largest-remainder allocation for many wholes.

Every function here gives exactly what the scalar reference in `._allocation` and
`._money` gives; the property tests hold them to it.

How `allocate_grouped` works, with no Python loop over groups:

1. Per group: the weight sum, the weight count and the largest weight (``np.add.at``
   and ``np.maximum.at``: exact int64, unlike ``np.bincount``'s float64 weights).
2. Per weight: the floor ``q = |total| * w // W`` and remainder ``r = |total| * w % W``
   of its exact share; per group, the units left over ``k = |total| - sum(q)``. Where
   ``|total| * w`` could exceed int64 but ``W <= 2**48``, ``q`` and ``r`` come from a
   float64 estimate corrected exactly in wrapping uint64 arithmetic
   (`_wide_quotients`). Groups beyond that (a larger ``W``, a weight sum that could
   overflow, a total of -2**63) are *giant*: the scalar reference computes them with
   Python ints, group by group. Every result is exact; nothing raises
   MoneyOverflowError.
3. The weights are ordered by (group, remainder descending, position) by sorting
   packed int64 keys as values (numpy's SIMD sort), in one pass when the keys fit,
   else in two passes, with dense ranks of the remainders if need be, and by
   ``np.lexsort`` as the last resort. The first ``k`` of each group get one unit;
   weights with ``r == 0`` sort last and are never reached, since ``k`` is less than
   the number of weights with a remainder.
"""

from __future__ import annotations

import numbers
from typing import TYPE_CHECKING, Final

import numpy as np

from salesflow.errors import CurrencyMismatchError, InvalidValueError, Location, MoneyOverflowError

from ._allocation import _to_money, exact_weights, hamilton
from ._currency import Currency
from ._exact import RoundingMode, to_minor
from ._money import Money, amount_of

if TYPE_CHECKING:
    from collections.abc import Iterable
    from decimal import Decimal
    from fractions import Fraction

    from numpy.typing import ArrayLike, NDArray

__all__ = [
    "allocate_array",
    "allocate_grouped",
    "from_minor_units_array",
    "scale_weights",
    "to_minor_units_array",
]

_INT64_MAX: Final = int(np.iinfo(np.int64).max)
_INT64_MIN: Final = int(np.iinfo(np.int64).min)
# A float64 estimate below this is certainly below 2**63 in exact arithmetic.
_SAFE_INT: Final = 2**62
_SAFE_FLOAT: Final = float(_SAFE_INT)
# The largest float64 below 2**63 (floats there are 2**11 apart): casts to int64.
_LARGEST_SAFE_FLOAT_INT: Final = float(2**63 - 2**11)
# Where a product overflows int64, the sum of weights must stay below this for the
# float-estimate-and-correct path to be exact (see `_wide_quotients`).
_WIDE_SUM_LIMIT: Final = 2**48


def to_minor_units_array(
    amounts: Iterable[Money | Decimal | str | int],
    currency: Currency | str,
    *,
    rounding: RoundingMode | None = None,
) -> NDArray[np.int64]:
    """Amounts as an int64 array of minor units (fen, cents), exactly.

    Args:
        amounts: Money in ``currency``, or Decimals, strs or ints (amounts in
            ``currency``, not minor units).
        currency: The currency.
        rounding: If given, round amounts between two minor units; if not, such an
            amount is an error.

    Raises:
        MoneyOverflowError: An amount does not fit int64 minor units
            (``"money.int64_overflow"``), naming its index and value.
        InvalidValueError: An amount is between two minor units and no rounding
            was given (``"money.not_on_minor_unit"``), or is not an amount.
        CurrencyMismatchError: A Money is in another currency.

    >>> from decimal import Decimal
    >>> to_minor_units_array(["1234.57", Decimal("-0.01"), 3], "CNY")
    array([123457,     -1,    300])
    """
    currency = Currency(currency)
    units: list[int] = []
    for index, item in enumerate(amounts):
        where = Location(path=f"amounts[{index}]")
        try:
            amount = _amount_in(item, currency)
            unit = to_minor(amount, currency, rounding)
        except InvalidValueError as err:
            raise type(err)(err.message, code=err.code, location=where) from None
        if not _INT64_MIN <= unit <= _INT64_MAX:
            msg = (
                f"amounts[{index}] = {amount:f} {currency} is {unit} minor units, "
                "beyond the int64 range"
            )
            raise MoneyOverflowError(
                msg,
                code="money.int64_overflow",
                location=where,
            )
        units.append(unit)
    return np.array(units, dtype=np.int64)


def from_minor_units_array(units: ArrayLike, currency: Currency | str) -> list[Money]:
    """Money from an integer array of minor units: the inverse of `to_minor_units_array`.

    >>> from_minor_units_array(np.array([123457, -1]), "CNY")
    [Money('1234.57', 'CNY'), Money('-0.01', 'CNY')]
    """
    array = _integer_vector(units, "units")
    return _to_money(array.tolist(), Currency(currency))


def scale_weights(weights: Iterable[int | Decimal | Fraction]) -> NDArray[np.int64]:
    """Exact int64 weights proportional to Decimal, Fraction or int weights.

    The weights are multiplied by their least common denominator (for Decimals, the
    power of ten of the one with the most places) and divided by their greatest
    common divisor: the smallest integers in the same exact ratios, which is all
    largest-remainder allocation depends on. Feed the result to `allocate_array` or
    `allocate_grouped`. Zero weights, even all of them, are kept as zeros.

    Raises:
        InvalidValueError: A weight is negative, NaN, a float or not a number,
            naming its index.
        MoneyOverflowError: A scaled weight does not fit int64, naming its index.

    >>> from decimal import Decimal
    >>> from fractions import Fraction
    >>> scale_weights([Decimal("0.25"), Decimal("0.5"), Fraction(1, 8), 0])
    array([2, 4, 1, 0])
    """
    integers = exact_weights(weights)
    divisor = np.gcd.reduce(np.array(integers, dtype=object)) if integers else 1
    scaled = [value // divisor for value in integers] if divisor else integers
    for index, value in enumerate(scaled):
        if value > _INT64_MAX:
            msg = (
                f"weights[{index}] scales to {value}, beyond the int64 range; "
                "use fewer decimal places"
            )
            raise MoneyOverflowError(
                msg,
                code="money.int64_overflow",
                location=Location(path=f"weights[{index}]"),
            )
    return np.array(scaled, dtype=np.int64)


def allocate_array(total: int, weights: ArrayLike) -> NDArray[np.int64]:
    """`allocate_units` over an int64 array of weights: the same parts, as int64.

    Raises:
        InvalidValueError: As `allocate_units`; weights must be integers
            (see `scale_weights`).

    >>> allocate_array(1000, np.array([1, 1, 1]))
    array([334, 333, 333])
    """
    vector = _integer_vector(weights, "weights")
    return allocate_grouped(
        np.array([_total(total)], dtype=np.int64), vector, np.zeros(len(vector), dtype=np.intp)
    )


def allocate_grouped(totals: ArrayLike, weights: ArrayLike, groups: ArrayLike) -> NDArray[np.int64]:
    """Split many totals at once, each over its own weights (largest remainder).

    Equal, element for element, to ``allocate_units(totals[g], [weights[i] for i in
    positions of group g])`` for every group ``g``: the tie-break is the lower
    position within the group, in input order. Groups need not be sorted.

    Args:
        totals: int64[G], one total per group, in minor units (or any integer unit).
        weights: int64[N], non-negative integer weights (see `scale_weights`).
        groups: int[N], ``groups[i]`` is the index into ``totals`` of weight ``i``'s
            group. Every group has at least one weight.

    Returns:
        int64[N]: part ``i`` of its group's total.

    Raises:
        InvalidValueError: A negative weight (``"money.negative_weight"``) or group
            index out of range (``"money.invalid_group"``), naming the position; a
            group with no weights (``"money.empty_weights"``) or only zero weights
            (``"money.zero_weights"``), naming the group; arrays of the wrong shape
            or dtype.

    >>> allocate_grouped(np.array([100, -10]), np.array([1, 1, 1, 2, 1]), np.array([0, 1, 0, 1, 0]))
    array([34, -3, 33, -7, 33])
    """
    totals_ = _integer_vector(totals, "totals")
    weights_ = _integer_vector(weights, "weights")
    groups_ = _group_vector(groups, len(weights_), len(totals_))
    _check_non_negative(weights_)
    sums, counts, largest = _group_stats(weights_, groups_, len(totals_))
    _check_groups(counts, largest)
    giant = _giant_groups(totals_, weights_, groups_, sums, largest)
    parts = _allocate_int64(
        np.where(giant, 0, totals_), weights_, groups_, np.where(giant, 1, sums), largest
    )
    if giant.any():
        _allocate_exactly(parts, totals_, weights_, groups_, np.flatnonzero(giant))
    return parts


# -- the int64 path -------------------------------------------------------------------


def _allocate_int64(
    totals: NDArray[np.int64],
    weights: NDArray[np.int64],
    groups: NDArray[np.intp],
    sums: NDArray[np.int64],
    largest: NDArray[np.int64],
) -> NDArray[np.int64]:
    # Arrays of N elements are few and updated in place: at 5M weights each is 40 MB.
    magnitude = np.abs(totals)
    parts, remainders = _quotients(magnitude, weights, groups, sums, largest)
    floors = np.zeros(len(totals), dtype=np.int64)
    np.add.at(floors, groups, parts)
    order = _rank_order(groups, remainders, sums)
    del remainders
    # Weights with a zero remainder sort last in their group and are never reached:
    # the units left over are fewer than the weights with a remainder.
    sizes = np.bincount(groups, minlength=len(totals))
    limits = np.cumsum(sizes) - sizes + (magnitude - floors)
    winners = np.arange(len(order)) < np.repeat(limits, sizes)
    parts[order[winners]] += 1
    negative = (totals < 0)[groups]
    np.negative(parts, out=parts, where=negative)
    return parts


def _quotients(
    magnitude: NDArray[np.int64],
    weights: NDArray[np.int64],
    groups: NDArray[np.intp],
    sums: NDArray[np.int64],
    largest: NDArray[np.int64],
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Floor and remainder of ``magnitude * weight / sum``, exactly, per weight."""
    wide_groups = magnitude.astype(np.float64) * largest.astype(np.float64) >= _SAFE_FLOAT
    whole = sums[groups]
    scaled = np.where(wide_groups, 0, magnitude)[groups]
    scaled *= weights
    parts = scaled // whole
    remainders = scaled
    remainders -= parts * whole
    if wide_groups.any():
        at = np.flatnonzero(wide_groups[groups])
        parts[at], remainders[at] = _wide_quotients(magnitude[groups[at]], weights[at], whole[at])
    return parts, remainders


def _wide_quotients(
    magnitude: NDArray[np.int64], weights: NDArray[np.int64], whole: NDArray[np.int64]
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Floor and remainder of ``magnitude * weight / whole`` where the product overflows.

    A float64 estimate ``e`` of the floor is off by at most ``2**13`` (five roundings of
    2**-53 relative error on a quotient below 2**63, plus the floor and the clip), so the
    true ``magnitude * weight - e * whole`` is below ``2**14 * whole <= 2**62`` in size:
    computed modulo 2**64 in uint64, where wrapping is defined, and read back as int64,
    it is exact. One floor division by ``whole`` then corrects the estimate.
    """
    estimate = np.floor(
        magnitude.astype(np.float64) * weights.astype(np.float64) / whole.astype(np.float64)
    )
    floor = np.clip(estimate, 0.0, _LARGEST_SAFE_FLOAT_INT).astype(np.int64)
    product = magnitude.view(np.uint64) * weights.view(np.uint64)
    offset = (product - floor.view(np.uint64) * whole.view(np.uint64)).view(np.int64)
    correction = offset // whole
    return floor + correction, offset - correction * whole


def _rank_order(
    groups: NDArray[np.intp], remainders: NDArray[np.int64], sums: NDArray[np.int64]
) -> NDArray[np.intp]:
    """Indices sorting by (group, remainder descending, index).

    numpy sorts int64 values with SIMD, several times faster than a stable argsort, so
    the order is packed into distinct int64 keys and sorted as values. Group ``g``'s
    keys fill ``[offset[g], offset[g] + sums[g])`` (each remainder is below
    ``sums[g]``); the index goes in the low digits when there is room, else a first
    sort by (group, index) gives each weight its position within its group, which is
    a smaller number.
    """
    count = len(groups)
    span = int(sums.sum(dtype=object))
    if span * count <= _INT64_MAX:
        keys = _remainder_keys(groups, remainders, sums)
        keys *= count
        keys += np.arange(count, dtype=np.int64)
        keys.sort()
        keys %= count
        return keys.astype(np.intp, copy=False)
    return _rank_order_two_pass(groups, remainders, sums, span)


def _rank_order_two_pass(
    groups: NDArray[np.intp], remainders: NDArray[np.int64], sums: NDArray[np.int64], span: int
) -> NDArray[np.intp]:
    count = len(groups)
    sizes = np.bincount(groups, minlength=len(sums))
    starts = np.cumsum(sizes) - sizes
    by_group = _packed_order(groups.astype(np.int64), len(sums))
    block_starts = np.repeat(starts, sizes)
    within = np.empty(count, dtype=np.int64)
    within[by_group] = np.arange(count) - block_starts
    depth = int(sizes.max())
    if span * depth <= _INT64_MAX:
        keys = _remainder_keys(groups, remainders, sums)
    else:
        # Too wide still: only the order of remainders matters, so use dense ranks.
        dense, levels = _dense_ranks(remainders)
        if len(sums) * levels * depth > _INT64_MAX:
            return np.lexsort((-remainders, groups)).astype(np.intp)
        keys = groups.astype(np.int64) * levels + (levels - 1 - dense)
    keys *= depth
    keys += within
    keys.sort()
    keys %= depth
    keys += block_starts
    return by_group[keys]


def _remainder_keys(
    groups: NDArray[np.intp], remainders: NDArray[np.int64], sums: NDArray[np.int64]
) -> NDArray[np.int64]:
    """Keys in ``[0, sum(sums))`` ordered by (group, remainder descending)."""
    last_keys = np.cumsum(sums) - 1
    keys = last_keys[groups]
    keys -= remainders
    return keys


def _packed_order(keys: NDArray[np.int64], key_count: int) -> NDArray[np.intp]:
    """The stable argsort of ``keys`` in ``[0, key_count)``."""
    count = len(keys)
    if key_count * count > _INT64_MAX:
        return np.argsort(keys, kind="stable").astype(np.intp)
    packed = keys * count
    packed += np.arange(count, dtype=np.int64)
    packed.sort()
    packed %= count
    return packed.astype(np.intp, copy=False)


def _dense_ranks(values: NDArray[np.int64]) -> tuple[NDArray[np.int64], int]:
    order = np.argsort(values)
    ordered = values[order]
    steps = np.empty(len(values), dtype=np.int64)
    steps[0] = 0
    np.cumsum(ordered[1:] != ordered[:-1], out=steps[1:])
    ranks = np.empty_like(steps)
    ranks[order] = steps
    return ranks, int(steps[-1]) + 1


# -- the exact path, for groups beyond int64 ------------------------------------------


def _allocate_exactly(
    parts: NDArray[np.int64],
    totals: NDArray[np.int64],
    weights: NDArray[np.int64],
    groups: NDArray[np.intp],
    giant: NDArray[np.intp],
) -> None:
    members = np.flatnonzero(np.isin(groups, giant))
    order = members[np.argsort(groups[members], kind="stable")]
    bounds = np.flatnonzero(np.diff(groups[order])) + 1
    for positions in np.split(order, bounds):
        group = int(groups[positions[0]])
        parts[positions] = hamilton(int(totals[group]), weights[positions].tolist())


def _giant_groups(
    totals: NDArray[np.int64],
    weights: NDArray[np.int64],
    groups: NDArray[np.intp],
    sums: NDArray[np.int64],
    largest: NDArray[np.int64],
) -> NDArray[np.bool_]:
    """Groups the int64 path cannot do exactly: they go to Python ints."""
    # |INT64_MIN| is not an int64.
    giant: NDArray[np.bool_] = np.equal(totals, _INT64_MIN)
    magnitude = np.abs(np.where(giant, 0, totals))
    wide = magnitude.astype(np.float64) * largest.astype(np.float64) >= _SAFE_FLOAT
    if len(weights) and int(weights.max()) * len(weights) >= _SAFE_INT:
        estimate = np.zeros(len(totals), dtype=np.float64)
        np.add.at(estimate, groups, weights.astype(np.float64))
        giant |= estimate >= _SAFE_FLOAT
    return giant | (wide & (sums > _WIDE_SUM_LIMIT))


def _group_stats(
    weights: NDArray[np.int64], groups: NDArray[np.intp], group_count: int
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:
    sums = np.zeros(group_count, dtype=np.int64)
    np.add.at(sums, groups, weights)
    largest = np.zeros(group_count, dtype=np.int64)
    np.maximum.at(largest, groups, weights)
    counts = np.bincount(groups, minlength=group_count).astype(np.int64)
    return sums, counts, largest


# -- checks ---------------------------------------------------------------------------


def _integer_vector(values: ArrayLike, name: str) -> NDArray[np.int64]:
    array = np.asarray(values)
    if array.ndim != 1:
        msg = f"{name} must be one-dimensional, not of shape {array.shape}"
        raise InvalidValueError(
            msg,
            code="money.invalid_array",
        )
    if array.size == 0 and array.dtype.kind not in "iu":
        return np.zeros(0, dtype=np.int64)
    if array.dtype.kind not in "iu":
        msg = (
            f"{name} must hold integers, not {array.dtype}; scale Decimal weights with "
            "scale_weights and convert money with to_minor_units_array"
        )
        raise InvalidValueError(
            msg,
            code="money.invalid_array",
        )
    if array.dtype.kind == "u" and array.size and int(array.max()) > _INT64_MAX:
        index = int(np.argmax(array > _INT64_MAX))
        msg = f"{name}[{index}] = {array[index]} is beyond the int64 range"
        raise MoneyOverflowError(
            msg,
            code="money.int64_overflow",
            location=Location(path=f"{name}[{index}]"),
        )
    return array.astype(np.int64, copy=False)


def _group_vector(groups: ArrayLike, size: int, group_count: int) -> NDArray[np.intp]:
    array = _integer_vector(groups, "groups")
    if len(array) != size:
        msg = f"groups has {len(array)} entries for {size} weights; give one group per weight"
        raise InvalidValueError(
            msg,
            code="money.invalid_array",
        )
    bad = np.flatnonzero((array < 0) | (array >= group_count))
    if len(bad):
        index = int(bad[0])
        msg = f"groups[{index}] = {array[index]} is not an index into the {group_count} totals"
        raise InvalidValueError(
            msg,
            code="money.invalid_group",
            location=Location(path=f"groups[{index}]"),
        )
    return array.astype(np.intp, copy=False)


def _check_non_negative(weights: NDArray[np.int64]) -> None:
    negative = np.flatnonzero(weights < 0)
    if len(negative):
        index = int(negative[0])
        msg = f"weights[{index}] = {weights[index]} is negative"
        raise InvalidValueError(
            msg,
            code="money.negative_weight",
            location=Location(path=f"weights[{index}]"),
        )


def _check_groups(counts: NDArray[np.int64], largest: NDArray[np.int64]) -> None:
    empty = np.flatnonzero(counts == 0)
    if len(empty):
        group = int(empty[0])
        msg = f"group {group} has no weights to allocate its total over"
        raise InvalidValueError(
            msg,
            code="money.empty_weights",
            location=Location(path=f"totals[{group}]"),
        )
    # Not the sums: an int64 sum of huge weights may wrap to zero.
    zero = np.flatnonzero(largest == 0)
    if len(zero):
        group = int(zero[0])
        msg = f"all weights of group {group} are zero: nothing to allocate in proportion to"
        raise InvalidValueError(
            msg,
            code="money.zero_weights",
            location=Location(path=f"totals[{group}]"),
        )


def _total(total: object) -> int:
    if isinstance(total, bool) or not isinstance(total, numbers.Integral):
        msg = f"the total must be an int of minor units, not {type(total).__name__}"
        raise InvalidValueError(
            msg,
            code="money.invalid_amount",
        )
    value = int(total)
    if not _INT64_MIN <= value <= _INT64_MAX:
        msg = f"the total {value} is beyond the int64 range"
        raise MoneyOverflowError(msg, code="money.int64_overflow")
    return value


def _amount_in(item: object, currency: Currency) -> Decimal:
    if type(item) is Money:
        if item.currency != currency:
            msg = f"{item} is not in {currency}"
            raise CurrencyMismatchError(msg, code="money.currency_mismatch")
        return item.amount
    return amount_of(item)
