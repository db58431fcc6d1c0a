"""Incentives: rate tables, exact and explainable (the first increment).

A `RateTable` holds tiers on amounts or on attainment, each marginal or retroactive,
with a declared boundary rule. `payout` gives P(v) exactly; `rate_transactions` rates
one payee's transactions individually or cumulatively, each line explained in English
and Chinese; `rate_cumulative` rates many payees' transactions at once over numpy, equal
line for line to the scalar reference. Crediting, plans, caps, SPIFs and statements are
not built yet. See docs/incentives.md.

>>> from salesflow.money import Money
>>> from salesflow.incentives import load_rate_table, rate_transactions
>>> table = load_rate_table('''
... tiers:
...   - {start: 0, end: 100000, rate: "0.02"}
...   - {start: 100000, rate: "0.05"}
... ''')
>>> lines = rate_transactions(table, [Money("80000", "CNY"), Money("40000", "CNY")],
...                           how="cumulative", rounding="half_even")
>>> [str(line.payout) for line in lines]
['1600.00 CNY', '1400.00 CNY']
"""

from ._rating import RatedLine, RatingMode, payout, rate_transactions
from ._tables import Basis, Boundary, RateTable, Tier, TierStyle, load_rate_table
from ._vectorized import rate_cumulative

__all__ = [
    "Basis",
    "Boundary",
    "RateTable",
    "RatedLine",
    "RatingMode",
    "Tier",
    "TierStyle",
    "load_rate_table",
    "payout",
    "rate_cumulative",
    "rate_transactions",
]
