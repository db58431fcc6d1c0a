"""Exact decimal arithmetic shared by the scalar and the vectorized paths.

Python's default decimal context keeps 28 significant digits and rounds beyond them,
silently: ``Decimal("1" * 30) + 1`` is not exact under it. Every money operation here
runs in `EXACT` instead, whose precision is the largest libmpdec allows, so sums,
differences, products and quantizations are exact; division has its own rule (see
`exact_quotient` and `ratio`).
"""

from __future__ import annotations

import decimal
from decimal import Decimal
from typing import Final, Literal, get_args

from salesflow.errors import InvalidValueError

from ._currency import Currency, quantum

__all__ = [
    "EXACT",
    "RATIO_MIN_DIGITS",
    "RoundingMode",
    "decimal_rounding",
    "exact_quotient",
    "ratio",
    "round_quotient",
    "round_ratio",
    "round_to",
    "to_minor",
]

RoundingMode = Literal["half_up", "half_even", "half_down", "down", "up", "floor", "ceiling"]
# Attached to the alias so that help() and the public-surface test find it.
RoundingMode.__doc__ = """How to round, named as `decimal` names the modes.

* ``"half_up"``: to nearest, ties away from zero (1.005 -> 1.01, -1.005 -> -1.01).
* ``"half_even"``: to nearest, ties to the even neighbour (1.005 -> 1.00, 1.015 -> 1.02).
* ``"half_down"``: to nearest, ties toward zero (1.005 -> 1.00).
* ``"down"``: toward zero (1.009 -> 1.00, -1.009 -> -1.00).
* ``"up"``: away from zero (1.001 -> 1.01, -1.001 -> -1.01).
* ``"floor"``: toward negative infinity (-1.001 -> -1.01).
* ``"ceiling"``: toward positive infinity (1.001 -> 1.01).

No function has a default mode: the caller names it, every time.
"""

_DECIMAL_ROUNDING: Final[dict[str, str]] = {
    "half_up": decimal.ROUND_HALF_UP,
    "half_even": decimal.ROUND_HALF_EVEN,
    "half_down": decimal.ROUND_HALF_DOWN,
    "down": decimal.ROUND_DOWN,
    "up": decimal.ROUND_UP,
    "floor": decimal.ROUND_FLOOR,
    "ceiling": decimal.ROUND_CEILING,
}
assert set(_DECIMAL_ROUNDING) == set(get_args(RoundingMode))  # noqa: S101 - import-time invariant

EXACT: Final = decimal.Context(
    prec=decimal.MAX_PREC,
    Emax=decimal.MAX_EMAX,
    Emin=decimal.MIN_EMIN,
    rounding=decimal.ROUND_HALF_EVEN,
    traps=[decimal.InvalidOperation, decimal.DivisionByZero, decimal.Overflow],
)
"""The context of every money operation but division: nothing it computes is rounded."""

RATIO_MIN_DIGITS: Final = 50
"""Significant digits kept by `ratio` when the quotient has no finite decimal expansion."""


def decimal_rounding(mode: str) -> str:
    """Map a `RoundingMode` name to the `decimal` constant, refusing unknown names."""
    try:
        return _DECIMAL_ROUNDING[mode]
    except (KeyError, TypeError):
        names = ", ".join(repr(m) for m in _DECIMAL_ROUNDING)
        msg = f"unknown rounding mode {mode!r}; use one of {names}"
        raise InvalidValueError(
            msg,
            code="money.unknown_rounding",
        ) from None


def round_to(amount: Decimal, places: int, mode: str) -> Decimal:
    """Round ``amount`` to ``places`` decimal places (negative: tens, hundreds...)."""
    step = Decimal(1).scaleb(-places)
    rounded = amount.quantize(step, rounding=decimal_rounding(mode), context=EXACT)
    return rounded.copy_abs() if rounded.is_zero() else rounded


def to_minor(amount: Decimal, currency: Currency, mode: str | None) -> int:
    """``amount`` as an integer count of ``currency``'s minor units.

    Raises:
        InvalidValueError: ``amount`` is between two minor units and ``mode`` is
            ``None`` (code ``"money.not_on_minor_unit"``).
    """
    step = quantum(currency)
    on_grid = amount.quantize(step, rounding=decimal.ROUND_DOWN, context=EXACT)
    if on_grid != amount:
        if mode is None:
            msg = (
                f"{amount:f} {currency} is not a whole number of minor units ({step}); "
                "round it first (money.round(rounding=...)) or pass rounding=..."
            )
            raise InvalidValueError(
                msg,
                code="money.not_on_minor_unit",
            )
        on_grid = amount.quantize(step, rounding=decimal_rounding(mode), context=EXACT)
    return int(on_grid.scaleb(currency.minor_units, context=EXACT))


def exact_quotient(dividend: Decimal, divisor: Decimal) -> Decimal | None:
    """``dividend / divisor`` exactly, or ``None`` when it has no finite decimal expansion.

    A terminating quotient of coefficients ``A / D`` has at most ``digits(A) + log2(D)``
    significant digits (its reduced denominator is ``2**i * 5**j <= D``), and
    ``log2(D) < 4 * digits(D)``; a context that wide with `Inexact` trapped either
    gives the exact quotient or proves there is none.
    """
    digits = len(dividend.as_tuple().digits) + 4 * len(divisor.as_tuple().digits) + 2
    context = decimal.Context(
        prec=digits,
        Emax=decimal.MAX_EMAX,
        Emin=decimal.MIN_EMIN,
        traps=[decimal.Inexact, decimal.InvalidOperation, decimal.DivisionByZero],
    )
    try:
        return context.divide(dividend, divisor)
    except decimal.Inexact:
        return None


def ratio(dividend: Decimal, divisor: Decimal) -> Decimal:
    """``dividend / divisor``: exact when it terminates, else `RATIO_MIN_DIGITS` digits.

    Non-terminating quotients are rounded half-even to at least `RATIO_MIN_DIGITS`
    significant digits, far below any minor unit and any threshold a plan states.
    """
    exact = exact_quotient(dividend, divisor)
    if exact is not None:
        return exact
    context = decimal.Context(prec=RATIO_MIN_DIGITS, Emax=decimal.MAX_EMAX, Emin=decimal.MIN_EMIN)
    return context.divide(dividend, divisor)


# Rounding an integer ratio depends only on the floor, the sign and where the
# fractional part lies against 0 and 1/2; a stand-in fraction with the same position
# lets `decimal` apply the named mode (no mode is re-implemented here).
_STAND_INS: Final = (Decimal(0), Decimal("0.25"), Decimal("0.5"), Decimal("0.75"))


def round_ratio(numerator: int, denominator: int, mode: str) -> int:
    """``numerator / denominator`` (``denominator > 0``) rounded to an integer by ``mode``.

    >>> round_ratio(5, 2, "half_even"), round_ratio(-5, 2, "half_up"), round_ratio(-1, 3, "floor")
    (2, -3, -1)
    """
    floor, remainder = divmod(numerator, denominator)
    twice = 2 * remainder
    if remainder == 0:
        stand_in = _STAND_INS[0]
    elif twice < denominator:
        stand_in = _STAND_INS[1]
    elif twice == denominator:
        stand_in = _STAND_INS[2]
    else:
        stand_in = _STAND_INS[3]
    value = EXACT.add(Decimal(floor), stand_in)
    return int(value.quantize(Decimal(1), rounding=decimal_rounding(mode), context=EXACT))


def round_quotient(dividend: Decimal, divisor: Decimal, places: int, mode: str) -> Decimal:
    """``dividend / divisor`` rounded once, at ``places``, by ``mode``: no double rounding."""
    top, bottom = dividend.as_integer_ratio()
    divisor_top, divisor_bottom = divisor.as_integer_ratio()
    numerator, denominator = top * divisor_bottom, bottom * divisor_top
    if denominator < 0:
        numerator, denominator = -numerator, -denominator
    if places >= 0:
        numerator *= 10**places
    else:
        denominator *= 10**-places
    units = round_ratio(numerator, denominator, mode)
    result = Decimal(units).scaleb(-places, EXACT)
    return result.copy_abs() if result.is_zero() else result
