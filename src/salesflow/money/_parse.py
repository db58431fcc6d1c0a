"""Reading money written as text: ``"1234.57 CNY"``, ``"CNY 1234.57"``, ``"¥1,234.57"``.

The grammar, after full-width forms are folded to their ASCII twins (one character
for one, so columns stay those of the input)::

    text   := ws* sign? ws* marker? ws* sign? number ws* marker? ws*   (one marker at most)
    number := digit+ (group digit+)* (decimal digit+)?
    marker := an ISO 4217 code in any case, or a currency symbol of the locale

``group`` and ``decimal`` are the locale's separators (``,`` and ``.`` for ``en`` and
``zh_CN``, ``.`` and ``,`` for ``de``); digit groups must have the locale's sizes
(3, or 3 then 2 for ``en_IN``); where the group separator is a no-break space, a
plain space is accepted too. ``ws`` includes the bidirectional marks of right-to-left
locales. Symbols are resolved through the locale's CLDR symbols: ``¥`` is CNY in
``zh_CN`` and JPY in ``ja_JP`` and ``en``; a symbol that means two currencies in the
locale is refused. Only ASCII digits (and their full-width forms) are read.
"""

from __future__ import annotations

import functools
from decimal import Decimal
from typing import TYPE_CHECKING, Final, NoReturn

from babel import numbers as babel_numbers

from salesflow.errors import Location, ParseError, UnknownCurrencyError

from ._currency import Currency, babel_locale

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ["parse_money"]

# One character for one character, so a column in the folded text is a column in the input.
_FOLD: Final = str.maketrans(
    {
        **{chr(0xFF10 + i): str(i) for i in range(10)},  # full-width digits
        "\uff0c": ",",  # full-width comma
        "\uff0e": ".",  # full-width full stop
        "\uff0b": "+",  # full-width plus
        "\uff0d": "-",  # full-width hyphen-minus
        "\u2212": "-",  # minus sign, used by some CLDR locales
        "\uffe5": "\u00a5",  # full-width yen/yuan sign, the usual one in Chinese text
        "\uff04": "$",  # full-width dollar sign
        "\u3000": " ",  # ideographic space
        # Bidirectional marks CLDR puts around amounts in right-to-left locales.
        "\u200e": " ",
        "\u200f": " ",
        "\u061c": " ",
    },
)
_SIGNS: Final = "+-"
_SPACE_LIKE_GROUPS: Final = frozenset({" ", "\u00a0", "\u202f"})
_SHOWN_CHARS: Final = 60  # of the input quoted in an error message


def parse_money(
    text: str,
    *,
    currency: Currency | None,
    locale: str,
    symbols: bool = True,
) -> tuple[Decimal, Currency]:
    """Read ``text`` as an amount and a currency (see the module docstring).

    Args:
        text: The text.
        currency: The currency to assume when the text has none; when the text has
            one, it must be this one.
        locale: The locale whose separators and currency symbols apply.
        symbols: Whether currency symbols are accepted, or only ISO codes.

    Raises:
        ParseError: The text is not money (code ``"money.parse"``), with the line
            and column of the fault.
        InvalidValueError: ``locale`` is not a CLDR locale.
    """
    if not isinstance(text, str):
        msg = f"money text must be a str, not {type(text).__name__}"
        raise ParseError(msg, code="money.parse")
    number_format = _number_format(locale)
    folded = text.translate(_FOLD)
    tokens = _Tokens.scan(folded, number_format, text)
    amount = _amount(tokens, number_format, text)
    found = _marker_currency(tokens, locale, symbols=symbols, text=text)
    if found is None:
        if currency is None:
            _fail(
                text,
                tokens.number_end,
                "no currency: write it ('1234.57 CNY') or pass currency=",
            )
        return amount, currency
    if currency is not None and found != currency:
        where = tokens.prefix_start if tokens.prefix else tokens.suffix_start
        _fail(text, where, f"the text is in {found} but currency={currency.code!r} was asked for")
    return amount, found


class _NumberFormat:
    __slots__ = ("decimal", "groups", "primary", "secondary", "separators")

    def __init__(self, decimal: str, group: str, grouping: tuple[int, int]) -> None:
        self.decimal = decimal
        # People type a plain space where CLDR has a no-break one (fr, ru, sv...).
        self.groups = _SPACE_LIKE_GROUPS if group in _SPACE_LIKE_GROUPS else frozenset({group})
        self.separators = self.groups | {decimal}
        self.primary, self.secondary = grouping


@functools.cache
def _number_format(locale: str) -> _NumberFormat:
    loc = babel_locale(locale)
    pattern = loc.decimal_formats[None]
    return _NumberFormat(
        babel_numbers.get_decimal_symbol(loc).translate(_FOLD),
        babel_numbers.get_group_symbol(loc).translate(_FOLD),
        (int(pattern.grouping[0]), int(pattern.grouping[1])),
    )


@functools.cache
def _symbol_table(locale: str) -> Mapping[str, tuple[str, ...]]:
    table: dict[str, tuple[str, ...]] = {}
    for code, symbol in sorted(babel_locale(locale).currency_symbols.items()):
        key = symbol.translate(_FOLD).strip()
        table[key] = (*table.get(key, ()), code)
    return table


class _Tokens:
    """Where the sign, markers and number are in the folded text."""

    __slots__ = (
        "negative",
        "number_end",
        "number_start",
        "prefix",
        "prefix_start",
        "suffix",
        "suffix_start",
        "text",
    )

    def __init__(self, text: str) -> None:
        self.text = text
        self.negative = False
        self.prefix = self.suffix = ""
        self.prefix_start = self.suffix_start = self.number_start = self.number_end = 0

    @classmethod
    def scan(cls, folded: str, number_format: _NumberFormat, original: str) -> _Tokens:
        tokens = cls(folded)
        pos = _skip_space(folded, 0)
        sign, pos = _take_sign(folded, pos)
        pos = _skip_space(folded, pos)
        tokens.prefix_start = pos
        pos = _take_marker(folded, pos, number_format)
        tokens.prefix = folded[tokens.prefix_start : pos]
        if tokens.prefix:
            pos = _skip_space(folded, pos)
        if not sign:
            sign, pos = _take_sign(folded, pos)
        tokens.negative = sign == "-"
        tokens.number_start = pos
        pos = tokens.number_end = _take_number(folded, pos, number_format)
        if pos == tokens.number_start:
            _fail(original, pos, "expected an amount (a digit)")
        if (
            pos < len(folded)
            and folded[pos] in number_format.separators
            and not folded[pos].isspace()
        ):
            _fail(original, pos, f"{original[pos]!r} must be followed by a digit")
        tokens.suffix_start = pos = _skip_space(folded, pos)
        pos = _take_marker(folded, pos, number_format)
        tokens.suffix = folded[tokens.suffix_start : pos]
        pos = _skip_space(folded, pos)
        if pos != len(folded):
            _fail(original, pos, f"unexpected {original[pos]!r}")
        if tokens.prefix and tokens.suffix:
            _fail(original, tokens.suffix_start, "the currency is given twice")
        return tokens


def _amount(tokens: _Tokens, number_format: _NumberFormat, original: str) -> Decimal:
    start, text = tokens.number_start, tokens.text[tokens.number_start : tokens.number_end]
    decimals = [i for i, c in enumerate(text) if c == number_format.decimal]
    if len(decimals) > 1:
        _fail(original, start + decimals[1], "a second decimal separator")
    whole_end = decimals[0] if decimals else len(text)
    late = [i for i in range(whole_end, len(text)) if text[i] in number_format.groups]
    if late:
        _fail(original, start + late[0], "a digit group separator after the decimal separator")
    groups = [i for i in range(whole_end) if text[i] in number_format.groups]
    _check_grouping(groups, whole_end, number_format, original, start)
    sign = "-" if tokens.negative else ""
    whole = "".join(c for c in text[:whole_end] if "0" <= c <= "9")
    fraction = f".{text[whole_end + 1 :]}" if decimals else ""
    amount = Decimal(f"{sign}{whole}{fraction}")
    return amount.copy_abs() if amount.is_zero() else amount


def _check_grouping(
    separators: list[int],
    whole_end: int,
    number_format: _NumberFormat,
    original: str,
    start: int,
) -> None:
    if not separators:
        return
    bounds = [-1, *separators, whole_end]
    sizes = [bounds[k + 1] - bounds[k] - 1 for k in range(len(bounds) - 1)]
    if sizes[-1] != number_format.primary:
        _fail(
            original,
            start + separators[-1],
            f"the last digit group has {sizes[-1]} digits, not {number_format.primary}",
        )
    for k, size in enumerate(sizes[:-1]):
        expected = number_format.secondary
        if size != expected and not (k == 0 and 1 <= size <= expected):
            _fail(
                original,
                start + separators[k],
                f"a digit group of {size} digits before this separator, not {expected}",
            )


def _marker_currency(
    tokens: _Tokens,
    locale: str,
    *,
    symbols: bool,
    text: str,
) -> Currency | None:
    marker = tokens.prefix or tokens.suffix
    if not marker:
        return None
    where = tokens.prefix_start if tokens.prefix else tokens.suffix_start
    if len(marker) == 3 and marker.isascii() and marker.isalpha():  # noqa: PLR2004 - ISO 4217 codes have three letters
        try:
            return Currency(marker)
        except UnknownCurrencyError:
            if not symbols:
                _fail(text, where, f"unknown currency code {marker!r}")
    if not symbols:
        _fail(text, where, f"expected an ISO 4217 currency code, not {marker!r}")
    codes = _symbol_table(locale).get(marker, ())
    if len(codes) > 1:
        _fail(
            text,
            where,
            f"the symbol {marker!r} means {' or '.join(codes)} in locale {locale!r}; "
            "write the ISO code instead",
        )
    if not codes:
        _fail(
            text,
            where,
            f"{marker!r} is neither an ISO 4217 code nor a currency symbol of locale {locale!r}",
        )
    return Currency(codes[0])


def _skip_space(text: str, pos: int) -> int:
    while pos < len(text) and text[pos].isspace():
        pos += 1
    return pos


def _take_sign(text: str, pos: int) -> tuple[str, int]:
    if pos < len(text) and text[pos] in _SIGNS:
        return text[pos], pos + 1
    return "", pos


def _take_marker(text: str, pos: int, number_format: _NumberFormat) -> int:
    while pos < len(text):
        char = text[pos]
        if char.isspace() or "0" <= char <= "9" or char in _SIGNS:
            break
        # A separator before a digit starts the number; otherwise it may be part of
        # a symbol (the Egyptian pound's "ج.م.").
        if char in number_format.separators and _digit_at(text, pos + 1):
            break
        pos += 1
    return pos


def _take_number(text: str, pos: int, number_format: _NumberFormat) -> int:
    if not _digit_at(text, pos):
        return pos
    while pos < len(text):
        char = text[pos]
        if not (
            "0" <= char <= "9" or (char in number_format.separators and _digit_at(text, pos + 1))
        ):
            break
        pos += 1
    return pos


def _digit_at(text: str, pos: int) -> bool:
    return pos < len(text) and "0" <= text[pos] <= "9"


def _fail(text: str, index: int, message: str) -> NoReturn:
    line = text.count("\n", 0, index) + 1
    column = index - (text.rfind("\n", 0, index) + 1) + 1
    shown = text if len(text) <= _SHOWN_CHARS else f"{text[: _SHOWN_CHARS - 3]}..."
    msg = f"cannot read {shown!r} as money: {message}"
    raise ParseError(
        msg,
        code="money.parse",
        location=Location(line=line, column=column),
    )
