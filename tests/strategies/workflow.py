"""Hypothesis strategies for the workflow tests: guards made of atoms, and definitions."""

from hypothesis import strategies as st

from salesflow.testing.workflow import definitions as plain_definitions
from salesflow.testing.workflow import event_walks
from salesflow.workflow import (
    Approval,
    ApprovalStep,
    Sla,
    State,
    Transition,
    WorkflowDefinition,
)

__all__ = ["GUARD_FIELDS", "definitions", "event_walks", "guards", "plain_definitions"]

GUARD_FIELDS = {"x": "int", "y": "int", "b": "bool", "r": "string"}
"""The schema the generated guards are written against."""

_OPS = st.sampled_from(["<", "<=", ">", ">=", "==", "!="])
_INTS = st.integers(-3, 3)
# Non-integer constants against int fields: `x != 2.5` excludes no integer, and
# `x == 1.5` admits none; the prover must count only whole numbers.
_CONSTANTS = st.one_of(_INTS, st.sampled_from(["-2.5", "-0.5", "0.5", "1.5", "2.5", "2.0"]))
_WORDS = st.sampled_from(["a", "b", "c"])


def _int_atom(name: str) -> st.SearchStrategy[str]:
    return st.one_of(
        st.builds(lambda op, c: f"{name} {op} {c}", _OPS, _CONSTANTS),
        st.builds(lambda op, c: f"{c} {op} {name}", _OPS, _CONSTANTS),
        st.builds(
            lambda cs, neg: ("!" if neg else "") + f"({name} in [{', '.join(map(str, cs))}])",
            st.lists(_INTS, min_size=1, max_size=3),
            st.booleans(),
        ),
    )


_ATOMS = st.one_of(
    _int_atom("x"),
    _int_atom("y"),
    st.sampled_from(["b", "!b"]),
    st.builds(lambda op, w: f'r {op} "{w}"', st.sampled_from(["==", "!="]), _WORDS),
    st.builds(
        lambda ws: "r in [" + ", ".join(f'"{w}"' for w in ws) + "]",
        st.lists(_WORDS, min_size=1, max_size=2),
    ),
)
# Parts the prover does not read: it must then answer "unknown", never a wrong proof.
_OPAQUE = st.sampled_from(["x + y > 1", "x * 2 == y", "x > 0 || y > 0", 'r.startsWith("a")'])


def guards() -> st.SearchStrategy[str]:
    """Guards of one to three parts, mostly atoms the prover reads."""
    part = st.one_of(_ATOMS, _ATOMS, _ATOMS, _OPAQUE)
    return st.lists(part, min_size=1, max_size=3).map(" && ".join)


_ROLES = ("sales", "manager", "finance")
_RULE_FIELDS = {"amount": "int", "vip": "bool"}
# One atom each: always satisfiable, so a drawn definition stays lint-clean.
_RULES = st.one_of(
    st.builds(lambda op, c: f"amount {op} {c}", _OPS, _INTS),
    st.sampled_from(["vip", "!vip"]),
)


def definitions(max_states: int = 8) -> st.SearchStrategy[WorkflowDefinition]:
    """Lint-clean definitions that sometimes carry guards, roles, approvals and SLAs.

    Built on `plain_definitions` (an unguarded chain plus extras, every event its
    own): each transition may get a guard and roles, each non-terminal state entry
    criteria, an SLA timing out on one of its own events, and an approval by role.
    They load, lint clean and round-trip; they are not all replayable by an actor
    with no roles and no fields (use `plain_definitions` for that).
    """
    return plain_definitions(max_states=max_states).flatmap(_dressed)


def _dressed(plain: WorkflowDefinition) -> st.SearchStrategy[WorkflowDefinition]:
    names = [s.name for s in plain.states]
    return st.builds(
        lambda transitions, states: WorkflowDefinition(
            name=plain.name,
            initial=plain.initial,
            fields=_RULE_FIELDS,
            roles=_ROLES,
            states=states,
            transitions=transitions,
        ),
        st.tuples(*(_transition(t) for t in plain.transitions)),
        st.tuples(*(_state(s, plain, names) for s in plain.states)),
    )


def _transition(plain: Transition) -> st.SearchStrategy[Transition]:
    return st.builds(
        lambda guard, roles: plain.model_copy(update={"guard": guard, "roles": roles}),
        st.none() | _RULES,
        st.just(())
        | st.lists(st.sampled_from(_ROLES), min_size=1, max_size=2, unique=True).map(tuple),
    )


def _state(
    plain: State, definition: WorkflowDefinition, names: list[str]
) -> st.SearchStrategy[State]:
    if plain.terminal:
        return st.just(plain)
    events = sorted({t.event for t in definition.transitions if plain.name in t.source})
    sla = st.builds(
        lambda within, warn, timeout: Sla(within=within, warn_before=warn, timeout=timeout),
        st.sampled_from(["2h", "90m", "1d"]),
        st.none() | st.just("30m"),
        st.none() | st.sampled_from(events),
    )
    approval = st.builds(
        lambda roles, approved, rejected: Approval(
            steps=(ApprovalStep(name="审批", roles=roles),), approved=approved, rejected=rejected
        ),
        st.lists(st.sampled_from(_ROLES), min_size=1, max_size=2, unique=True).map(tuple),
        st.none() | st.sampled_from(names),
        st.sampled_from(names),
    )
    return st.builds(
        lambda entry, sla, approval: plain.model_copy(
            update={"entry": entry, "sla": sla, "approval": approval}
        ),
        st.none() | _RULES,
        st.none() | sla,
        st.none() | approval,
    )
