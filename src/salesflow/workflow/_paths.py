"""Paths through a definition: shortest to every terminal, bounded simple paths, coverage.

Every search here is breadth-first or bounded, so cycles never make it loop or blow
the stack (XState's path generator overflows on them).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast, final

import networkx as nx

from salesflow.errors import InvalidValueError
from salesflow.workflow._graph import state_graph

if TYPE_CHECKING:
    from collections.abc import Iterator

    from salesflow.workflow._definition import WorkflowDefinition

__all__ = ["Edge", "StatePath", "coverage_paths", "shortest_paths", "simple_paths"]


@final
@dataclass(frozen=True, slots=True)
class Edge:
    """One move: from ``source`` on ``event`` to ``target``."""

    source: str
    event: str
    target: str


@final
@dataclass(frozen=True, slots=True)
class StatePath:
    """A sequence of moves from the initial state.

    Attributes:
        edges: The moves, in order.
        start: The state the path starts in.
    """

    start: str
    edges: tuple[Edge, ...]

    @property
    def events(self) -> tuple[str, ...]:
        """The events to fire, in order."""
        return tuple(edge.event for edge in self.edges)

    @property
    def states(self) -> tuple[str, ...]:
        """The states visited, the start included."""
        return (self.start, *(edge.target for edge in self.edges))

    @property
    def end(self) -> str:
        """The last state."""
        return self.edges[-1].target if self.edges else self.start

    def __str__(self) -> str:
        """``a -go-> b -stop-> c``."""
        return self.start + "".join(f" -{e.event}-> {e.target}" for e in self.edges)


def shortest_paths(definition: WorkflowDefinition) -> dict[str, StatePath]:
    """A shortest path from the initial state to each reachable terminal state.

    >>> from salesflow.workflow import State, Transition, WorkflowDefinition
    >>> wf = WorkflowDefinition(name="w", initial="a", states=[
    ...     State(name="a"), State(name="b"), State(name="won", terminal=True)],
    ...     transitions=[Transition(event="go", source="a", target="b"),
    ...                  Transition(event="back", source="b", target="a"),
    ...                  Transition(event="win", source="b", target="won")])
    >>> str(shortest_paths(wf)["won"])
    'a -go-> b -win-> won'
    """
    terminals = {s.name for s in definition.states if s.terminal}
    tree = _bfs_tree(definition)
    return {
        name: _walk_back(tree, definition.initial, name)
        for name in sorted(terminals)
        if name in tree
    }


def simple_paths(definition: WorkflowDefinition, max_moves: int) -> Iterator[StatePath]:
    """Every path without a repeated state from the initial state to a terminal one.

    Args:
        definition: The workflow.
        max_moves: The longest path to list (a bound: their number can grow
            exponentially with the graph).
    """
    if max_moves < 0:
        message = f"max_moves must be >= 0, not {max_moves}"
        raise InvalidValueError(message, code="workflow.bad_bound")
    graph = state_graph(definition)
    start = definition.initial
    terminals = [s.name for s in definition.states if s.terminal]
    if start in terminals:
        yield StatePath(start, ())
    if start not in graph:
        return
    for terminal in terminals:
        if terminal == start or terminal not in graph:
            continue
        for edges in nx.all_simple_edge_paths(graph, start, terminal, cutoff=max_moves):
            # On a multigraph each edge is (source, target, key); the key is the event.
            triples = cast("list[tuple[str, str, str]]", edges)
            yield StatePath(start, tuple(Edge(a, key, b) for a, b, key in triples))


def coverage_paths(definition: WorkflowDefinition) -> tuple[StatePath, ...]:
    """Paths from the initial state that together take every reachable move once at least.

    Each path reaches a move's source by a shortest path, takes the move, then goes on
    to the nearest terminal state when there is one.
    """
    graph = state_graph(definition)
    tree = _bfs_tree(definition)
    onward = _nearest_terminal_tree(definition)
    paths = []
    covered: set[Edge] = set()
    for source, target, event in graph.edges(keys=True):
        edge = Edge(source, event, target)
        if source not in tree or edge in covered:
            continue
        head = _walk_back(tree, definition.initial, source)
        path = StatePath(head.start, (*head.edges, edge, *_walk_forward(onward, target)))
        covered.update(path.edges)
        paths.append(path)
    return tuple(paths)


def _bfs_tree(definition: WorkflowDefinition) -> dict[str, Edge | None]:
    graph = state_graph(definition)
    start = definition.initial
    if start not in graph:
        return {}
    tree: dict[str, Edge | None] = {start: None}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for _, target, event in graph.out_edges(node, keys=True):
            if target not in tree:
                tree[target] = Edge(node, event, target)
                queue.append(target)
    return tree


def _walk_back(tree: dict[str, Edge | None], start: str, end: str) -> StatePath:
    edges = []
    node = end
    while node != start:
        edge = tree[node]
        assert edge is not None  # noqa: S101 - only the start has no parent edge
        edges.append(edge)
        node = edge.source
    edges.reverse()
    return StatePath(start, tuple(edges))


def _nearest_terminal_tree(definition: WorkflowDefinition) -> dict[str, Edge | None]:
    """For each state that can finish, its first move on a shortest way to a terminal."""
    graph = state_graph(definition)
    terminals = [s.name for s in definition.states if s.terminal]
    onward: dict[str, Edge | None] = dict.fromkeys(terminals)
    queue = deque(terminals)
    while queue:
        node = queue.popleft()
        for source, _, event in graph.in_edges(node, keys=True):
            if source not in onward:
                onward[source] = Edge(source, event, node)
                queue.append(source)
    return onward


def _walk_forward(onward: dict[str, Edge | None], start: str) -> list[Edge]:
    edges = []
    node = start
    while (edge := onward.get(node)) is not None:
        edges.append(edge)
        node = edge.target
    return edges
