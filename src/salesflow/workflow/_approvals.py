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
    from collections.abc import Iterable, Mapping

    from salesflow.expressions import Expression
    from salesflow.workflow._definition import Approval, ApprovalStep

__all__ = [
    "ApprovalProgress",
    "CompiledApproval",
    "Decision",
    "PlannedStep",
    "approver_refusal",
    "distinct_fill",
    "plan_approval",
    "record",
]

Verdict = Literal["approve", "reject"]
Rejection = Literal["veto", "quorum"]
DelegateVotes = Literal["one", "per_principal"]


@final
@dataclass(frozen=True, slots=True)
class PlannedStep:
    """A step of an approval as it applies to one instance (dynamic approvers resolved).

    Attributes:
        name: The step's name.
        roles: Roles whose holders may approve.
        people: People who may approve (named, and chosen by the ``approver`` expression).
        quorum: Approvals needed.
        rejection: ``"veto"``: any rejection rejects; ``"quorum"``: rejected once the
            quorum is out of reach. Default ``"veto"``.
    """

    name: str
    roles: frozenset[str]
    people: frozenset[str]
    quorum: int
    rejection: Rejection = "veto"

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
        requester: Who asked for the approval, `Instance.requester` (cannot
            approve by default).
        steps: The steps that apply to this instance, in order.
        current: The index of the step being decided; ``len(steps)`` once granted.
        decisions: Every decision so far.
        delegations: Delegate id to the approvers who delegated to them, oldest first.
        distinct: Whether an approver may approve in one step only.
        self_approval: Whether the requester may approve.
        delegation: Whether delegation is allowed.
        delegate_votes: ``"one"``: a person decides once per step; ``"per_principal"``:
            once per principal they act for. Default ``"one"``.
    """

    requester: str
    steps: tuple[PlannedStep, ...]
    current: int = 0
    decisions: tuple[Decision, ...] = ()
    delegations: Mapping[str, tuple[Actor, ...]] = field(default_factory=empty)  # type: ignore[arg-type]
    distinct: bool = True
    self_approval: bool = False
    delegation: bool = True
    delegate_votes: DelegateVotes = "one"

    @property
    def granted(self) -> bool:
        """Whether every step is approved."""
        return self.current >= len(self.steps)

    @property
    def rejected(self) -> bool:
        """Whether the pending step is rejected.

        Under ``"veto"``, by any rejection in it. Under either policy, once its
        approvals plus the eligible people who can still decide fall short of its
        quorum: a step nobody can complete must not hang. That is known only for a
        step without roles (how many hold a role is the host's knowledge).
        """
        step = self.pending
        if step is None:
            return False
        if step.rejection == "veto" and any(
            d.step == step.name and d.verdict == "reject" for d in self.decisions
        ):
            return True
        if step.roles:
            return False
        return len(self.approvals_in(step.name)) + len(_undecided(self, step)) < step.quorum

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
    (``workflow.no_approver``), nor, with distinct approvers, a chain whose steps
    without roles cannot each find their own people.
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
    progress = ApprovalProgress(
        requester,
        tuple(planned),
        distinct=definition.distinct,
        self_approval=definition.self_approval,
        delegation=definition.delegation,
        delegate_votes=definition.delegate_votes,
    )
    shortfall = _chain_shortfall(progress)
    return progress if shortfall is None else ("workflow.no_approver", shortfall)


def approver_refusal(
    progress: ApprovalProgress | None,
    actor: Actor,
    event: str,
    state: str,
    on_behalf_of: str | None = None,
) -> tuple[Actor, Refusal | None]:
    """On whose behalf ``actor`` decides the pending step, or why they may not.

    ``on_behalf_of`` names the principal (``actor.id`` for their own right); ``None``
    takes the first that can still decide: the actor in their own right, then those
    who delegated to them, the latest first.
    """

    def refuse(code: str, message: str) -> tuple[Actor, Refusal]:
        return actor, Refusal(code, event, state, message)

    step = None if progress is None else progress.pending
    if progress is None or step is None:
        return refuse("workflow.no_approval", f"no approval is pending in {state!r}")
    decided = _decided(progress, step)
    principal = _principal(progress, step, actor, on_behalf_of, decided)
    if principal is None or not step.admits(principal):
        message = _not_an_approver(step, actor, on_behalf_of, principal)
        return refuse("workflow.not_an_approver", message)
    requester = progress.requester
    if not progress.self_approval and requester in {actor.id, principal.id}:
        return refuse("workflow.self_approval", f"{requester!r} requested it: no self-approval")
    twice = next(
        (p for p in (principal.id, actor.id) if p in _spent(progress, step, actor, principal)),
        None,
    )
    if twice is not None:
        return refuse(
            "workflow.not_distinct",
            f"{twice!r} has already decided in this approval; approvers must be distinct",
        )
    stranding = _stranding(progress, step, actor, principal) if event == "approve" else None
    if stranding is not None:
        return refuse("workflow.not_distinct", stranding)
    return principal, None


def record(progress: ApprovalProgress, decision: Decision) -> ApprovalProgress:
    """The progress after a decision; an approval reaching quorum moves to the next step."""
    step = progress.steps[progress.current]
    decisions = (*progress.decisions, decision)
    updated = replace(progress, decisions=decisions)
    if decision.verdict == "approve" and len(updated.approvals_in(step.name)) >= step.quorum:
        updated = replace(updated, current=progress.current + 1)
    return updated


def distinct_fill(needs: Iterable[tuple[int, Iterable[str]]]) -> int:
    """How many of the places asked for distinct people can fill: a maximum matching.

    Each need is (places, the people who may fill them); one person fills one place
    in all. ``sum(places)`` when every need can be met at once.

    >>> distinct_fill([(1, ["a", "b"]), (1, ["a"])]), distinct_fill([(2, ["a", "b"]), (1, ["a"])])
    (2, 2)
    """
    places = [sorted(people) for count, people in needs for _ in range(count)]
    holder: dict[str, int] = {}

    def place(index: int, tried: set[str]) -> bool:
        # Kuhn's augmenting path: take a free person, or move their holder elsewhere.
        for person in places[index]:
            if person in tried:
                continue
            tried.add(person)
            if person not in holder or place(holder[person], tried):
                holder[person] = index
                return True
        return False

    return sum(place(index, set()) for index in range(len(places)))


def delegate(progress: ApprovalProgress, principal: Actor, to: str) -> ApprovalProgress:
    """The progress with ``to`` deciding on behalf of ``principal`` too."""
    delegations = dict(progress.delegations)
    held = delegations.get(to, ())
    delegations[to] = (*(p for p in held if p.id != principal.id), principal)
    return replace(progress, delegations=MappingProxyType(delegations))


def _decided(progress: ApprovalProgress, step: PlannedStep) -> frozenset[str]:
    """The people who may no longer decide ``step``.

    The principals who decided it; with distinct approvers also everyone who took
    part in approving another step, whether for themselves or as a delegate: one
    person approves in one step only, in whatever capacity.
    """
    people: set[str] = set()
    for d in progress.decisions:
        if d.step == step.name:
            people.add(d.principal)
        elif progress.distinct and d.verdict == "approve":
            people.update((d.principal, d.approver))
    return frozenset(people)


def _spent(
    progress: ApprovalProgress, step: PlannedStep, actor: Actor, principal: Actor
) -> frozenset[str]:
    """Who has used up their say for this decision, of ``actor`` and ``principal``.

    A principal counts once per step, and with distinct approvers a person who
    approved another step (for themselves or as a delegate) decides no later step,
    in either capacity. With ``delegate_votes="one"`` a person also decides once per
    step, whoever they act for; with ``"per_principal"`` a delegate decides once per
    principal.
    """
    decided = _decided(progress, step)
    if progress.delegate_votes == "one":
        acted = {d.approver for d in progress.decisions if d.step == step.name}
        return frozenset((decided | acted) & {actor.id, principal.id})
    elsewhere = {
        person
        for d in progress.decisions
        if progress.distinct and d.verdict == "approve" and d.step != step.name
        for person in (d.principal, d.approver)
    }
    return frozenset(({principal.id} & decided) | ({actor.id} & elsewhere))


def _eligible(progress: ApprovalProgress, step: PlannedStep) -> frozenset[str]:
    """The named people who may decide ``step`` in their own right."""
    return step.people if progress.self_approval else step.people - {progress.requester}


def _chain_shortfall(progress: ApprovalProgress) -> str | None:
    """Why distinct approvers cannot be found for the steps without roles, if so."""
    named = [step for step in progress.steps if not step.roles]
    if not progress.distinct or len(named) < 2:  # noqa: PLR2004 - one step is `_shortfall`'s
        return None
    needed = sum(step.quorum for step in named)
    found = distinct_fill((step.quorum, _eligible(progress, step)) for step in named)
    if found >= needed:
        return None
    return (
        f"approval steps {[step.name for step in named]} need {needed} distinct approvers,"
        f" and their named people can give at most {found} (requester"
        f" {progress.requester!r})"
    )


def _stranding(
    progress: ApprovalProgress, step: PlannedStep, actor: Actor, principal: Actor
) -> str | None:
    """Why this approval would leave the chain unable to finish, or ``None``.

    With distinct approvers, whoever takes part in approving ``step`` decides no later
    step: refused when, without them, the rest of ``step`` and the later steps without
    roles can no longer each find their own people (that chain would hang). The rest
    of ``step`` counts who can really still decide it (`_rest_of_step`): under
    ``delegate_votes="per_principal"`` a delegate who acts for someone keeps their
    own say in the step, so approving for the principal first is never refused where
    approving in their own right first is not.
    """
    later = [s for s in progress.steps[progress.current + 1 :] if not s.roles]
    if not progress.distinct or not later:
        return None
    spent = {actor.id, principal.id} | {
        person
        for d in progress.decisions
        if d.verdict == "approve"
        for person in (d.principal, d.approver)
    }
    needs = [(s.quorum, _eligible(progress, s) - spent) for s in later]
    if not step.roles:
        needs.append(_rest_of_step(progress, step, actor, principal))
    if distinct_fill(needs) >= sum(count for count, _ in needs):
        return None
    who = repr(actor.id) if actor.id == principal.id else f"{actor.id!r} for {principal.id!r}"
    return (
        f"{who} approving step {step.name!r}"
        f" would leave too few distinct approvers for {[s.name for s in later]}:"
        " another approver must decide this step"
    )


def _rest_of_step(
    progress: ApprovalProgress, step: PlannedStep, actor: Actor, principal: Actor
) -> tuple[int, frozenset[str]]:
    """The approvals ``step`` still needs after this one, and who may give them.

    Out of the step are ``principal``, whoever decided it (as a principal) and, with
    distinct approvers, whoever took part in approving another step (`_decided`).
    Under ``delegate_votes="one"`` a person decides once per step, so the acting
    ``actor`` and whoever acted in the step are out too; under ``"per_principal"``
    they keep their own say.
    """
    left = step.quorum - len(progress.approvals_in(step.name) | {principal.id})
    gone = set(_decided(progress, step)) | {principal.id}
    if progress.delegate_votes == "one":
        gone.add(actor.id)
        gone.update(d.approver for d in progress.decisions if d.step == step.name)
    return max(left, 0), _eligible(progress, step) - gone


def _undecided(progress: ApprovalProgress, step: PlannedStep) -> frozenset[str]:
    """The named people whose decision on ``step`` can still be given.

    By them or by one of their delegates, under the same rules as a decision
    (`approver_refusal`): the requester is left out unless self-approval is allowed,
    so is anyone who decided or, with distinct approvers, approved another step, and
    anyone who has nobody left to act for them. Role holders are not known here.
    """
    delegates = [
        (Actor(delegate), {p.id for p in held}) for delegate, held in progress.delegations.items()
    ]
    return frozenset(
        person
        for person in step.people
        if any(
            approver_refusal(progress, agent, "approve", "", on_behalf_of=person)[1] is None
            for agent in (Actor(person), *(a for a, held in delegates if person in held))
        )
    )


def _principal(
    progress: ApprovalProgress,
    step: PlannedStep,
    actor: Actor,
    on_behalf_of: str | None,
    decided: frozenset[str],
) -> Actor | None:
    """Whom ``actor`` acts for: the one named, or the first who can still decide."""
    held = progress.delegations.get(actor.id, ())
    if on_behalf_of is not None:
        if on_behalf_of == actor.id:
            return actor
        return next((p for p in reversed(held) if p.id == on_behalf_of), None)
    admitted = [p for p in (actor, *reversed(held)) if step.admits(p)]
    if not admitted:
        return None
    if progress.delegate_votes == "per_principal":
        return next((p for p in admitted if p.id not in decided), admitted[0])
    return admitted[0]


def _not_an_approver(
    step: PlannedStep, actor: Actor, on_behalf_of: str | None, principal: Actor | None
) -> str:
    if principal is None and on_behalf_of is not None and on_behalf_of != actor.id:
        return f"{actor.id!r} holds no delegation from {on_behalf_of!r}"
    who = actor if principal is None else principal
    return (
        f"{who.id!r} may not decide step {step.name!r} (roles {sorted(step.roles)},"
        f" people {sorted(step.people)})"
    )


def _planned(step: ApprovalStep, chosen: object) -> PlannedStep:
    people = set(step.people)
    if isinstance(chosen, str) and chosen:
        people.add(chosen)
    return PlannedStep(
        step.name, frozenset(step.roles), frozenset(people), step.quorum, step.rejection
    )


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
