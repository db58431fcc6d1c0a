"""The pure runtime: start, fire, precise refusals that change nothing, history, options."""

import datetime as dt
from decimal import Decimal

import pytest

from salesflow.errors import DefinitionError, InvalidValueError
from salesflow.workflow import (
    Action,
    Actor,
    Approval,
    ApprovalStep,
    State,
    Step,
    Transition,
    Workflow,
    WorkflowDefinition,
)

T0 = dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC)
SALES = Actor("li.na", {"sales"})
MANAGER = Actor("zhou", {"manager"})


def _deal(**options):
    return Workflow(
        WorkflowDefinition(
            name="deal",
            initial="lead",
            fields={
                "amount": "decimal(2)?",
                "region": "string?",
                "customer": "string?",
                "signed": "bool?",
            },
            roles=["sales", "manager"],
            states=[
                State(name="lead"),
                State(name="quote", requires=["customer"]),
                State(name="big", entry="amount < 10000000"),
                State(name="won", terminal=True, outcome="won"),
                State(name="lost", terminal=True, outcome="lost"),
            ],
            transitions=[
                Transition(event="qualify", source="lead", target="quote", roles=["sales"]),
                Transition(
                    event="escalate",
                    source="quote",
                    target="big",
                    guard='amount > 100000 && region in ["east", "south"]',
                    roles=["sales", "manager"],
                ),
                Transition(
                    event="win",
                    source=["quote", "big"],
                    target="won",
                    requires=["amount"],
                    guard="signed",
                    emits=["invoice", "notify"],
                ),
                Transition(event="drop", source=["lead", "quote", "big"], target="lost"),
            ],
        ),
        **options,
    )


def _refusal(call):
    with pytest.raises(InvalidValueError) as caught:
        call()
    return caught.value


@pytest.fixture
def quote():
    wf = _deal()
    lead = wf.start("D-1", {"customer": "华为"}, now=T0)
    return wf, wf.fire(lead, "qualify", SALES, now=T0).instance


def test_start_puts_the_instance_in_the_initial_state_at_version_zero_with_a_start_step():
    instance = _deal().start("D-1", {"customer": "华为"}, now=T0, actor=SALES)
    assert (instance.state, instance.version, instance.entered_at) == ("lead", 0, T0)
    (step,) = instance.history
    assert (step.event, step.version, step.actor, step.at, step.target) == (
        "start",
        0,
        "li.na",
        T0,
        "lead",
    )
    assert dict(step.payload) == {"customer": "华为"}


def test_fire_returns_a_new_instance_one_version_up_and_leaves_the_old_one_alone(quote):
    wf, instance = quote
    later = T0 + dt.timedelta(hours=1)
    fired = wf.fire(instance, "drop", SALES, now=later)
    assert fired.instance.state == "lost"
    assert fired.instance.version == instance.version + 1
    assert fired.instance.entered_at == later
    assert instance.state == "quote"


def test_history_records_who_when_from_to_event_payload_and_guard_values(quote):
    wf, instance = quote
    payload = {"amount": Decimal("200000.00"), "region": "east"}
    fired = wf.fire(instance, "escalate", MANAGER, payload, now=T0)
    step = fired.instance.history[-1]
    assert (step.actor, step.at, step.source, step.target, step.event) == (
        "zhou",
        T0,
        "quote",
        "big",
        "escalate",
    )
    assert dict(step.payload) == payload
    assert dict(step.guard_values) == {"amount": Decimal("200000.00"), "region": "east"}
    assert fired.events == (step,)
    assert [s.event for s in fired.instance.history] == ["start", "qualify", "escalate"]


def test_emitted_actions_follow_the_step_in_the_events(quote):
    wf, instance = quote
    fired = wf.fire(instance, "win", SALES, {"amount": Decimal(5), "signed": True}, now=T0)
    step, *actions = fired.events
    assert isinstance(step, Step)
    assert all(isinstance(a, Action) for a in actions)
    assert [a.name for a in actions] == ["invoice", "notify"]
    assert all(a.version == step.version == fired.instance.version for a in actions)


def test_event_not_allowed_in_this_state_names_the_state_and_the_allowed_events(quote):
    wf, instance = quote
    err = _refusal(lambda: wf.fire(instance, "qualify", SALES, now=T0))
    assert err.code == "workflow.not_allowed"
    assert "'quote'" in err.message
    assert "escalate" in err.message


def test_missing_role_names_the_roles_needed_and_held():
    wf = _deal()
    lead = wf.start("D-1", {"customer": "x"}, now=T0)
    err = _refusal(lambda: wf.fire(lead, "qualify", Actor("guest", {"intern"}), now=T0))
    assert err.code == "workflow.missing_role"
    assert "['sales']" in err.message
    assert "['intern']" in err.message


def test_guard_false_names_the_false_part_and_its_values(quote):
    wf, instance = quote
    payload = {"amount": Decimal("200000.00"), "region": "west"}
    refusal = wf.check(instance, "escalate", SALES, payload)
    assert refusal is not None
    assert refusal.code == "workflow.guard_false"
    assert refusal.part == 'region in ["east", "south"]'
    assert dict(refusal.values) == {"region": "west"}
    err = _refusal(lambda: wf.fire(instance, "escalate", SALES, payload, now=T0))
    assert err.code == "workflow.guard_false"
    assert "region='west'" in err.message


def test_missing_required_field_is_refused(quote):
    wf, instance = quote
    err = _refusal(lambda: wf.fire(instance, "win", SALES, {"signed": True}, now=T0))
    assert err.code == "workflow.missing_field"
    assert "amount" in err.message


def test_entering_a_state_needs_its_required_fields():
    wf = _deal()
    lead = wf.start("D-1", now=T0)
    err = _refusal(lambda: wf.fire(lead, "qualify", SALES, now=T0))
    assert err.code == "workflow.missing_field"
    assert "customer" in err.message


def test_entry_criteria_of_the_target_are_checked(quote):
    wf, instance = quote
    refusal = wf.check(
        instance, "escalate", SALES, {"amount": Decimal("20000000.00"), "region": "east"}
    )
    assert refusal is not None
    assert refusal.code == "workflow.guard_false"
    assert refusal.part == "amount < 10000000"
    assert "entry criteria of 'big'" in refusal.message
    refusal = wf.check(instance, "escalate", SALES, {"amount": Decimal(1), "region": "east"})
    assert refusal is not None
    assert refusal.part == "amount > 100000"


@pytest.mark.parametrize(
    "payload",
    [
        {"amount": "lots"},
        {"amount": Decimal("1.001")},
        {"amount": 1.5},
        {"signed": 1},
        {"nonsense": 1},
    ],
)
def test_bad_payload_is_refused_and_changes_nothing(quote, payload):
    wf, instance = quote
    before = (instance.state, instance.version, dict(instance.data), instance.history)
    err = _refusal(lambda: wf.fire(instance, "win", SALES, payload, now=T0))
    assert err.code == "workflow.bad_payload"
    assert (instance.state, instance.version, dict(instance.data), instance.history) == before


def test_payload_fields_are_kept_on_the_instance(quote):
    wf, instance = quote
    fired = wf.fire(instance, "drop", SALES, {"region": "east"}, now=T0)
    assert fired.instance.data["region"] == "east"
    assert fired.instance.data["customer"] == "华为"


def test_available_lists_every_event_with_the_reason_it_cannot_be_fired(quote):
    wf, instance = quote
    options = {o.event: o for o in wf.available(instance, Actor("x", {"intern"}))}
    assert set(options) == {"escalate", "win", "drop"}
    assert options["drop"].allowed
    refusal = options["escalate"].refusal
    assert refusal is not None
    assert refusal.code == "workflow.missing_role"
    refusal = options["win"].refusal
    assert refusal is not None
    assert refusal.code == "workflow.missing_field"


def test_history_can_be_turned_off_but_events_still_come_back():
    wf = _deal(history=False)
    lead = wf.start("D-1", {"customer": "x"}, now=T0)
    fired = wf.fire(lead, "qualify", SALES, now=T0)
    assert fired.instance.history == ()
    assert len(fired.events) == 1


def test_naive_now_is_refused():
    wf = _deal()
    with pytest.raises(InvalidValueError) as caught:
        wf.start("D-1", now=dt.datetime(2026, 3, 2, 9))  # noqa: DTZ001 - the point of the test
    assert caught.value.code == "workflow.naive_datetime"


def test_time_going_back_is_refused(quote):
    wf, instance = quote
    err = _refusal(lambda: wf.fire(instance, "drop", SALES, now=T0 - dt.timedelta(seconds=1)))
    assert err.code == "workflow.time_went_back"


def test_instance_keeps_its_definition_version_and_needs_an_explicit_migration(quote):
    wf, instance = quote
    v2 = Workflow(wf.definition.model_copy(update={"version": 2}))
    err = _refusal(lambda: v2.fire(instance, "drop", SALES, now=T0))
    assert err.code == "workflow.version_mismatch"
    migrated = v2.migrate(instance, now=T0).instance
    assert migrated.definition_version == 2
    assert migrated.history[-1].event == "migrate"
    assert v2.fire(migrated, "drop", SALES, now=T0).instance.state == "lost"


def test_migration_can_rename_states_and_refuses_missing_ones(quote):
    wf, instance = quote
    renamed = wf.definition.model_copy(
        update={
            "version": 2,
            "states": tuple(
                s.model_copy(update={"name": "offer"}) if s.name == "quote" else s
                for s in wf.definition.states
            ),
            "transitions": (),
            "initial": "lead",
        }
    )
    v2 = Workflow(renamed)
    assert v2.migrate(instance, now=T0, states={"quote": "offer"}).instance.state == "offer"
    err = _refusal(lambda: v2.migrate(instance, now=T0))
    assert err.code == "workflow.migration"


def test_workflow_refuses_a_definition_naming_an_unknown_check():
    definition = WorkflowDefinition(
        name="w",
        initial="a",
        states=[State(name="a"), State(name="b", terminal=True)],
        transitions=[Transition(event="go", source="a", target="b", check="credit_ok")],
    )
    with pytest.raises(DefinitionError):
        Workflow(definition)


def test_host_check_callable_gates_the_transition():
    definition = WorkflowDefinition(
        name="w",
        initial="a",
        fields={"score": "int?"},
        states=[State(name="a"), State(name="b", terminal=True)],
        transitions=[Transition(event="go", source="a", target="b", check="credit_ok")],
    )
    wf = Workflow(definition, checks={"credit_ok": lambda data: (data.get("score") or 0) > 600})
    instance = wf.start("x", now=T0)
    refusal = wf.check(instance, "go", SALES, {"score": 500})
    assert refusal is not None
    assert refusal.part == "credit_ok"
    assert wf.fire(instance, "go", SALES, {"score": 700}, now=T0).instance.state == "b"


def test_first_transition_whose_guard_holds_wins_among_several_on_one_event():
    definition = WorkflowDefinition(
        name="w",
        initial="a",
        fields={"n": "int"},
        states=[
            State(name="a"),
            State(name="small", terminal=True),
            State(name="big", terminal=True),
        ],
        transitions=[
            Transition(event="go", source="a", target="small", guard="n < 10"),
            Transition(event="go", source="a", target="big", guard="n >= 10"),
        ],
    )
    wf = Workflow(definition)
    instance = wf.start("x", {"n": 3}, now=T0)
    assert wf.fire(instance, "go", SALES, now=T0).instance.state == "small"
    assert wf.fire(instance, "go", SALES, {"n": 30}, now=T0).instance.state == "big"


# -- regressions -------------------------------------------------------------------------


def _two_states(guard=None, **state):
    return Workflow(
        WorkflowDefinition(
            name="w",
            initial="a",
            fields={"n": "int?"},
            states=[State(name="a", **state), State(name="b", terminal=True)],
            transitions=[Transition(event="go", source="a", target="b", guard=guard)],
        )
    )


def test_a_guard_false_as_a_whole_is_a_refusal_even_when_one_part_alone_fails():
    wf = _two_states("10 / n > 2 && n != 0")
    instance = wf.start("x", {"n": 0}, now=T0)
    refusal = wf.check(instance, "go", SALES)
    assert refusal is not None
    assert (refusal.code, refusal.part) == ("workflow.guard_false", "n != 0")
    assert [o.allowed for o in wf.available(instance, SALES)] == [False]
    assert _refusal(lambda: wf.fire(instance, "go", SALES, now=T0)).code == ("workflow.guard_false")


@pytest.mark.parametrize("now", [None, "2026-03-02"])
def test_fire_without_an_aware_now_is_refused_on_every_path(now):
    plain = _two_states()
    guarded = _two_states("n > 0")
    for wf in (plain, guarded):
        instance = wf.start("x", {"n": 1}, now=T0)
        assert _refusal(lambda: wf.fire(instance, "go", SALES, now=now)).code == (  # noqa: B023
            "workflow.naive_datetime"
        )


def test_start_checks_the_initial_states_requires_and_entry():
    wf = _two_states(requires=["n"], entry="n > 10")
    assert _refusal(lambda: wf.start("x", now=T0)).code == "workflow.missing_field"
    assert _refusal(lambda: wf.start("x", {"n": 1}, now=T0)).code == "workflow.guard_false"
    assert wf.start("x", {"n": 11}, now=T0).state == "a"


@pytest.mark.parametrize(
    "event", ["approve", "reject", "approved", "rejected", "delegate", "migrate", "start"]
)
def test_the_engines_own_event_names_are_refused_at_load(event):
    definition = WorkflowDefinition(
        name="w",
        initial="a",
        states=[State(name="a"), State(name="b", terminal=True)],
        transitions=[Transition(event=event, source="a", target="b")],
    )
    with pytest.raises(DefinitionError) as caught:
        Workflow(definition)
    assert [p.code for p in caught.value.problems] == ["workflow.reserved_event"]


def test_one_role_given_as_a_string_is_one_role():
    assert Actor("li", "sales").roles == frozenset({"sales"})
    with pytest.raises(InvalidValueError) as caught:
        Actor("li", [1])
    assert caught.value.code == "workflow.bad_actor"


def test_arguments_of_the_wrong_kind_get_a_salesflow_error():
    wf = _two_states()
    instance = wf.start("x", now=T0)
    assert _refusal(lambda: wf.fire(instance, "go", SALES, ["n"], now=T0)).code == (
        "workflow.bad_payload"
    )
    assert _refusal(lambda: wf.start("y", [("n", 1)], now=T0)).code == "workflow.bad_payload"
    assert _refusal(lambda: wf.fire(instance, ["go"], SALES, now=T0)).code == (
        "workflow.not_allowed"
    )


def test_a_transition_sets_only_the_fields_it_names():
    definition = WorkflowDefinition(
        name="w",
        initial="a",
        fields={"n": "int?", "m": "int?"},
        states=[State(name="a"), State(name="b", terminal=True)],
        transitions=[Transition(event="go", source="a", target="b", sets=["n"])],
    )
    wf = Workflow(definition)
    instance = wf.start("x", now=T0)
    refusal = wf.check(instance, "go", SALES, {"n": 1, "m": 2})
    assert refusal is not None
    assert refusal.code == "workflow.bad_payload"
    assert wf.fire(instance, "go", SALES, {"n": 1}, now=T0).instance.data["n"] == 1


def _versioned(version, amount_type="int", **state):
    return Workflow(
        WorkflowDefinition(
            name="w",
            version=version,
            initial="a",
            fields={"amount": amount_type},
            roles=["mgr"],
            states=[State(name="a", **state), State(name="b", terminal=True)],
            transitions=[Transition(event="go", source="a", target="b")],
        )
    )


def test_migration_rechecks_the_data_against_the_new_fields():
    old = _versioned(1).start("x", {"amount": 5}, now=T0)
    err = _refusal(lambda: _versioned(2, "string").migrate(old, now=T0))
    assert err.code == "workflow.migration"


def test_migration_goes_only_to_a_newer_version():
    v2 = _versioned(2)
    migrated = v2.migrate(_versioned(1).start("x", {"amount": 5}, now=T0), now=T0).instance
    assert _refusal(lambda: v2.migrate(migrated, now=T0)).code == "workflow.migration"
    assert _refusal(lambda: _versioned(1).migrate(migrated, now=T0)).code == "workflow.migration"


def test_migration_into_a_state_with_an_approval_starts_it():
    approval = {"steps": [{"name": "m", "roles": ["mgr"]}], "approved": "b", "rejected": "b"}
    v2 = _versioned(2, approval=approval)
    migrated = v2.migrate(_versioned(1).start("x", {"amount": 5}, now=T0), now=T0).instance
    assert migrated.approval is not None
    assert v2.approve(migrated, Actor("m", {"mgr"}), now=T0).instance.state == "b"


SYSTEM_LIKE = Actor("system", {"system"})  # the id and role of the engine's own actor


def _ring_with_roles(*roles):
    return Workflow(
        WorkflowDefinition(
            name="w",
            initial="a",
            roles=["sales"],
            states=[State(name="a"), State(name="b"), State(name="end", terminal=True)],
            transitions=[
                Transition(event="go", source="a", target="b", roles=list(roles)),
                Transition(event="back", source="b", target="a", roles=list(roles)),
                Transition(event="stop", source="a", target="end"),
            ],
        )
    )


@pytest.mark.parametrize("payload", [[], (), "", 0, False, set()])
@pytest.mark.parametrize("roles", [(), ("sales",)])
def test_a_falsy_payload_that_is_not_a_mapping_is_refused_on_the_fast_path_too(payload, roles):
    # Moves with nothing to check (or only roles) take the engine's fast path; an empty
    # list is falsy but not a mapping, so it must be refused like ["n"] is.
    wf = _ring_with_roles(*roles)
    instance = wf.start("x", now=T0)
    err = _refusal(lambda: wf.fire(instance, "go", SALES, payload, now=T0))
    assert err.code == "workflow.bad_payload"
    assert "must be a mapping" in err.message
    refusal = wf.check(instance, "go", SALES, payload)
    assert refusal is not None
    assert refusal.code == "workflow.bad_payload"
    assert (instance.state, instance.version, instance.history_length) == ("a", 0, 1)


def test_an_empty_dict_payload_fires_like_no_payload():
    wf = _ring_with_roles("sales")
    fired = wf.fire(wf.start("x", now=T0), "go", SALES, {}, now=T0)
    assert (fired.instance.state, fired.instance.version) == ("b", 1)
    assert fired.events[0].payload == {}


def test_a_move_with_a_role_refuses_an_actor_without_it_and_records_who_fired_it():
    wf = _ring_with_roles("sales")
    instance = wf.start("x", now=T0)
    for outsider in (Actor("intern"), Actor("ops", {"manager"}), SYSTEM_LIKE):
        err = _refusal(lambda: wf.fire(instance, "go", outsider, now=T0))  # noqa: B023
        assert err.code == "workflow.missing_role"
    later = T0 + dt.timedelta(minutes=5)
    fired = wf.fire(instance, "go", SALES, now=later)
    back = wf.fire(fired.instance, "back", Actor("wang", {"sales", "manager"}), now=later)
    assert [(s.event, s.actor, s.at) for s in back.instance.history] == [
        ("start", "system", T0),
        ("go", "li.na", later),
        ("back", "wang", later),
    ]
    assert back.instance.entered_at == later


def _timed(guard, **sla):
    return Workflow(
        WorkflowDefinition(
            name="w",
            initial="open",
            fields={"n": "int"},
            states=[State(name="open", **sla), State(name="escalated", terminal=True)],
            transitions=[
                Transition(event="escalate", source="open", target="escalated", guard=guard)
            ],
        )
    )


def test_a_guard_reads_the_time_of_the_fire_and_when_the_state_was_entered():
    wf = _timed('now - entered_at >= duration("48h") && n > 0')
    instance = wf.start("x", {"n": 1}, now=T0)
    early = T0 + dt.timedelta(hours=47, minutes=59)
    refusal = wf.check(instance, "escalate", SALES, now=early)
    assert refusal is not None
    assert refusal.code == "workflow.guard_false"
    assert refusal.part == 'now - entered_at >= duration("48h")'
    assert dict(refusal.values) == {"entered_at": T0, "now": early}
    on_time = T0 + dt.timedelta(hours=48)  # 2 days after T0: exactly 48 hours in the state
    fired = wf.fire(instance, "escalate", SALES, now=on_time)
    assert fired.instance.state == "escalated"
    assert dict(fired.events[0].guard_values) == {"n": 1, "entered_at": T0, "now": on_time}


def test_a_guard_that_reads_the_time_needs_now_in_check_and_available():
    wf = _timed("now >= entered_at")
    instance = wf.start("x", {"n": 1}, now=T0)
    assert _refusal(lambda: wf.check(instance, "escalate", SALES)).code == ("workflow.now_required")
    assert _refusal(lambda: wf.available(instance, SALES)).code == "workflow.now_required"
    assert wf.check(instance, "escalate", SALES, now=T0) is None
    assert [o.allowed for o in wf.available(instance, SALES, now=T0)] == [True]


def test_check_with_now_refuses_time_going_back_like_fire():
    wf = _timed("now >= entered_at")
    instance = wf.start("x", {"n": 1}, now=T0)
    earlier = T0 - dt.timedelta(seconds=1)
    assert _refusal(lambda: wf.check(instance, "escalate", SALES, now=earlier)).code == (
        "workflow.time_went_back"
    )


def test_a_timeout_guard_reads_the_time_of_the_tick():
    # Due 2h after 09:00; the guard lets the timeout through only from 12:00 on.
    wf = _timed(
        'now >= timestamp("2026-03-02T12:00:00Z")',
        sla={"within": "2h", "timeout": "escalate"},
    )
    instance = wf.start("x", {"n": 1}, now=T0)
    refused = wf.tick(instance, T0 + dt.timedelta(hours=2, minutes=30))
    assert getattr(refused, "code", None) == "workflow.guard_false"
    fired = wf.tick(instance, T0 + dt.timedelta(hours=3))
    assert fired.instance.state == "escalated"


def test_a_field_named_like_the_time_a_guard_reads_is_refused_at_load():
    definition = WorkflowDefinition(
        name="w",
        initial="a",
        fields={"now": "timestamp", "entered_at": "int"},
        states=[State(name="a"), State(name="b", terminal=True)],
        transitions=[Transition(event="go", source="a", target="b")],
    )
    with pytest.raises(DefinitionError) as caught:
        Workflow(definition)
    assert [(p.code, str(p.location)) for p in caught.value.problems] == [
        ("workflow.reserved_field", "workflow.fields.now"),
        ("workflow.reserved_field", "workflow.fields.entered_at"),
    ]


# -- history in time order, and which transition fired --------------------------------


def _review(**workflow):
    return Workflow(
        WorkflowDefinition(
            name="w",
            initial="a",
            states=[
                State(
                    name="a",
                    sla={"within": "2h", "timeout": "remind"},
                ),
                State(name="z", terminal=True),
            ],
            transitions=[
                Transition(event="remind", source="a", target="a"),
                Transition(event="close", source="a", target="z"),
            ],
        ),
        **workflow,
    )


@pytest.mark.parametrize("history", [True, False])
def test_a_fire_dated_before_a_late_tick_is_refused_though_the_sla_restarted_earlier(history):
    # The tick at +10h restarts the SLA at the deadline (+2h) but is itself the last
    # change: a fire at +3h would put "close 12:00" after "remind 19:00".
    wf = _review(history=history)
    ticked = wf.tick(wf.start("x", now=T0), T0 + dt.timedelta(hours=10)).instance
    assert (ticked.entered_at, ticked.updated_at) == (
        T0 + dt.timedelta(hours=2),
        T0 + dt.timedelta(hours=10),
    )
    err = _refusal(lambda: wf.fire(ticked, "close", SALES, now=T0 + dt.timedelta(hours=3)))
    assert err.code == "workflow.time_went_back"
    assert "before the instance's last change" in err.message
    assert wf.fire(ticked, "close", SALES, now=T0 + dt.timedelta(hours=10)).instance.state == "z"


def test_a_decision_dated_before_the_last_one_is_refused():
    wf = Workflow(
        WorkflowDefinition(
            name="w",
            initial="a",
            states=[
                State(name="a"),
                State(
                    name="vote",
                    approval=Approval(
                        steps=[ApprovalStep(name="s", people=["p", "q"], quorum=2)],
                        approved="z",
                        rejected="a",
                    ),
                ),
                State(name="z", terminal=True),
            ],
            transitions=[Transition(event="go", source="a", target="vote")],
        )
    )
    vote = wf.fire(wf.start("x", now=T0), "go", SALES, now=T0).instance
    later = wf.approve(vote, Actor("p"), now=T0 + dt.timedelta(hours=5)).instance
    assert later.entered_at == T0  # a decision does not restart the state's clock
    err = _refusal(lambda: wf.approve(later, Actor("q"), now=T0 + dt.timedelta(hours=1)))
    assert err.code == "workflow.time_went_back"
    done = wf.approve(later, Actor("q"), now=T0 + dt.timedelta(hours=6)).instance
    times = [step.at for step in done.history]
    assert times == sorted(times)


def test_each_step_records_which_of_two_transitions_on_one_event_fired():
    wf = Workflow(
        WorkflowDefinition(
            name="w",
            initial="a",
            fields={"n": "int"},
            states=[State(name="a"), State(name="b", terminal=True)],
            transitions=[
                Transition(event="go", source="a", target="b", guard="n > 5"),
                Transition(event="go", source="a", target="b", guard="n <= 5"),
                Transition(event="skip", source="a", target="b"),
            ],
        )
    )
    small = wf.fire(wf.start("x", {"n": 3}, now=T0), "go", SALES, now=T0).instance
    big = wf.fire(wf.start("y", {"n": 9}, now=T0), "go", SALES, now=T0).instance
    fast = wf.fire(wf.start("z", {"n": 9}, now=T0), "skip", SALES, now=T0).instance
    assert [s.transition for s in small.history] == [None, 1]  # start is the engine's own
    assert [s.transition for s in big.history] == [None, 0]
    assert fast.history[-1].transition == 2  # the fast path records it too


# -- review round 4: the time check in available, a tzinfo without an offset -------------


def test_available_given_a_now_before_the_last_change_raises_like_check_and_approve():
    # p approved at +5h; at +1h approve, reject and delegate would all be refused
    # (workflow.time_went_back), so available must not offer them.
    wf = Workflow(
        WorkflowDefinition(
            name="w",
            initial="a",
            states=[
                State(
                    name="a",
                    approval=Approval(
                        steps=[ApprovalStep(name="s", people=["p", "q"], quorum=2)],
                        approved="z",
                        rejected="z",
                    ),
                ),
                State(name="z", terminal=True),
            ],
            transitions=[],
        )
    )
    start = wf.start("x", now=T0, actor=Actor("r"))
    later = wf.approve(start, Actor("p"), now=T0 + dt.timedelta(hours=5)).instance
    early = T0 + dt.timedelta(hours=1)
    assert _refusal(lambda: wf.approve(later, Actor("q"), now=early)).code == (
        "workflow.time_went_back"
    )
    assert _refusal(lambda: wf.available(later, Actor("q"), now=early)).code == (
        "workflow.time_went_back"
    )
    on_time = {o.event: o.allowed for o in wf.available(later, Actor("q"), now=later.updated_at)}
    assert on_time == {"approve": True, "reject": True, "delegate": True}


class _NoOffset(dt.tzinfo):
    """A tzinfo that gives no offset: a datetime carrying it is naive all the same."""

    def utcoffset(self, _):
        return None

    def dst(self, _):
        return None


@pytest.mark.parametrize("roles", [(), ("sales",)], ids=["plain", "role-gated"])
def test_a_tzinfo_without_an_offset_is_refused_as_naive_on_the_fast_path_too(roles):
    # Both moves take the fast path, which tested only tzinfo is not None and then
    # raised TypeError comparing with updated_at.
    wf = Workflow(
        WorkflowDefinition(
            name="w",
            initial="a",
            roles=["sales"],
            states=[State(name="a"), State(name="b", terminal=True)],
            transitions=[Transition(event="go", source="a", target="b", roles=list(roles))],
        )
    )
    instance = wf.start("x", now=T0)
    odd = dt.datetime(2026, 3, 3, 9, tzinfo=_NoOffset())
    assert _refusal(lambda: wf.fire(instance, "go", SALES, now=odd)).code == (
        "workflow.naive_datetime"
    )


def test_each_step_records_the_guard_of_the_transition_that_fired():
    wf = _two_states("n > 0")
    fired = wf.fire(wf.start("x", {"n": 1}, now=T0), "go", SALES, now=T0)
    assert (fired.events[0].transition, fired.events[0].guard) == (0, "n > 0")
    plain = _two_states()
    assert plain.fire(plain.start("y", now=T0), "go", SALES, now=T0).events[0].guard is None
