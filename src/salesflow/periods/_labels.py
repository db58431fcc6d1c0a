"""Period labels and their exact inverse.

``FY2026``, ``FY2026-H1``, ``FY2026-Q3``, ``FY2026-M07``, ``FY2026-W05`` (retail weeks),
``FY2026-M07-W2`` (a monthly calendar's weeks, numbered within their month), ISO dates
for days and ``start/end`` ISO dates for custom ranges. Only the canonical spelling
parses, so ``parse(label) == period`` and ``parse(text).label == text`` both hold.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import TYPE_CHECKING, Final

from salesflow.errors import CalendarError, InvalidValueError, ParseError
from salesflow.periods._units import FIRST_FISCAL_YEAR, LAST_FISCAL_YEAR, Grain

if TYPE_CHECKING:
    from collections.abc import Callable

    from salesflow.periods._fiscal import FiscalCalendar
    from salesflow.periods._period import Period

__all__ = ["format_label", "parse_label"]

# [0-9], not \d: \d also matches other scripts' digits, which int() would then accept.
_FISCAL: Final = re.compile(
    r"FY(?P<year>[0-9]{4})"
    r"(?:-(?:H(?P<half>[0-9])|Q(?P<quarter>[0-9])|W(?P<week>[0-9]{2})"
    r"|M(?P<month>[0-9]{2})(?:-W(?P<month_week>[0-9]))?))?"
)
_ISO_DATE: Final = r"[0-9]{4}-[0-9]{2}-[0-9]{2}"
_DAY: Final = re.compile(_ISO_DATE)
_RANGE: Final = re.compile(f"(?P<start>{_ISO_DATE})/(?P<end>{_ISO_DATE})")

_PREFIX: Final = {Grain.HALF: "H", Grain.QUARTER: "Q", Grain.MONTH: "M", Grain.WEEK: "W"}
_WIDTH: Final = {Grain.HALF: 1, Grain.QUARTER: 1, Grain.MONTH: 2, Grain.WEEK: 2}


def format_label(period: Period) -> str:
    """The canonical label of ``period``."""
    if period.grain is None:
        return f"{period.start.isoformat()}/{period.end.isoformat()}"
    if period.grain is Grain.DAY:
        return period.start.isoformat()
    year = f"FY{period.fiscal_year:04d}"
    if period.grain is Grain.YEAR:
        return year
    if period.grain is Grain.WEEK and period.calendar.kind == "monthly":
        month = period.calendar.period_of(period.start, Grain.MONTH)
        first_week = period.calendar.period_of(month.start, Grain.WEEK)
        return f"{year}-M{month.index:02d}-W{period.index - first_week.index + 1}"
    return f"{year}-{_PREFIX[period.grain]}{period.index:0{_WIDTH[period.grain]}d}"


def parse_label(calendar: FiscalCalendar, text: str) -> Period:
    """Read ``text`` as a label of ``calendar``; raise `ParseError` for anything else."""
    if not isinstance(text, str):
        msg = f"a period label must be text, not {type(text).__name__}"
        raise ParseError(msg, code="periods.bad_label")
    if match := _FISCAL.fullmatch(text):
        return _fiscal_period(calendar, text, match)
    if _DAY.fullmatch(text):
        day = _iso_date(text, text)
        return _within_range(text, lambda: calendar.period_of(day, Grain.DAY))
    if match := _RANGE.fullmatch(text):
        start, end = _iso_date(match["start"], text), _iso_date(match["end"], text)
        return _within_range(text, lambda: calendar.custom(start, end))
    msg = (
        f"not a period label: {text!r} (expected e.g. 'FY2026', 'FY2026-Q3', "
        "'FY2026-M07', a date '2026-01-15' or a range '2026-03-01/2026-03-31')"
    )
    raise ParseError(msg, code="periods.bad_label")


def _fiscal_period(calendar: FiscalCalendar, text: str, match: re.Match[str]) -> Period:
    fiscal_year = int(match["year"])
    if not FIRST_FISCAL_YEAR <= fiscal_year <= LAST_FISCAL_YEAR:
        msg = f"{text!r}: fiscal year outside {FIRST_FISCAL_YEAR}..{LAST_FISCAL_YEAR}"
        raise ParseError(msg, code="periods.out_of_range")
    if match["month_week"] is not None:
        if calendar.kind != "monthly":
            msg = f"{text!r}: weeks of a retail calendar are labelled FY<year>-W<nn>"
            raise ParseError(msg, code="periods.bad_label")
        month = _nth(calendar.periods(fiscal_year, Grain.MONTH), match["month"], text)
        return _nth(month.children(Grain.WEEK), match["month_week"], text)
    if match["week"] is not None and calendar.kind == "monthly":
        msg = f"{text!r}: weeks of a monthly calendar are labelled FY<year>-M<mm>-W<n>"
        raise ParseError(msg, code="periods.bad_label")
    for grain, group in (
        (Grain.HALF, "half"),
        (Grain.QUARTER, "quarter"),
        (Grain.MONTH, "month"),
        (Grain.WEEK, "week"),
    ):
        if match[group] is not None:
            return _nth(calendar.periods(fiscal_year, grain), match[group], text)
    return calendar.year(fiscal_year)


def _nth(periods: tuple[Period, ...], number: str, text: str) -> Period:
    index = int(number)
    if not 1 <= index <= len(periods):
        msg = f"{text!r}: there is no period number {index}; this one has 1..{len(periods)}"
        raise ParseError(msg, code="periods.no_such_period")
    return periods[index - 1]


def _iso_date(part: str, text: str) -> dt.date:
    year, month, day = (int(p) for p in part.split("-"))
    try:
        return dt.date(year, month, day)
    except ValueError:
        msg = f"{text!r}: {part} is not a date"
        raise ParseError(msg, code="periods.bad_label") from None


def _within_range(text: str, build: Callable[[], Period]) -> Period:
    try:
        return build()
    except CalendarError as err:
        msg = f"{text!r}: {err.message}"
        raise ParseError(msg, code="periods.out_of_range") from None
    except InvalidValueError as err:
        msg = f"{text!r}: {err.message}"
        raise ParseError(msg, code="periods.bad_label") from None
