"""Currency: ISO 4217 codes checked against CLDR, with their minor units."""

import pickle

import pytest

from salesflow.errors import InvalidValueError, UnknownCurrencyError
from salesflow.money import Currency


# Minor units per ISO 4217 (the SIX list), where CLDR agrees with it.
@pytest.mark.parametrize(
    ("code", "minor_units"),
    [
        ("CNY", 2),
        ("USD", 2),
        ("EUR", 2),
        ("HKD", 2),
        ("JPY", 0),
        ("KRW", 0),
        ("KWD", 3),
        ("BHD", 3),
        ("CLF", 4),
    ],
)
def test_minor_units_follow_iso_4217(code, minor_units):
    assert Currency(code).minor_units == minor_units


def test_lower_case_code_is_normalised_to_upper_case():
    assert Currency("cny") == "CNY"
    assert Currency("Cny").code == "CNY"


def test_currency_is_interchangeable_with_its_code_string():
    currency = Currency("USD")
    assert currency == "USD"
    assert hash(currency) == hash("USD")
    assert {"USD": 1}[currency] == 1
    assert str(currency) == "USD"
    assert f"{currency}" == "USD"


def test_each_code_has_one_shared_instance():
    assert Currency("usd") is Currency("USD")
    assert Currency(Currency("USD")) is Currency("USD")


def test_repr_evaluates_back_to_the_currency():
    assert repr(Currency("JPY")) == "Currency('JPY')"
    assert eval(repr(Currency("JPY"))) is Currency("JPY")  # noqa: S307 - our own repr


def test_currency_survives_pickling_as_the_shared_instance():
    assert pickle.loads(pickle.dumps(Currency("KWD"))) is Currency("KWD")  # noqa: S301


@pytest.mark.parametrize("code", ["XYZ", "CN", "CNYY", "", "C1Y", "ÇNY", "   "])
def test_unknown_code_raises_unknown_currency_error_naming_it(code):
    with pytest.raises(UnknownCurrencyError) as info:
        Currency(code)
    assert info.value.code == "money.unknown_currency"
    assert repr(code) in info.value.message


@pytest.mark.parametrize("value", [None, 156, b"CNY"])
def test_non_string_code_raises_unknown_currency_error(value):
    with pytest.raises(UnknownCurrencyError):
        Currency(value)


def test_unknown_currency_error_is_an_invalid_value_error():
    with pytest.raises(InvalidValueError):
        Currency("XYZ")


def test_currency_has_no_attributes_to_mutate():
    with pytest.raises(AttributeError):
        Currency("CNY").minor_units = 3  # type: ignore[misc]
