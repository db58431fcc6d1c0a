"""Reference checks: every name a definition uses must resolve, every expression compile.

These problems stop a load (`load_workflow` raises them all at once); `lint` reports
them too, beside the graph findings.
"""

from __future__ import annotations

import json
from collections import Counter, OrderedDict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final, final

from salesflow.errors import DefinitionError, ExpressionSyntaxError, Location, Problem, Severity
from salesflow.expressions import Expression, Field, FieldType, Schema, compile_expression
from salesflow.expressions.syntax import parse
from salesflow.workflow._graph import RESERVED_EVENTS
from salesflow.workflow._guards import remember_tree

if TYPE_CHECKING:
    from collections.abc import Iterable

    from salesflow.workflow._definition import Approval, State, Transition, WorkflowDefinition

__all__ = [
    "CLOCK_NAMES",
    "ExpressionCache",
    "Parts",
    "guard_schema",
    "parts_of",
    "reference_problems",
]

CLOCK_NAMES: Final = ("now", "entered_at")
"""What a transition's guard may read beside the fields: the time of the fire (the
``now`` given to the engine) and when the instance entered its current state, both
timestamps. The engine supplies them; no field may take their names."""


_SHARED: OrderedDict[tuple[str, str | None, str], Expression] = OrderedDict()
_SHARED_SIZE = 4096


@final
@dataclass(slots=True)
class ExpressionCache:
    """Compiles each distinct (source, type, schema) once.

    Big definitions repeat guards, and loading, linting and running one definition
    compile the same ones: compiled expressions are immutable, so they are shared
    through a bounded process-wide cache.
    """

    schema: Schema
    key: str = field(init=False)

    def __post_init__(self) -> None:
        """Key the shared cache by the schema's fields and types."""
        self.key = json.dumps(self.schema.model_dump(), ensure_ascii=False, sort_keys=True)

    def compile(
        self, source: str, expect: FieldType | None, path: str
    ) -> tuple[Expression | None, list[Problem]]:
        """The compiled expression, or the problems that stop it, located at ``path``."""
        key = (source, expect, self.key)
        found = _SHARED.get(key)
        if found is not None:
            _SHARED.move_to_end(key)
            return found, []
        try:
            # Parse here, with the same arguments compile_expression passes the parser,
            # so its own parse is a cache hit, and keep the tree for the overlap prover
            # and the engine: each distinct guard is parsed once.
            remember_tree(source, parse(source, path=path))
            expression = compile_expression(source, self.schema, expect=expect, path=path)
        except ExpressionSyntaxError as err:
            return None, [Problem(err.code, Severity.ERROR, err.message, err.location)]
        except DefinitionError as err:  # ExpressionTypeError carries every type problem
            return None, list(err.problems) or [
                Problem(err.code, Severity.ERROR, err.message, err.location)
            ]
        _SHARED[key] = expression
        if len(_SHARED) > _SHARED_SIZE:
            _SHARED.popitem(last=False)
        return expression, []


@final
@dataclass(frozen=True, slots=True)
class Parts:
    """What the reference checks read; from a whole definition or a malformed one's pieces."""

    initial: str | None
    roles: frozenset[str] | None
    schema: Schema | None
    states: list[tuple[int, State]]
    transitions: list[tuple[int, Transition]]
    names: frozenset[str] | None = None  # every state name, when some states are invalid


def guard_schema(fields: Schema) -> Schema:
    """The names a transition's guard may read: the fields, ``now`` and ``entered_at``.

    >>> guard_schema(Schema({"amount": "int"})).model_dump()
    {'amount': 'int', 'now': 'timestamp', 'entered_at': 'timestamp'}
    """
    clock = dict.fromkeys(CLOCK_NAMES, Field(type="timestamp"))
    return Schema({**fields.fields, **clock})


def parts_of(definition: WorkflowDefinition) -> Parts:
    """The parts of a valid definition, indexed as written."""
    return Parts(
        definition.initial,
        frozenset(definition.roles),
        definition.fields,
        list(enumerate(definition.states)),
        list(enumerate(definition.transitions)),
    )


def reference_problems(parts: Parts, checks: Iterable[str] | None = None) -> list[Problem]:
    """Every unresolved name and every expression that does not compile.

    Args:
        parts: What to check.
        checks: The names of the host's predicates, or ``None`` to skip that check.
    """
    known = {state.name for _, state in parts.states} | (parts.names or frozenset())
    problems = _duplicate_states(parts)
    if parts.initial is not None and parts.initial not in known:
        problems.append(_unknown("state", parts.initial, "workflow.initial"))
    problems += _clock_fields(parts.schema)
    cache = None if parts.schema is None else ExpressionCache(parts.schema)
    guards = None if parts.schema is None else ExpressionCache(guard_schema(parts.schema))
    outgoing = {(s, t.event) for _, t in parts.transitions for s in t.source}
    for index, state in parts.states:
        problems += _state_problems(
            index, state, known=known, parts=parts, cache=cache, outgoing=outgoing
        )
    names = None if checks is None else frozenset(checks)
    for index, transition in parts.transitions:
        problems += _transition_problems(
            index, transition, known=known, parts=parts, cache=guards, checks=names
        )
    return problems


def _clock_fields(schema: Schema | None) -> list[Problem]:
    """Fields named like the time a guard reads: a guard could not tell them apart."""
    if schema is None:
        return []
    return [
        Problem(
            "workflow.reserved_field",
            Severity.ERROR,
            f"field {name!r} would hide the {name} a guard reads; reserved: {list(CLOCK_NAMES)}",
            Location(path=f"workflow.fields.{name}"),
        )
        for name in CLOCK_NAMES
        if name in schema
    ]


def _duplicate_states(parts: Parts) -> list[Problem]:
    counts = Counter(state.name for _, state in parts.states)
    seen: set[str] = set()
    problems = []
    for index, state in parts.states:
        if counts[state.name] > 1 and state.name in seen:
            message = f"state {state.name!r} is defined {counts[state.name]} times"
            problems.append(
                Problem(
                    "workflow.duplicate_state",
                    Severity.ERROR,
                    message,
                    Location(path=f"workflow.states[{index}].name"),
                )
            )
        seen.add(state.name)
    return problems


def _state_problems(  # noqa: PLR0913 - the state and the context it is checked in
    index: int,
    state: State,
    *,
    known: set[str],
    parts: Parts,
    cache: ExpressionCache | None,
    outgoing: set[tuple[str, str]],
) -> list[Problem]:
    where = f"workflow.states[{index}]"
    problems = _field_names(state.requires, parts.schema, f"{where}.requires")
    if state.entry is not None and cache is not None:
        problems += cache.compile(state.entry, "bool", f"{where}.entry")[1]
    timeout = None if state.sla is None else state.sla.timeout
    if timeout is not None and (state.name, timeout) not in outgoing:
        message = f"timeout event {timeout!r} is not a transition out of {state.name!r}"
        problems.append(
            Problem(
                "workflow.unknown_event",
                Severity.ERROR,
                message,
                Location(path=f"{where}.sla.timeout"),
            )
        )
    if state.approval is not None:
        problems += _approval_problems(state.approval, f"{where}.approval", known, parts, cache)
    return problems


def _approval_problems(
    approval: Approval, where: str, known: set[str], parts: Parts, cache: ExpressionCache | None
) -> list[Problem]:
    problems = [
        _unknown("state", name, f"{where}.{key}")
        for key, name in (("approved", approval.approved), ("rejected", approval.rejected))
        if name is not None and name not in known
    ]
    seen: set[str] = set()
    for number, step in enumerate(approval.steps):
        at = f"{where}.steps[{number}]"
        if step.name in seen:
            # Decisions are recorded by step name: two steps of one name would share them.
            message = f"approval step {step.name!r} is defined more than once"
            problems.append(
                Problem(
                    "workflow.duplicate_step", Severity.ERROR, message, Location(path=f"{at}.name")
                )
            )
        seen.add(step.name)
        problems += _role_names(step.roles, parts.roles, f"{at}.roles")
        if cache is not None:
            if step.when is not None:
                problems += cache.compile(step.when, "bool", f"{at}.when")[1]
            if step.approver is not None:
                problems += cache.compile(step.approver, "string", f"{at}.approver")[1]
    return problems


def _transition_problems(  # noqa: PLR0913 - the transition and the context it is checked in
    index: int,
    transition: Transition,
    *,
    known: set[str],
    parts: Parts,
    cache: ExpressionCache | None,
    checks: frozenset[str] | None,
) -> list[Problem]:
    where = f"workflow.transitions[{index}]"
    problems = [
        _unknown("state", name, f"{where}.source[{i}]")
        for i, name in enumerate(transition.source)
        if name not in known
    ]
    if transition.event in RESERVED_EVENTS:
        message = (
            f"event {transition.event!r} is the engine's own; reserved: {sorted(RESERVED_EVENTS)}"
        )
        problems.append(
            Problem(
                "workflow.reserved_event", Severity.ERROR, message, Location(path=f"{where}.event")
            )
        )
    if transition.target not in known:
        problems.append(_unknown("state", transition.target, f"{where}.target"))
    problems += _role_names(transition.roles, parts.roles, f"{where}.roles")
    problems += _field_names(transition.requires, parts.schema, f"{where}.requires")
    problems += _field_names(transition.sets or (), parts.schema, f"{where}.sets")
    if transition.guard is not None and cache is not None:
        problems += cache.compile(transition.guard, "bool", f"{where}.guard")[1]
    if checks is not None and transition.check is not None and transition.check not in checks:
        problems.append(_unknown("check", transition.check, f"{where}.check"))
    return problems


def _role_names(names: tuple[str, ...], roles: frozenset[str] | None, where: str) -> list[Problem]:
    if roles is None:
        return []
    return [
        _unknown("role", name, f"{where}[{i}]") for i, name in enumerate(names) if name not in roles
    ]


def _field_names(names: tuple[str, ...], schema: Schema | None, where: str) -> list[Problem]:
    if schema is None:
        return []
    return [
        _unknown("field", name, f"{where}[{i}]")
        for i, name in enumerate(names)
        if name not in schema
    ]


def _unknown(kind: str, name: str, path: str) -> Problem:
    return Problem(
        f"workflow.unknown_{kind}",
        Severity.ERROR,
        f"unknown {kind} {name!r}",
        Location(path=path),
    )
