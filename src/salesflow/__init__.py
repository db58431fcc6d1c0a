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
from salesflow.expressions import Expression, Schema, compile_expression
from salesflow.money import (
    Currency,
    Money,
    RoundingMode,
    allocate,
    allocate_equal,
    allocate_units,
)
from salesflow.periods import (
    BusinessCalendar,
    Grain,
    MonthlyCalendar,
    Period,
    RetailCalendar,
    fraction_elapsed,
)
from salesflow.workflow import Workflow, WorkflowDefinition, load_workflow

__version__ = "0.1.0"

__all__ = [
    "BusinessCalendar",
    "CalendarError",
    "Currency",
    "CurrencyMismatchError",
    "DefinitionError",
    "EvaluationError",
    "Expression",
    "ExpressionSyntaxError",
    "ExpressionTypeError",
    "Grain",
    "InvalidValueError",
    "Location",
    "Money",
    "MoneyOverflowError",
    "MonthlyCalendar",
    "ParseError",
    "Period",
    "Problem",
    "RetailCalendar",
    "RoundingMode",
    "SalesflowError",
    "Schema",
    "Severity",
    "UnknownCurrencyError",
    "Workflow",
    "WorkflowDefinition",
    "__version__",
    "allocate",
    "allocate_equal",
    "allocate_units",
    "compile_expression",
    "fraction_elapsed",
    "load_workflow",
]
