"""Money in pydantic v2 models: validation, exact JSON round-trip, JSON Schema."""

import json
import re

import pytest
from pydantic import BaseModel, ValidationError

from salesflow.money import Money


class Quota(BaseModel, frozen=True):
    amount: Money
    cap: Money | None = None


def test_model_accepts_money_text_with_an_iso_code():
    assert Quota.model_validate({"amount": "1234.57 CNY"}).amount == Money("1234.57", "CNY")
    assert Quota.model_validate({"amount": "USD -1,000"}).amount == Money("-1000", "USD")


def test_model_accepts_the_mapping_form():
    quota = Quota.model_validate({"amount": {"amount": "1234.57", "currency": "cny"}})
    assert quota.amount == Money("1234.57", "CNY")
    assert Quota.model_validate({"amount": {"amount": 7, "currency": "JPY"}}).amount == Money(
        "7", "JPY"
    )


def test_model_accepts_money_instances():
    money = Money("1", "CNY")
    assert Quota(amount=money).amount is money


def test_dump_is_the_mapping_form_with_the_amount_as_a_string():
    quota = Quota(amount=Money("1234.50", "CNY"))
    assert quota.model_dump() == {
        "amount": {"amount": "1234.50", "currency": "CNY"},
        "cap": None,
    }
    assert json.loads(quota.model_dump_json())["amount"] == {
        "amount": "1234.50",
        "currency": "CNY",
    }


def test_json_round_trip_is_exact_to_the_last_digit():
    quota = Quota(amount=Money("12345678901234567890.123456789", "KWD"), cap=Money("0.10", "USD"))
    back = Quota.model_validate_json(quota.model_dump_json())
    assert back == quota
    assert str(back.amount.amount) == "12345678901234567890.123456789"
    assert str(back.cap.amount) == "0.10"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("value", "words"),
    [
        (1.5, "not float"),
        ({"amount": 1.5, "currency": "CNY"}, "float"),
        ({"amount": "1.5"}, "exactly the keys"),
        ({"amount": "1.5", "currency": "CNY", "note": "x"}, "exactly the keys"),
        ({"amount": "1.5", "currency": "XYZ"}, "XYZ"),
        ("¥5", "ISO 4217"),
        ("5 CNY x", "column 7"),
    ],
)
def test_invalid_input_is_a_validation_error_saying_why(value, words):
    with pytest.raises(ValidationError) as info:
        Quota.model_validate({"amount": value})
    assert words in str(info.value)


def test_json_numbers_with_decimals_are_refused_as_floats():
    with pytest.raises(ValidationError, match="float"):
        Quota.model_validate_json('{"amount": {"amount": 0.1, "currency": "CNY"}}')


def test_json_schema_offers_the_text_and_the_mapping_forms():
    schema = Quota.model_json_schema()["properties"]["amount"]
    text, mapping = schema["anyOf"]
    assert text["type"] == "string"
    assert re.match(text["pattern"], "1234.57 CNY")
    assert re.match(text["pattern"], "CNY -1,234.57")
    assert mapping["type"] == "object"
    assert mapping["required"] == ["amount", "currency"]
    assert mapping["additionalProperties"] is False


def test_serialization_schema_is_the_mapping_form_only():
    schema = Quota.model_json_schema(mode="serialization")["properties"]["amount"]
    assert schema["type"] == "object"
    amount_pattern = schema["properties"]["amount"]["pattern"]
    assert re.match(amount_pattern, "-1234.50")
    assert not re.match(amount_pattern, "1e3")


def test_dumped_mapping_matches_the_published_serialization_schema():
    schema = Quota.model_json_schema(mode="serialization")["properties"]["amount"]
    dumped = Quota(amount=Money("-0.001", "KWD")).model_dump(mode="json")["amount"]
    assert re.match(schema["properties"]["amount"]["pattern"], dumped["amount"])
    assert re.match(schema["properties"]["currency"]["pattern"], dumped["currency"])
