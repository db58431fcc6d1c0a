"""SLA deadlines in business time, and which instances are breached or about to be."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, final

from salesflow.workflow._definition import duration_of

if TYPE_CHECKING:
    from salesflow.periods import BusinessCalendar
    from salesflow.workflow._definition import Sla

__all__ = ["Due", "deadline_of", "warning_of"]


@final
@dataclass(frozen=True, slots=True)
class Due:
    """An instance whose SLA is breached or about to be.

    Attributes:
        instance: The instance's id.
        state: The state whose SLA it is.
        deadline: When the SLA ends; ``None`` when it is ``"not_covered"``.
        status: ``"breached"`` (``now`` is at or past the deadline), ``"at_risk"``
            (within the state's ``warn_before`` of it), or ``"not_covered"`` (the
            deadline falls outside the calendar's years and cannot be counted).
        timeout: The event ``tick`` will fire, if the SLA has one.
    """

    instance: str
    state: str
    deadline: dt.datetime | None
    status: Literal["breached", "at_risk", "not_covered"]
    timeout: str | None


def deadline_of(sla: Sla, entered: dt.datetime, calendar: BusinessCalendar | None) -> dt.datetime:
    """When an SLA ends for an instance that entered its state at ``entered``.

    ``"Nh"``/``"Nm"``: N working hours/minutes on the calendar
    (``BusinessCalendar.add_business_time``). ``"Nd"``: the end of the N-th business
    day after the day of entry, in the calendar's zone. Without a calendar, elapsed
    time counted in UTC, so a day is 24 real hours and an hour an hour, whatever
    daylight saving time does to the wall clock; the result is in ``entered``'s zone.

    Raises:
        CalendarError: The deadline falls outside the calendar's years.
    """
    amount, unit = sla.allowance
    return _shift(entered, amount, unit, calendar)


def warning_of(
    sla: Sla, deadline: dt.datetime, calendar: BusinessCalendar | None
) -> dt.datetime | None:
    """From when an instance is at risk: ``warn_before`` ahead of the deadline.

    In ``"d"``: N business days before. A deadline at a day's end (an SLA in days)
    is warned from the end of the N-th business day before it; one within a day
    (an SLA in hours) from the same time of day N business days before, so
    ``warn_before: 1d`` on a deadline Wednesday 15:00 warns from Tuesday 15:00.
    """
    warning = sla.warning
    if warning is None:
        return None
    amount, unit = warning
    return _shift(deadline, -amount, unit, calendar)


def _shift(
    start: dt.datetime, amount: int, unit: str, calendar: BusinessCalendar | None
) -> dt.datetime:
    if calendar is None:
        delta = dt.timedelta(days=amount) if unit == "d" else duration_of(amount, unit)
        # Aware datetimes add wall-clock time in their own zone; UTC adds real time.
        return (start.astimezone(dt.UTC) + delta).astimezone(start.tzinfo)
    if unit != "d":
        return calendar.add_business_time(start, duration_of(amount, unit))
    zone = zoneinfo.ZoneInfo(calendar.timezone)
    local = start.astimezone(zone)
    if amount >= 0:
        day = calendar.add_business_days(local.date(), amount)
        return dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), zone)
    if local.time() != dt.time():
        # Within a day: the same time of day, that many business days before.
        day = calendar.add_business_days(local.date(), amount)
        return dt.datetime.combine(day, local.time(), zone)
    # Counting back from a deadline at a day's end: the end of an earlier business day.
    day = calendar.add_business_days(local.date() - dt.timedelta(days=1), amount)
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), zone)
