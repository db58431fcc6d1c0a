"""Largest remainder with carried remainders: splitting a sequence of totals.

When the same recipients share one total after another (a team's number, week after
week), splitting each total on its own lets the rounding pile up: 2/3 of 100,000.00
twelve times is 66,666.67 each time, 800,000.04 in all. Carrying each recipient's
unrounded remainder into the next split ("error diffusion") lets the leftover units
go to whoever is furthest behind their exact running share, so running sums stay
close to the exact running shares while every single split still sums exactly to
its total and gives every part the floor or the ceiling of its quota.

A carry is a fixed-point number in units of ``1 / CARRY_ONE``: the recipient's exact
running share minus what it was given. Only the choice of who gets a leftover unit
reads it; the parts themselves are exact integers. The fraction of each quota is
taken as ``floor(float(r) / float(W) * CARRY_ONE)`` (``r`` the remainder, ``W`` the
weight sum) in both versions, so the scalar and numpy versions agree bit for bit.
"""

from __future__ import annotations

import heapq
from typing import TYPE_CHECKING, Final

import numpy as np

from salesflow.errors import InvalidValueError

from ._allocation import checked_weights
from ._vectorized import (
    _check_groups,
    _check_non_negative,
    _giant_groups,
    _group_stats,
    _group_vector,
    _integer_vector,
    _quotients,
)

if TYPE_CHECKING:
    from collections.abc import Sequence

    from numpy.typing import ArrayLike, NDArray

__all__ = ["CARRY_ONE", "allocate_grouped_carried", "allocate_units_carried"]

CARRY_ONE: Final = 2**32
"""One whole unit, in the fixed-point units carries are counted in."""

# A part whose quota is whole never takes a leftover unit (it would overshoot).
_NEVER: Final = -(2**62)
# Priorities are clipped to +-2**33 for the packed sort key; they are in (-1, 2) units
# unless a carry ran away, and then only the order among the clipped ones is coarse.
_PRIORITY_LIMIT: Final = 2**33
_GROUP_LIMIT: Final = 2**27


def allocate_units_carried(
    total: int, weights: Sequence[int], carry: Sequence[int]
) -> tuple[list[int], list[int]]:
    """Split ``total`` by ``weights``, leftover units going by remainder plus carry.

    Each part is the floor or the ceiling of its exact quota and the parts sum to
    ``total``; the units left after the floors go to the parts with a fractional quota
    whose ``fraction + carry`` is largest (ties: lower index). Returns the parts and
    the new carries (old carry + exact quota - part, in units of ``1 / CARRY_ONE``).
    With all carries zero the parts equal `allocate_units`.

    Args:
        total: The whole to split (negative allowed: parts and carries mirror).
        weights: Non-negative integer weights, not all zero.
        carry: One carry per weight, from the previous split (start with zeros).

    >>> parts, carry = allocate_units_carried(10, [2, 1], [0, 0])
    >>> parts
    [7, 3]
    >>> allocate_units_carried(10, [2, 1], carry)[0]    # 6.67 and 3.33 again: the carry
    [6, 4]
    """
    integers = checked_weights(weights)
    if len(carry) != len(integers):
        msg = f"{len(carry)} carries for {len(integers)} weights"
        raise InvalidValueError(msg, code="money.carry_length")
    sign = -1 if total < 0 else 1
    magnitude, whole = abs(total), sum(integers)
    parts: list[int] = []
    fractions: list[int] = []
    priority: list[int] = []
    for weight, carried in zip(integers, carry, strict=True):
        part, remainder = divmod(magnitude * weight, whole)
        fraction = int(float(remainder) / float(whole) * CARRY_ONE)
        parts.append(part)
        fractions.append(fraction)
        priority.append(_clip(fraction + sign * carried) if remainder else _NEVER)
    bumped = set(heapq.nlargest(magnitude - sum(parts), range(len(parts)), priority.__getitem__))
    new_carry = [
        carried + sign * (fraction - (CARRY_ONE if i in bumped else 0))
        for i, (carried, fraction) in enumerate(zip(carry, fractions, strict=True))
    ]
    return [sign * (part + (i in bumped)) for i, part in enumerate(parts)], new_carry


def allocate_grouped_carried(
    totals: ArrayLike, weights: ArrayLike, groups: ArrayLike, carry: ArrayLike
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """`allocate_units_carried` for many groups at once, with identical results.

    Args:
        totals: int64[G], one total per group.
        weights: int64[N], non-negative weights.
        groups: int[N], the group of each weight (need not be sorted; ties go to the
            lower position within the group, in input order).
        carry: int64[N], each weight's carry.

    Returns:
        The parts (int64[N]) and the new carries (int64[N]).

    >>> parts, carry = allocate_grouped_carried([10, 10], [2, 1, 1, 1], [0, 0, 1, 1], [0] * 4)
    >>> parts.tolist(), allocate_grouped_carried([10], [2, 1], [0, 0], carry[:2])[0].tolist()
    ([7, 3, 5, 5], [6, 4])
    """
    totals_ = _integer_vector(totals, "totals")
    weights_ = _integer_vector(weights, "weights")
    groups_ = _group_vector(groups, len(weights_), len(totals_))
    carry_ = _integer_vector(carry, "carry")
    if len(carry_) != len(weights_):
        msg = f"{len(carry_)} carries for {len(weights_)} weights"
        raise InvalidValueError(msg, code="money.carry_length")
    _check_non_negative(weights_)
    sums, counts, largest = _group_stats(weights_, groups_, len(totals_))
    _check_groups(counts, largest)
    giant = _giant_groups(totals_, weights_, groups_, sums, largest)
    if giant.any() or len(totals_) >= _GROUP_LIMIT:
        return _one_group_at_a_time(totals_, weights_, groups_, carry_)
    magnitude = np.abs(totals_)
    parts, remainders = _quotients(magnitude, weights_, groups_, sums, largest)
    whole = sums[groups_]
    fraction = np.floor(
        remainders.astype(np.float64) / whole.astype(np.float64) * CARRY_ONE
    ).astype(np.int64)
    sign = np.where(totals_ < 0, -1, 1)[groups_]
    priority = np.where(
        remainders > 0,
        np.clip(fraction + sign * carry_, -_PRIORITY_LIMIT + 1, _PRIORITY_LIMIT - 1),
        -_PRIORITY_LIMIT,
    )
    key = groups_.astype(np.int64) * (4 * _PRIORITY_LIMIT) + (2 * _PRIORITY_LIMIT - priority)
    order = np.argsort(key, kind="stable")
    floors = np.zeros(len(totals_), dtype=np.int64)
    np.add.at(floors, groups_, parts)
    sizes = np.bincount(groups_, minlength=len(totals_))
    starts = np.cumsum(sizes) - sizes
    rank = np.arange(len(order)) - np.repeat(starts, sizes)
    bump = np.zeros(len(order), dtype=np.int64)
    bump[order] = rank < np.repeat(magnitude - floors, sizes)
    new_carry = carry_ + sign * (fraction - bump * CARRY_ONE)
    return sign * (parts + bump), new_carry


def _clip(priority: int) -> int:
    return max(-_PRIORITY_LIMIT + 1, min(_PRIORITY_LIMIT - 1, priority))


def _one_group_at_a_time(
    totals: NDArray[np.int64],
    weights: NDArray[np.int64],
    groups: NDArray[np.intp],
    carry: NDArray[np.int64],
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """The exact path for groups too large for int64 arithmetic: Python ints."""
    parts = np.zeros(len(weights), dtype=np.int64)
    new_carry = np.zeros(len(weights), dtype=np.int64)
    order = np.argsort(groups, kind="stable")
    bounds = np.flatnonzero(np.diff(groups[order])) + 1
    for positions in np.split(order, bounds):
        total = int(totals[int(groups[positions[0]])])
        got, carried = allocate_units_carried(
            total, weights[positions].tolist(), carry[positions].tolist()
        )
        parts[positions] = got
        new_carry[positions] = carried
    return parts, new_carry
