"""Incentives: plans, statements and rate tables, exact and explainable.

A `Plan` (YAML/JSON or Python, with a JSON Schema) says who gets credit for a deal
(owner, splits, overlays, manager overrides, filters), what is measured, and what
each component pays: commissions on a `RateTable` (marginal or retroactive tiers,
rated individually or cumulatively) with gates, caps, floors and clawbacks, SPIFs,
milestones, scorecards, team pools and contests, an optional cap on the whole plan
(`PlanCap`) and an optional draw. `calculate` turns transactions and assignments into
a `PayoutRun`: one `Statement` per payee for a period, whose `Line`s sum to the total
and explain themselves in English and Chinese; a `Ledger` carries what was stated
between periods, so late data becomes recalculation lines. Two engines give equal
results: ``"reference"`` (scalar, Decimal) and ``"batch"`` (numpy). See
docs/incentives.md.

>>> import datetime as dt
>>> from salesflow.money import Money
>>> from salesflow.incentives import Assignment, Ledger, Transaction, calculate, load_plan
>>> plan = load_plan('''
... id: ae
... currency: CNY
... fiscal_year: 2027
... rounding: half_up
... measures: {bookings: {}}
... components:
...   - kind: commission
...     id: commission
...     measure: bookings
...     rating: cumulative
...     accumulate: year
...     table: {tiers: [{start: 0, end: 100000, rate: "0.02"}, {start: 100000, rate: "0.05"}]}
... ''')
>>> deals = [Transaction("T1", dt.date(2027, 1, 5), Money("80000", "CNY"), "ann"),
...          Transaction("T2", dt.date(2027, 1, 9), Money("40000", "CNY"), "ann")]
>>> run = calculate(plan, deals, [Assignment("ann", "ae")], period="FY2027-M01",
...                 ledger=Ledger(), engine="reference")
>>> [str(line.amount) for line in run.statement("ann").lines]
['1600.00 CNY', '1400.00 CNY']
>>> print(run.statement("ann").lines[1].explain())  # doctest: +NORMALIZE_WHITESPACE
Commission 'commission': deal T2 (2027-01-09), direct credit CN¥40,000.00;
running total CN¥80,000.00 -> CN¥120,000.00; tier 1 at 2%, tier 2 at 5%; pays CN¥1,400.00.
"""

from ._batch import PayoutColumns, calculate_columns
from ._calculate import Engine, calculate
from ._compare import Comparison, History, compare
from ._distributions import Bootstrap, Distribution, LogNormal, Normal, Samples, Uniform
from ._explain import Locale, explain
from ._inputs import Adjustment, Assignment, Split, Transaction
from ._plan import (
    Bonus,
    Cap,
    Clawback,
    Commission,
    Component,
    Contest,
    Crediting,
    CreditKind,
    CurvePoint,
    Draw,
    Floor,
    Gate,
    Measure,
    Milestone,
    Plan,
    PlanCap,
    Pool,
    Scorecard,
    ScorecardKpi,
    TieRule,
    Window,
    load_plan,
)
from ._plots import plot_distribution, plot_payout_curve
from ._rating import RatedLine, RatingMode, payout, rate_transactions
from ._run import Ledger, PayoutRun
from ._simulate import Payees, Simulation, simulate
from ._statement import Line, LineKind, Statement
from ._table_input import TransactionTable
from ._tables import Basis, Boundary, RateTable, Tier, TierStyle, load_rate_table
from ._vectorized import rate_cumulative

__all__ = [
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
]
