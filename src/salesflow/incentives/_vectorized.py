"""The vectorized engine: many payees' transactions rated cumulatively over numpy.

Everything is exact int64 arithmetic, checked for overflow:

1. Per payee and tier: the tier's start in minor units ``E[p, k]`` (the same placing
   rule as the scalar `Schedule`), and an offset ``K[p, k]`` such that inside tier k
   ``P(c) * 10**6 = c * rate_k * 10**6 + K[p, k]`` (rates have at most 6 decimals;
   ``K`` is 0 for a retroactive tier).
2. Per transaction: the running total ``c`` of its payee in input order (a stable sort
   by payee, one cumulative sum, minus each group's offset), its tier (how many edges
   ``|c|`` reaches under the boundary rule), ``P(|c|) * 10**6`` and its rounding to
   minor units by the named mode, with the sign of ``c`` (P is odd).
3. Per transaction: the rounded running payout minus its payee's previous one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, NoReturn, final

import numpy as np

from salesflow.errors import InvalidValueError, Location, MoneyOverflowError
from salesflow.money import Currency, decimal_rounding

from ._tables import RATE_PLACES

if TYPE_CHECKING:
    from numpy.typing import ArrayLike, NDArray

    from salesflow.money import RoundingMode

    from ._tables import RateTable

__all__ = [
    "PlacedTable",
    "floor_and_rest",
    "place_table",
    "placed_from_edges",
    "rate_cumulative",
    "rate_values",
    "round_quotient",
]

_SCALE: Final = 10**RATE_PLACES
_INT64_MAX: Final = int(np.iinfo(np.int64).max)
_INT64_MIN: Final = int(np.iinfo(np.int64).min)
# Below this a float64 sum of absolute values proves an int64 running total cannot wrap.
_SAFE_FLOAT: Final = float(2**62)


def rate_cumulative(  # noqa: PLR0913 - the documented signature, plus two required policies
    amounts_minor: ArrayLike,
    payees: ArrayLike,
    table: RateTable,
    quotas_minor: ArrayLike | None = None,
    *,
    currency: Currency | str,
    rounding: RoundingMode,
) -> NDArray[np.int64]:
    """Rate every payee's transactions cumulatively, in input order, in minor units.

    Line ``i`` is ``R(c_i) - R(c_prev)`` where ``c_i`` is the running total of payee
    ``payees[i]`` after transaction ``i``, ``c_prev`` the one before it (0 at the
    start) and ``R`` the payout rounded to the minor unit by ``rounding``; so each
    payee's lines sum exactly to ``R(total)``. Equal to `rate_transactions` with
    ``how="cumulative"``, line for line.

    Args:
        amounts_minor: int64 amounts in minor units (negative for refunds).
        payees: Integer payee indexes ``0 <= p``, one per amount.
        table: The rate table.
        quotas_minor: For an attainment table, every payee's quota in minor units,
            indexed by payee (at least ``max(payees) + 1`` entries, all positive).
        currency: The currency of the amounts (places the table's amount edges).
        rounding: The `RoundingMode` of the running payouts.

    Returns:
        The payout of each line, int64 minor units, in input order.

    Raises:
        InvalidValueError: shapes or dtypes wrong, a negative payee, a quota missing,
            not positive or unexpected, an edge between two minor units.
        MoneyOverflowError: a running total or a payout beyond int64
            (``incentives.int64_overflow``).

    >>> from salesflow.incentives import RateTable
    >>> table = RateTable.model_validate({"tiers": [
    ...     {"start": 0, "end": 100, "rate": "0.02"},
    ...     {"start": 100, "rate": "0.05", "style": "retroactive"},
    ... ]})
    >>> rate_cumulative(np.array([8000, 4000, 5000]), np.array([0, 0, 1]), table,
    ...                 currency="CNY", rounding="half_up")
    array([160, 440, 100])
    """
    decimal_rounding(rounding)  # refuses an unknown mode before any work
    currency = Currency(currency)
    amounts = _int_array(amounts_minor, "amounts_minor")
    who = _int_array(payees, "payees")
    if amounts.shape != who.shape:
        msg = f"amounts_minor has {amounts.size} entries, payees {who.size}"
        raise InvalidValueError(msg, code="incentives.invalid_array")
    if who.size and int(who.min()) < 0:
        at = int(np.flatnonzero(who < 0)[0])
        msg = f"payees[{at}] is {int(who[at])}, not a payee index (>= 0)"
        raise InvalidValueError(
            msg, code="incentives.invalid_payee", location=Location(path=f"payees[{at}]")
        )
    count = int(who.max()) + 1 if who.size else 0
    placed = place_table(table, currency, _quotas(table, quotas_minor, count), count)
    running = _running_totals(amounts, who)
    rounded, _, _ = rate_values(running, who, placed, rounding)
    return _line_differences(rounded, who)


@final
@dataclass(frozen=True, slots=True)
class PlacedTable:
    """A rate table placed on minor units for groups of values (the vectorized `Schedule`).

    Attributes:
        edges: int64[G, T], tier k's start for group g in minor units (column 0 is 0).
        rates: int64[T], each tier's rate times ``10**6``.
        offsets: int64[G, T], ``K`` with ``P(c) * 10**6 = c * rates[k] + K[g, k]``.
        up: The boundary rule is ``"up"``.
    """

    edges: NDArray[np.int64]
    rates: NDArray[np.int64]
    offsets: NDArray[np.int64]
    up: bool


def place_table(
    table: RateTable, currency: Currency, quotas: NDArray[np.int64] | None, groups: int
) -> PlacedTable:
    """Place ``table`` for ``groups`` groups; ``quotas`` (int64[G], positive) for attainment.

    Raises:
        InvalidValueError: an amount edge between two minor units.
        MoneyOverflowError: an edge or a tier's payout beyond int64.
    """
    edges = _edges(table, currency, quotas, groups)
    rates = np.array([int(tier.rate * _SCALE) for tier in table.tiers], dtype=np.int64)
    return PlacedTable(edges, rates, _offsets(table, edges, rates), table.boundary == "up")


def placed_from_edges(table: RateTable, edges: NDArray[np.int64]) -> PlacedTable:
    """A `PlacedTable` from tier starts already placed (int64[G, T], column 0 zero)."""
    rates = np.array([int(tier.rate * _SCALE) for tier in table.tiers], dtype=np.int64)
    return PlacedTable(edges, rates, _offsets(table, edges, rates), table.boundary == "up")


def rate_values(
    values: NDArray[np.int64], groups: NDArray[np.intp], placed: PlacedTable, rounding: str
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.signedinteger[Any]]]:
    """R, P and the tier of each value (P is odd, so a negative value rates as -P(|v|)).

    Returns:
        ``(rounded, scaled, tier)``: R(v) in minor units by ``rounding``; P(v) times
        ``10**6`` in minor units, exact; the tier ``|v|`` falls in.

    Raises:
        MoneyOverflowError: a payout beyond int64.
    """
    return _rounded_payouts(values, groups, placed, rounding)


def round_quotient(
    numerator: NDArray[np.int64], denominator: int, rounding: str
) -> NDArray[np.int64]:
    """``numerator / denominator`` (``denominator > 0``) rounded to integers by ``rounding``.

    >>> round_quotient(np.array([5, -5, 7]), 2, "half_even").tolist()
    [2, -2, 4]
    """
    floor, rest = floor_and_rest(numerator, denominator)
    return _round(floor, rest, rounding, denominator)


def _int_array(values: ArrayLike, name: str) -> NDArray[np.int64]:
    array = np.asarray(values)
    if array.ndim != 1 or not (array.size == 0 or np.issubdtype(array.dtype, np.integer)):
        msg = f"{name} must be a 1-D integer array, not {array.dtype} of shape {array.shape}"
        raise InvalidValueError(msg, code="incentives.invalid_array", location=Location(path=name))
    if array.dtype == np.uint64 and array.size and int(array.max()) > _INT64_MAX:
        msg = f"{name} has a value beyond int64"
        raise MoneyOverflowError(
            msg, code="incentives.int64_overflow", location=Location(path=name)
        )
    return array.astype(np.int64)


def _quotas(
    table: RateTable, quotas_minor: ArrayLike | None, count: int
) -> NDArray[np.int64] | None:
    if table.basis == "amount":
        if quotas_minor is not None:
            msg = "quotas were given for a table on amounts; they would be ignored"
            raise InvalidValueError(
                msg, code="incentives.quota_unexpected", location=Location(path="quotas_minor")
            )
        return None
    if quotas_minor is None:
        msg = "a table on attainment needs quotas_minor, one quota per payee"
        raise InvalidValueError(
            msg, code="incentives.quota_required", location=Location(path="quotas_minor")
        )
    quotas = _int_array(quotas_minor, "quotas_minor")
    if quotas.size < count:
        msg = f"quotas_minor has {quotas.size} entries; payee {count - 1} needs one"
        raise InvalidValueError(
            msg,
            code="incentives.quota_required",
            location=Location(path=f"quotas_minor[{count - 1}]"),
        )
    bad = np.flatnonzero(quotas <= 0)
    if bad.size:
        at = int(bad[0])
        msg = f"quota of payee {at} must be positive, not {int(quotas[at])}"
        raise InvalidValueError(
            msg, code="incentives.quota_not_positive", location=Location(path=f"quotas_minor[{at}]")
        )
    return quotas


def _overflow(what: str) -> NoReturn:
    msg = f"{what} does not fit int64 minor units"
    raise MoneyOverflowError(msg, code="incentives.int64_overflow")


def _checked_mul(a: NDArray[np.int64], b: NDArray[np.int64], what: str) -> NDArray[np.int64]:
    """``a * b`` for ``a, b >= 0``, refusing a product beyond int64."""
    limit = np.where(b > 0, _INT64_MAX // np.maximum(b, 1), _INT64_MAX)
    if np.any(a > limit):
        _overflow(what)
    return a * b


def _checked_add(a: NDArray[np.int64], b: NDArray[np.int64], what: str) -> NDArray[np.int64]:
    total = a + b
    # Two's-complement addition wrapped exactly when both signs agree and the sum's differs.
    if np.any(((a ^ total) & (b ^ total)) < 0):
        _overflow(what)
    return total


def _edges(
    table: RateTable, currency: Currency, quotas: NDArray[np.int64] | None, count: int
) -> NDArray[np.int64]:
    """``E[p, k]``: tier k's start for payee p, in minor units (column 0 is 0)."""
    rows = max(count, 1)
    edges = np.zeros((rows, len(table.tiers)), dtype=np.int64)
    for index, tier in enumerate(table.tiers[1:], start=1):
        if quotas is None:
            edges[:, index] = _amount_edge(tier.start, index, currency)
        else:
            micro = int(tier.start * _SCALE)  # exact: at most RATE_PLACES decimals
            edges[:, index] = _attainment_edge(micro, quotas[:rows], up=table.boundary == "up")
    return edges


def _amount_edge(edge: object, index: int, currency: Currency) -> int:
    from decimal import Decimal  # noqa: PLC0415 - only here, for one exactness check

    assert isinstance(edge, Decimal)  # noqa: S101 - Tier.start is a Decimal
    scaled = edge.scaleb(currency.minor_units)
    if scaled != scaled.to_integral_value():
        msg = f"tier edge {edge} is not a whole number of {currency} minor units"
        raise InvalidValueError(
            msg,
            code="incentives.edge_not_on_minor_unit",
            location=Location(path=f"table.tiers[{index}].start"),
        )
    if scaled > _INT64_MAX:
        _overflow(f"tier edge {edge}")
    return int(scaled)


def _attainment_edge(micro: int, quotas: NDArray[np.int64], *, up: bool) -> NDArray[np.int64]:
    """``ceil`` (up) or ``floor`` (down) of ``micro * quota / 10**6``, exactly."""
    if micro > _INT64_MAX:
        _overflow("an attainment edge")
    high, low = np.divmod(quotas, _SCALE)
    factor = np.full_like(quotas, micro)
    whole = _checked_mul(factor, high, "an attainment edge times a quota")
    part, rest = np.divmod(_checked_mul(factor, low, "an attainment edge times a quota"), _SCALE)
    if up:
        part = part + (rest > 0)
    return _checked_add(whole, part, "an attainment edge times a quota")


def _offsets(
    table: RateTable, edges: NDArray[np.int64], rates: NDArray[np.int64]
) -> NDArray[np.int64]:
    """``K[p, k]`` with ``P(c) * 10**6 = c * rates[k] + K[p, k]`` inside tier k."""
    offsets = np.zeros_like(edges)
    for index in range(1, len(table.tiers)):
        if table.tiers[index].style == "retroactive":
            continue
        start = edges[:, index]
        # P at the tier's start, as the tier below computes it, times 10**6.
        below = _checked_add(
            _checked_mul(start, np.full_like(start, rates[index - 1]), "a tier's payout"),
            offsets[:, index - 1],
            "a tier's payout",
        )
        offsets[:, index] = below - _checked_mul(
            start, np.full_like(start, rates[index]), "a tier's payout"
        )
    return offsets


def _running_totals(amounts: NDArray[np.int64], who: NDArray[np.int64]) -> NDArray[np.int64]:
    """Each payee's running total after each of its transactions, in input order."""
    if amounts.size == 0:
        return amounts.copy()
    order = np.argsort(who, kind="stable")
    sorted_amounts = amounts[order]
    sorted_who = who[order]
    spread = np.zeros(int(sorted_who[-1]) + 1, dtype=np.float64)
    np.add.at(spread, sorted_who, np.abs(sorted_amounts.astype(np.float64)))
    if np.any(spread >= _SAFE_FLOAT):
        _check_exact_prefixes(sorted_amounts, sorted_who, spread >= _SAFE_FLOAT)
    # Wrapping int64 arithmetic is arithmetic modulo 2**64: a group's prefix comes out
    # right whenever it fits int64, even if the global sum wrapped on the way.
    with np.errstate(over="ignore"):
        totals = np.cumsum(sorted_amounts)
        starts = np.flatnonzero(np.r_[True, sorted_who[1:] != sorted_who[:-1]])
        before = np.r_[np.int64(0), totals[starts[1:] - 1]]
        lengths = np.diff(np.r_[starts, sorted_who.size])
        running = totals - np.repeat(before, lengths)
    result: NDArray[np.int64] = np.empty_like(running)
    result[order] = running
    return result


def _check_exact_prefixes(
    amounts: NDArray[np.int64], who: NDArray[np.int64], risky: NDArray[np.bool_]
) -> None:
    for payee in np.flatnonzero(risky):
        total = 0
        for value in amounts[who == payee].tolist():
            total += value
            if not _INT64_MIN <= total <= _INT64_MAX:
                msg = f"the running total of payee {int(payee)} exceeds int64 minor units"
                raise MoneyOverflowError(
                    msg, code="incentives.int64_overflow", location=Location(path="amounts_minor")
                )


def _rounded_payouts(
    running: NDArray[np.int64], groups: NDArray[np.intp], placed: PlacedTable, rounding: str
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.signedinteger[Any]]]:
    """R(c), P(c) * 10**6 (signed) and the tier of each running total."""
    lowest = int(running.min()) if running.size else 0
    if lowest == _INT64_MIN:
        _overflow("a running total of -2**63")
    size = running if lowest >= 0 else np.abs(running)
    tier = _tiers(size, groups, placed)
    scaled = _payout_scaled(size, groups, tier, placed)
    whole, fraction = floor_and_rest(scaled, _SCALE)
    if lowest >= 0:
        return _round(whole, fraction, rounding, _SCALE), scaled, tier
    negative = running < 0
    # P is odd: -(w + f/S) is (-w - 1) + (S - f)/S when f > 0.
    floor = np.where(negative, -whole - (fraction > 0), whole)
    rest = np.where(negative & (fraction > 0), _SCALE - fraction, fraction)
    signed = np.where(negative, -scaled, scaled)
    return _round(floor, rest, rounding, _SCALE), signed, tier


def _tiers(
    size: NDArray[np.int64], groups: NDArray[np.intp], placed: PlacedTable
) -> NDArray[np.signedinteger[Any]]:
    """The tier of each size: how many tier starts it reaches, by the boundary rule."""
    edges = placed.edges
    shared = edges.shape[0] == 1  # one placing for every value: no gather needed
    tier: NDArray[np.signedinteger[Any]] = np.zeros(
        len(size),
        dtype=np.int8 if edges.shape[1] < 128 else np.intp,  # noqa: PLR2004
    )
    for index in range(1, edges.shape[1]):
        edge = edges[0, index] if shared else edges[groups, index]
        tier += (size >= edge) if placed.up else (size > edge)
    return tier


def _payout_scaled(
    size: NDArray[np.int64],
    groups: NDArray[np.intp],
    tier: NDArray[np.signedinteger[Any]],
    placed: PlacedTable,
) -> NDArray[np.int64]:
    """``size * rates[tier] + offsets[group, tier]``, refusing a result beyond int64.

    When the largest size times the largest rate, plus the largest offset, fits int64
    (the usual case), nothing can wrap and no element is checked.
    """
    if not size.size:
        return size.copy()
    # An intp index once: numpy would convert a narrow index again for each gather.
    index = tier.astype(np.intp)
    rates = placed.rates.take(index)
    if placed.offsets.shape[0] == 1:
        offset = placed.offsets[0].take(index)
        widest = int(np.abs(placed.offsets[0]).max())
    else:
        offset = placed.offsets[groups, index]
        widest = int(np.abs(offset).max())
    largest = int(size.max()) * int(placed.rates.max(initial=0)) + widest
    if largest <= _INT64_MAX:
        product: NDArray[np.int64] = size * rates
        product += offset
        return product
    return _checked_add(_checked_mul(size, rates, "a payout"), offset, "a payout")


def floor_and_rest(
    numerator: NDArray[np.int64], denominator: int
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """``divmod(numerator, denominator)`` for ``denominator > 0``.

    A floor division and a product: numpy's ``divmod`` of int64 is several times slower
    than both. Where ``floor * denominator`` wraps, so does the difference: the rest is
    exact modulo 2**64, and it lies in ``[0, denominator)``.
    """
    floor = numerator // np.int64(denominator)
    with np.errstate(over="ignore"):
        rest = numerator - floor * np.int64(denominator)
    return floor, rest


def _round(
    floor: NDArray[np.int64], rest: NDArray[np.int64], mode: str, scale: int = _SCALE
) -> NDArray[np.int64]:
    """Round ``floor + rest / scale`` (``0 <= rest < scale``) to an integer by ``mode``.

    The value is negative exactly when its floor is; a tie exists only for an even
    ``scale`` (``rest == scale / 2``).
    """
    if mode == "floor":
        return floor.copy()
    if mode == "ceiling":
        return floor + (rest > 0)
    if mode == "down":
        return floor + ((rest > 0) & (floor < 0))
    if mode == "up":
        return floor + ((rest > 0) & (floor >= 0))
    half, odd = divmod(scale, 2)
    if odd:  # no tie: up past the half
        return floor + (rest > half)
    # ``lift`` is 1 where a tie goes up: ``rest + lift > half`` is past the half, or a
    # tie going up (one comparison instead of three).
    lift: NDArray[np.generic]
    if mode == "half_up":
        lift = floor >= 0  # away from zero
    elif mode == "half_down":
        lift = floor < 0  # toward zero
    else:  # half_even: up from an odd floor
        lift = floor & 1
    return floor + ((rest + lift) > half)


def _line_differences(rounded: NDArray[np.int64], who: NDArray[np.int64]) -> NDArray[np.int64]:
    if rounded.size == 0:
        return rounded.astype(np.int64)
    order = np.argsort(who, kind="stable")
    sorted_rounded = rounded[order]
    sorted_who = who[order]
    previous = np.r_[np.int64(0), sorted_rounded[:-1]]
    previous[np.r_[True, sorted_who[1:] != sorted_who[:-1]]] = 0
    with np.errstate(over="ignore"):
        lines = sorted_rounded - previous
    if np.any(((sorted_rounded ^ previous) & (sorted_rounded ^ lines)) < 0):
        _overflow("a line's payout")
    result: NDArray[np.int64] = np.empty_like(lines)
    result[order] = lines
    return result
