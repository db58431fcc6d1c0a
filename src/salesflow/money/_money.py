"""`Money`: an exact decimal amount in one currency."""

from __future__ import annotations

import decimal
import numbers
import re
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from itertools import repeat
from typing import TYPE_CHECKING, Final, NoReturn, final, overload

from babel import numbers as babel_numbers
from pydantic_core import core_schema

from salesflow.errors import CurrencyMismatchError, InvalidValueError

from ._currency import Currency, babel_locale, quantum
from ._exact import (
    EXACT,
    RoundingMode,
    exact_quotient,
    ratio,
    round_quotient,
    round_to,
    to_minor,
)
from ._parse import parse_money

if TYPE_CHECKING:
    from collections.abc import Iterable

    from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler
    from pydantic.json_schema import JsonSchemaValue

__all__ = ["Money", "amount_of", "new_money", "new_moneys"]

_AMOUNT_TEXT: Final = re.compile(r"[+-]?[0-9]+(?:\.[0-9]+)?")
_AMOUNT_PATTERN: Final = r"^[+-]?[0-9]+(\.[0-9]+)?$"
_CODE_PATTERN: Final = r"^[A-Za-z]{3}$"
# A guide for schema readers and editors; `Money.parse` has the last word.
_TEXT_PATTERN: Final = (
    r"^\s*[+-]?([A-Za-z]{3}\s*[+-]?)?[0-9][0-9,]*(\.[0-9]+)?(\s*[A-Za-z]{3})?\s*$"
)
_FLOAT_HINT: Final = (
    "a float cannot hold money exactly (0.1 is 0.1000000000000000055...); pass a str "
    "or a Decimal, or convert deliberately with Money.from_float(x, currency, rounding=...)"
)


@final
@dataclass(frozen=True, slots=True, init=False, repr=False)
class Money:
    """An exact amount of money in one currency.

    The amount is a `Decimal` kept as given: it is not forced onto the currency's
    minor unit, so a 3.5% commission may carry more digits until it is rounded with
    a named mode. Equality is numeric (``1.0 CNY == 1.00 CNY``) and the hash agrees.

    Attributes:
        amount: The amount, a finite `Decimal` (never ``-0``).
        currency: The currency.

    Args:
        amount: A `str` in plain decimal notation (``"-1234.57"``), an `int` or a
            finite `Decimal`. Floats are refused: see `from_float`.
        currency: A `Currency` or its code in any case.

    Raises:
        InvalidValueError: ``amount`` is a float (code ``"money.float_refused"``),
            NaN or infinite (``"money.not_finite"``) or otherwise not an amount
            (``"money.invalid_amount"``).
        UnknownCurrencyError: ``currency`` is not a known ISO 4217 code.

    >>> price = Money("1234.57", "cny")
    >>> price
    Money('1234.57', 'CNY')
    >>> print(price * 3, price - Money("0.57", "CNY"), -price)
    3703.71 CNY 1234.00 CNY -1234.57 CNY
    >>> commission = price * Decimal("0.035")
    >>> commission, commission.is_on_minor_unit()
    (Money('43.20995', 'CNY'), False)
    >>> commission.round(rounding="half_up")
    Money('43.21', 'CNY')
    >>> sum([Money("1.10", "USD"), Money("2.20", "USD")])
    Money('3.30', 'USD')
    >>> Money(0.1, "CNY")
    Traceback (most recent call last):
    ...
    salesflow.errors.InvalidValueError: a float cannot hold money exactly ...
    """

    amount: Decimal
    currency: Currency

    def __init__(self, amount: str | int | Decimal, currency: Currency | str) -> None:
        """Build from an amount and a currency code (see the class docstring)."""
        object.__setattr__(self, "amount", amount_of(amount))
        object.__setattr__(
            self, "currency", currency if type(currency) is Currency else Currency(currency)
        )

    # -- other constructors ---------------------------------------------------------

    @classmethod
    def zero(cls, currency: Currency | str) -> Money:
        """Zero in ``currency``.

        >>> Money.zero("JPY")
        Money('0', 'JPY')
        """
        return new_money(Decimal(0), Currency(currency))

    @classmethod
    def from_float(
        cls,
        value: float,
        currency: Currency | str,
        *,
        rounding: RoundingMode,
        places: int | None = None,
    ) -> Money:
        """Convert a float deliberately: its shortest repr, rounded with a named mode.

        The float is read as Python prints it (``repr``), which is what a person
        typed or saw: ``2.675`` is taken as 2.675, not as the binary value
        2.67499999999999982236431605997495353221893310546875.

        Args:
            value: A finite float.
            currency: The currency.
            rounding: The rounding mode.
            places: Decimal places to keep; by default the currency's minor units.

        Raises:
            InvalidValueError: ``value`` is NaN or infinite (``"money.not_finite"``).

        >>> Money.from_float(2.675, "CNY", rounding="half_up")
        Money('2.68', 'CNY')
        """
        currency = Currency(currency)
        if not isinstance(value, float | int) or isinstance(value, bool):
            msg = f"from_float takes a float, not {type(value).__name__}"
            raise InvalidValueError(
                msg,
                code="money.invalid_amount",
            )
        amount = Decimal(repr(float(value)))
        if not amount.is_finite():
            msg = f"{value!r} is not a finite amount"
            raise InvalidValueError(msg, code="money.not_finite")
        places = currency.minor_units if places is None else places
        return new_money(round_to(amount, places, rounding), currency)

    @classmethod
    def from_minor_units(cls, units: int, currency: Currency | str) -> Money:
        """The amount that is ``units`` minor units of ``currency`` (fen, cents, yen).

        >>> Money.from_minor_units(123457, "CNY"), Money.from_minor_units(-5, "JPY")
        (Money('1234.57', 'CNY'), Money('-5', 'JPY'))
        """
        currency = Currency(currency)
        if isinstance(units, bool) or not isinstance(units, numbers.Integral):
            msg = f"minor units must be an integer, not {type(units).__name__} {units!r}"
            raise InvalidValueError(
                msg,
                code="money.invalid_amount",
            )
        return new_money(Decimal(int(units)).scaleb(-currency.minor_units, EXACT), currency)

    @classmethod
    def parse(
        cls,
        text: str,
        *,
        currency: Currency | str | None = None,
        locale: str = "en",
    ) -> Money:
        """Read money written as text.

        Accepts an ISO code before or after the amount (``"1234.57 CNY"``,
        ``"CNY 1234.57"``, ``"-1,234.57 usd"``) or a currency symbol of ``locale``
        (``"¥1,234.57"`` is CNY in ``zh_CN``, JPY in ``ja_JP`` and ``en``), the
        locale's digit grouping and decimal separator, a sign before or after the
        currency, and the full-width digits, separators, signs and ``￥`` that Chinese
        and Japanese input methods type.

        Args:
            text: The text.
            currency: The currency when the text has none; when it has one, the two
                must agree.
            locale: Whose separators and symbols apply (default ``"en"``).

        Raises:
            ParseError: The text is not money (code ``"money.parse"``); ``column``
                (1-based) points at the fault.
            InvalidValueError: ``locale`` is not a CLDR locale.

        >>> Money.parse("-1,234.57 USD")
        Money('-1234.57', 'USD')
        >>> Money.parse("¥1,234.57", locale="zh_CN"), Money.parse("¥1,234", locale="ja_JP")
        (Money('1234.57', 'CNY'), Money('1234', 'JPY'))
        >>> Money.parse("1234.57 CNX").column
        Traceback (most recent call last):
        ...
        salesflow.errors.ParseError: line 1, column 9: cannot read '1234.57 CNX' as money: ...
        """
        expected = None if currency is None else Currency(currency)
        amount, found = parse_money(text, currency=expected, locale=locale)
        return new_money(amount, found)

    @classmethod
    def sum(cls, items: Iterable[Money], currency: Currency | str) -> Money:
        """Add up ``items``, all in ``currency``; zero when there are none.

        Raises:
            CurrencyMismatchError: An item is in another currency.

        >>> Money.sum([], "CNY")
        Money('0', 'CNY')
        >>> Money.sum([Money("1.50", "CNY"), Money("2", "CNY")], "CNY")
        Money('3.50', 'CNY')
        """
        currency = Currency(currency)
        total = Decimal(0)
        for item in items:
            if type(item) is not Money:
                msg = f"Money.sum adds Money, not {type(item).__name__}"
                raise InvalidValueError(msg, code="money.invalid_amount")
            if item.currency != currency:
                _mismatch("add", Money.zero(currency), item)
            total = EXACT.add(total, item.amount)
        return new_money(total, currency)

    # -- rounding and minor units ---------------------------------------------------

    def round(self, *, rounding: RoundingMode, places: int | None = None) -> Money:
        """Round with a named mode, to the currency's minor unit unless ``places`` says.

        Args:
            rounding: The rounding mode (no default: say which).
            places: Decimal places to keep; negative rounds to tens, hundreds...

        >>> Money("2.345", "CNY").round(rounding="half_even")
        Money('2.34', 'CNY')
        >>> Money("123456", "CNY").round(rounding="half_up", places=-3)
        Money('123000', 'CNY')
        """
        places = self.currency.minor_units if places is None else places
        return new_money(round_to(self.amount, places, rounding), self.currency)

    def is_on_minor_unit(self) -> bool:
        """Whether the amount is a whole number of minor units (``1.230 CNY`` is).

        >>> Money("1.230", "CNY").is_on_minor_unit(), Money("1.5", "JPY").is_on_minor_unit()
        (True, False)
        """
        step = quantum(self.currency)
        return self.amount.quantize(step, rounding=decimal.ROUND_DOWN, context=EXACT) == self.amount

    def to_minor_units(self, *, rounding: RoundingMode | None = None) -> int:
        """The amount as a count of minor units, exactly.

        Args:
            rounding: If given, round onto the minor unit first; if not, an amount
                between two minor units is an error.

        Raises:
            InvalidValueError: Not on the minor unit and no ``rounding``
                (code ``"money.not_on_minor_unit"``).

        >>> Money("1234.57", "CNY").to_minor_units()
        123457
        >>> Money("0.125", "USD").to_minor_units(rounding="half_even")
        12
        """
        return to_minor(self.amount, self.currency, rounding)

    def divide(
        self,
        divisor: int | Decimal,
        *,
        rounding: RoundingMode,
        places: int | None = None,
    ) -> Money:
        """Divide and round the exact quotient once, with a named mode.

        Args:
            divisor: A non-zero int or finite Decimal.
            rounding: The rounding mode.
            places: Decimal places to keep; by default the currency's minor units.

        >>> Money("100", "CNY").divide(3, rounding="half_up")
        Money('33.33', 'CNY')
        >>> Money("113.00", "CNY").divide(Decimal("1.13"), rounding="half_up")
        Money('100.00', 'CNY')
        """
        factor = _divisor(self, divisor)
        places = self.currency.minor_units if places is None else places
        return new_money(round_quotient(self.amount, factor, places, rounding), self.currency)

    # -- text -----------------------------------------------------------------------

    def format(self, locale: str = "en", *, rounding: RoundingMode | None = None) -> str:
        """Format for people with CLDR's currency pattern for ``locale``.

        Formatting never changes the amount silently: an amount with more digits
        than the minor unit needs an explicit ``rounding``.

        Args:
            locale: A CLDR locale, ``"zh_CN"`` or ``"zh-CN"`` (default ``"en"``).
            rounding: How to round an amount that is not on the minor unit.

        Raises:
            InvalidValueError: Not on the minor unit and no ``rounding``
                (``"money.not_on_minor_unit"``); unknown locale
                (``"money.unknown_locale"``).

        >>> Money("-1234.57", "CNY").format("zh_CN")
        '-¥1,234.57'
        >>> Money("1234.5", "USD").format("en_US"), f"{Money('1234', 'JPY'):ja_JP}"
        ('$1,234.50', '￥1,234')
        """
        amount = Decimal(to_minor(self.amount, self.currency, rounding)).scaleb(
            -self.currency.minor_units, EXACT
        )
        # Babel quantizes in the current context; 28 digits would fail on big amounts.
        with decimal.localcontext(EXACT):
            return str(
                babel_numbers.format_currency(
                    amount, self.currency.code, locale=babel_locale(locale)
                )
            )

    def __format__(self, spec: str) -> str:
        """``f"{money}"`` is ``str(money)``; ``f"{money:zh_CN}"`` is ``money.format("zh_CN")``."""
        return str(self) if not spec else self.format(spec)

    def __str__(self) -> str:
        """Render as ``"1234.57 CNY"``: plain notation, all digits, the ISO code."""
        return f"{self.amount:f} {self.currency.code}"

    def __repr__(self) -> str:
        """Render as ``Money('1234.57', 'CNY')``, which evaluates back to an equal value."""
        return f"Money({f'{self.amount:f}'!r}, {self.currency.code!r})"

    # -- arithmetic -----------------------------------------------------------------

    def __add__(self, other: Money) -> Money:
        """Add an amount in the same currency."""
        if type(other) is not Money:
            return NotImplemented
        if other.currency is not self.currency and other.currency != self.currency:
            _mismatch("add", self, other)
        return new_money(EXACT.add(self.amount, other.amount), self.currency)

    def __radd__(self, other: int) -> Money:
        """Let ``sum()`` start from its ``0``; nothing else is added from the left."""
        if type(other) is int and other == 0:
            return self
        return NotImplemented

    def __sub__(self, other: Money) -> Money:
        """Subtract an amount in the same currency."""
        if type(other) is not Money:
            return NotImplemented
        if other.currency is not self.currency and other.currency != self.currency:
            _mismatch("subtract", self, other)
        return new_money(_positive_zero(EXACT.subtract(self.amount, other.amount)), self.currency)

    def __neg__(self) -> Money:
        """The opposite amount."""
        return new_money(_positive_zero(EXACT.minus(self.amount)), self.currency)

    def __pos__(self) -> Money:
        """The same amount."""
        return self

    def __abs__(self) -> Money:
        """The absolute amount."""
        return new_money(self.amount.copy_abs(), self.currency)

    def __mul__(self, factor: int | Decimal) -> Money:
        """Multiply by an int or a Decimal, exactly (no rounding at all)."""
        value = _factor(factor)
        if value is None:
            return NotImplemented
        return new_money(_positive_zero(EXACT.multiply(self.amount, value)), self.currency)

    __rmul__ = __mul__

    @overload
    def __truediv__(self, other: Money) -> Decimal: ...
    @overload
    def __truediv__(self, other: int | Decimal) -> Money: ...
    def __truediv__(self, other: Money | int | Decimal) -> Money | Decimal:
        """Divide by a number (exact or refused) or by Money (a `Decimal` ratio).

        ``money / n`` is exact or raises ``InvalidValueError`` with code
        ``"money.inexact_division"``: ``100 CNY / 4`` is ``25 CNY``, ``100 CNY / 3``
        has no exact answer, so use `divide` (rounded with a named mode) or
        `allocate_equal` (parts that sum to the whole). ``money / money`` is a
        ratio, exact when it terminates and otherwise kept to 50 significant digits.

        >>> Money("100", "CNY") / 8, Money("1", "CNY") / Money("3", "CNY") > Decimal("0.3333")
        (Money('12.5', 'CNY'), True)
        """
        if type(other) is Money:
            if other.currency != self.currency:
                _mismatch("divide", self, other)
            if other.amount.is_zero():
                msg = f"cannot divide {self} by zero"
                raise InvalidValueError(msg, code="money.division_by_zero")
            return ratio(self.amount, other.amount)
        divisor = _divisor(self, other)
        quotient = exact_quotient(self.amount, divisor)
        if quotient is None:
            msg = (
                f"{self} / {divisor} has no exact decimal value; use .divide({divisor}, "
                "rounding=...) to round it, or allocate_equal to split it into parts"
            )
            raise InvalidValueError(
                msg,
                code="money.inexact_division",
            )
        return new_money(_positive_zero(quotient), self.currency)

    # -- comparisons ----------------------------------------------------------------

    def __lt__(self, other: Money) -> bool:
        """Compare amounts in the same currency."""
        return _comparable(self, other) < other.amount if type(other) is Money else NotImplemented

    def __le__(self, other: Money) -> bool:
        """Compare amounts in the same currency."""
        return _comparable(self, other) <= other.amount if type(other) is Money else NotImplemented

    def __gt__(self, other: Money) -> bool:
        """Compare amounts in the same currency."""
        return _comparable(self, other) > other.amount if type(other) is Money else NotImplemented

    def __ge__(self, other: Money) -> bool:
        """Compare amounts in the same currency."""
        return _comparable(self, other) >= other.amount if type(other) is Money else NotImplemented

    # -- pydantic -------------------------------------------------------------------

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: object, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        """Let pydantic models hold Money (validated from text or a mapping)."""
        return core_schema.no_info_plain_validator_function(
            _validate,
            serialization=core_schema.plain_serializer_function_ser_schema(
                _serialize, when_used="always"
            ),
        )

    @classmethod
    def __get_pydantic_json_schema__(
        cls, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        """Publish the two accepted input forms, and the one output form."""
        return _json_schema(serialization=handler.mode == "serialization")


# -- helpers --------------------------------------------------------------------------


def new_money(amount: Decimal, currency: Currency) -> Money:
    # The checked constructor's work is already done by the caller.
    money = object.__new__(Money)
    object.__setattr__(money, "amount", amount)
    object.__setattr__(money, "currency", currency)
    return money


# The slots' own setters: bypass the frozen __setattr__ as object.__setattr__ does.
_SET_AMOUNT: Final = Money.__dict__["amount"].__set__
_SET_CURRENCY: Final = Money.__dict__["currency"].__set__


def new_moneys(amounts: Sequence[Decimal], currency: Currency) -> list[Money]:
    """`new_money` for many amounts: each slot filled for every item in one C-level pass.

    About twice as fast as calling `new_money` per item (statements of a batch run).
    """
    made = list(map(object.__new__, repeat(Money, len(amounts))))
    deque(map(_SET_AMOUNT, made, amounts), maxlen=0)
    deque(map(_SET_CURRENCY, made, repeat(currency)), maxlen=0)
    return made


def _positive_zero(amount: Decimal) -> Decimal:
    return amount.copy_abs() if amount.is_zero() else amount


def amount_of(value: object) -> Decimal:
    if type(value) is Decimal or isinstance(value, Decimal):
        if not value.is_finite():
            msg = f"{value} is not a finite amount"
            raise InvalidValueError(msg, code="money.not_finite")
        return _positive_zero(value)
    if type(value) is str:
        if _AMOUNT_TEXT.fullmatch(value) is None:
            msg = (
                f"{value[:60]!r} is not an amount: write digits with an optional sign and "
                "decimal point ('-1234.57'); use Money.parse for text with a currency"
            )
            raise InvalidValueError(
                msg,
                code="money.invalid_amount",
            )
        return _positive_zero(Decimal(value))
    if isinstance(value, float):
        raise InvalidValueError(_FLOAT_HINT, code="money.float_refused")
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return Decimal(int(value))
    msg = f"an amount is a str, int or Decimal, not {type(value).__name__}"
    raise InvalidValueError(
        msg,
        code="money.invalid_amount",
    )


def _factor(value: object) -> Decimal | None:
    """A multiplier or divisor as a Decimal; ``None`` for types Money does not combine with."""
    if type(value) is int:
        return Decimal(value)
    if isinstance(value, Decimal):
        if not value.is_finite():
            msg = f"cannot use {value} as a factor"
            raise InvalidValueError(msg, code="money.not_finite")
        return value
    if isinstance(value, float):
        raise InvalidValueError(_FLOAT_HINT, code="money.float_refused")
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return Decimal(int(value))
    return None


def _divisor(money: Money, value: object) -> Decimal:
    divisor = _factor(value)
    if divisor is None:
        msg = f"Money divides by an int, a Decimal or Money, not {type(value).__name__}"
        raise InvalidValueError(
            msg,
            code="money.invalid_amount",
        )
    if divisor.is_zero():
        msg = f"cannot divide {money} by zero"
        raise InvalidValueError(msg, code="money.division_by_zero")
    return divisor


def _comparable(left: Money, right: Money) -> Decimal:
    if right.currency is not left.currency and right.currency != left.currency:
        _mismatch("compare", left, right)
    return left.amount


def _mismatch(verb: str, left: Money, right: Money) -> NoReturn:
    msg = (
        f"cannot {verb} {left} and {right}: the currencies differ "
        f"({left.currency.code}, {right.currency.code}); convert one first"
    )
    raise CurrencyMismatchError(
        msg,
        code="money.currency_mismatch",
    )


def _validate(value: object) -> Money:
    if type(value) is Money:
        return value
    if isinstance(value, str):
        amount, currency = parse_money(value, currency=None, locale="en", symbols=False)
        return new_money(amount, currency)
    if isinstance(value, Mapping):
        keys = set(value)
        if keys != {"amount", "currency"}:
            msg = (
                "money as a mapping has exactly the keys 'amount' and 'currency', "
                f"not {sorted(map(str, keys))}"
            )
            raise InvalidValueError(
                msg,
                code="money.invalid_mapping",
            )
        return Money(value["amount"], value["currency"])
    msg = (
        "money is written '1234.57 CNY' or {'amount': '1234.57', 'currency': 'CNY'}, "
        f"not {type(value).__name__}"
    )
    raise InvalidValueError(
        msg,
        code="money.invalid_amount",
    )


def _serialize(value: Money) -> dict[str, str]:
    return {"amount": f"{value.amount:f}", "currency": value.currency.code}


def _json_schema(*, serialization: bool) -> dict[str, object]:
    amount: dict[str, object] = {"type": "string", "pattern": _AMOUNT_PATTERN}
    if not serialization:
        amount = {"anyOf": [amount, {"type": "integer"}]}
    mapping: dict[str, object] = {
        "type": "object",
        "properties": {
            "amount": amount,
            "currency": {"type": "string", "pattern": _CODE_PATTERN},
        },
        "required": ["amount", "currency"],
        "additionalProperties": False,
        "examples": [{"amount": "1234.57", "currency": "CNY"}],
    }
    if serialization:
        return {"title": "Money", **mapping}
    text = {"type": "string", "pattern": _TEXT_PATTERN, "examples": ["1234.57 CNY"]}
    return {"title": "Money", "anyOf": [text, mapping]}
