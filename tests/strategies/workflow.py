"""Hypothesis strategies for the workflow tests: guards made of atoms, and definitions."""

from hypothesis import strategies as st

from salesflow.testing.workflow import definitions, event_walks

__all__ = ["GUARD_FIELDS", "definitions", "event_walks", "guards"]

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
