"""The JSON Schemas in docs/schemas/ are the ones the code builds, and they validate."""

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from salesflow._schemas import SCHEMAS, render

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_committed_schema_matches_the_code(name):
    committed = (ROOT / "docs" / "schemas" / name).read_text(encoding="utf-8")
    assert committed == render(name), (
        f"regenerate: python -m salesflow._schemas docs/schemas ({name})"
    )


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_schema_is_valid_json_schema(name):
    jsonschema.Draft202012Validator.check_schema(SCHEMAS[name]())


def test_the_sample_company_validates_against_the_published_schemas():
    company = ROOT / "examples" / "company"
    plan = yaml.safe_load((company / "plan.yaml").read_text(encoding="utf-8"))
    org = yaml.safe_load((company / "org.yaml").read_text(encoding="utf-8"))
    # YAML reads dates as dates; a JSON document carries them as text.
    jsonschema.validate(_as_json(plan), SCHEMAS["target-plan.schema.json"]())
    jsonschema.validate(_as_json(org), SCHEMAS["org.schema.json"]())


def test_a_plan_with_a_wrong_field_fails_the_published_schema():
    bad = {"name": "x", "total": "1.00 CNY", "fiscal_year": 2026, "calendar": {"kind": "monthly"}}
    bad["grain"] = "fortnight"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, SCHEMAS["target-plan.schema.json"]())


def _as_json(value):
    return json.loads(json.dumps(value, default=str))


def test_the_sample_deal_workflow_validates_against_the_published_schema():
    deal = yaml.safe_load(
        (ROOT / "examples" / "workflows" / "deal.yaml").read_text(encoding="utf-8")
    )
    jsonschema.validate(_as_json(deal), SCHEMAS["workflow.schema.json"]())
