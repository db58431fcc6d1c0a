"""Errors raised by salesflow, and the problems it reports as data.

Every exception salesflow raises on purpose derives from `SalesflowError`, and each
leaf also derives from the builtin a caller would otherwise catch, so both
``except SalesflowError`` and ``except ValueError`` work::

    SalesflowError                          code
    ├── InvalidValueError (ValueError)      "invalid_value"      argument out of its domain
    │   ├── CurrencyMismatchError           "currency_mismatch"  two currencies mixed
    │   └── UnknownCurrencyError            "unknown_currency"   not an ISO 4217 code
    ├── ParseError (ValueError)             "parse"              text that cannot be read
    │   └── ExpressionSyntaxError           "expression_syntax"
    ├── DefinitionError (ValueError)        "definition"         definition cannot be loaded;
    │   │                                                        carries every `Problem`
    │   └── ExpressionTypeError (TypeError) "expression_type"    does not type-check
    ├── CalendarError (ValueError)          "calendar"           outside a calendar
    ├── EvaluationError (ArithmeticError)   "evaluation"         expression failed on a row
    └── MoneyOverflowError (OverflowError)  "money_overflow"     beyond int64 minor units

Each error has a stable ``code`` (a subclass may refine it per instance, e.g.
``"expression_syntax.unexpected_token"``) that hosts can match on, the human
``message``, and where the input has one, a `Location` (a path into a document, a
line and a column in a text).

Findings about a user's data (a lint of a workflow, an incoherent target tree) are
not raised: they are returned as `Problem` values, each with a code, a `Severity`,
a location and a message. `DefinitionError` carries the problems that stopped a load,
all of them, so a user fixes a definition in one pass.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import ClassVar, final

__all__ = [
    "CalendarError",
    "CurrencyMismatchError",
    "DefinitionError",
    "EvaluationError",
    "ExpressionSyntaxError",
    "ExpressionTypeError",
    "InvalidValueError",
    "Location",
    "MoneyOverflowError",
    "ParseError",
    "Problem",
    "SalesflowError",
    "Severity",
    "UnknownCurrencyError",
]


@final
@dataclass(frozen=True, slots=True)
class Location:
    """Where in the input something is.

    Attributes:
        path: A path into a structured document, dotted with indexes in brackets,
            e.g. ``"plan.components[2].tiers[1].rate"``. ``None`` for plain text.
        line: 1-based line in a text, or ``None``.
        column: 1-based column in a text, or ``None``.

    >>> str(Location(path="plan.tiers[1].rate"))
    'plan.tiers[1].rate'
    >>> str(Location(line=1, column=7))
    'line 1, column 7'
    """

    path: str | None = None
    line: int | None = None
    column: int | None = None

    def __str__(self) -> str:
        """Render as ``path``, ``line L, column C``, or both joined by a space."""
        parts: list[str] = []
        if self.path is not None:
            parts.append(self.path)
        if self.line is not None:
            where = f"line {self.line}"
            if self.column is not None:
                where += f", column {self.column}"
            parts.append(where)
        return " ".join(parts)


@enum.unique
class Severity(enum.Enum):
    """How much a `Problem` matters."""

    ERROR = "error"  # the thing cannot be used as it is
    WARNING = "warning"  # usable, but probably not what was meant
    INFO = "info"  # worth knowing; nothing to fix


@final
@dataclass(frozen=True, slots=True)
class Problem:
    """A finding about user data, returned as a value rather than raised.

    Attributes:
        code: Stable machine-readable code, e.g. ``"workflow.dead_end"``.
        severity: How much it matters.
        message: What is wrong, for a person, naming the offending values.
        location: Where it is, when known.

    >>> p = Problem("tiers.gap", Severity.ERROR, "gap between 100 and 120",
    ...             Location(path="plan.tiers[2]"))
    >>> str(p)
    'error tiers.gap at plan.tiers[2]: gap between 100 and 120'
    """

    code: str
    severity: Severity
    message: str
    location: Location | None = None

    def __str__(self) -> str:
        """Render as ``severity code at location: message``."""
        where = f" at {self.location}" if self.location and str(self.location) else ""
        return f"{self.severity.value} {self.code}{where}: {self.message}"


class SalesflowError(Exception):
    """Root of every error salesflow raises on purpose.

    Attributes:
        code: Stable machine-readable code (class default, refinable per instance).
        message: The human message, without the location.
        location: Where in the input the problem is, or ``None``.
    """

    default_code: ClassVar[str] = "salesflow"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        location: Location | None = None,
    ) -> None:
        """Create the error; ``str(err)`` is ``"<location>: <message>"``."""
        self.message = message
        self.code = code or self.default_code
        self.location = location
        super().__init__(self._render())

    def __reduce__(self) -> tuple[object, ...]:
        """Pickle with code and location (Dask workers send errors across processes)."""
        return (_rebuild, (type(self), self.message, self.__dict__.copy()))

    def _render(self) -> str:
        where = str(self.location) if self.location else ""
        return f"{where}: {self.message}" if where else self.message

    @property
    def path(self) -> str | None:
        """The document path of the location, if any."""
        return self.location.path if self.location else None

    @property
    def line(self) -> int | None:
        """The 1-based line of the location, if any."""
        return self.location.line if self.location else None

    @property
    def column(self) -> int | None:
        """The 1-based column of the location, if any."""
        return self.location.column if self.location else None


class InvalidValueError(SalesflowError, ValueError):
    """An argument is outside the domain of the function that received it."""

    default_code = "invalid_value"


class CurrencyMismatchError(InvalidValueError):
    """Amounts in two different currencies were combined without a conversion."""

    default_code = "currency_mismatch"


class UnknownCurrencyError(InvalidValueError):
    """A currency code is not a known ISO 4217 code."""

    default_code = "unknown_currency"


class ParseError(SalesflowError, ValueError):
    """A text (money string, period label, expression) could not be read."""

    default_code = "parse"


class ExpressionSyntaxError(ParseError):
    """An expression is not well-formed; ``line`` and ``column`` point at the fault."""

    default_code = "expression_syntax"


class DefinitionError(SalesflowError, ValueError):
    """A definition cannot be loaded; `problems` lists every reason at once.

    >>> err = DefinitionError.from_problems([
    ...     Problem("a", Severity.ERROR, "first", Location(path="x")),
    ...     Problem("b", Severity.ERROR, "second", Location(path="y")),
    ... ])
    >>> print(err)
    2 problems:
      error a at x: first
      error b at y: second
    """

    default_code = "definition"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        location: Location | None = None,
        problems: tuple[Problem, ...] = (),
    ) -> None:
        """Create the error with the problems that caused it."""
        self.problems = problems
        super().__init__(message, code=code, location=location)

    @classmethod
    def from_problems(cls, problems: list[Problem] | tuple[Problem, ...]) -> DefinitionError:
        """Build one error that reports every problem, in the order given."""
        problems = tuple(problems)
        if len(problems) == 1:
            only = problems[0]
            return cls(only.message, code=only.code, location=only.location, problems=problems)
        lines = "\n".join(f"  {p}" for p in problems)
        return cls(f"{len(problems)} problems:\n{lines}", problems=problems)


class ExpressionTypeError(DefinitionError, TypeError):
    """An expression is well-formed but does not type-check against its schema."""

    default_code = "expression_type"


class CalendarError(SalesflowError, ValueError):
    """A date, label or period does not exist in the calendar it was asked of."""

    default_code = "calendar"


class EvaluationError(SalesflowError, ArithmeticError):
    """Evaluating an expression on concrete input failed (division by zero, bad row)."""

    default_code = "evaluation"


class MoneyOverflowError(SalesflowError, OverflowError):
    """An amount does not fit the integer minor-unit representation (int64)."""

    default_code = "money_overflow"


def _rebuild(cls: type[SalesflowError], message: str, state: dict[str, object]) -> SalesflowError:
    err = cls.__new__(cls)
    Exception.__init__(err, message)
    err.__dict__.update(state)
    Exception.__init__(err, err._render())  # noqa: SLF001 - same class family
    return err
