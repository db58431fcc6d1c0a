"""Money as text: str, repr, parsing and formatting for people."""

from decimal import Decimal

import pytest

from salesflow.errors import InvalidValueError, ParseError
from salesflow.money import Currency, Money, _parse

# -- str and repr ---------------------------------------------------------------------


def test_str_is_plain_amount_and_code():
    assert str(Money("1234.57", "CNY")) == "1234.57 CNY"
    assert str(Money("-0.5", "usd")) == "-0.5 USD"
    assert str(Money(Decimal("1E+3"), "JPY")) == "1000 JPY"
    assert str(Money(Decimal("1E-7"), "CNY")) == "0.0000001 CNY"


def test_format_with_an_empty_spec_is_str():
    assert f"{Money('1.50', 'CNY')}" == "1.50 CNY"


@pytest.mark.parametrize(
    "money",
    [
        Money("1234.57", "CNY"),
        Money("-0.001", "KWD"),
        Money(Decimal("1E+3"), "JPY"),
        Money(Decimal("1.50"), "USD"),
        Money("1" * 40, "CNY"),
    ],
)
def test_repr_round_trips(money):
    copy = eval(repr(money), {"Money": Money})  # noqa: S307 - our own repr
    assert copy == money
    assert str(copy) == str(money)


def test_repr_reads_as_the_constructor_call():
    assert repr(Money("1234.57", "cny")) == "Money('1234.57', 'CNY')"


# -- parse ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "locale", "expected"),
    [
        ("1234.57 CNY", "en", Money("1234.57", "CNY")),
        ("CNY 1234.57", "en", Money("1234.57", "CNY")),
        ("-1,234.57 USD", "en", Money("-1234.57", "USD")),
        ("USD -1,234.57", "en", Money("-1234.57", "USD")),
        ("-USD 5", "en", Money("-5", "USD")),
        ("+5 usd", "en", Money("5", "USD")),
        ("  7 jpy  ", "en", Money("7", "JPY")),
        ("¥1,234.57", "zh_CN", Money("1234.57", "CNY")),
        ("-¥1,234.57", "zh_CN", Money("-1234.57", "CNY")),
        ("¥-1,234.57", "zh_CN", Money("-1234.57", "CNY")),
        ("¥1,234", "ja_JP", Money("1234", "JPY")),
        ("¥1,234", "en", Money("1234", "JPY")),
        ("$1,234.57", "en_US", Money("1234.57", "USD")),
        ("US$5", "zh_CN", Money("5", "USD")),
        ("1.234,57 €", "de_DE", Money("1234.57", "EUR")),
        ("1\u202f234,57\u00a0€", "fr_FR", Money("1234.57", "EUR")),
        ("1 234,57 €", "fr-FR", Money("1234.57", "EUR")),
        ("CHF-1'234.50", "de_CH", Money("-1234.50", "CHF")),
        ("₹12,34,567.00", "en_IN", Money("1234567.00", "INR")),
        ("1234567.891 KWD", "en", Money("1234567.891", "KWD")),
    ],
)
def test_parse_reads_codes_symbols_signs_and_locale_separators(text, locale, expected):
    parsed = Money.parse(text, locale=locale)
    assert parsed == expected
    assert parsed.amount.as_tuple() == expected.amount.as_tuple()


def test_parse_reads_full_width_forms_typed_by_chinese_input_methods():
    # Full-width yen sign, digits, comma, full stop and ideographic space.
    text = "\uffe5\uff11\uff0c\uff12\uff13\uff14\uff0e\uff15\uff17\u3000"
    assert Money.parse(text, locale="zh_CN") == Money("1234.57", "CNY")


def test_parse_takes_the_currency_argument_when_the_text_has_none():
    assert Money.parse("1,234.57", currency="cny") == Money("1234.57", "CNY")


def test_parse_accepts_an_agreeing_currency_argument():
    assert Money.parse("5 CNY", currency="CNY") == Money("5", "CNY")
    assert Money.parse("¥5", currency="CNY", locale="zh_CN").currency is Currency("CNY")


@pytest.mark.parametrize(
    ("text", "column", "words"),
    [
        ("", 1, "expected an amount"),
        ("CNY", 4, "expected an amount"),
        ("1234.57", 8, "no currency"),
        ("1234.57 CNX", 9, "CNX"),
        ("1,23 CNY", 2, "2 digits"),
        ("12,3456 CNY", 3, "4 digits"),
        ("1.2.3 CNY", 4, "second decimal"),
        ("1.234,5 CNY", 6, "after the decimal"),
        ("--5 CNY", 2, "expected an amount"),
        ("CNY 5 USD", 7, "twice"),
        ("5 CNY x", 7, "unexpected 'x'"),
        ("1,,234 CNY", 2, "followed by a digit"),
        ("1, CNY", 2, "followed by a digit"),
        ("CNY 1.", 6, "followed by a digit"),
        ("$.50", 2, "expected an amount"),
        ("5 元", 3, "元"),
    ],
)
def test_parse_error_has_code_and_points_at_the_fault(text, column, words):
    with pytest.raises(ParseError) as info:
        Money.parse(text)
    assert info.value.code == "money.parse"
    assert info.value.line == 1
    assert info.value.column == column
    assert words in info.value.message


def test_parse_error_line_and_column_on_later_lines():
    with pytest.raises(ParseError) as info:
        Money.parse("5\n CNY\n  ?")
    assert (info.value.line, info.value.column) == (3, 3)


def test_parse_refuses_a_currency_that_contradicts_the_argument():
    with pytest.raises(ParseError) as info:
        Money.parse("5 USD", currency="CNY")
    assert info.value.column == 3
    assert "USD" in info.value.message
    assert "CNY" in info.value.message


def test_parse_refuses_a_symbol_with_two_meanings_in_the_locale(monkeypatch):
    monkeypatch.setattr(_parse, "_symbol_table", lambda _locale: {"$": ("AUD", "USD")})
    with pytest.raises(ParseError) as info:
        Money.parse("$5")
    assert "AUD or USD" in info.value.message


def test_parse_error_quotes_long_input_shortened():
    with pytest.raises(ParseError) as info:
        Money.parse("x" * 1000)
    assert len(info.value.message) < 200


def test_parse_refuses_non_text_with_a_parse_error():
    with pytest.raises(ParseError):
        Money.parse(5)  # type: ignore[arg-type]


def test_parse_with_an_unknown_locale_is_an_invalid_value():
    with pytest.raises(InvalidValueError) as info:
        Money.parse("5 CNY", locale="xx_YY")
    assert info.value.code == "money.unknown_locale"


# -- format ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("money", "locale", "expected"),
    [
        # Expected strings are CLDR's currency patterns (babel.numbers.format_currency).
        (Money("1234.57", "CNY"), "zh_CN", "¥1,234.57"),
        (Money("-1234.57", "CNY"), "zh_CN", "-¥1,234.57"),
        (Money("1234.57", "USD"), "en_US", "$1,234.57"),
        (Money("-1234.5", "USD"), "en_US", "-$1,234.50"),
        (Money("1234", "JPY"), "ja_JP", "\uffe51,234"),
        (Money("1234", "JPY"), "en_US", "¥1,234"),
        # en's pattern is "¤#,##0.00": the code, then the number (Babel puts no space).
        (Money("5", "KWD"), "en", "KWD5.000"),
        (Money("1234.57", "EUR"), "de_DE", "1.234,57\u00a0€"),
        (Money("1234.57", "CNY"), "zh-CN", "¥1,234.57"),
    ],
)
def test_format_uses_the_locale_currency_pattern(money, locale, expected):
    assert money.format(locale) == expected


def test_format_spec_is_a_locale():
    assert f"{Money('1234.57', 'CNY'):zh_CN}" == "¥1,234.57"


def test_format_keeps_every_digit_of_big_amounts():
    assert Money("1" * 30, "CNY").format("zh_CN") == "¥" + "111," * 9 + "111.00"


def test_format_refuses_to_round_silently():
    with pytest.raises(InvalidValueError) as info:
        Money("1.005", "CNY").format("zh_CN")
    assert info.value.code == "money.not_on_minor_unit"


def test_format_rounds_when_told_how():
    assert Money("1.005", "CNY").format("zh_CN", rounding="half_up") == "¥1.01"
    assert Money("1.005", "CNY").format("zh_CN", rounding="half_even") == "¥1.00"


def test_format_with_an_unknown_locale_is_an_invalid_value():
    with pytest.raises(InvalidValueError) as info:
        Money("1", "CNY").format("xx_YY")
    assert info.value.code == "money.unknown_locale"
