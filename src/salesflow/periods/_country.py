"""Reading a country's holidays and make-up working days out of the ``holidays`` package.

See docs/decisions/0004-holidays-package-for-business-calendars.md for why this
package. It is imported here only, on first use, so ``import salesflow`` does not pay
for loading every country's rules.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import holidays

from salesflow.errors import CalendarError, InvalidValueError
from salesflow.periods._units import FIRST_FISCAL_YEAR, LAST_FISCAL_YEAR

if TYPE_CHECKING:
    from collections.abc import Iterable
    from collections.abc import Set as AbstractSet

    from salesflow.periods._business import UnpublishedYears

__all__ = ["country_calendar_fields"]


def country_calendar_fields(
    country: str,
    years: int | Iterable[int],
    *,
    subdiv: str | None,
    decreed: AbstractSet[str],
    unpublished: UnpublishedYears,
) -> dict[str, object]:
    """The `BusinessCalendar` fields for ``country`` over ``years`` (all but the zone).

    Args:
        country: ISO 3166 alpha-2 code.
        years: The years to cover (the whole span from the smallest to the largest).
        subdiv: A subdivision code, or ``None``.
        decreed: Countries whose make-up working days are decreed year by year: a year
            of theirs with none in the data is unpublished.
        unpublished: ``"raise"`` or ``"estimate"`` for unpublished years.
    """
    first, last = _span(years)
    code = country.strip().upper() if isinstance(country, str) else ""
    try:
        table = holidays.country_holidays(code, subdiv=subdiv, years=range(first, last + 1))
    except NotImplementedError:
        where = f"{country!r}" + (f" subdivision {subdiv!r}" if subdiv else "")
        msg = f"the holidays package has no calendar for {where}"
        raise InvalidValueError(msg, code="business.unknown_country") from None
    workdays = sorted(d for d in getattr(table, "weekend_workdays", ()) if first <= d.year <= last)
    estimated: list[int] = []
    if code in decreed:
        published = {d.year for d in workdays}
        estimated = [y for y in range(first, last + 1) if y not in published]
    if estimated and unpublished == "raise":
        msg = (
            f"{code} has no published holiday schedule for {estimated} in the holidays "
            "package (make-up working days are decreed each year); pass "
            "unpublished='estimate' to build it from the holiday rules alone"
        )
        raise CalendarError(msg, code="business.schedule_not_published")
    return {
        "name": code if subdiv is None else f"{code}-{subdiv}",
        "weekend": tuple(sorted(table.weekend)),
        "holidays": tuple(sorted(d for d in table if first <= d.year <= last)),
        "extra_workdays": tuple(workdays),
        "years": (first, last),
        "estimated_years": tuple(estimated),
    }


def _span(years: int | Iterable[int]) -> tuple[int, int]:
    values = [years] if isinstance(years, int) else list(years)
    if not values or not all(isinstance(y, int) and not isinstance(y, bool) for y in values):
        msg = f"years must be an int or a non-empty collection of ints, not {years!r}"
        raise InvalidValueError(msg, code="business.bad_years")
    first, last = min(values), max(values)
    if first < FIRST_FISCAL_YEAR or last > LAST_FISCAL_YEAR:
        msg = f"years {first}..{last} reach outside {FIRST_FISCAL_YEAR}..{LAST_FISCAL_YEAR}"
        raise CalendarError(msg, code="business.not_covered")
    return first, last
