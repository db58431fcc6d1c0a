"""Paths through a definition: shortest to every terminal, bounded simple paths, coverage.

Every search here is breadth-first or bounded, so cycles never make it loop or blow
the stack (XState's path generator overflows on them).

A path is a sequence of moves, not of states: two transitions between the same states
(``approve`` and ``fast_track`` from A to B, or two guarded transitions on one event)
are two moves, and give two paths.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast, final

import networkx as nx

from salesflow.errors import InvalidValueError
from salesflow.workflow._graph import APPROVED, REJECTED

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

    from salesflow.workflow._definition import WorkflowDefinition

__all__ = ["Edge", "StatePath", "coverage_paths", "shortest_paths", "simple_paths"]


@final
@dataclass(frozen=True, slots=True)
class Edge:
    """One move: from ``source`` on ``event`` to ``target``.

    Attributes:
        source: The state it leaves.
        event: The event; ``"approved"``/``"rejected"`` for an approval's own moves.
        target: The state it enters.
        transition: The index in ``definition.transitions`` of the transition it
            takes, telling apart parallel transitions on one event between the same
            states; ``None`` for an approval's own moves. Default ``None``.
    """

    source: str
    event: str
    target: str
    transition: int | None = None


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

    Among parallel moves (several transitions between the same states), the path takes
    the first in definition order, the one the engine tries first.

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
    tree = _bfs_tree(_move_graph(definition), definition.initial)
    return {
        name: _walk_back(tree, definition.initial, name)
        for name in sorted(terminals)
        if name in tree
    }


def simple_paths(definition: WorkflowDefinition, max_moves: int) -> Iterator[StatePath]:
    """Every path without a repeated state from the initial state to a terminal one.

    Parallel moves give distinct paths: each path takes one transition per move, so
    two transitions between the same states (on two events, or on one event with
    disjoint guards) give one path each.

    >>> from salesflow.workflow import State, Transition, WorkflowDefinition
    >>> wf = WorkflowDefinition(name="w", initial="a", states=[
    ...     State(name="a"), State(name="won", terminal=True)],
    ...     transitions=[Transition(event="approve", source="a", target="won"),
    ...                  Transition(event="fast_track", source="a", target="won")])
    >>> [str(path) for path in simple_paths(wf, max_moves=3)]
    ['a -approve-> won', 'a -fast_track-> won']

    Args:
        definition: The workflow.
        max_moves: The longest path to list (a bound: their number can grow
            exponentially with the graph).
    """
    if isinstance(max_moves, bool) or not isinstance(max_moves, int) or max_moves < 0:
        message = f"max_moves must be an int >= 0, not {max_moves!r}"
        raise InvalidValueError(message, code="workflow.bad_bound")
    graph = _move_graph(definition)
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
            # On a multigraph each edge is (source, target, key); the key is the move.
            triples = cast("list[tuple[str, str, _Key]]", edges)
            yield StatePath(start, tuple(Edge(a, key[0], b, key[1]) for a, b, key in triples))


def coverage_paths(definition: WorkflowDefinition) -> tuple[StatePath, ...]:
    """Paths from the initial state that together take every reachable move once at least.

    A move is a transition from one of its sources (parallel transitions on one event
    between the same states are distinct moves, told apart by `Edge.transition`), or
    an approval's own ``approved``/``rejected`` move. Each path reaches a move's source
    by a shortest path, takes the move, then goes on to the nearest terminal state when
    there is one.
    """
    graph = _move_graph(definition)
    tree = _bfs_tree(graph, definition.initial)
    onward = _nearest_terminal_tree(graph, definition)
    moves = [
        Edge(source, transition.event, transition.target, index)
        for index, transition in enumerate(definition.transitions)
        for source in transition.source
    ]
    moves += [
        Edge(source, event, target)
        for source, target, (event, index) in _keys(graph.edges(keys=True))
        if index is None
    ]
    paths = []
    covered: set[Edge] = set()
    for edge in moves:
        source, target = edge.source, edge.target
        if source not in tree or edge in covered:
            continue
        head = _walk_back(tree, definition.initial, source)
        path = StatePath(head.start, (*head.edges, edge, *_walk_forward(onward, target)))
        covered.update(path.edges)
        paths.append(path)
    return tuple(paths)


_Key = tuple[str, int | None]
"""A move's key in the move graph: its event and its transition's index (``None`` for
an approval's own move)."""


def _move_graph(definition: WorkflowDefinition) -> nx.MultiDiGraph[str]:
    """The states and every move between them, one edge per move.

    Unlike `state_graph`, whose edges are keyed by event, each transition here has its
    own edge, so parallel transitions on one event between the same states stay apart.
    Edges are added in definition order: searches meet the first transition first.
    """
    graph: nx.MultiDiGraph[str] = nx.MultiDiGraph()
    graph.add_nodes_from(state.name for state in definition.states)
    for index, transition in enumerate(definition.transitions):
        for source in transition.source:
            graph.add_edge(source, transition.target, (transition.event, index))
    for state in definition.states:
        approval = state.approval
        if approval is None:
            continue
        graph.add_edge(state.name, approval.rejected, (REJECTED, None))
        if approval.approved is not None:
            graph.add_edge(state.name, approval.approved, (APPROVED, None))
    return graph


def _bfs_tree(graph: nx.MultiDiGraph[str], start: str) -> dict[str, Edge | None]:
    if start not in graph:
        return {}
    tree: dict[str, Edge | None] = {start: None}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for _, target, (event, index) in _keys(graph.out_edges(node, keys=True)):
            if target not in tree:
                tree[target] = Edge(node, event, target, index)
                queue.append(target)
    return tree


def _keys(edges: Iterable[object]) -> list[tuple[str, str, _Key]]:
    """A move graph's (source, target, key) edges, typed."""
    return cast("list[tuple[str, str, _Key]]", list(edges))


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


def _nearest_terminal_tree(
    graph: nx.MultiDiGraph[str], definition: WorkflowDefinition
) -> dict[str, Edge | None]:
    """For each state that can finish, its first move on a shortest way to a terminal."""
    terminals = [s.name for s in definition.states if s.terminal]
    onward: dict[str, Edge | None] = dict.fromkeys(terminals)
    queue = deque(terminals)
    while queue:
        node = queue.popleft()
        for source, _, (event, index) in _keys(graph.in_edges(node, keys=True)):
            if source not in onward:
                onward[source] = Edge(source, event, node, index)
                queue.append(source)
    return onward


def _walk_forward(onward: dict[str, Edge | None], start: str) -> list[Edge]:
    edges = []
    node = start
    while (edge := onward.get(node)) is not None:
        edges.append(edge)
        node = edge.target
    return edges
