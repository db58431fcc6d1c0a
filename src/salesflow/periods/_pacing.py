"""Pacing: how much of a period is behind us, as an exact fraction."""

from __future__ import annotations

from fractions import Fraction
from typing import TYPE_CHECKING

from salesflow.periods._units import check_date

if TYPE_CHECKING:
    import datetime as dt

    from salesflow.periods._business import BusinessCalendar
    from salesflow.periods._period import Period

__all__ = ["fraction_elapsed"]


def fraction_elapsed(
    period: Period, at: dt.date, *, business: BusinessCalendar | None = None
) -> Fraction:
    """The share of ``period`` elapsed at the END of day ``at``, exactly.

    ``at`` itself counts as elapsed: on a month's first day 1/31 of a 31-day month has
    passed, on its last day all of it. Before the period it is 0, after it 1.

    Args:
        period: Any period, or a custom range.
        at: The day whose end is "now".
        business: Count working days of this calendar instead of calendar days. A period
            with no working day at all is 0 until its last day and 1 from then on.

    Raises:
        CalendarError: With ``business``, the period is outside its covered years.

    >>> import datetime as dt
    >>> from salesflow.periods import MonthlyCalendar
    >>> march = MonthlyCalendar().parse("FY2026-M03")
    >>> fraction_elapsed(march, dt.date(2026, 3, 10))
    Fraction(10, 31)
    """
    at = check_date(at, "at")
    if at < period.start:
        return Fraction(0)
    if at >= period.end:
        return Fraction(1)
    if business is None:
        return Fraction((at - period.start).days + 1, period.days)
    total = business.count_business_days(period.start, period.end)
    if total == 0:
        return Fraction(0)
    return Fraction(business.count_business_days(period.start, at), total)
