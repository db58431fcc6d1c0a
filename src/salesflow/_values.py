"""Checks of plain argument values shared by the domain modules."""

from __future__ import annotations

import datetime as dt
import enum
from typing import TypeVar

from salesflow.errors import InvalidValueError

__all__ = ["check_date", "check_enum"]

EnumT = TypeVar("EnumT", bound=enum.Enum)


def check_date(value: object, what: str = "day", *, code: str = "not_a_date") -> dt.date:
    """Return ``value`` if it is a plain `datetime.date`, else raise `InvalidValueError`.

    A `datetime.datetime` is refused: which date it falls on depends on a time zone
    the caller knows and this function does not.

    >>> check_date("2026-01-01", "at")
    Traceback (most recent call last):
    ...
    salesflow.errors.InvalidValueError: at must be a datetime.date, not str '2026-01-01'
    """
    if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
        msg = f"{what} must be a datetime.date, not {type(value).__name__} {value!r}"
        if isinstance(value, dt.datetime):
            msg += " (take .date() in the time zone you mean)"
        raise InvalidValueError(msg, code=code)
    return value


def check_enum(kind: type[EnumT], value: object, what: str) -> EnumT:
    """``value`` as a member of ``kind`` (a member or its value), else a clear error.

    >>> from salesflow.errors import Severity
    >>> check_enum(Severity, "warning", "severity")
    <Severity.WARNING: 'warning'>
    >>> check_enum(Severity, "fatal", "severity")
    Traceback (most recent call last):
    ...
    salesflow.errors.InvalidValueError: severity 'fatal' is not one of 'error', 'warning', 'info'
    """
    if isinstance(value, kind):
        return value
    try:
        return kind(value)
    except ValueError:
        choices = ", ".join(repr(member.value) for member in kind)
        msg = f"{what} {value!r} is not one of {choices}"
        raise InvalidValueError(msg, code="invalid_choice") from None
