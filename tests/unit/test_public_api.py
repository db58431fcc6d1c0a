"""The public surface is curated: it changes only when this test is changed with it."""

import ast
import importlib
import pkgutil
from pathlib import Path

import pytest

import salesflow

# The names `import salesflow` offers. Adding or removing one is an API decision:
# update this list in the same commit, and the changelog.
EXPECTED_ROOT = [
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

# The names each public module offers (salesflow.__all__ is EXPECTED_ROOT above).
# Changing one is an API decision: update this in the same commit.
EXPECTED_MODULES = {
    "salesflow.incentives": [
        "Adjustment",
        "Assignment",
        "Basis",
        "Bonus",
        "Bootstrap",
        "Boundary",
        "Cap",
        "Clawback",
        "Commission",
        "Comparison",
        "Component",
        "Contest",
        "CreditKind",
        "Crediting",
        "CurvePoint",
        "Distribution",
        "Draw",
        "Engine",
        "Floor",
        "Gate",
        "History",
        "Ledger",
        "Line",
        "LineKind",
        "Locale",
        "LogNormal",
        "Measure",
        "Milestone",
        "Normal",
        "Payees",
        "PayoutColumns",
        "PayoutRun",
        "Plan",
        "PlanCap",
        "Pool",
        "RateTable",
        "RatedLine",
        "RatingMode",
        "Samples",
        "Scorecard",
        "ScorecardKpi",
        "Simulation",
        "Split",
        "Statement",
        "TieRule",
        "Tier",
        "TierStyle",
        "Transaction",
        "TransactionTable",
        "Uniform",
        "Window",
        "calculate",
        "calculate_columns",
        "compare",
        "explain",
        "load_plan",
        "load_rate_table",
        "payout",
        "plot_distribution",
        "plot_payout_curve",
        "rate_cumulative",
        "rate_transactions",
        "simulate",
    ],
    "salesflow.errors": [
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
    ],
    "salesflow.expressions": [
        "Column",
        "Expression",
        "Field",
        "FieldType",
        "Schema",
        "compile_expression",
    ],
    "salesflow.expressions.syntax": [
        "Binary",
        "Call",
        "Conditional",
        "ListLiteral",
        "Literal",
        "LiteralKind",
        "Name",
        "Node",
        "Unary",
        "parse",
        "unparse",
    ],
    "salesflow.money": [
        "CARRY_ONE",
        "EXACT",
        "Currency",
        "Money",
        "RoundingMode",
        "allocate",
        "allocate_array",
        "allocate_equal",
        "allocate_grouped",
        "allocate_grouped_carried",
        "allocate_units",
        "allocate_units_carried",
        "decimal_rounding",
        "from_minor_units_array",
        "scale_weights",
        "to_minor_units_array",
    ],
    "salesflow.periods": [
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
    ],
    "salesflow.targets": [
        "Actuals",
        "CellSource",
        "Derivation",
        "FreedTarget",
        "NodeId",
        "OrgMember",
        "OrgMethod",
        "OrgRule",
        "OrgSnapshot",
        "OrgTree",
        "Pace",
        "TargetChange",
        "TargetGrid",
        "TargetHistory",
        "TargetPlan",
        "TargetRow",
        "TargetVersion",
        "TimeMethod",
        "TimeSplit",
        "TrackRow",
        "Tracking",
        "decompose",
        "load_plan",
        "seasonality_from_history",
        "track",
    ],
    "salesflow.testing": [],
    "salesflow.testing.workflow": [
        "InstanceStore",
        "assert_guards_disjoint",
        "assert_lint_clean",
        "assert_no_dead_ends",
        "assert_reachable",
        "assert_terminal_reachable",
        "coverage_paths",
        "definitions",
        "event_walks",
        "shortest_paths",
        "simple_paths",
        "workflow_machine",
    ],
    "salesflow.workflow": [
        "SYSTEM",
        "Action",
        "Actor",
        "Approval",
        "ApprovalProgress",
        "ApprovalStep",
        "Decision",
        "Due",
        "Edge",
        "EventOption",
        "Fired",
        "Instance",
        "Overlap",
        "PlannedStep",
        "Refusal",
        "Sla",
        "State",
        "StatePath",
        "Step",
        "Transition",
        "Workflow",
        "WorkflowDefinition",
        "compare_guards",
        "coverage_paths",
        "dump_workflow",
        "lint",
        "load_workflow",
        "shortest_paths",
        "simple_paths",
        "state_graph",
        "to_dot",
        "to_mermaid",
        "workflow_json_schema",
    ],
}

SRC = Path(salesflow.__file__).parent
PUBLIC_MODULES = sorted(
    m.name
    for m in pkgutil.walk_packages([str(SRC)], prefix="salesflow.")
    if not any(part.startswith("_") for part in m.name.split("."))
)

# Domain modules hold the rules; they never reach outward to I/O layers (DESIGN.md).
OUTER_LAYERS = ("salesflow.adapters", "salesflow.cli", "salesflow.report", "salesflow.distributed")
DOMAIN = ("errors", "money", "periods", "expressions", "targets", "workflow", "incentives")


def _isort_style(name):
    """The order ruff's RUF022 keeps: CONSTANTS, then Classes, then functions."""
    kind = 0 if name.isupper() else 1 if name[:1].isupper() else 2
    return (kind, name)


def test_root_all_is_exactly_the_curated_list():
    assert salesflow.__all__ == EXPECTED_ROOT


def test_every_public_module_offers_exactly_its_curated_names():
    assert sorted(EXPECTED_MODULES) == PUBLIC_MODULES
    for name, expected in EXPECTED_MODULES.items():
        assert importlib.import_module(name).__all__ == expected, name


@pytest.mark.parametrize("name", PUBLIC_MODULES)
def test_every_public_module_has_a_sorted_all_of_names_it_defines(name):
    module = importlib.import_module(name)
    exported = module.__all__
    assert exported == sorted(exported, key=_isort_style), f"{name}.__all__ is not sorted"
    missing = [n for n in exported if not hasattr(module, n)]
    assert not missing, f"{name}.__all__ names what it does not define: {missing}"


@pytest.mark.parametrize("name", PUBLIC_MODULES)
def test_every_public_name_has_a_docstring(name):
    module = importlib.import_module(name)
    undocumented = [
        n
        for n in module.__all__
        if not n.startswith("__")
        and callable(getattr(module, n))
        and not getattr(module, n).__doc__
    ]
    assert not undocumented, f"{name}: no docstring on {undocumented}"


def _imports_of(path: Path, *, top_level_only: bool = False) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in tree.body if top_level_only else ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def _domain_files() -> list[Path]:
    files = []
    for stem in DOMAIN:
        single = SRC / f"{stem}.py"
        files += [single] if single.exists() else sorted((SRC / stem).glob("**/*.py"))
    return files


@pytest.mark.parametrize("path", _domain_files(), ids=lambda p: str(p.relative_to(SRC)))
def test_domain_modules_never_import_the_outer_layers(path):
    outward = {m for m in _imports_of(path) if m.startswith(OUTER_LAYERS)}
    assert not outward, f"{path.name} imports {outward}"


@pytest.mark.parametrize("path", _domain_files(), ids=lambda p: str(p.relative_to(SRC)))
def test_domain_modules_do_not_import_heavy_optional_dependencies(path):
    heavy = {"pandas", "pyarrow", "sqlalchemy", "matplotlib", "dask", "typer", "rich"}
    # Interop functions may import them lazily, inside the function that needs them.
    top = {m.split(".")[0] for m in _imports_of(path, top_level_only=True)}
    assert not (top & heavy), f"{path.name} imports {top & heavy} at module level"
