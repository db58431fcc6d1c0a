"""Workflow definitions as data: states, transitions, approvals and SLAs.

Every model here is a frozen pydantic model that round-trips YAML and JSON exactly
and has a JSON Schema. Loading (`load_workflow`) reports every problem at once: the
shape errors pydantic finds, and the references that do not resolve (unknown states,
roles, fields, checks) or expressions that do not compile, each at its path such as
``workflow.transitions[3].guard``.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import TYPE_CHECKING, Annotated, Final, Literal, Self, TypeVar, final

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    WithJsonSchema,
    model_validator,
)

from salesflow._definitions import validation_problems
from salesflow.errors import DefinitionError, Location, Problem, Severity
from salesflow.expressions import Schema
from salesflow.periods import BusinessCalendar

if TYPE_CHECKING:
    from pydantic.config import JsonDict

__all__ = [
    "Approval",
    "ApprovalStep",
    "Sla",
    "State",
    "Transition",
    "WorkflowDefinition",
    "dump_workflow",
    "parse_workflow_data",
    "workflow_json_schema",
]

ModelT = TypeVar("ModelT", bound=BaseModel)
_DURATION: Final = re.compile(r"\s*(?P<amount>\d+)\s*(?P<unit>[mhd])\s*")
_UNIT_NAMES: Final = {"m": "working minutes", "h": "working hours", "d": "business days"}
# A bound far beyond any real SLA, well inside what datetime arithmetic can hold.
_LONGEST: Final = dt.timedelta(days=36_600)


_TYPES: Final = ["bool", "int", "double", "decimal", "string", "date", "timestamp", "duration"]
# The expressions' Schema is written in its compact spelling ("decimal(2)?"), which its
# own JSON Schema does not describe; the published workflow schema accepts both forms.
_FIELDS_JSON_SCHEMA: Final[dict[str, object]] = {
    "type": "object",
    "description": (
        "The typed fields of an instance: name -> bool, int, double, decimal(N), string,"
        " date, timestamp or duration, with a trailing ? when the field may be null"
    ),
    "additionalProperties": {
        "anyOf": [
            {
                "type": "string",
                "pattern": (
                    r"^\s*(bool|int|double|string|date|timestamp|duration"
                    r"|decimal\s*\(\s*\d+\s*\))\s*\??\s*$"
                ),
            },
            {
                "type": "object",
                "properties": {
                    "type": {"enum": _TYPES},
                    "nullable": {"type": "boolean"},
                    "scale": {"type": ["integer", "null"], "minimum": 0, "maximum": 18},
                },
                "required": ["type"],
                "additionalProperties": False,
            },
        ]
    },
}


def _names(value: object) -> object:
    """Accept one name where a tuple of names is expected (``source: 草稿``)."""
    return (value,) if isinstance(value, str) else value


_NAMES_JSON_SCHEMA: Final[dict[str, object]] = {
    "anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]
}
Names = Annotated[tuple[str, ...], BeforeValidator(_names), WithJsonSchema(_NAMES_JSON_SCHEMA)]
"""One name or a list of names; stored as a tuple."""
Sources = Annotated[
    tuple[str, ...],
    BeforeValidator(_names),
    Field(min_length=1),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string"},
                {"type": "array", "items": {"type": "string"}, "minItems": 1},
            ]
        }
    ),
]
"""One state or a non-empty list of states."""
_SOMEONE: Final[JsonDict] = {
    "anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}, "minItems": 1}]
}
"""One name or a non-empty list: at least one approver (`ApprovalStep`'s schema)."""


@final
class Sla(BaseModel):
    """How long an instance may stay in a state, counted in business time.

    Attributes:
        within: The allowance: ``"90m"`` working minutes, ``"8h"`` working hours (on
            the workflow's business calendar), or ``"3d"`` business days (due at the
            end of the third business day after the day the state was entered); at
            most 36,600 days' worth.
        warn_before: When an instance is about to breach: this much working time
            (``"m"``/``"h"``) or these business days (``"d"``) before the deadline.
            Default ``None``: no early warning.
        timeout: The event fired by ``Workflow.tick`` once the deadline has passed;
            it must be a transition out of the state. Default ``None``: a breach is
            reported by ``due`` but nothing moves.

    >>> Sla(within="2d", timeout="超时").allowance
    (2, 'd')
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    within: str
    warn_before: str | None = None
    timeout: str | None = None

    @model_validator(mode="after")
    def _durations(self) -> Self:
        for text in (self.within, self.warn_before):
            if text is not None and _DURATION.fullmatch(text) is None:
                msg = f"{text!r} is not a duration; write e.g. '90m', '8h' or '3d'"
                raise ValueError(msg)
            if text is not None and _span(*_split(text)) > _LONGEST:
                msg = f"{text!r} is longer than {_LONGEST.days} days"
                raise ValueError(msg)
        return self

    @property
    def allowance(self) -> tuple[int, Literal["m", "h", "d"]]:
        """`within` as (amount, unit)."""
        return _split(self.within)

    @property
    def warning(self) -> tuple[int, Literal["m", "h", "d"]] | None:
        """`warn_before` as (amount, unit), or ``None``."""
        return None if self.warn_before is None else _split(self.warn_before)

    def describe(self) -> str:
        """The allowance in words, e.g. ``"8 working hours"``."""
        amount, unit = self.allowance
        return f"{amount} {_UNIT_NAMES[unit]}"


@final
class ApprovalStep(BaseModel):
    """One step of an approval chain: N of the eligible approvers must approve.

    Attributes:
        name: The step's name, e.g. ``"财务审批"``.
        roles: Anyone holding one of these roles may approve.
        people: These people (by id) may approve.
        approver: An expression of type string over the workflow's fields that names
            one more approver (``region == "east" ? "zhang.wei" : "li.na"``); ``None``
            by default.
        quorum: How many distinct approvals the step needs (N of M). Default 1.
        when: A condition over the workflow's fields; the step applies only when it
            holds at the moment the approval starts (``amount > 1000000``: the regional
            director signs large deals). Default ``None``: always.
        rejection: What a rejection does. ``"veto"`` (the default): any rejection
            rejects the request. ``"quorum"``: a rejection counts against the quorum;
            the request is rejected only once the step can no longer reach it (too
            few eligible people are left undecided). ``"quorum"`` needs the step's
            approvers known, so a step with ``roles`` cannot have it.

    >>> ApprovalStep(name="经理", roles=("sales_manager",)).rejection
    'veto'
    >>> ApprovalStep(name="董事会", people=("a", "b", "c"), quorum=2, rejection="quorum").quorum
    2
    """

    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        # The validator's rules, for editors: someone approves (non-empty roles or
        # people, or an approver expression), and rejection "quorum" goes with no roles.
        json_schema_extra={
            "anyOf": [
                {"required": ["roles"], "properties": {"roles": _SOMEONE}},
                {"required": ["people"], "properties": {"people": _SOMEONE}},
                {
                    "required": ["approver"],
                    "properties": {"approver": {"type": "string", "minLength": 1}},
                },
            ],
            "if": {"properties": {"rejection": {"const": "quorum"}}, "required": ["rejection"]},
            "then": {"properties": {"roles": {"type": "array", "maxItems": 0}}},
        },
    )

    name: str
    roles: Names = ()
    people: Names = ()
    approver: str | None = None
    quorum: Annotated[int, Field(ge=1)] = 1
    when: str | None = None
    rejection: Literal["veto", "quorum"] = "veto"

    @model_validator(mode="after")
    def _someone_approves(self) -> Self:
        if not (self.roles or self.people or self.approver):
            msg = "an approval step needs roles, people or an approver expression"
            raise ValueError(msg)
        if self.rejection == "quorum" and self.roles:
            # How many hold a role is the host's knowledge: with roles the engine could
            # never tell that the quorum is out of reach, and the request would hang.
            msg = (
                "rejection 'quorum' needs the step's approvers known: name them in people"
                " or an approver expression, not roles (or keep rejection 'veto')"
            )
            raise ValueError(msg)
        return self


@final
class Approval(BaseModel):
    """Approval as a step of the process: a sequential chain of N-of-M steps.

    The approval starts when an instance enters the state that holds it; its
    requester is the instance's (`Instance.requester`): the person who moved it
    towards the approvals, kept through moves by ``system`` and inside approvals.

    Attributes:
        steps: The steps, decided one after the other.
        approved: The state to move to once every step is approved. Default ``None``:
            stay, and let a transition marked ``after_approval`` move on.
        rejected: The state to move to when a step is rejected: at once by any
            rejection under the step's ``rejection="veto"`` (the default), or once the
            step can no longer reach its quorum under ``"quorum"``.
        distinct: Whether one person may approve in only one step of the chain
            (within a step an approver always counts once). Default ``True``.
        self_approval: Whether the requester may approve their own request.
            Default ``False``.
        delegation: Whether an eligible approver may delegate their decision to
            another person. Default ``True``.
        delegate_votes: How many decisions a person may make in one step.
            ``"one"`` (the default): one, in their own right or for one person who
            delegated to them. ``"per_principal"``: one for each person they act for
            (themselves, if eligible, and each who delegated to them); every
            principal still counts once toward the quorum.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    steps: Annotated[tuple[ApprovalStep, ...], Field(min_length=1)]
    approved: str | None = None
    rejected: str
    distinct: bool = True
    self_approval: bool = False
    delegation: bool = True
    delegate_votes: Literal["one", "per_principal"] = "one"


@final
class State(BaseModel):
    """A state of the process.

    Attributes:
        name: Its name, any script (``"报价"``).
        terminal: Whether the process ends here. Default ``False``.
        outcome: For a terminal state, what it means (``"won"``, ``"lost"``).
        phase: A grouping of states for boards and diagrams (``"售前"``).
        requires: Fields that must be set (not null) to enter the state.
        entry: A condition over the fields that must hold to enter the state.
        sla: How long an instance may stay here (`Sla`). Default ``None``.
        approval: The approval collected in this state (`Approval`). Default ``None``.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    terminal: bool = False
    outcome: str | None = None
    phase: str | None = None
    requires: Names = ()
    entry: str | None = None
    sla: Sla | None = None
    approval: Approval | None = None


@final
class Transition(BaseModel):
    """A move from one or more source states to a target state on an event.

    Attributes:
        event: The event's name (``"提交报价"``).
        source: The state(s) it leaves from.
        target: The state it enters.
        guard: A condition (expression language) that must hold, over the fields
            and two timestamps the engine supplies: ``now``, the time of the fire,
            and ``entered_at``, when the instance entered its current state
            (``now - entered_at >= duration("48h")``). No field may take these names.
        check: The name of a host-provided Python predicate that must also hold
            (``Workflow`` is given the callables by name).
        roles: Roles allowed to fire it; empty (the default) means anyone.
        requires: Fields that must be set (not null) to fire it.
        emits: Actions the host should carry out when it fires (``"通知财务"``).
        after_approval: When leaving a state with an approval: refused until the
            approval is granted. Default ``False``.
        sets: The fields its payload may set; a payload setting another is refused
            (``workflow.bad_payload``). Use it to lock what an approval decided on
            (``sets: [contract_signed]`` after a discount was approved). Default
            ``None``: any field; ``[]``: none.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    event: str
    source: Sources
    target: str
    guard: str | None = None
    check: str | None = None
    roles: Names = ()
    requires: Names = ()
    emits: Names = ()
    after_approval: bool = False
    sets: Annotated[
        tuple[str, ...] | None,
        BeforeValidator(_names),
        WithJsonSchema(
            {
                "anyOf": [
                    {"type": "string"},
                    {"type": "array", "items": {"type": "string"}},
                    {"type": "null"},
                ]
            }
        ),
    ] = None


@final
class WorkflowDefinition(BaseModel):
    """A whole workflow: the data a host loads from YAML or JSON.

    Attributes:
        name: The workflow's name.
        version: Its version; a running instance keeps the version it started on.
        initial: The state instances start in.
        fields: The typed fields of an instance (`Schema`), which guards read.
        roles: Every role the definition may name.
        states: The states.
        transitions: The transitions.
        calendar: The business calendar SLAs count on. Default ``None``: SLAs count
            elapsed time (a day is 24 hours).

    >>> wf = WorkflowDefinition(name="demo", initial="a", states=[
    ...     State(name="a"), State(name="b", terminal=True)],
    ...     transitions=[Transition(event="go", source="a", target="b")])
    >>> WorkflowDefinition.model_validate_json(wf.model_dump_json()) == wf
    True
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    version: Annotated[int, Field(ge=1)] = 1
    initial: str
    fields: Annotated[Schema, WithJsonSchema(_FIELDS_JSON_SCHEMA)] = Schema({})
    roles: Names = ()
    states: Annotated[tuple[State, ...], Field(min_length=1)]
    transitions: tuple[Transition, ...] = ()
    calendar: BusinessCalendar | None = None

    def state(self, name: str) -> State:
        """The state called ``name``.

        Raises:
            KeyError: There is none.
        """
        for state in self.states:
            if state.name == name:
                return state
        raise KeyError(name)


def parse_workflow_data(source: str | bytes) -> object:
    """Read YAML or JSON text (JSON is YAML) into plain data.

    Raises:
        DefinitionError: The text is not YAML; the location has its line and column.
    """
    try:
        return yaml.safe_load(source)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        location = (
            Location(path="workflow", line=mark.line + 1, column=mark.column + 1)
            if mark is not None
            else Location(path="workflow")
        )
        problem = Problem("workflow.yaml", Severity.ERROR, f"not YAML/JSON: {err}", location)
        raise DefinitionError.from_problems([problem]) from None


def dump_workflow(definition: WorkflowDefinition, *, fmt: Literal["yaml", "json"] = "yaml") -> str:
    """Write a definition as YAML (default) or JSON; loading it gives it back, equal.

    Defaults are left out to keep the text short; Unicode is written as is.

    >>> wf = WorkflowDefinition(name="报价", initial="草稿", states=[State(name="草稿")])
    >>> print(dump_workflow(wf), end="")
    name: 报价
    initial: 草稿
    states:
    - name: 草稿
    """
    data = definition.model_dump(mode="json", exclude_defaults=True)
    if fmt == "json":
        return json.dumps(data, ensure_ascii=False, indent=2)
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


def workflow_json_schema() -> dict[str, object]:
    """The JSON Schema of a workflow definition, for editors and CI.

    >>> workflow_json_schema()["title"]
    'WorkflowDefinition'
    """
    return WorkflowDefinition.model_json_schema()


def validate_shape(data: object) -> tuple[WorkflowDefinition | None, list[Problem]]:
    """Validate the shape; on failure, the pydantic problems (every one, located)."""
    try:
        return WorkflowDefinition.model_validate(data), []
    except ValidationError as err:
        problems = validation_problems(err, path="workflow", code="workflow")
    # pydantic counts only the valid items against a tuple's min_length, so a bad item
    # also reports its tuple as too short: noise beside the item's own problem.
    paths = [str(p.location.path) for p in problems if p.location]
    return None, [
        p
        for p in problems
        if not (
            p.code == "workflow.too_short"
            and p.location
            and any(other.startswith(f"{p.location.path}[") for other in paths)
        )
    ]


def partial_parts(
    data: object,
) -> tuple[list[tuple[int, State]], list[tuple[int, Transition]], frozenset[str]]:
    """The states and transitions of a malformed definition that are valid on their own.

    Reference checks run on them, so one load reports shape and reference problems
    together. Also every state name written, valid state or not, so that a reference
    to an invalid state is not reported as unknown.
    """
    if not isinstance(data, dict):
        return [], [], frozenset()
    raw_states = data.get("states")
    names = frozenset(
        item["name"]
        for item in (raw_states if isinstance(raw_states, list | tuple) else ())
        if isinstance(item, dict) and isinstance(item.get("name"), str)
    )
    states = _valid_items(raw_states, State)
    return states, _valid_items(data.get("transitions"), Transition), names


def _valid_items(raw: object, model: type[ModelT]) -> list[tuple[int, ModelT]]:
    if not isinstance(raw, list | tuple):
        return []
    items = []
    for index, item in enumerate(raw):
        try:
            items.append((index, model.model_validate(item)))
        except ValidationError:
            continue
    return items


def _split(text: str) -> tuple[int, Literal["m", "h", "d"]]:
    match = _DURATION.fullmatch(text)
    if match is None:  # pragma: no cover - refused by the validator
        msg = f"not a duration: {text!r}"
        raise ValueError(msg)
    unit = match["unit"]
    assert unit in {"m", "h", "d"}  # noqa: S101 - the pattern admits only these
    return int(match["amount"]), unit  # type: ignore[return-value]


def _span(amount: int, unit: str) -> dt.timedelta:
    """The elapsed time a duration spans at most, without overflowing."""
    limit = _LONGEST + dt.timedelta(days=1)
    per_unit = {"m": dt.timedelta(minutes=1), "h": dt.timedelta(hours=1), "d": dt.timedelta(days=1)}
    step = per_unit[unit]
    return limit if amount > limit // step else amount * step


def duration_of(amount: int, unit: str) -> dt.timedelta:
    """A working-time amount in minutes or hours as a timedelta."""
    return dt.timedelta(minutes=amount) if unit == "m" else dt.timedelta(hours=amount)
