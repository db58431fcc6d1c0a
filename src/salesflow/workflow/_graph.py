"""A definition as a networkx graph: states are nodes, every way out is an edge."""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple, final

import networkx as nx

if TYPE_CHECKING:
    from collections.abc import Iterator

    from salesflow.workflow._definition import WorkflowDefinition

__all__ = [
    "APPROVED",
    "MIGRATE",
    "REJECTED",
    "RESERVED_EVENTS",
    "START",
    "Move",
    "moves",
    "state_graph",
]

APPROVED = "approved"
"""The event name of the move an approval makes once granted."""
REJECTED = "rejected"
"""The event name of the move an approval makes when rejected."""
START = "start"
"""The event name of the first step of every history."""
MIGRATE = "migrate"
"""The event name of the step that moves an instance onto a newer definition version."""
RESERVED_EVENTS = frozenset({START, APPROVED, REJECTED, "approve", "reject", "delegate", MIGRATE})
"""The events the engine records itself; a transition may not use them."""


def state_graph(definition: WorkflowDefinition) -> nx.MultiDiGraph[str]:
    """The states and every move between them, keyed by event.

    Edges carry ``event`` and ``index`` (the transition's position, or ``None`` for
    an approval's own moves). Targets and sources that name no state still appear as
    nodes, so a graph of an unchecked definition never raises.

    >>> from salesflow.workflow import State, Transition, WorkflowDefinition
    >>> wf = WorkflowDefinition(name="w", initial="a",
    ...     states=[State(name="a"), State(name="b", terminal=True)],
    ...     transitions=[Transition(event="go", source="a", target="b")])
    >>> list(state_graph(wf).edges(keys=True))
    [('a', 'b', 'go')]
    """
    graph: nx.MultiDiGraph[str] = nx.MultiDiGraph()
    graph.add_nodes_from(state.name for state in definition.states)
    for move in moves(definition):
        graph.add_edge(
            move.source, move.target, move.event, event=move.event, index=move.transition
        )
    return graph


@final
class Move(NamedTuple):
    """One way out of a state: a transition from one of its sources, or an approval's move.

    Attributes:
        source: The state left.
        target: The state entered.
        event: The transition's event, or ``"approved"``/``"rejected"``.
        transition: The transition's position in ``definition.transitions``; ``None``
            for an approval's own moves.
    """

    source: str
    target: str
    event: str
    transition: int | None


def moves(definition: WorkflowDefinition) -> Iterator[Move]:
    """Every move of the definition: transitions (one per source), then approvals' moves."""
    for index, transition in enumerate(definition.transitions):
        for source in transition.source:
            yield Move(source, transition.target, transition.event, index)
    for state in definition.states:
        approval = state.approval
        if approval is None:
            continue
        yield Move(state.name, approval.rejected, REJECTED, None)
        if approval.approved is not None:
            yield Move(state.name, approval.approved, APPROVED, None)
