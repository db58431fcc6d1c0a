"""SLAs in business time: deadlines, due lists, and timeouts fired by tick."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from salesflow.errors import InvalidValueError
from salesflow.periods import BusinessCalendar
from salesflow.workflow import (
    Actor,
    Fired,
    Refusal,
    Sla,
    State,
    Transition,
    Workflow,
    WorkflowDefinition,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
# 2026-03-06 is a Friday; the default working hours are 09-12 and 13-18.
FRIDAY_5PM = dt.datetime(2026, 3, 6, 17, tzinfo=SHANGHAI)
CALENDAR = BusinessCalendar(years=(2026, 2026))


def _workflow(sla, calendar=CALENDAR, **transition):
    definition = WorkflowDefinition(
        name="w",
        initial="审批",
        fields={"ok": "bool?"},
        roles=["sales"],
        states=[State(name="审批", sla=sla), State(name="超时", terminal=True)],
        transitions=[Transition(event="expire", source="审批", target="超时", **transition)],
    )
    return Workflow(definition, calendar=calendar)


def test_hours_are_counted_in_working_time_across_the_weekend():
    wf = _workflow(Sla(within="2h"))
    instance = wf.start("a", now=FRIDAY_5PM)
    assert wf.deadline(instance) == dt.datetime(2026, 3, 9, 10, tzinfo=SHANGHAI)


def test_days_end_at_the_close_of_the_nth_business_day():
    wf = _workflow(Sla(within="2d"))
    instance = wf.start("a", now=FRIDAY_5PM)
    # Monday and Tuesday are the two business days after Friday: due at Tuesday's end.
    assert wf.deadline(instance) == dt.datetime(2026, 3, 11, 0, tzinfo=SHANGHAI)


def test_holidays_of_the_calendar_push_the_deadline():
    calendar = BusinessCalendar(years=(2026, 2026), holidays=[dt.date(2026, 3, 9)])
    wf = _workflow(Sla(within="2h"), calendar=calendar)
    instance = wf.start("a", now=FRIDAY_5PM)
    assert wf.deadline(instance) == dt.datetime(2026, 3, 10, 10, tzinfo=SHANGHAI)


NEW_YORK = ZoneInfo("America/New_York")


@pytest.mark.parametrize(
    ("within", "entered", "real"),
    [
        # 2026-03-08 02:00 EST the clocks jump to 03:00 EDT: the wall clock loses an hour.
        ("2h", dt.datetime(2026, 3, 8, 1, 30, tzinfo=NEW_YORK), dt.timedelta(hours=2)),
        ("1d", dt.datetime(2026, 3, 7, 12, tzinfo=NEW_YORK), dt.timedelta(hours=24)),
        # 2026-11-01 02:00 EDT the clocks fall back to 01:00 EST: the wall clock gains one.
        ("1d", dt.datetime(2026, 10, 31, 12, tzinfo=NEW_YORK), dt.timedelta(hours=24)),
        ("90m", dt.datetime(2026, 11, 1, 0, 45, tzinfo=NEW_YORK), dt.timedelta(minutes=90)),
    ],
)
def test_without_a_calendar_sla_counts_real_elapsed_time_across_dst(within, entered, real):
    wf = _workflow(Sla(within=within, timeout="expire"), calendar=None)
    instance = wf.start("a", now=entered)
    deadline = wf.deadline(instance)
    assert deadline is not None
    assert deadline.astimezone(dt.UTC) - entered.astimezone(dt.UTC) == real
    just_before = (entered.astimezone(dt.UTC) + real - dt.timedelta(seconds=1)).astimezone(NEW_YORK)
    assert wf.tick(instance, just_before).instance is instance


def test_due_and_deadline_refuse_an_instance_of_another_workflow():
    other = Workflow(
        WorkflowDefinition(
            name="other",
            initial="q",
            states=[State(name="q", sla=Sla(within="1h")), State(name="r", terminal=True)],
        )
    )
    foreign = other.start("o", now=FRIDAY_5PM)
    wf = _workflow(Sla(within="1h"))
    for call in (lambda: wf.deadline(foreign), lambda: wf.due([foreign], FRIDAY_5PM)):
        with pytest.raises(InvalidValueError) as caught:
            call()
        assert caught.value.code == "workflow.version_mismatch"


def test_one_deadline_outside_the_calendar_does_not_hide_the_others():
    wf = _workflow(Sla(within="2d"))
    inside = wf.start("inside", now=FRIDAY_5PM)
    outside = wf.start("outside", now=dt.datetime(2026, 12, 30, 10, tzinfo=SHANGHAI))
    now = dt.datetime(2026, 12, 30, 11, tzinfo=SHANGHAI)
    found = [(d.instance, d.status, d.deadline) for d in wf.due([inside, outside], now)]
    assert found == [
        ("outside", "not_covered", None),
        ("inside", "breached", dt.datetime(2026, 3, 11, 0, tzinfo=SHANGHAI)),
    ]


def test_an_sla_too_long_to_count_is_refused_at_load():
    with pytest.raises(ValidationError):
        Sla(within="99999999999d")


def test_due_lists_at_risk_then_breached_instances():
    wf = _workflow(Sla(within="2d", warn_before="1d"))
    instance = wf.start("a", now=FRIDAY_5PM)
    assert wf.due([instance], dt.datetime(2026, 3, 9, 23, tzinfo=SHANGHAI)) == ()
    at_risk = wf.due([instance], dt.datetime(2026, 3, 10, 8, tzinfo=SHANGHAI))
    assert [(d.instance, d.status) for d in at_risk] == [("a", "at_risk")]
    breached = wf.due([instance], dt.datetime(2026, 3, 11, 0, tzinfo=SHANGHAI))
    assert [d.status for d in breached] == ["breached"]


def test_due_sorts_by_deadline_and_skips_states_without_sla():
    wf = _workflow(Sla(within="1h"))
    early = wf.start("early", now=FRIDAY_5PM)
    late = wf.start("late", now=FRIDAY_5PM + dt.timedelta(minutes=30))
    done = wf.fire(early, "expire", Actor("x"), now=FRIDAY_5PM).instance
    now = dt.datetime(2026, 3, 10, 9, tzinfo=SHANGHAI)
    assert [d.instance for d in wf.due([late, done, early], now)] == ["early", "late"]


def test_tick_fires_the_timeout_once_the_deadline_has_passed():
    wf = _workflow(Sla(within="2h", timeout="expire"), roles=["sales"])
    instance = wf.start("a", now=FRIDAY_5PM)
    before = wf.tick(instance, dt.datetime(2026, 3, 9, 9, 59, tzinfo=SHANGHAI))
    assert before.instance is instance
    assert before.events == ()
    after = wf.tick(instance, dt.datetime(2026, 3, 9, 10, tzinfo=SHANGHAI))
    assert after.instance.state == "超时"
    assert after.instance.history[-1].actor == "system"


def test_a_refused_timeout_returns_the_refusal_saying_the_guard_is_false():
    wf = _workflow(Sla(within="2h", timeout="expire"), guard="ok")
    instance = wf.start("a", {"ok": False}, now=FRIDAY_5PM)
    refused = wf.tick(instance, dt.datetime(2026, 3, 20, tzinfo=SHANGHAI))
    assert isinstance(refused, Refusal)
    assert (refused.code, refused.event, refused.state) == (
        "workflow.guard_false",
        "expire",
        "审批",
    )


def test_a_timeout_not_yet_due_is_no_refusal():
    wf = _workflow(Sla(within="2h", timeout="expire"), guard="ok")
    instance = wf.start("a", {"ok": False}, now=FRIDAY_5PM)
    fired = wf.tick(instance, dt.datetime(2026, 3, 9, 9, 59, tzinfo=SHANGHAI))
    assert fired == Fired(instance, ())


def test_the_next_sla_clock_starts_at_the_deadline_that_fired_not_at_the_late_tick():
    # A reminder: the timeout re-enters its own state, due every 2 working hours.
    definition = WorkflowDefinition(
        name="w",
        initial="跟进",
        states=[
            State(name="跟进", sla=Sla(within="2h", timeout="remind")),
            State(name="完成", terminal=True),
        ],
        transitions=[
            Transition(event="remind", source="跟进", target="跟进"),
            Transition(event="done", source="跟进", target="完成"),
        ],
    )
    wf = Workflow(definition, calendar=CALENDAR)
    instance = wf.start("a", now=FRIDAY_5PM)
    # Due Monday 10:00 (1 h on Friday, 1 h on Monday); the scheduler ticks at 11:30.
    late = dt.datetime(2026, 3, 9, 11, 30, tzinfo=SHANGHAI)
    fired = wf.tick(instance, late)
    assert fired.instance.entered_at == dt.datetime(2026, 3, 9, 10, tzinfo=SHANGHAI)
    assert fired.instance.history[-1].at == late
    # 10:00 + 2 working hours is 12:00; from the 11:30 tick it would be 14:30 (30 min
    # before the 12-13 lunch break, 90 after it).
    assert wf.deadline(fired.instance) == dt.datetime(2026, 3, 9, 12, tzinfo=SHANGHAI)


@pytest.mark.parametrize("within", ["90m", "8h", "3d"])
def test_deadline_is_never_before_entry(within):
    wf = _workflow(Sla(within=within))
    instance = wf.start("a", now=FRIDAY_5PM)
    deadline = wf.deadline(instance)
    assert deadline is not None
    assert deadline > FRIDAY_5PM


def test_a_warning_in_days_on_an_sla_in_hours_starts_a_business_day_before_the_deadline():
    # Entered Monday 2 March 15:00; 16 working hours at 8 a day (09-12, 13-18): Monday
    # 15-18 is 3, Tuesday 8, Wednesday 09-12 and 13-15 the last 5 -> Wednesday 15:00.
    # One business day before it is Tuesday 15:00, not Wednesday's midnight.
    wf = _workflow(Sla(within="16h", warn_before="1d"))
    instance = wf.start("a", now=dt.datetime(2026, 3, 2, 15, tzinfo=SHANGHAI))
    assert wf.deadline(instance) == dt.datetime(2026, 3, 4, 15, tzinfo=SHANGHAI)
    assert wf.due([instance], dt.datetime(2026, 3, 3, 14, 59, tzinfo=SHANGHAI)) == ()
    at_risk = wf.due([instance], dt.datetime(2026, 3, 3, 15, tzinfo=SHANGHAI))
    assert [d.status for d in at_risk] == ["at_risk"]
