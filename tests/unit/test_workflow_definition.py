"""Workflow definitions: round-trips, JSON Schema, and loading with every problem at once."""

import json
from pathlib import Path

import pytest
import yaml

from salesflow.errors import DefinitionError, Severity
from salesflow.workflow import (
    Sla,
    State,
    Transition,
    WorkflowDefinition,
    dump_workflow,
    load_workflow,
    workflow_json_schema,
)

EXAMPLE = Path(__file__).parents[2] / "examples" / "workflows" / "deal.yaml"


def _paths(err: DefinitionError) -> list[str]:
    return [str(p.location.path) for p in err.problems if p.location]


def _codes(err: DefinitionError) -> list[str]:
    return [p.code for p in err.problems]


def test_example_deal_workflow_loads_and_round_trips_through_yaml_and_json():
    definition = load_workflow(EXAMPLE.read_text("utf-8"))
    assert definition.initial == "线索"
    assert load_workflow(dump_workflow(definition)) == definition
    assert load_workflow(dump_workflow(definition, fmt="json")) == definition


def test_yaml_dump_keeps_chinese_names_readable():
    definition = load_workflow(EXAMPLE.read_text("utf-8"))
    text = dump_workflow(definition)
    assert "name: 商机推进" in text
    assert "\\u" not in text


def test_json_schema_describes_states_and_transitions():
    schema = workflow_json_schema()
    assert set(schema["required"]) >= {"name", "initial", "states"}
    assert "Transition" in json.dumps(schema)


def test_single_source_is_accepted_as_a_one_element_tuple():
    transition = Transition(event="go", source="草稿", target="完成")
    assert transition.source == ("草稿",)


def test_sla_with_a_bad_duration_is_refused_with_its_path():
    data = {"name": "w", "initial": "a", "states": [{"name": "a", "sla": {"within": "two days"}}]}
    with pytest.raises(DefinitionError) as caught:
        load_workflow(data)
    assert _paths(caught.value) == ["workflow.states[0].sla"]


def test_every_reference_problem_is_reported_at_once_with_its_path():
    data = {
        "name": "w",
        "initial": "nowhere",
        "fields": {"amount": "int"},
        "roles": ["sales"],
        "states": [{"name": "a", "requires": ["ghost"]}, {"name": "b", "terminal": True}],
        "transitions": [
            {"event": "go", "source": "a", "target": "b", "roles": ["cfo"]},
            {"event": "go", "source": ["a", "x"], "target": "y"},
            {"event": "go", "source": "a", "target": "b", "guard": "amount >"},
            {"event": "go", "source": "a", "target": "b", "guard": "amount + 1"},
        ],
    }
    with pytest.raises(DefinitionError) as caught:
        load_workflow(data)
    paths = _paths(caught.value)
    assert "workflow.initial" in paths
    assert "workflow.states[0].requires[0]" in paths
    assert "workflow.transitions[0].roles[0]" in paths
    assert "workflow.transitions[1].source[1]" in paths
    assert "workflow.transitions[1].target" in paths
    assert "workflow.transitions[2].guard" in paths
    assert "workflow.transitions[3].guard" in paths
    assert {"workflow.unknown_state", "workflow.unknown_role", "workflow.unknown_field"} <= set(
        _codes(caught.value)
    )


def test_shape_and_reference_problems_come_together():
    data = {
        "name": "w",
        "initial": "a",
        "states": [{"name": "a", "terminal": "maybe"}, {"name": "b"}],
        "transitions": [{"event": "go", "source": "b", "target": "zzz"}, {"source": "a"}],
    }
    with pytest.raises(DefinitionError) as caught:
        load_workflow(data)
    paths = _paths(caught.value)
    assert "workflow.states[0].terminal" in paths
    assert "workflow.transitions[1].event" in paths
    assert "workflow.transitions[0].target" in paths


def test_duplicate_state_names_are_refused():
    data = {"name": "w", "initial": "a", "states": [{"name": "a"}, {"name": "a"}]}
    with pytest.raises(DefinitionError) as caught:
        load_workflow(data)
    assert _codes(caught.value) == ["workflow.duplicate_state"]
    assert _paths(caught.value) == ["workflow.states[1].name"]


def test_timeout_event_must_leave_the_state_it_times_out():
    data = {
        "name": "w",
        "initial": "a",
        "states": [{"name": "a", "sla": {"within": "2h", "timeout": "expire"}}],
    }
    with pytest.raises(DefinitionError) as caught:
        load_workflow(data)
    assert _codes(caught.value) == ["workflow.unknown_event"]


def test_unknown_check_is_reported_only_when_checks_are_named():
    data = {
        "name": "w",
        "initial": "a",
        "states": [{"name": "a"}, {"name": "b", "terminal": True}],
        "transitions": [{"event": "go", "source": "a", "target": "b", "check": "credit_ok"}],
    }
    assert load_workflow(data).transitions[0].check == "credit_ok"
    with pytest.raises(DefinitionError) as caught:
        load_workflow(data, checks=["other"])
    assert _codes(caught.value) == ["workflow.unknown_check"]


def test_yaml_syntax_error_points_at_line_and_column():
    with pytest.raises(DefinitionError) as caught:
        load_workflow("name: w\nstates: [a, b\n")
    problem = caught.value.problems[0]
    assert problem.code == "workflow.yaml"
    assert problem.location is not None
    assert problem.location.line is not None


def test_approval_step_needs_someone_to_approve():
    data = {
        "name": "w",
        "initial": "a",
        "states": [{"name": "a", "approval": {"steps": [{"name": "x"}], "rejected": "a"}}],
    }
    with pytest.raises(DefinitionError) as caught:
        load_workflow(data)
    assert _paths(caught.value) == ["workflow.states[0].approval.steps[0]"]
    assert all(p.severity is Severity.ERROR for p in caught.value.problems)


def test_dynamic_approver_expression_must_be_text_valued():
    data = {
        "name": "w",
        "initial": "a",
        "fields": {"amount": "int"},
        "states": [
            {
                "name": "a",
                "approval": {"steps": [{"name": "x", "approver": "amount"}], "rejected": "a"},
            }
        ],
    }
    with pytest.raises(DefinitionError) as caught:
        load_workflow(data)
    assert all(
        p.location and p.location.path == "workflow.states[0].approval.steps[0].approver"
        for p in caught.value.problems
    )


def test_definition_lookup_of_a_state_by_name():
    definition = WorkflowDefinition(
        name="w", initial="a", states=[State(name="a", sla=Sla(within="1d"))]
    )
    assert definition.state("a").sla == Sla(within="1d")
    with pytest.raises(KeyError):
        definition.state("b")


def test_example_validates_against_the_published_json_schema():
    jsonschema = pytest.importorskip("jsonschema")
    raw = yaml.safe_load(EXAMPLE.read_text("utf-8"))
    as_json = json.loads(json.dumps(raw, default=str, ensure_ascii=False))
    jsonschema.Draft202012Validator.check_schema(workflow_json_schema())
    jsonschema.validate(as_json, workflow_json_schema())
    as_json["states"][0]["terminal"] = "sometimes"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(as_json, workflow_json_schema())


def test_the_published_json_schema_refuses_an_approval_step_nobody_may_approve():
    # The model refuses such a step on load; the schema used to accept it.
    jsonschema = pytest.importorskip("jsonschema")
    validator = jsonschema.Draft202012Validator(workflow_json_schema())

    def with_step(step):
        approval = {"steps": [{"name": "s", **step}], "rejected": "a"}
        return {"name": "w", "initial": "a", "states": [{"name": "a", "approval": approval}]}

    for nobody in ({}, {"roles": []}, {"people": []}, {"approver": ""}, {"approver": None}):
        assert not validator.is_valid(with_step(nobody)), nobody
        with pytest.raises(DefinitionError):
            load_workflow(with_step(nobody))
    for someone in ({"roles": "mgr"}, {"people": ["a"]}, {"approver": "region"}):
        assert validator.is_valid(with_step(someone)), someone
