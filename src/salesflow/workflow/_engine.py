"""The pure runtime: start, fire, approve, tick. No I/O; time comes in as ``now``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from types import MappingProxyType
from typing import TYPE_CHECKING, Final, Literal, final

from salesflow.errors import CalendarError, DefinitionError, EvaluationError, InvalidValueError
from salesflow.expressions.syntax import unparse
from salesflow.workflow._approvals import (
    ApprovalProgress,
    CompiledApproval,
    Decision,
    approver_refusal,
    delegate,
    plan_approval,
    record,
)
from salesflow.workflow._graph import APPROVED, MIGRATE, REJECTED, START
from salesflow.workflow._guards import conjuncts, guard_tree
from salesflow.workflow._instance import (
    EMPTY,
    SYSTEM,
    Action,
    Actor,
    EventOption,
    Fired,
    Instance,
    Refusal,
    Step,
    _Log,
)
from salesflow.workflow._references import (
    CLOCK_NAMES,
    ExpressionCache,
    guard_schema,
    parts_of,
    reference_problems,
)
from salesflow.workflow._sla import Due, deadline_of, warning_of

if TYPE_CHECKING:
    from collections.abc import Iterable

    from salesflow.expressions import Expression, Field
    from salesflow.periods import BusinessCalendar
    from salesflow.workflow._definition import State, Transition, WorkflowDefinition

__all__ = ["Check", "Workflow"]

Check = Callable[[Mapping[str, object]], bool]
"""A host predicate over an instance's fields, named by a transition's ``check``."""

_NOT_ALLOWED: Final = "workflow.not_allowed"
_SYSTEM_ID: Final = SYSTEM.id
_MIGRATION: Final = "workflow.migration"


@final
@dataclass(frozen=True, slots=True)
class _Guard:
    expression: Expression
    parts: tuple[Expression, ...]  # the top-level && parts, to say which one failed
    clock: bool = False  # reads now or entered_at, which the engine supplies


@final
@dataclass(frozen=True, slots=True)
class _Move:
    index: int  # the transition's position in the definition, recorded on its steps
    transition: Transition
    guard: _Guard | None
    check: Check | None
    roles: frozenset[str]
    plain: bool  # nothing to check on the way
    gated: bool  # nothing to check on the way but the actor's roles: the hot path


@final
@dataclass(frozen=True, slots=True)
class _Place:
    state: State
    entry: _Guard | None
    approval: CompiledApproval | None

    @property
    def open(self) -> bool:
        """Nothing to check on the way in: no requirements, criteria or approval."""
        return not (self.state.requires or self.entry or self.approval)


class Workflow:
    """A workflow definition compiled for running instances.

    Args:
        definition: The definition (see `load_workflow`).
        checks: The Python predicates transitions name in ``check``, by name.
        calendar: The business calendar SLAs count on; default: the definition's.
        history: Whether instances keep their history (default ``True``). The steps
            are returned as events either way.

    Raises:
        DefinitionError: A reference does not resolve or an expression does not
            compile (every problem at once).

    >>> import datetime as dt
    >>> from salesflow.workflow import Actor, load_workflow
    >>> wf = Workflow(load_workflow('''
    ... name: deal
    ... initial: 线索
    ... fields: {amount: "decimal(2)?"}
    ... roles: [sales]
    ... states: [{name: 线索}, {name: 赢单, terminal: true, outcome: won}]
    ... transitions:
    ...   - {event: 成交, source: 线索, target: 赢单, roles: [sales], guard: "amount > 0"}
    ... '''))
    >>> now = dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC)
    >>> deal = wf.start("D-1", now=now)
    >>> fired = wf.fire(deal, "成交", Actor("li", {"sales"}), {"amount": 500}, now=now)
    >>> fired.instance.state, fired.instance.version, fired.instance.history[-1].actor
    ('赢单', 1, 'li')
    >>> [step.event for step in fired.instance.history]
    ['start', '成交']
    """

    __slots__ = ("_calendar", "_history", "_moves", "_places", "_plain", "definition")

    def __init__(
        self,
        definition: WorkflowDefinition,
        *,
        checks: Mapping[str, Check] | None = None,
        calendar: BusinessCalendar | None = None,
        history: bool = True,
    ) -> None:
        """Compile ``definition``; see the class docstring."""
        checks = dict(checks or {})
        problems = reference_problems(parts_of(definition), checks)
        if problems:
            raise DefinitionError.from_problems(problems)
        self.definition = definition
        self._calendar = calendar if calendar is not None else definition.calendar
        self._history = history
        cache = ExpressionCache(definition.fields)
        guards = ExpressionCache(guard_schema(definition.fields))
        self._places = {s.name: _place(s, cache) for s in definition.states}
        moves: dict[tuple[str, str], list[_Move]] = {}
        for index, transition in enumerate(definition.transitions):
            move = _move(index, transition, guards, checks, self._places[transition.target])
            for source in transition.source:
                moves.setdefault((source, transition.event), []).append(move)
        self._moves = {key: tuple(value) for key, value in moves.items()}
        # The hot path: one move on the event, nothing to check but the actor's roles,
        # nothing to emit. Roles are kept as None when the move names none; the last
        # item says whether the move leaves a state with an approval (which keeps the
        # requester, see `_requester`).
        self._plain = {
            key: (
                value[0].transition.target,
                value[0].roles or None,
                value[0].index,
                self._places[key[0]].approval is not None,
            )
            for key, value in self._moves.items()
            if len(value) == 1 and value[0].gated and not value[0].transition.emits
        }

    # -- starting and firing --------------------------------------------------------

    def start(
        self,
        instance_id: str,
        data: Mapping[str, object] | None = None,
        *,
        now: dt.datetime,
        actor: Actor = SYSTEM,
    ) -> Instance:
        """A new instance in the initial state, version 0, its history one ``start`` step.

        Entering the initial state is checked like any other: its ``requires`` and
        ``entry``, and its approval is planned (``actor`` is the requester). An approval
        with no applicable step is granted at once and, when it names an ``approved``
        state, the instance moves there (a further ``approved`` step).

        Raises:
            InvalidValueError: ``now`` is naive, ``data`` does not fit the fields
                (``workflow.bad_payload``), or the initial state refuses it (its
                refusal's code: ``workflow.missing_field``, ``workflow.guard_false``,
                ``workflow.no_approver``).
        """
        _aware(now)
        initial = self.definition.initial
        fields = self._checked_payload(EMPTY if data is None else data, "start", initial)
        if isinstance(fields, Refusal):
            raise fields.error()
        progress = self._entering(initial, actor.id, fields, "start", initial)
        if isinstance(progress, Refusal):
            raise progress.error()
        payload = MappingProxyType(dict(fields)) if fields else EMPTY
        step = Step(instance_id, 0, now, actor.id, START, initial, initial, payload)
        instance = Instance(
            instance_id,
            self.definition.name,
            self.definition.version,
            initial,
            0,
            fields,
            now,
            now,
            actor.id,
            progress,
            _Log(step, None) if self._history else None,
        )
        settled = self._settle(instance, now, (step,))
        if isinstance(settled, Refusal):
            raise settled.error()
        return settled.instance

    def fire(
        self,
        instance: Instance,
        event: str,
        actor: Actor,
        payload: Mapping[str, object] | None = None,
        *,
        now: dt.datetime,
    ) -> Fired:
        """Fire ``event`` as ``actor``; the new instance and the events it produced.

        ``payload`` sets fields (checked against the definition's fields) before the
        guard is evaluated. Nothing changes when the event is refused. The new
        requester follows `Instance.requester`: ``actor`` when they move the instance
        out of a state without an approval; kept when ``actor`` is ``system`` (fire
        a host job's moves as `SYSTEM`) or the state has an approval.

        Raises:
            InvalidValueError: Refused; its ``code`` is one of `Refusal`'s codes and
                its message names the state, the roles, the missing fields, or the
                part of the guard that was false with the values it read. Also for a
                naive ``now``, an instance of another workflow or version
                (``workflow.version_mismatch``), or ``now`` before the instance's
                last change (``workflow.time_went_back``).
        """
        try:
            fast = self._plain.get((instance.state, event))
        except TypeError:  # an unhashable event: the general path refuses it
            fast = None
        if (
            fast is not None
            # Only no payload or an empty dict skips the payload check: any other value,
            # a falsy [] or "" included, is checked (and refused) by the general path.
            and (payload is None or (payload.__class__ is dict and not payload))
            # A move with roles: the same check as `_gate`; a refusal is the general
            # path's to explain.
            and (fast[1] is None or not fast[1].isdisjoint(actor.roles))
            and isinstance(now, dt.datetime)
            # Aware as `_aware` means it: a tzinfo whose utcoffset() is None is naive
            # (UTC, the usual case, is tested first: it is cheaper than a call).
            and (now.tzinfo is dt.UTC or now.utcoffset() is not None)
            and instance.definition_version == self.definition.version
            and instance.workflow == self.definition.name
            and instance.updated_at <= now
        ):
            target = fast[0]
            version = instance.version + 1
            step = Step(
                instance.id,
                version,
                now,
                actor.id,
                event,
                instance.state,
                target,
                EMPTY,
                EMPTY,
                fast[2],
            )
            moved = Instance(
                instance.id,
                instance.workflow,
                instance.definition_version,
                target,
                version,
                instance.data,
                now,
                now,
                # As `_requester`: system, or a move out of an approval, keeps it.
                instance.requester if fast[3] or actor.id == "system" else actor.id,
                None,
                _Log(step, instance.log) if self._history else None,
            )
            return Fired(moved, (step,))
        outcome = self._attempt(instance, event, actor, payload, now, system=False)
        if isinstance(outcome, Refusal):
            raise outcome.error()
        return outcome

    def check(
        self,
        instance: Instance,
        event: str,
        actor: Actor,
        payload: Mapping[str, object] | None = None,
        *,
        now: dt.datetime | None = None,
    ) -> Refusal | None:
        """Why ``fire`` would refuse this event now, or ``None`` if it would not.

        Args:
            instance: The instance.
            event: The event.
            actor: Who would fire it.
            payload: The fields it would set.
            now: When it would be fired. Needed only when a guard of the event reads
                ``now`` or ``entered_at``; default ``None``: such a guard raises.

        Raises:
            InvalidValueError: A guard reads the time and ``now`` is ``None``
                (``workflow.now_required``); ``now`` is naive or before the
                instance's last change; the instance runs another workflow or version.
        """
        self._own(instance)
        if now is not None:
            self._own_time(instance, now)
        outcome = self._decide(instance, event, actor, payload, now, system=False)
        if isinstance(outcome, Refusal):
            return outcome
        move, data, guard_values, progress = outcome
        if progress is None or not progress.granted:
            return None
        # Granted on entry: the moves it makes on its own may still be refused.
        fired = self._go(
            instance,
            move,
            actor,
            data,
            payload=payload,
            guard_values=guard_values,
            progress=progress,
            now=instance.updated_at if now is None else now,
            requester=self._requester(instance, actor),
        )
        return fired if isinstance(fired, Refusal) else None

    def available(
        self,
        instance: Instance,
        actor: Actor,
        payload: Mapping[str, object] | None = None,
        *,
        now: dt.datetime | None = None,
    ) -> tuple[EventOption, ...]:
        """Every event out of the current state, and why this actor cannot fire each not.

        Includes ``approve``, ``reject`` and ``delegate`` while an approval is pending
        (``delegate`` refused with ``workflow.delegation_not_allowed`` where the
        approval forbids it). ``now`` is as in `check`: needed only when a guard reads
        the time; given, it is checked as `check` checks it, so nothing is offered that
        would then be refused for going back in time.

        Raises:
            InvalidValueError: As `check`: ``now`` is naive or before the instance's
                last change (``workflow.time_went_back``), a guard reads the time and
                ``now`` is ``None``, or the instance runs another workflow or version.
        """
        self._own(instance)
        if now is not None:
            self._own_time(instance, now)
        events = dict.fromkeys(event for (state, event) in self._moves if state == instance.state)
        options = [
            EventOption(event, self.check(instance, event, actor, payload, now=now))
            for event in events
        ]
        if instance.approval is not None and not instance.approval.granted:
            progress, state = instance.approval, instance.state
            options += [
                EventOption(verdict, approver_refusal(progress, actor, verdict, state)[1])
                for verdict in ("approve", "reject")
            ]
            options.append(EventOption("delegate", _delegation_refusal(instance, actor, None)[1]))
        return tuple(options)

    # -- approvals --------------------------------------------------------------------

    def approve(
        self,
        instance: Instance,
        actor: Actor,
        *,
        now: dt.datetime,
        comment: str = "",
        on_behalf_of: str | None = None,
    ) -> Fired:
        """Record ``actor``'s approval of the pending step.

        When the last step is approved and the approval names an ``approved`` state,
        the instance moves there (a ``"approved"`` step by ``system``). The step
        records who decided (``actor``) and for whom (``on_behalf_of`` in its payload).

        Args:
            instance: The instance.
            actor: Who decides.
            now: When.
            comment: Their comment.
            on_behalf_of: The principal ``actor`` decides for: their own id, or one who
                delegated to them. Default ``None``: the first who can still decide —
                ``actor`` in their own right, then who delegated to them, latest first.

        Raises:
            InvalidValueError: No approval pending (``workflow.no_approval``), not an
                approver of the step or holding no delegation from ``on_behalf_of``
                (``workflow.not_an_approver``), the requester
                (``workflow.self_approval``), or already decided
                (``workflow.not_distinct``).
        """
        return self._decision(
            instance, actor, "approve", now=now, comment=comment, on_behalf_of=on_behalf_of
        )

    def reject(
        self,
        instance: Instance,
        actor: Actor,
        *,
        now: dt.datetime,
        comment: str = "",
        on_behalf_of: str | None = None,
    ) -> Fired:
        """Record ``actor``'s rejection of the pending step.

        Under the step's ``rejection="veto"`` (the default) the instance moves to the
        ``rejected`` state; under ``"quorum"`` only once the step can no longer reach
        its quorum, and until then the rejection is recorded and the step stays open.

        Raises:
            InvalidValueError: As `approve`.
        """
        return self._decision(
            instance, actor, "reject", now=now, comment=comment, on_behalf_of=on_behalf_of
        )

    def delegate(
        self,
        instance: Instance,
        actor: Actor,
        to: str,
        *,
        now: dt.datetime,
        on_behalf_of: str | None = None,
    ) -> Fired:
        """Let person ``to`` decide the pending step on ``actor``'s behalf.

        One person may hold delegations from several; with the approval's
        ``delegate_votes="per_principal"`` they decide once for each.
        ``on_behalf_of`` is as in `approve`: a delegate may pass on a delegation.

        Raises:
            InvalidValueError: As `approve`, or delegation is not allowed
                (``workflow.delegation_not_allowed``), or ``to`` is not a non-empty
                string (``workflow.bad_actor``).
        """
        self._own_at(instance, now)
        if not isinstance(to, str) or not to:
            message = f"a delegate is named by a non-empty string id, not {to!r}"
            raise InvalidValueError(message, code="workflow.bad_actor")
        principal, refusal = _delegation_refusal(instance, actor, on_behalf_of)
        progress = instance.approval
        if refusal is not None or progress is None:
            raise _refused(refusal)
        updated = delegate(progress, principal, to)
        payload = MappingProxyType({"to": to, "on_behalf_of": principal.id})
        return self._stay(instance, updated, actor, "delegate", payload=payload, now=now)

    # -- SLAs -------------------------------------------------------------------------

    def deadline(self, instance: Instance) -> dt.datetime | None:
        """When the current state's SLA ends, or ``None`` if it has none.

        Raises:
            InvalidValueError: An instance of another workflow or version
                (``workflow.version_mismatch``).
            CalendarError: The deadline falls outside the calendar's years.
        """
        self._own(instance)
        sla = self._places[instance.state].state.sla
        return None if sla is None else deadline_of(sla, instance.entered_at, self._calendar)

    def due(self, instances: Iterable[Instance], now: dt.datetime) -> tuple[Due, ...]:
        """The instances whose SLA is breached or about to be, soonest deadline first.

        An instance whose deadline cannot be counted because it falls outside the
        calendar's years is listed first, with status ``"not_covered"`` and no
        deadline: one such instance does not hide the others.

        Raises:
            InvalidValueError: ``now`` is naive, or an instance runs another workflow
                or version (``workflow.version_mismatch``).

        >>> import datetime as dt
        >>> from salesflow.workflow import State, Transition, WorkflowDefinition
        >>> wf = Workflow(WorkflowDefinition(name="w", initial="审批", states=[
        ...     State(name="审批", sla={"within": "2h", "warn_before": "1h"}),
        ...     State(name="完成", terminal=True)],
        ...     transitions=[Transition(event="ok", source="审批", target="完成")]))
        >>> t0 = dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC)
        >>> [d.status for d in wf.due([wf.start("a", now=t0)], t0 + dt.timedelta(minutes=90))]
        ['at_risk']
        """
        _aware(now)
        found = []
        for instance in instances:
            self._own(instance)
            sla = self._places[instance.state].state.sla
            if sla is None:
                continue
            try:
                deadline = deadline_of(sla, instance.entered_at, self._calendar)
                warning = warning_of(sla, deadline, self._calendar)
            except CalendarError:
                found.append(Due(instance.id, instance.state, None, "not_covered", sla.timeout))
                continue
            status = _status(warning, deadline, now)
            if status is not None:
                found.append(Due(instance.id, instance.state, deadline, status, sla.timeout))
        return tuple(sorted(found, key=_due_order))

    def tick(self, instance: Instance, now: dt.datetime) -> Fired | Refusal:
        """Fire the current state's timeout event if its SLA has passed.

        The timeout is fired by ``system``, whatever roles the transition names; its
        guard, the target's requirements and entry criteria must still hold. The
        instance keeps its requester: an approval the timeout leads into is the
        request of whoever moved the instance into the state that timed out.

        The SLA clock of the state it leads to starts at the deadline that fired, not
        at ``now``: a scheduler that ticks late (every hour, or after downtime) does
        not stretch the next SLA by its lateness, and a timeout that re-enters its
        own state (a reminder) fires every ``within``, not every ``within`` plus the
        delay. The history step is stamped ``now``, when the move was made, so the
        history stays in order.

        Returns:
            The instance unchanged, with no events, when the SLA has not passed or
            the state has no timeout; the move made when the timeout fired; or, when
            it is due but refused, the `Refusal` saying why (the instance stays where
            it is; a later tick tries again).

        Raises:
            InvalidValueError: ``now`` is naive or before the instance's last change
                (``workflow.time_went_back``), or the instance runs another workflow
                or version.
            CalendarError: The deadline falls outside the calendar's years.

        >>> import datetime as dt
        >>> from salesflow.workflow import State, Transition, WorkflowDefinition
        >>> wf = Workflow(WorkflowDefinition(name="w", initial="待跟进", fields={"ok": "bool"},
        ...     states=[State(name="待跟进", sla={"within": "2h", "timeout": "超时"}),
        ...             State(name="已关闭", terminal=True)],
        ...     transitions=[Transition(event="超时", source="待跟进", target="已关闭",
        ...                             guard="ok")]))
        >>> t0 = dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC)
        >>> wf.tick(wf.start("a", {"ok": False}, now=t0), t0 + dt.timedelta(hours=3)).code
        'workflow.guard_false'
        """
        self._own_at(instance, now)
        sla = self._places[instance.state].state.sla
        if sla is None or sla.timeout is None:
            return Fired(instance, ())
        deadline = deadline_of(sla, instance.entered_at, self._calendar)
        if now < deadline:
            return Fired(instance, ())
        outcome = self._attempt(instance, sla.timeout, SYSTEM, None, now, system=True)
        if isinstance(outcome, Refusal):
            return outcome
        return Fired(outcome.instance._replace(entered_at=deadline), outcome.events)

    # -- versions ---------------------------------------------------------------------

    def migrate(
        self,
        instance: Instance,
        *,
        now: dt.datetime,
        states: Mapping[str, str] | None = None,
        actor: Actor = SYSTEM,
    ) -> Fired:
        """Move an instance of an older version of this workflow onto this one.

        The instance's fields are checked against this version's fields. An approval
        in progress does not carry over: when the state has an approval in this
        version, it starts afresh; otherwise none is left. Its requester is the
        instance's requester, whoever migrates: an administrator moving an instance
        onto a new version does not ask for its approval, and the person who did may
        still not approve it.

        Args:
            instance: An instance of the same workflow name, an older version.
            now: When.
            states: Renamed states, old name to new (default: unchanged names).
            actor: Who migrates, recorded on the ``migrate`` step (default ``system``).

        Raises:
            InvalidValueError: ``workflow.migration``: another workflow, a version that
                is not older, the state does not exist in this version, a field value
                that does not fit this version's fields, or the state's approval that
                cannot start.
        """
        self._own_time(instance, now)
        version = self.definition.version
        if instance.workflow != self.definition.name:
            message = f"instance of {instance.workflow!r}, not {self.definition.name!r}"
            raise InvalidValueError(message, code=_MIGRATION)
        if instance.definition_version >= version:
            message = (
                f"instance {instance.id!r} runs version {instance.definition_version}:"
                f" only an older version migrates to version {version}"
            )
            raise InvalidValueError(message, code=_MIGRATION)
        target = (states or {}).get(instance.state, instance.state)
        if target not in self._places:
            message = f"state {instance.state!r} has no counterpart in version {version}"
            raise InvalidValueError(message, code=_MIGRATION)
        checked = self._checked_payload(instance.data, MIGRATE, target)
        if isinstance(checked, Refusal):
            raise InvalidValueError(checked.message, code=_MIGRATION)
        progress = None
        requester = instance.requester
        approval = self._places[target].approval
        if approval is not None:
            planned = plan_approval(approval, requester, instance.data)
            if isinstance(planned, tuple):
                raise InvalidValueError(planned[1], code=_MIGRATION)
            progress = planned
        payload = MappingProxyType(
            {"from_version": instance.definition_version, "to_version": version}
        )
        moved = instance._replace(definition_version=version)
        step = self._step(
            instance, actor, MIGRATE, target, payload=payload, guard_values=EMPTY, now=now
        )
        migrated = self._advance(moved, target, step, requester=requester, keep_entry=True)
        fired = self._settle(migrated._replace(approval=progress), now, (step,))
        if isinstance(fired, Refusal):
            raise InvalidValueError(fired.message, code=_MIGRATION)
        return fired

    # -- internals --------------------------------------------------------------------

    def _own(self, instance: Instance) -> None:
        if (
            instance.workflow != self.definition.name
            or instance.definition_version != self.definition.version
        ):
            message = (
                f"instance {instance.id!r} runs {instance.workflow!r} version"
                f" {instance.definition_version}, not {self.definition.name!r} version"
                f" {self.definition.version}; migrate it first"
            )
            raise InvalidValueError(message, code="workflow.version_mismatch")

    def _own_at(self, instance: Instance, now: dt.datetime) -> None:
        self._own(instance)
        self._own_time(instance, now)

    def _requester(self, instance: Instance, actor: Actor) -> str:
        """Who asks for the state a move by ``actor`` leads to (`Instance.requester`).

        ``actor``, when a person moves the instance out of a state without an
        approval. A move by ``system`` (any actor with that id: the engine's own
        moves, a host job firing as `SYSTEM`) and a move out of a state with an
        approval keep the requester: the request stays the one who brought the
        instance into the approvals, whoever moves it on inside them.
        """
        if actor.id == _SYSTEM_ID or self._places[instance.state].approval is not None:
            return instance.requester
        return actor.id

    @staticmethod
    def _own_time(instance: Instance, now: dt.datetime) -> None:
        _aware(now)
        if now < instance.updated_at:
            message = (
                f"now {now} is before the instance's last change ({instance.updated_at}):"
                " its history would go back in time"
            )
            raise InvalidValueError(message, code="workflow.time_went_back")

    def _attempt(  # noqa: PLR0913 - the documented arguments of fire
        self,
        instance: Instance,
        event: str,
        actor: Actor,
        payload: Mapping[str, object] | None,
        now: dt.datetime,
        *,
        system: bool,
    ) -> Fired | Refusal:
        self._own_at(instance, now)
        decided = self._decide(instance, event, actor, payload, now, system=system)
        if isinstance(decided, Refusal):
            return decided
        move, data, guard_values, progress = decided
        return self._go(
            instance,
            move,
            actor,
            data,
            payload=payload,
            guard_values=guard_values,
            progress=progress,
            now=now,
            requester=self._requester(instance, actor),
        )

    def _decide(  # noqa: PLR0913 - the arguments of fire, now included
        self,
        instance: Instance,
        event: str,
        actor: Actor,
        payload: Mapping[str, object] | None,
        now: dt.datetime | None,
        *,
        system: bool,
    ) -> (
        tuple[_Move, Mapping[str, object], Mapping[str, object], ApprovalProgress | None] | Refusal
    ):
        if not isinstance(event, str):
            return _not_allowed(instance.state, repr(event), self._events_from(instance.state))
        moves = self._moves.get((instance.state, event))
        if moves is None:
            return _not_allowed(instance.state, event, self._events_from(instance.state))
        data = instance.data
        if payload is not None:
            checked = self._checked_payload(payload, event, instance.state)
            if isinstance(checked, Refusal):
                return checked
            data = MappingProxyType({**instance.data, **checked})
        if len(moves) == 1 and moves[0].plain:
            return moves[0], data, EMPTY, None
        first: Refusal | None = None
        for move in moves:
            outcome = _unsettable(move.transition, payload, instance.state) or self._admit(
                move, instance, actor, data, now, system=system
            )
            if not isinstance(outcome, Refusal):
                return move, data, *outcome
            first = first or outcome
        assert first is not None  # noqa: S101 - moves is never empty
        return first

    def _admit(  # noqa: PLR0913 - what a move is checked against
        self,
        move: _Move,
        instance: Instance,
        actor: Actor,
        data: Mapping[str, object],
        now: dt.datetime | None,
        *,
        system: bool,
    ) -> tuple[Mapping[str, object], ApprovalProgress | None] | Refusal:
        transition = move.transition
        event, state = transition.event, instance.state
        refusal = _gate(move, instance, actor, system=system)
        if refusal is None and transition.requires:
            refusal = _missing(transition.requires, data, event, state, f"{event!r} requires")
        if refusal is not None:
            return refusal
        values: Mapping[str, object] = EMPTY
        if move.guard is not None:
            seen = _clocked(move.guard, data, instance, now) if move.guard.clock else data
            verdict = _evaluate(move.guard, seen, event, state, "guard")
            if isinstance(verdict, Refusal):
                return verdict
            values = verdict
        if move.check is not None and not move.check(data):
            message = f"{event!r}: check {transition.check!r} is false"
            return Refusal("workflow.guard_false", event, state, message, part=transition.check)
        entering = self._entering(
            transition.target, self._requester(instance, actor), data, event, state
        )
        if isinstance(entering, Refusal):
            return entering
        return values, entering

    def _entering(
        self, target: str, requester: str, data: Mapping[str, object], event: str, state: str
    ) -> ApprovalProgress | Refusal | None:
        place = self._places[target]
        if place.open:
            return None
        refusal = _entry_refusal(place, data, event, state)
        if refusal is not None:
            return refusal
        if place.approval is None:
            return None
        progress = plan_approval(place.approval, requester, data)
        if isinstance(progress, tuple):
            code, message = progress
            return Refusal(code, event, state, f"{event!r}: entering {target!r}: {message}")
        return progress

    def _go(  # noqa: PLR0913 - everything a move records
        self,
        instance: Instance,
        move: _Move,
        actor: Actor,
        data: Mapping[str, object],
        *,
        payload: Mapping[str, object] | None,
        guard_values: Mapping[str, object],
        progress: ApprovalProgress | None,
        now: dt.datetime,
        requester: str,
    ) -> Fired | Refusal:
        transition = move.transition
        recorded = MappingProxyType(dict(payload)) if payload else EMPTY
        step = self._step(
            instance,
            actor,
            transition.event,
            transition.target,
            payload=recorded,
            guard_values=guard_values,
            now=now,
            transition=move.index,
            guard=transition.guard,
        )
        moved = self._advance(
            instance._replace(data=data) if payload else instance,
            transition.target,
            step,
            requester=requester,
        )
        if progress is not None:
            moved = moved._replace(approval=progress)
        events: tuple[Step | Action, ...] = (step,)
        if transition.emits:
            events += tuple(
                Action(name, instance.id, step.version, now, transition.event)
                for name in transition.emits
            )
        if progress is None:  # no approval in the new state: nothing to settle
            return Fired(moved, events)
        return self._settle(moved, now, events)

    def _step(  # noqa: PLR0913 - the fields of a step
        self,
        instance: Instance,
        actor: Actor,
        event: str,
        target: str,
        *,
        payload: Mapping[str, object],
        guard_values: Mapping[str, object],
        now: dt.datetime,
        transition: int | None = None,
        guard: str | None = None,
    ) -> Step:
        return Step(
            instance.id,
            instance.version + 1,
            now,
            actor.id,
            event,
            instance.state,
            target,
            payload,
            guard_values,
            transition,
            guard,
        )

    def _advance(
        self,
        instance: Instance,
        target: str,
        step: Step,
        *,
        requester: str,
        keep_entry: bool = False,
    ) -> Instance:
        return Instance(
            instance.id,
            instance.workflow,
            instance.definition_version,
            target,
            step.version,
            instance.data,
            instance.entered_at if keep_entry else step.at,
            step.at,
            requester,
            instance.approval if keep_entry else None,
            _Log(step, instance.log) if self._history else None,
        )

    def _stay(  # noqa: PLR0913 - everything a decision records
        self,
        instance: Instance,
        progress: ApprovalProgress,
        actor: Actor,
        event: str,
        *,
        payload: Mapping[str, object],
        now: dt.datetime,
    ) -> Fired:
        step = self._step(
            instance, actor, event, instance.state, payload=payload, guard_values=EMPTY, now=now
        )
        stayed = self._advance(
            instance, instance.state, step, requester=instance.requester, keep_entry=True
        )
        return Fired(stayed._replace(approval=progress), (step,))

    def _decision(  # noqa: PLR0913 - everything a decision records
        self,
        instance: Instance,
        actor: Actor,
        verdict: Literal["approve", "reject"],
        *,
        now: dt.datetime,
        comment: str,
        on_behalf_of: str | None,
    ) -> Fired:
        self._own_at(instance, now)
        progress = instance.approval
        principal, refusal = approver_refusal(
            progress, actor, verdict, instance.state, on_behalf_of
        )
        if refusal is not None or progress is None or progress.pending is None:
            raise _refused(refusal)
        decision = Decision(progress.pending.name, actor.id, principal.id, verdict, now, comment)
        payload = MappingProxyType(
            {"step": decision.step, "on_behalf_of": principal.id, "comment": comment}
        )
        updated = record(progress, decision)
        fired = self._stay(instance, updated, actor, verdict, payload=payload, now=now)
        # Under a veto, this rejection; under a quorum, the step out of reach: after a
        # rejection, or an approval that leads to a step too few are left to decide.
        if updated.rejected:
            approval = self._places[instance.state].state.approval
            assert approval is not None  # noqa: S101 - a pending approval has its definition
            outcome = self._auto_move(fired.instance, REJECTED, approval.rejected, now)
            if isinstance(outcome, Refusal):
                raise outcome.error()
            fired = Fired(outcome.instance, (*fired.events, *outcome.events))
        settled = self._settle(fired.instance, now, fired.events)
        if isinstance(settled, Refusal):
            raise settled.error()
        return settled

    def _settle(
        self, instance: Instance, now: dt.datetime, events: tuple[Step | Action, ...]
    ) -> Fired | Refusal:
        """Move on from every granted approval that names an ``approved`` state.

        An approval with no applicable step is granted on entry, so one move may lead
        to another; they stop at an approval still pending, or refuse when they would
        go round in a circle.
        """
        for _ in range(len(self._places) + 1):
            progress = instance.approval
            approval = self._places[instance.state].state.approval
            if progress is None or not progress.granted or approval is None:
                return Fired(instance, events)
            if approval.approved is None:
                return Fired(instance, events)
            moved = self._auto_move(instance, APPROVED, approval.approved, now)
            if isinstance(moved, Refusal):
                return moved
            instance, events = moved.instance, (*events, *moved.events)
        message = f"approvals granted on entry lead round in a circle through {instance.state!r}"
        return Refusal("workflow.approval_loop", APPROVED, instance.state, message)

    def _auto_move(
        self, instance: Instance, event: str, target: str, now: dt.datetime
    ) -> Fired | Refusal:
        """The move an approval makes itself (by ``system``), planning the next approval.

        The next approval's requester is the instance's, who asked for this one.

        The target's requirements and entry criteria hold for it as for any move: a
        granted approval does not let an instance into a state it does not qualify for.
        """
        place = self._places[target]
        refusal = _entry_refusal(place, instance.data, event, instance.state)
        if refusal is not None:
            return refusal
        step = self._step(
            instance, SYSTEM, event, target, payload=EMPTY, guard_values=EMPTY, now=now
        )
        # A move by system must not make "system" the requester of the next approval.
        moved = self._advance(instance, target, step, requester=instance.requester)
        if place.approval is not None:
            progress = plan_approval(place.approval, instance.requester, moved.data)
            if isinstance(progress, tuple):
                code, message = progress
                message = f"{event!r}: entering {target!r}: {message}"
                return Refusal(code, event, instance.state, message)
            moved = moved._replace(approval=progress)
        return Fired(moved, (step,))

    def _checked_payload(
        self, payload: Mapping[str, object], event: str, state: str
    ) -> Mapping[str, object] | Refusal:
        fields = self.definition.fields
        if not isinstance(payload, Mapping):
            message = f"{event!r}: the payload must be a mapping of fields, not {payload!r:.60}"
            return Refusal("workflow.bad_payload", event, state, message)
        for name, value in payload.items():
            if name not in fields:
                message = f"{event!r}: unknown field {name!r} in the payload"
                return Refusal("workflow.bad_payload", event, state, message)
            if not _conforms(fields[name], value):
                message = (
                    f"{event!r}: field {name!r} is {fields[name]}, not"
                    f" {type(value).__name__} {value!r:.60}"
                )
                return Refusal("workflow.bad_payload", event, state, message)
        return MappingProxyType(dict(payload))

    def _events_from(self, state: str) -> list[str]:
        return sorted({event for (source, event) in self._moves if source == state})


def _gate(move: _Move, instance: Instance, actor: Actor, *, system: bool) -> Refusal | None:
    """The refusals that do not depend on the fields: roles and a pending approval."""
    event, state = move.transition.event, instance.state
    if move.roles and not system and move.roles.isdisjoint(actor.roles):
        message = (
            f"{actor.id!r} cannot fire {event!r}: it needs one of the roles"
            f" {sorted(move.roles)}, and they hold {sorted(actor.roles)}"
        )
        return Refusal("workflow.missing_role", event, state, message)
    approval = instance.approval
    if move.transition.after_approval and not (approval is not None and approval.granted):
        message = f"{event!r} waits for the approval in {state!r}"
        return Refusal("workflow.approval_pending", event, state, message)
    return None


def _delegation_refusal(
    instance: Instance, actor: Actor, on_behalf_of: str | None
) -> tuple[Actor, Refusal | None]:
    """For whom ``actor`` may delegate the pending step, or why they may not."""
    progress = instance.approval
    principal, refusal = approver_refusal(progress, actor, "delegate", instance.state, on_behalf_of)
    if refusal is None and progress is not None and not progress.delegation:
        message = f"the approval in {instance.state!r} does not allow delegation"
        refusal = Refusal("workflow.delegation_not_allowed", "delegate", instance.state, message)
    return principal, refusal


def _unsettable(
    transition: Transition, payload: Mapping[str, object] | None, state: str
) -> Refusal | None:
    """A payload setting a field the transition does not let it set."""
    if transition.sets is None or not payload:
        return None
    extra = sorted(name for name in payload if name not in transition.sets)
    if not extra:
        return None
    message = f"{transition.event!r} may set only {list(transition.sets)}, not {extra}"
    return Refusal("workflow.bad_payload", transition.event, state, message)


def _clocked(
    guard: _Guard, data: Mapping[str, object], instance: Instance, now: dt.datetime | None
) -> Mapping[str, object]:
    """The fields, and the time a guard reads: the fire's ``now`` and ``entered_at``."""
    if now is None:
        message = (
            f"the guard {guard.expression.source!r} reads the time: pass now= to check"
            " and available"
        )
        raise InvalidValueError(message, code="workflow.now_required")
    return {**data, "now": now, "entered_at": instance.entered_at}


def _refused(refusal: Refusal | None) -> InvalidValueError:
    if refusal is None:  # pragma: no cover - callers pass a refusal whenever progress is missing
        return InvalidValueError("no approval pending", code="workflow.no_approval")
    return refusal.error()


def _not_allowed(state: str, event: str, events: list[str]) -> Refusal:
    message = f"{event!r} is not allowed in state {state!r}; allowed: {events}"
    return Refusal(_NOT_ALLOWED, event, state, message)


def _entry_refusal(
    place: _Place, data: Mapping[str, object], event: str, state: str
) -> Refusal | None:
    """Why ``data`` does not qualify to enter ``place``: its requirements, its criteria."""
    target = place.state.name
    refusal = _missing(place.state.requires, data, event, state, f"entering {target!r} requires")
    if refusal is not None or place.entry is None:
        return refusal
    verdict = _evaluate(place.entry, data, event, state, f"entry criteria of {target!r}")
    return verdict if isinstance(verdict, Refusal) else None


def _missing(
    names: tuple[str, ...], data: Mapping[str, object], event: str, state: str, what: str
) -> Refusal | None:
    missing = [name for name in names if data.get(name) is None]
    if not missing:
        return None
    return Refusal("workflow.missing_field", event, state, f"{what} {missing}, not set")


def _evaluate(
    guard: _Guard, data: Mapping[str, object], event: str, state: str, what: str
) -> Mapping[str, object] | Refusal:
    """The values the guard read when it holds, or the refusal naming the false part."""
    expression = guard.expression
    row = {name: data.get(name) for name in expression.names}
    missing = sorted(
        name
        for name, value in row.items()
        if value is None and not expression.schema[name].nullable
    )
    if missing:
        message = f"{event!r}: {what} {expression.source!r} reads {missing}, not set"
        return Refusal("workflow.missing_field", event, state, message, part=expression.source)
    try:
        holds = expression.matches(row)
    except EvaluationError as err:
        message = f"{event!r}: {what} {expression.source!r} failed: {err.message}"
        return Refusal("workflow.guard_false", event, state, message, part=expression.source)
    if holds:
        return MappingProxyType(row)
    part = _false_part(guard.parts, row) or expression
    values = MappingProxyType({name: row[name] for name in sorted(part.names)})
    shown = ", ".join(f"{name}={value!r}" for name, value in values.items())
    message = f"{event!r}: {what} is false: {part.source!r} with {shown or 'no fields'}"
    return Refusal("workflow.guard_false", event, state, message, part=part.source, values=values)


def _false_part(parts: tuple[Expression, ...], row: Mapping[str, object]) -> Expression | None:
    """The first ``&&`` part that is false; a part that fails on its own is not it.

    ``10 / n > 2 && n != 0`` is false for ``n == 0`` as a whole, while its first part
    alone fails: the second part is the false one.
    """
    for part in parts:
        try:
            if not part.matches(row):
                return part
        except EvaluationError:
            continue
    return None


def _due_order(due: Due) -> tuple[bool, dt.datetime, str]:
    """Uncountable deadlines first, then the soonest."""
    if due.deadline is None:
        return False, dt.datetime.min.replace(tzinfo=dt.UTC), due.instance
    return True, due.deadline, due.instance


def _guard(source: str, cache: ExpressionCache, path: str) -> _Guard:
    expression, _ = cache.compile(source, "bool", path)
    assert expression is not None  # noqa: S101 - reference checks passed before
    pieces = conjuncts(guard_tree(source))
    parts = []
    if len(pieces) > 1:
        for piece in pieces:
            compiled, _ = cache.compile(unparse(piece), "bool", path)
            if compiled is not None:
                parts.append(compiled)
    clock = not expression.names.isdisjoint(CLOCK_NAMES)
    return _Guard(expression, tuple(parts), clock)


def _place(state: State, cache: ExpressionCache) -> _Place:
    entry = (
        None if state.entry is None else _guard(state.entry, cache, f"states.{state.name}.entry")
    )
    approval = None
    if state.approval is not None:
        steps = state.approval.steps
        approval = CompiledApproval(
            state.approval,
            tuple(
                None if s.when is None else cache.compile(s.when, "bool", "when")[0] for s in steps
            ),
            tuple(
                None if s.approver is None else cache.compile(s.approver, "string", "approver")[0]
                for s in steps
            ),
        )
    return _Place(state, entry, approval)


def _move(
    index: int,
    transition: Transition,
    cache: ExpressionCache,
    checks: Mapping[str, Check],
    target: _Place,
) -> _Move:
    guard = (
        None
        if transition.guard is None
        else _guard(transition.guard, cache, f"workflow.transitions[{index}].guard")
    )
    check = None if transition.check is None else checks[transition.check]
    gated = not (
        transition.requires
        or guard
        or check
        or transition.after_approval
        or transition.sets is not None
        or target.entry
        or target.approval
        or target.state.requires
    )
    plain = gated and not transition.roles
    return _Move(index, transition, guard, check, frozenset(transition.roles), plain, gated)


def _aware(now: dt.datetime) -> None:
    if not isinstance(now, dt.datetime) or now.tzinfo is None or now.utcoffset() is None:
        message = f"now must be an aware datetime, not {now!r}"
        raise InvalidValueError(message, code="workflow.naive_datetime")


def _status(
    warning: dt.datetime | None, deadline: dt.datetime, now: dt.datetime
) -> Literal["breached", "at_risk"] | None:
    if now >= deadline:
        return "breached"
    if warning is not None and now >= warning:
        return "at_risk"
    return None


_KINDS: Final[dict[str, Callable[[object], bool]]] = {
    "bool": lambda v: isinstance(v, bool),
    "int": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "double": lambda v: isinstance(v, float | int) and not isinstance(v, bool),
    "string": lambda v: isinstance(v, str),
    "date": lambda v: isinstance(v, dt.date) and not isinstance(v, dt.datetime),
    "timestamp": lambda v: isinstance(v, dt.datetime) and v.tzinfo is not None,
    "duration": lambda v: isinstance(v, dt.timedelta),
}


def _conforms(field: Field, value: object) -> bool:
    if value is None:
        return field.nullable
    if field.type == "decimal":
        if isinstance(value, int) and not isinstance(value, bool):
            return True
        if not isinstance(value, Decimal) or not value.is_finite():
            return False
        exponent = value.as_tuple().exponent
        return isinstance(exponent, int) and -exponent <= (field.scale or 0)
    return _KINDS[field.type](value)
