"""Hypothesis strategies for org trees and target plans."""

from hypothesis import strategies as st


@st.composite
def org_records(draw: st.DrawFn, max_nodes: int = 60) -> list[dict[str, object]]:
    """A valid org as plain records: node i reports to some node before it."""
    size = draw(st.integers(min_value=1, max_value=max_nodes))
    parents = [None] + [draw(st.integers(min_value=0, max_value=i - 1)) for i in range(1, size)]
    names = draw(
        st.lists(
            st.text(alphabet="abc华东南组张王李0123456789-", min_size=1, max_size=6),
            min_size=size,
            max_size=size,
            unique=True,
        )
    )
    order = draw(st.permutations(range(size)))
    return [
        {"id": names[i], "parent": None if parents[i] is None else names[parents[i]]} for i in order
    ]
