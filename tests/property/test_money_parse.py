"""Fuzzing the money parser: only the documented error comes out, and formats read back."""

from hypothesis import example, given
from hypothesis import strategies as st

from salesflow.errors import ParseError
from salesflow.money import Money

from strategies.money import FORMAT_LOCALES, money_like_text, money_on_minor_unit


def parse_or_parse_error(text: str, **kwargs: str) -> Money | ParseError:
    try:
        return Money.parse(text, **kwargs)
    except ParseError as err:
        return err


@given(st.text(max_size=40))
@example("")
@example("\n")
@example("¥")
@example("-")
@example("1" * 5000 + " CNY")
def test_arbitrary_text_gives_money_or_a_parse_error_with_a_column(text):
    result = parse_or_parse_error(text)
    if isinstance(result, ParseError):
        assert result.code == "money.parse"
        assert result.line is not None
        assert result.column is not None
        assert 1 <= result.line <= text.count("\n") + 1
        assert 1 <= result.column <= len(text) + 1


@given(money_like_text, st.sampled_from(["en", "zh_CN", "ja_JP", "de_DE", "fr_FR", "en_IN"]))
def test_money_like_text_gives_money_or_a_parse_error_in_any_locale(text, locale):
    result = parse_or_parse_error(text, locale=locale)
    if isinstance(result, Money):
        assert result.amount.is_finite()
    else:
        assert result.code == "money.parse"


@given(money_like_text)
def test_text_with_a_currency_argument_gives_that_currency_or_a_parse_error(text):
    result = parse_or_parse_error(text, currency="CNY", locale="zh_CN")
    if isinstance(result, Money):
        assert result.currency == "CNY"


@given(st.sampled_from(FORMAT_LOCALES), st.data())
def test_formatted_money_parses_back_in_the_same_locale(locale_and_code, data):
    locale, code = locale_and_code
    money = data.draw(money_on_minor_unit(code))
    assert Money.parse(money.format(locale), locale=locale) == money
