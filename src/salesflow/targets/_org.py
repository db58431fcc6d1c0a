"""Org trees: who reports to whom, on which day.

An org is loaded from member records (id, parent, attributes, first and last active
day). A person who moves team has two records for the one id, one per stretch of
time; a leaver's last record ends on the last day. The tree validates the whole set
at once and answers for any day with an `OrgSnapshot`: a static tree with numpy
arrays (top-down order, parent index, depth) for the vectorized paths and a networkx
graph for everything else.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections import defaultdict, deque
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property
from typing import TYPE_CHECKING, NewType, Self, final

import networkx as nx
import numpy as np
from pydantic import BaseModel, ConfigDict, Field, StrictInt, ValidationError, model_validator

from salesflow._definitions import read_yaml, validation_problems
from salesflow._interop import require_pandas
from salesflow._values import check_date
from salesflow.errors import DefinitionError, InvalidValueError, Location, Problem, Severity

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence
    from types import ModuleType

    import pandas as pd
    from numpy.typing import NDArray

__all__ = ["NodeId", "OrgMember", "OrgSnapshot", "OrgTree", "RecordArrays"]

NodeId = NewType("NodeId", str)
"""The id of a node of the org (a company, region, team or person)."""

_FOREVER_START = dt.date.min
_FOREVER_END = dt.date.max


@final
class OrgMember(BaseModel):
    """One record of the org: a node and its parent over a stretch of time.

    Attributes:
        id: The node's id, unique at any one time. Numbers are accepted as text.
        parent: The id of the node it reports to; ``None`` for the root.
        name: A display name (any script: ``"华东大区"``).
        role: Free text the host uses to tell levels apart (``"region"``, ``"rep"``).
        attributes: Numbers and labels used as weights or filters
            (``{"capacity": 3, "potential": Decimal("1.5"), "region": "east"}``).
        start: First active day, inclusive; ``None`` means since always.
        end: Last active day, inclusive; ``None`` means still active.

    >>> OrgMember(id="rep-7", parent="team-2", start="2026-03-01").start
    datetime.date(2026, 3, 1)
    """

    model_config = ConfigDict(frozen=True, extra="forbid", coerce_numbers_to_str=True)

    id: str = Field(min_length=1)
    parent: str | None = None
    name: str = ""
    role: str = ""
    attributes: dict[str, StrictInt | Decimal | str] = Field(default_factory=dict)
    start: dt.date | None = None
    end: dt.date | None = None

    @model_validator(mode="after")
    def _end_not_before_start(self) -> Self:
        if self.start is not None and self.end is not None and self.end < self.start:
            msg = f"end {self.end} is before start {self.start}"
            raise ValueError(msg)
        return self

    @property
    def first_day(self) -> dt.date:
        """`start`, or the earliest date when open."""
        return self.start or _FOREVER_START

    @property
    def last_day(self) -> dt.date:
        """`end`, or the latest date when open."""
        return self.end or _FOREVER_END

    def is_active(self, day: dt.date) -> bool:
        """Whether this record is in force on ``day``.

        >>> m = OrgMember(id="a", start="2026-01-01", end="2026-06-30")
        >>> m.is_active(dt.date(2026, 6, 30)), m.is_active(dt.date(2026, 7, 1))
        (True, False)
        """
        return self.first_day <= day <= self.last_day


@final
class OrgSnapshot:
    """The org as it stands on one day: a static tree.

    Nodes are held in top-down (breadth-first) order, so a parent's position is always
    before its children's; `parent_index` and `depth` are numpy arrays in that order,
    which is what a level-by-level vectorized roll-up needs.

    >>> tree = OrgTree.from_records([
    ...     {"id": "co"}, {"id": "east", "parent": "co"}, {"id": "ann", "parent": "east"},
    ... ])
    >>> snap = tree.as_of(dt.date(2026, 1, 1))
    >>> snap.order, snap.parent_index.tolist(), snap.depth.tolist()
    (('co', 'east', 'ann'), [-1, 0, 1], [0, 1, 2])
    """

    __slots__ = ("__dict__", "_children", "_members", "day", "order", "root")

    def __init__(self, day: dt.date, root: NodeId, members: Mapping[NodeId, OrgMember]) -> None:
        """Build from the records in force on ``day`` (validated by `OrgTree`)."""
        self.day = day
        self.root = root
        self._members = dict(members)
        children: dict[NodeId, list[NodeId]] = defaultdict(list)
        for node_id, member in self._members.items():
            if member.parent is not None:
                children[NodeId(member.parent)].append(node_id)
        self._children = {k: tuple(v) for k, v in children.items()}
        order: list[NodeId] = []
        queue = deque([root])
        while queue:
            node = queue.popleft()
            order.append(node)
            queue.extend(self._children.get(node, ()))
        self.order: tuple[NodeId, ...] = tuple(order)

    def __len__(self) -> int:
        """The number of nodes active on the day."""
        return len(self.order)

    def __contains__(self, node_id: object) -> bool:
        """Whether ``node_id`` is active on the day."""
        return node_id in self._members

    @cached_property
    def index(self) -> Mapping[NodeId, int]:
        """Each node's position in `order`."""
        return {node: i for i, node in enumerate(self.order)}

    @cached_property
    def parent_index(self) -> NDArray[np.intp]:
        """Position of each node's parent in `order`; -1 for the root."""
        index = self.index
        parents = [self._members[n].parent for n in self.order]
        return np.array([-1 if p is None else index[NodeId(p)] for p in parents], dtype=np.intp)

    @cached_property
    def depth(self) -> NDArray[np.intp]:
        """Depth of each node in `order`; 0 for the root."""
        depth = np.zeros(len(self.order), dtype=np.intp)
        parents = self.parent_index
        for i in range(1, len(depth)):  # parents come first in breadth-first order
            depth[i] = depth[parents[i]] + 1
        return depth

    @cached_property
    def graph(self) -> nx.DiGraph[NodeId]:
        """A networkx graph with an edge parent → child and each node's record."""
        graph: nx.DiGraph[NodeId] = nx.DiGraph()
        for node in self.order:
            graph.add_node(node, member=self._members[node])
        for parent, kids in self._children.items():
            graph.add_edges_from((parent, kid) for kid in kids)
        return graph

    def member(self, node_id: str) -> OrgMember:
        """The record in force for ``node_id``."""
        return self._members[self._known(node_id)]

    def parent(self, node_id: str) -> NodeId | None:
        """The parent of ``node_id``, ``None`` for the root."""
        parent = self.member(node_id).parent
        return None if parent is None else NodeId(parent)

    def children(self, node_id: str) -> tuple[NodeId, ...]:
        """The direct reports of ``node_id``, in record order."""
        return self._children.get(self._known(node_id), ())

    def ancestors(self, node_id: str) -> tuple[NodeId, ...]:
        """The chain from the parent of ``node_id`` up to the root."""
        chain: list[NodeId] = []
        parent = self.parent(node_id)
        while parent is not None:
            chain.append(parent)
            parent = self.parent(parent)
        return tuple(chain)

    def leaves(self) -> tuple[NodeId, ...]:
        """Nodes with no reports, in top-down order."""
        return tuple(n for n in self.order if n not in self._children)

    def _known(self, node_id: str) -> NodeId:
        if node_id not in self._members:
            msg = f"{node_id!r} is not in the org on {self.day}"
            raise InvalidValueError(msg, code="org.unknown_node")
        return NodeId(node_id)


@final
@dataclass(frozen=True, slots=True, eq=False)
class RecordArrays:
    """The org's records as numpy arrays, one entry per record (for vectorized paths).

    Attributes:
        node: intp[M], the record's node as a position in `OrgTree.ids`.
        parent: intp[M], its parent's position in `OrgTree.ids`, -1 for the root.
        first: int64[M], its first active day as a proleptic ordinal
            (`datetime.date.toordinal`), ``date.min`` when open.
        last: int64[M], its last active day likewise, ``date.max`` when open.
        start: int64[M], its node's first start (tenure) as an ordinal, or -1 when the
            node has always been there.
        single: bool[M], whether its node has this one record only.
        by_node: for each node position, its record positions, oldest first.
    """

    node: NDArray[np.intp]
    parent: NDArray[np.intp]
    first: NDArray[np.int64]
    last: NDArray[np.int64]
    start: NDArray[np.int64]
    single: NDArray[np.bool_]
    by_node: tuple[tuple[int, ...], ...]


@final
class OrgTree:
    """An effective-dated org: every record, validated together.

    Build it with `from_records`; every problem in the records (bad fields, duplicate
    ids, unknown parents, parents not active while their reports are, several roots,
    cycles) is reported at once in one `DefinitionError`.

    >>> tree = OrgTree.from_records([
    ...     {"id": "co"},
    ...     {"id": "east", "parent": "co"},
    ...     {"id": "west", "parent": "co"},
    ...     {"id": "ann", "parent": "east", "end": "2026-06-30"},
    ...     {"id": "ann", "parent": "west", "start": "2026-07-01"},
    ... ])
    >>> tree.as_of(dt.date(2026, 3, 1)).parent("ann")
    'east'
    >>> tree.as_of(dt.date(2026, 9, 1)).parent("ann")
    'west'
    >>> [str(d) for d in tree.change_dates()]
    ['2026-07-01']
    """

    __slots__ = ("__dict__", "_history", "members", "root")

    def __init__(self, members: Sequence[OrgMember]) -> None:
        """Validate ``members`` together; raise `DefinitionError` listing every problem."""
        problems = _structure_problems(members)
        if problems:
            raise DefinitionError.from_problems(problems)
        self.members: tuple[OrgMember, ...] = tuple(members)
        history: dict[NodeId, list[OrgMember]] = defaultdict(list)
        for member in self.members:
            history[NodeId(member.id)].append(member)
        self._history = {k: tuple(sorted(v, key=_first_day)) for k, v in history.items()}
        self.root: NodeId = next(NodeId(m.id) for m in self.members if m.parent is None)

    @classmethod
    def from_yaml(cls, text: str) -> OrgTree:
        """Load from YAML (or JSON) text: a list of member records.

        Raises:
            ParseError: the text is not valid YAML (with line and column).
            DefinitionError: it is not a list of records, or the records have problems.
        """
        records = read_yaml(text, source="org")
        if not isinstance(records, list):
            msg = f"an org is a list of member records, not {type(records).__name__}"
            raise DefinitionError(msg, code="org.not_a_list", location=Location(path="members"))
        return cls.from_records(records)

    @classmethod
    def from_frame(cls, frame: pd.DataFrame) -> OrgTree:
        """Load from a pandas DataFrame, one row per record (the [dataframe] extra).

        Columns are the `OrgMember` fields; ``attributes`` may be a column of dicts,
        and any other column becomes an attribute. Empty cells (NaN, None, NaT) mean
        "not given", so an open ``start``/``end`` or a missing attribute reads as such.
        """
        require_pandas()
        import pandas as pd  # noqa: PLC0415 - an optional dependency, imported on use

        fields = set(OrgMember.model_fields)
        records: list[dict[str, object]] = []
        for row in frame.to_dict("records"):
            given = {k: v for k, v in row.items() if not _is_empty(v, pd)}
            record = {k: v for k, v in given.items() if k in fields}
            extra = {str(k): v for k, v in given.items() if k not in fields}
            if extra:
                attributes = dict(record.get("attributes") or {})
                record["attributes"] = {**extra, **attributes}
            for day in ("start", "end"):
                if isinstance(record.get(day), pd.Timestamp):
                    record[day] = record[day].date()
            records.append(record)
        return cls.from_records(records)

    @classmethod
    def from_records(cls, records: Iterable[OrgMember | Mapping[str, object]]) -> OrgTree:
        """Load records (models or plain mappings, e.g. rows of a CSV or YAML list).

        Field errors are reported with the record's position, e.g.
        ``members[3].start: Input should be a valid date``.
        """
        if isinstance(records, str | bytes | Mapping) or not hasattr(records, "__iter__"):
            msg = f"records must be a list of member records, not {type(records).__name__}"
            raise InvalidValueError(msg, code="org.not_a_list")
        members: list[OrgMember] = []
        problems: list[Problem] = []
        for i, record in enumerate(records):
            if isinstance(record, OrgMember):
                members.append(record)
                continue
            if not isinstance(record, Mapping):
                problems.append(_not_a_record(i, record))
                continue
            try:
                members.append(OrgMember.model_validate(record))
            except ValidationError as err:
                problems.extend(validation_problems(err, path=f"members[{i}]", code="org"))
        if problems:
            raise DefinitionError.from_problems(problems)
        return cls(members)

    def __contains__(self, node_id: object) -> bool:
        """Whether ``node_id`` is in the org at any time."""
        return node_id in self._history

    @property
    def ids(self) -> tuple[NodeId, ...]:
        """Every node id that ever appears, in first-record order."""
        return tuple(self._history)

    def history(self, node_id: str) -> tuple[OrgMember, ...]:
        """Every record of ``node_id``, oldest first."""
        if node_id not in self._history:
            msg = f"{node_id!r} is not in the org"
            raise InvalidValueError(msg, code="org.unknown_node")
        return self._history[NodeId(node_id)]

    def member_on(self, node_id: str, day: dt.date) -> OrgMember | None:
        """The record of ``node_id`` in force on ``day``, or ``None`` if not active."""
        day = check_date(day)
        return next((m for m in self.history(node_id) if m.is_active(day)), None)

    def as_of(self, day: dt.date) -> OrgSnapshot:
        """The org as it stands on ``day``."""
        day = check_date(day)
        active = {NodeId(m.id): m for m in self.members if m.is_active(day)}
        if self.root not in active:
            msg = f"the root {self.root!r} is not active on {day}"
            raise InvalidValueError(msg, code="org.root_inactive")
        return OrgSnapshot(day, self.root, active)

    def change_dates(self) -> tuple[dt.date, ...]:
        """Days on which the structure differs from the day before, in order."""
        days = {m.start for m in self.members if m.start is not None}
        days |= {
            m.end + dt.timedelta(days=1) for m in self.members if m.end and m.end < _FOREVER_END
        }
        return tuple(sorted(days))

    def active_days(self, node_id: str, first: dt.date, last: dt.date) -> int:
        """How many days of ``first``..``last`` (inclusive) ``node_id`` is active.

        >>> tree = OrgTree.from_records([{"id": "co"}, {"id": "a", "parent": "co",
        ...     "start": "2026-01-11"}])
        >>> tree.active_days("a", dt.date(2026, 1, 1), dt.date(2026, 1, 31))
        21
        """
        first, last = check_date(first, "first"), check_date(last, "last")
        total = 0
        for member in self.history(node_id):
            lo, hi = max(first, member.first_day), min(last, member.last_day)
            total += max(0, (hi - lo).days + 1)
        return total

    @cached_property
    def arrays(self) -> RecordArrays:
        """The records as numpy arrays, built once and reused by every decomposition."""
        position: dict[str, int] = {node: i for i, node in enumerate(self._history)}
        by_node: list[list[int]] = [[] for _ in position]
        for i, member in enumerate(self.members):
            by_node[position[member.id]].append(i)
        members = self.members
        for records in by_node:
            if len(records) > 1:
                records.sort(key=lambda i: members[i].first_day)
        tenure = [members[records[0]].start for records in by_node]
        node = np.array([position[m.id] for m in members], dtype=np.intp)
        counts = np.array([len(r) for r in by_node], dtype=np.intp)
        return RecordArrays(
            node=node,
            parent=np.array(
                [-1 if m.parent is None else position[m.parent] for m in members], dtype=np.intp
            ),
            first=np.array([m.first_day.toordinal() for m in members], dtype=np.int64),
            last=np.array([m.last_day.toordinal() for m in members], dtype=np.int64),
            start=np.array([-1 if d is None else d.toordinal() for d in tenure], dtype=np.int64)[
                node
            ],
            single=counts[node] == 1,
            by_node=tuple(tuple(r) for r in by_node),
        )

    @cached_property
    def graph(self) -> nx.MultiDiGraph[NodeId]:
        """Every parent → child edge that ever held, keyed by record, with its dates."""
        graph: nx.MultiDiGraph[NodeId] = nx.MultiDiGraph()
        graph.add_nodes_from(self._history)
        for member in self.members:
            if member.parent is not None:
                graph.add_edge(
                    NodeId(member.parent), NodeId(member.id), start=member.start, end=member.end
                )
        return graph


def _first_day(member: OrgMember) -> dt.date:
    return member.first_day


def _is_empty(value: object, pd: ModuleType) -> bool:
    if isinstance(value, dict | list):
        return False
    return value is None or bool(pd.isna(value))


def _not_a_record(index: int, record: object) -> Problem:
    return Problem(
        "org.not_a_record",
        Severity.ERROR,
        f"a member record is a mapping of fields, not {type(record).__name__}",
        Location(path=f"members[{index}]"),
    )


def _structure_problems(members: Sequence[OrgMember]) -> list[Problem]:
    by_id: dict[str, list[tuple[int, OrgMember]]] = defaultdict(list)
    for i, member in enumerate(members):
        by_id[member.id].append((i, member))
    return [
        *_overlap_problems(by_id),
        *_parent_problems(by_id),
        *_root_problems(by_id),
        *_cycle_problems(members),
    ]


def _overlap_problems(by_id: Mapping[str, list[tuple[int, OrgMember]]]) -> list[Problem]:
    problems = []
    for node_id, records in by_id.items():
        ordered = sorted(records, key=lambda r: r[1].first_day)
        for (i, a), (j, b) in itertools.pairwise(ordered):
            if b.first_day <= a.last_day:
                problems.append(
                    Problem(
                        "org.duplicate_id",
                        Severity.ERROR,
                        f"{node_id!r} has two records in force on {b.first_day} "
                        f"(members[{i}] and members[{j}])",
                        Location(path=f"members[{j}].id"),
                    )
                )
    return problems


def _parent_problems(by_id: Mapping[str, list[tuple[int, OrgMember]]]) -> list[Problem]:
    problems = []
    for records in by_id.values():
        for i, member in records:
            if member.parent is None:
                continue
            where = Location(path=f"members[{i}].parent")
            if member.parent not in by_id:
                problems.append(
                    Problem(
                        "org.unknown_parent",
                        Severity.ERROR,
                        f"{member.id!r} reports to {member.parent!r}, which is not in the org",
                        where,
                    )
                )
                continue
            gap = _uncovered_day(member, [m for _, m in by_id[member.parent]])
            if gap is not None:
                problems.append(
                    Problem(
                        "org.parent_inactive",
                        Severity.ERROR,
                        f"{member.id!r} reports to {member.parent!r}, which is not active on {gap}",
                        where,
                    )
                )
    return problems


def _uncovered_day(child: OrgMember, parent_records: Sequence[OrgMember]) -> dt.date | None:
    """The first day of the child's record on which no parent record is in force."""
    day = child.first_day
    for record in sorted(parent_records, key=_first_day):
        if record.last_day < day:
            continue
        if record.first_day > day:
            return day
        if record.last_day >= child.last_day:
            return None
        day = record.last_day + dt.timedelta(days=1)
    return day if day <= child.last_day else None


def _root_problems(by_id: Mapping[str, list[tuple[int, OrgMember]]]) -> list[Problem]:
    roots = sorted({m.id for records in by_id.values() for _, m in records if m.parent is None})
    if len(roots) == 1:
        return []
    if not roots:
        message = "no record has an empty parent, so the org has no root"
        return [Problem("org.no_root", Severity.ERROR, message, Location(path="members"))]
    message = f"the org has {len(roots)} roots ({', '.join(map(repr, roots))}); it needs one"
    return [Problem("org.multiple_roots", Severity.ERROR, message, Location(path="members"))]


def _cycle_problems(members: Sequence[OrgMember]) -> list[Problem]:
    links: nx.DiGraph[str] = nx.DiGraph()
    links.add_edges_from((m.parent, m.id) for m in members if m.parent is not None)
    if nx.is_directed_acyclic_graph(links):  # the common case, in linear time
        return []
    problems = []
    for component in nx.strongly_connected_components(links):
        if _is_loop(links, component):
            problem = _first_cycle_in(component, members)
            if problem is not None:
                problems.append(problem)
    return problems


def _is_loop(links: nx.DiGraph[str], component: set[str]) -> bool:
    """Whether a strongly connected component holds a cycle (a self-loop counts)."""
    if len(component) > 1:
        return True
    (node,) = component
    return links.has_edge(node, node)


def _first_cycle_in(component: set[str], members: Sequence[OrgMember]) -> Problem | None:
    """The first day on which the component's reporting lines really form a cycle.

    Edges of a cycle hold together on some day only if they all hold on the latest of
    their first days, so it is enough to look at the structure on each record's first
    day (the component is small: it is where the definition went wrong).
    """
    inside = [(i, m) for i, m in enumerate(members) if m.id in component and m.parent in component]
    for day in sorted({m.first_day for _, m in inside}):
        day_links: nx.DiGraph[str] = nx.DiGraph()
        for i, member in inside:
            if member.is_active(day):
                day_links.add_edge(str(member.parent), member.id, index=i)
        try:
            edges = nx.find_cycle(day_links)
        except nx.NetworkXNoCycle:
            continue
        cycle = [parent for parent, _ in edges]
        path = " → ".join([*cycle, cycle[0]])
        when = "" if day == _FOREVER_START else f" on {day}"
        first_index = min(day_links.edges[p, c]["index"] for p, c in edges)
        return Problem(
            "org.cycle",
            Severity.ERROR,
            f"reporting lines form a cycle{when}: {path}",
            Location(path=f"members[{first_index}].parent"),
        )
    return None
