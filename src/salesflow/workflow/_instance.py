"""The runtime's values: actors, instances, history steps, actions, refusals."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Final, NamedTuple, TypeGuard, final

from salesflow.errors import InvalidValueError

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Mapping

    from salesflow.workflow._approvals import ApprovalProgress

__all__ = [
    "EMPTY",
    "SYSTEM",
    "Action",
    "Actor",
    "EventOption",
    "Fired",
    "Instance",
    "Refusal",
    "Step",
    "empty",
]

EMPTY: Final[Mapping[str, object]] = MappingProxyType({})


def empty() -> Mapping[str, object]:
    """The shared empty read-only mapping (a dataclass default must come from a factory)."""
    return EMPTY


@final
@dataclass(frozen=True, slots=True)
class Actor:
    """Who fires an event: a person's id and the roles they hold.

    ``roles`` may be any iterable of role names, or one role name as a string (never
    read as its characters).

    >>> Actor("zhang.wei", frozenset({"sales"})).roles
    frozenset({'sales'})
    >>> Actor("li.na", "sales").roles
    frozenset({'sales'})
    """

    id: str
    roles: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        """Accept one role name or any iterable of them.

        Raises:
            InvalidValueError: The id is not a string, or a role is not one
                (``workflow.bad_actor``).
        """
        given: object = self.roles
        roles = (given,) if isinstance(given, str) else given
        if not isinstance(self.id, str) or not _all_str(roles):
            message = f"an actor is a string id and role names, not {self.id!r} {given!r}"
            raise InvalidValueError(message, code="workflow.bad_actor")
        if not isinstance(roles, frozenset):
            object.__setattr__(self, "roles", frozenset(roles))


def _all_str(roles: object) -> TypeGuard[Iterable[str]]:
    return isinstance(roles, Iterable) and all(isinstance(role, str) for role in roles)


SYSTEM: Final = Actor("system", frozenset({"system"}))
"""The actor of moves the engine makes itself: SLA timeouts and granted approvals.

A host job that moves instances on its own (a router, a scheduler) fires as
``SYSTEM``: any actor with the id ``"system"`` keeps the instance's requester (see
`Instance.requester`), so the person who asked stays the requester.
"""


@final
class Step(NamedTuple):
    """One entry of an instance's history, and the event a host stores with it.

    A named tuple: built once per change on the hot path, immutable, and cheap.

    Attributes:
        instance: The instance's id.
        version: The instance's version this step produced.
        at: When it happened (the ``now`` given).
        actor: Who did it (``"system"`` for timeouts and granted approvals).
        event: The event fired, or ``"approve"``, ``"reject"``, ``"delegate"``,
            ``"approved"``, ``"rejected"``, ``"migrate"`` for the engine's own.
        source: The state before.
        target: The state after (the same for a decision that does not move).
        payload: The fields the event set, or details of a decision.
        guard_values: The values of the fields the guard read when it held.
        transition: The index in ``definition.transitions`` of the transition that
            fired, in the definition version the instance ran on then, which tells
            apart two transitions on one event between the same states; ``None`` for
            the engine's own steps (``start``, decisions, ``approved``, ``rejected``,
            ``migrate``).
        guard: The guard of the transition that fired, as written; ``None`` when it
            had none, and for the engine's own steps. With ``event``, ``source`` and
            ``target`` it names the transition in another version of the definition,
            where the index may point elsewhere (diagrams of a migrated instance).
    """

    instance: str
    version: int
    at: dt.datetime
    actor: str
    event: str
    source: str
    target: str
    payload: Mapping[str, object] = EMPTY
    guard_values: Mapping[str, object] = EMPTY
    transition: int | None = None
    guard: str | None = None


@final
class Action(NamedTuple):
    """An action a transition asks the host to carry out (``emits``), e.g. notify finance.

    Attributes:
        name: The action's name as written in the definition.
        instance: The instance's id.
        version: The instance version produced by the step that emitted it.
        at: When.
        event: The event that emitted it.
    """

    name: str
    instance: str
    version: int
    at: dt.datetime
    event: str


class _Log:
    """History as a linked list: appending is O(1), so long histories stay cheap."""

    __slots__ = ("length", "previous", "step")

    def __init__(self, step: Step, previous: _Log | None) -> None:
        self.step = step
        self.previous = previous
        self.length: int = 1 if previous is None else previous.length + 1

    def steps(self) -> tuple[Step, ...]:
        out: list[Step] = []
        node: _Log | None = self
        while node is not None:
            out.append(node.step)
            node = node.previous
        out.reverse()
        return tuple(out)


@final
class Instance(NamedTuple):
    """One running process (a deal, a discount request), immutable.

    Every change returns a new instance with ``version`` one higher; a host stores it
    with optimistic concurrency on ``version``. A named tuple, like `Step`: one is
    built per change, and a tuple builds three times faster than a frozen dataclass.

    Attributes:
        id: The instance's id.
        workflow: The workflow's name.
        definition_version: The definition version it started on (kept until migrated).
        state: The current state.
        version: 0 when started, one more per change.
        data: The field values set so far.
        entered_at: When it entered the current state (SLAs and guards reading
            ``entered_at`` count from here).
        updated_at: When its last change was made (the ``at`` of its newest step):
            a later change may not be dated before it.
        requester: Who asked for the current state, and the requester of the
            approval it starts (who may not approve it unless ``self_approval``).
            ``start`` sets it to its actor; a move by ``fire`` sets it to the actor
            who moved the instance out of a state without an approval. Everything
            else keeps the requester it found: a move by ``system`` (any actor with
            the id ``"system"``: a timeout, an approval's ``approved``/``rejected``
            move, a host job firing as `SYSTEM`), a move out of a state with an
            approval (the instance stays inside the approvals one person asked for),
            ``migrate`` by anyone, and decisions. A host job that fires under an id
            of its own out of a state without an approval becomes the requester.
        approval: The approval in progress in this state, if any.
        log: The history's newest link (read `history` instead).
    """

    id: str
    workflow: str
    definition_version: int
    state: str
    version: int
    data: Mapping[str, object]
    entered_at: dt.datetime
    updated_at: dt.datetime
    requester: str
    approval: ApprovalProgress | None = None
    log: _Log | None = None

    @property
    def history(self) -> tuple[Step, ...]:
        """Every step so far, oldest first (empty when history is off)."""
        return () if self.log is None else self.log.steps()

    @property
    def history_length(self) -> int:
        """How many steps the history holds."""
        return 0 if self.log is None else self.log.length


@final
class Fired(NamedTuple):
    """What a change produced: the new instance and the events to store with it.

    A named tuple, so ``instance, events = workflow.fire(...)`` works.

    Attributes:
        instance: The new instance (or the same one when nothing happened).
        events: The history steps and the actions emitted, in order.
    """

    instance: Instance
    events: tuple[Step | Action, ...]


@final
@dataclass(frozen=True, slots=True)
class Refusal:
    """Why an event cannot be fired now; `error` is what ``fire`` raises.

    Attributes:
        code: ``"workflow.not_allowed"``, ``"workflow.missing_role"``,
            ``"workflow.approval_pending"``, ``"workflow.missing_field"``,
            ``"workflow.bad_payload"``, ``"workflow.guard_false"``, or for approvals
            ``"workflow.not_an_approver"``, ``"workflow.self_approval"``,
            ``"workflow.not_distinct"``, ``"workflow.no_approval"``,
            ``"workflow.delegation_not_allowed"``.
        event: The event refused.
        state: The state the instance was in.
        message: For a person.
        part: For a false guard: the part that was false (its source), or the check.
        values: The field values that part read.
    """

    code: str
    event: str
    state: str
    message: str
    part: str | None = None
    values: Mapping[str, object] = field(default_factory=empty)

    def error(self) -> InvalidValueError:
        """The exception for this refusal (an `InvalidValueError` with `code`)."""
        return InvalidValueError(self.message, code=self.code)


@final
@dataclass(frozen=True, slots=True)
class EventOption:
    """One event out of the current state, and whether this actor can fire it now.

    Attributes:
        event: The event.
        refusal: Why not, or ``None`` when it can be fired.
    """

    event: str
    refusal: Refusal | None

    @property
    def allowed(self) -> bool:
        """Whether the event can be fired now."""
        return self.refusal is None
