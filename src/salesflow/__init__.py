"""salesflow: embeddable sales-operations logic.

Targets decomposed down the org and fiscal time, workflows with approvals and SLAs,
explainable incentive payouts and risk alerts, all exact to the cent. See the README
and ``docs/`` for the tour; ``salesflow.errors`` for the exception tree.
"""

from salesflow.errors import (
    CalendarError,
    CurrencyMismatchError,
    DefinitionError,
    EvaluationError,
    ExpressionSyntaxError,
    ExpressionTypeError,
    InvalidValueError,
    Location,
    MoneyOverflowError,
    ParseError,
    Problem,
    SalesflowError,
    Severity,
    UnknownCurrencyError,
)

__version__ = "0.1.0"

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
    "__version__",
]
