"""Fiscal calendars, periods and business-day calendars.

Fiscal time (`MonthlyCalendar`, `RetailCalendar`) splits a fiscal year into halves,
quarters, months, weeks and days that nest exactly, so a number allocated to a period
can always be split over its children. Business time (`BusinessCalendar`) counts
working days and working hours, with public holidays and China's make-up working days.
See ``docs/periods.md``.
"""

from salesflow.periods._business import (
    BusinessCalendar,
    WorkingHours,
    load_business_calendar,
)
from salesflow.periods._fiscal import (
    FiscalCalendar,
    MonthlyCalendar,
    RetailCalendar,
    calendar_json_schema,
    load_calendar,
)
from salesflow.periods._pacing import fraction_elapsed
from salesflow.periods._period import Period
from salesflow.periods._units import Grain, Weekday

__all__ = [
    "BusinessCalendar",
    "FiscalCalendar",
    "Grain",
    "MonthlyCalendar",
    "Period",
    "RetailCalendar",
    "Weekday",
    "WorkingHours",
    "calendar_json_schema",
    "fraction_elapsed",
    "load_business_calendar",
    "load_calendar",
]
