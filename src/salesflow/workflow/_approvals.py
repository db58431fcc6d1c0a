"""Approvals in progress: the planned chain, the decisions, delegations.

Pure functions over immutable values; the engine turns their results into steps.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import TYPE_CHECKING, Literal, final

from salesflow.errors import EvaluationError
from salesflow.workflow._instance import Actor, Refusal, empty

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Mapping

    from salesflow.expressions import Expression
    from salesflow.workflow._definition import Approval, ApprovalStep

__all__ = [
    "ApprovalProgress",
    "CompiledApproval",
    "Decision",
    "PlannedStep",
    "approver_refusal",
    "plan_approval",
    "record",
]

Verdict = Literal["approve", "reject"]


@final
@dataclass(frozen=True, slots=True)
class PlannedStep:
    """A step of an approval as it applies to one instance (dynamic approvers resolved).

    Attributes:
        name: The step's name.
        roles: Roles whose holders may approve.
        people: People who may approve (named, and chosen by the ``approver`` expression).
        quorum: Approvals needed.
    """

    name: str
    roles: frozenset[str]
    people: frozenset[str]
    quorum: int

    def admits(self, actor: Actor) -> bool:
        """Whether ``actor`` may decide this step in their own right."""
        return actor.id in self.people or not self.roles.isdisjoint(actor.roles)


@final
@dataclass(frozen=True, slots=True)
class Decision:
    """One approver's decision.

    Attributes:
        step: The step's name.
        approver: Who decided.
        principal: On whose behalf: the approver, or who delegated to them.
        verdict: ``"approve"`` or ``"reject"``.
        at: When.
        comment: Their comment.
    """

    step: str
    approver: str
    principal: str
    verdict: Verdict
    at: dt.datetime
    comment: str = ""


@final
@dataclass(frozen=True, slots=True)
class ApprovalProgress:
    """An approval under way in the instance's current state.

    Attributes:
        requester: Who moved the instance into the state (cannot approve by default).
        steps: The steps that apply to this instance, in order.
        current: The index of the step being decided; ``len(steps)`` once granted.
        decisions: Every decision so far.
        delegations: Delegate id to the approver who delegated to them.
        distinct: Whether an approver may approve in one step only.
        self_approval: Whether the requester may approve.
        delegation: Whether delegation is allowed.
    """

    requester: str
    steps: tuple[PlannedStep, ...]
    current: int = 0
    decisions: tuple[Decision, ...] = ()
    delegations: Mapping[str, Actor] = field(default_factory=empty)  # type: ignore[arg-type]
    distinct: bool = True
    self_approval: bool = False
    delegation: bool = True

    @property
    def granted(self) -> bool:
        """Whether every step is approved."""
        return self.current >= len(self.steps)

    @property
    def pending(self) -> PlannedStep | None:
        """The step being decided, or ``None`` once granted."""
        return None if self.granted else self.steps[self.current]

    def approvals_in(self, step: str) -> frozenset[str]:
        """The principals who approved ``step``."""
        return frozenset(
            d.principal for d in self.decisions if d.step == step and d.verdict == "approve"
        )


@final
@dataclass(frozen=True, slots=True)
class CompiledApproval:
    """An approval definition with its expressions compiled."""

    definition: Approval
    when: tuple[Expression | None, ...]
    approver: tuple[Expression | None, ...]


def plan_approval(
    compiled: CompiledApproval, requester: str, data: Mapping[str, object]
) -> ApprovalProgress | tuple[str, str]:
    """The progress at the start of an approval, or why it cannot start: (code, message).

    Steps whose ``when`` is false are left out; an ``approver`` expression adds the
    person it names. A field that a ``when`` or an ``approver`` reads must be set: a
    null must never silently drop a step or leave it without an approver
    (``workflow.missing_field``). A step left with fewer eligible approvers than its
    quorum (only named people, the requester among them) cannot start either
    (``workflow.no_approver``).
    """
    definition = compiled.definition
    planned = []
    for step, when, chooser in zip(definition.steps, compiled.when, compiled.approver, strict=True):
        applies = _read(step, "condition", when, data)
        if isinstance(applies, tuple):
            return applies
        if applies is not True:
            continue
        chosen = _read(step, "approver", chooser, data)
        if isinstance(chosen, tuple):
            return chosen
        if chooser is not None and not (isinstance(chosen, str) and chosen):
            message = f"approval step {step.name!r}: its approver expression gave {chosen!r}"
            return "workflow.missing_field", message
        planned_step = _planned(step, chosen)
        shortfall = _shortfall(planned_step, requester, self_approval=definition.self_approval)
        if shortfall is not None:
            return "workflow.no_approver", shortfall
        planned.append(planned_step)
    return ApprovalProgress(
        requester,
        tuple(planned),
        distinct=definition.distinct,
        self_approval=definition.self_approval,
        delegation=definition.delegation,
    )


def approver_refusal(
    progress: ApprovalProgress | None, actor: Actor, event: str, state: str
) -> tuple[Actor, Refusal | None]:
    """On whose behalf ``actor`` decides the pending step, or why they may not."""

    def refuse(code: str, message: str) -> tuple[Actor, Refusal]:
        return actor, Refusal(code, event, state, message)

    step = None if progress is None else progress.pending
    if progress is None or step is None:
        return refuse("workflow.no_approval", f"no approval is pending in {state!r}")
    principal = actor if step.admits(actor) else progress.delegations.get(actor.id)
    if principal is None or not step.admits(principal):
        return refuse(
            "workflow.not_an_approver",
            f"{actor.id!r} may not decide step {step.name!r} (roles {sorted(step.roles)},"
            f" people {sorted(step.people)})",
        )
    requester = progress.requester
    if not progress.self_approval and requester in {actor.id, principal.id}:
        return refuse("workflow.self_approval", f"{requester!r} requested it: no self-approval")
    decided = {
        d.principal
        for d in progress.decisions
        if d.step == step.name or (progress.distinct and d.verdict == "approve")
    } | {d.approver for d in progress.decisions if d.step == step.name}
    if principal.id in decided or actor.id in decided:
        return refuse(
            "workflow.not_distinct",
            f"{principal.id!r} has already decided in this approval; approvers must be distinct",
        )
    return principal, None


def record(progress: ApprovalProgress, decision: Decision) -> ApprovalProgress:
    """The progress after a decision; an approval reaching quorum moves to the next step."""
    step = progress.steps[progress.current]
    decisions = (*progress.decisions, decision)
    updated = replace(progress, decisions=decisions)
    if decision.verdict == "approve" and len(updated.approvals_in(step.name)) >= step.quorum:
        updated = replace(updated, current=progress.current + 1)
    return updated


def delegate(progress: ApprovalProgress, principal: Actor, to: str) -> ApprovalProgress:
    """The progress with ``to`` deciding on behalf of ``principal``."""
    delegations = dict(progress.delegations)
    delegations[to] = principal
    return replace(progress, delegations=MappingProxyType(delegations))


def _planned(step: ApprovalStep, chosen: object) -> PlannedStep:
    people = set(step.people)
    if isinstance(chosen, str) and chosen:
        people.add(chosen)
    return PlannedStep(step.name, frozenset(step.roles), frozenset(people), step.quorum)


def _read(
    step: ApprovalStep, what: str, expression: Expression | None, data: Mapping[str, object]
) -> object:
    """The value of a step's expression (``True`` when it has none), or (code, message)."""
    if expression is None:
        return True
    row = {name: data.get(name) for name in expression.names}
    unset = sorted(name for name, value in row.items() if value is None)
    if unset:
        message = (
            f"approval step {step.name!r}: its {what} {expression.source!r} reads {unset}, not set"
        )
        return "workflow.missing_field", message
    try:
        return expression.evaluate(row)
    except EvaluationError as err:
        message = f"approval step {step.name!r}: its {what} {expression.source!r} failed: {err}"
        return "workflow.guard_false", message


def _shortfall(step: PlannedStep, requester: str, *, self_approval: bool) -> str | None:
    """Why a step can never reach its quorum, when only named people may decide it."""
    if step.roles:
        return None  # role holders are not known here: assume enough
    eligible = step.people if self_approval else step.people - {requester}
    if len(eligible) >= step.quorum:
        return None
    return (
        f"approval step {step.name!r} needs {step.quorum} approvals but only"
        f" {sorted(eligible)} may decide it (requester {requester!r})"
    )
