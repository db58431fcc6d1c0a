"""Currencies: ISO 4217 codes checked against CLDR, with their minor units.

The code list and the number of minor units come from the Unicode CLDR as shipped by
Babel (``babel.numbers``); docs/decisions/0002-babel-for-currency-data.md says why.
CLDR's ``digits`` is the precision used in ordinary (non-cash) amounts. It matches
ISO 4217 for the currencies salesflow's users hold (CNY, HKD, TWD, USD, EUR: 2;
JPY, KRW: 0; KWD, BHD: 3) and differs for a few where everyday practice differs from
the standard (IDR, COP: ISO 2, CLDR 0).
"""

from __future__ import annotations

import functools
from decimal import Decimal
from typing import final

from babel import Locale, UnknownLocaleError
from babel import numbers as babel_numbers

from salesflow.errors import InvalidValueError, UnknownCurrencyError

__all__ = ["Currency"]


@final
class Currency(str):
    """An ISO 4217 currency code known to CLDR, in upper case, with its minor units.

    A `Currency` *is* its code: a `str` subclass that compares, hashes, prints and
    serializes exactly like the upper-case code, so ``"CNY"`` literals, dict keys,
    JSON and dataframe columns all work unchanged. What it adds is the guarantee
    that the code was checked (once per spelling: look-ups are cached, and each code
    has a single shared instance) and the `minor_units` that CLDR gives it.

    Args:
        code: A three-letter code, in any letter case.

    Raises:
        UnknownCurrencyError: ``code`` is not a currency code CLDR knows
            (code ``"money.unknown_currency"``).

    >>> Currency("cny")
    Currency('CNY')
    >>> Currency("CNY") == "CNY", Currency("JPY").minor_units, Currency("KWD").minor_units
    (True, 0, 3)
    >>> Currency("usd") is Currency("USD")
    True
    """

    __slots__ = ()

    def __new__(cls, code: str) -> Currency:
        """Validate ``code`` and return the one shared instance for it."""
        if type(code) is Currency:
            return code
        if not isinstance(code, str):
            msg = f"currency must be a three-letter code string, not {type(code).__name__} {code!r}"
            raise UnknownCurrencyError(
                msg,
                code="money.unknown_currency",
            )
        return _lookup(code)

    def __repr__(self) -> str:
        """Render as ``Currency('CNY')``, which evaluates back to the same currency."""
        return f"Currency({self.code!r})"

    @property
    def code(self) -> str:
        """The upper-case ISO 4217 code as a plain `str`."""
        return str.__str__(self)

    @property
    def minor_units(self) -> int:
        """Decimal places of the currency's minor unit per CLDR (CNY 2, JPY 0, KWD 3)."""
        return _minor_units(self)


@functools.cache
def _lookup(code: str) -> Currency:
    upper = code.upper()
    if len(upper) != 3 or not upper.isascii() or not upper.isalpha() or upper not in _known():  # noqa: PLR2004 - ISO 4217 codes have three letters
        msg = f"unknown currency code {code!r}: not an ISO 4217 code known to CLDR"
        raise UnknownCurrencyError(
            msg,
            code="money.unknown_currency",
        )
    return _intern(upper)


@functools.cache
def _intern(upper: str) -> Currency:
    # Bypasses Currency.__new__, which is the validating entry point.
    return str.__new__(Currency, upper)


@functools.cache
def _known() -> frozenset[str]:
    return frozenset(babel_numbers.list_currencies())


@functools.cache
def _minor_units(currency: str) -> int:
    return int(babel_numbers.get_currency_precision(currency))


@functools.cache
def quantum(currency: str) -> Decimal:
    """The smallest amount of ``currency``: ``Decimal('0.01')`` for CNY, ``1`` for JPY."""
    return Decimal(1).scaleb(-_minor_units(currency))


@functools.cache
def babel_locale(name: str) -> Locale:
    """The Babel locale for ``"zh_CN"`` or ``"zh-CN"``, refusing unknown names.

    Raises:
        InvalidValueError: CLDR has no such locale (code ``"money.unknown_locale"``).
    """
    try:
        return Locale.parse(name.replace("-", "_"))
    except (ValueError, TypeError, AttributeError, UnknownLocaleError):
        msg = f"unknown locale {name!r}; use a CLDR locale such as 'en', 'zh_CN' or 'ja_JP'"
        raise InvalidValueError(
            msg,
            code="money.unknown_locale",
        ) from None
