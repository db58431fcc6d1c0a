"""Exact money: currencies, amounts, rounding and largest-remainder allocation.

`Money` is a `Decimal` amount with a `Currency` (an ISO 4217 code checked against
CLDR, with its minor units). Nothing is rounded unless a rounding mode is named;
splitting an amount uses the largest-remainder (Hamilton) method so the parts always
sum to the whole. The numpy functions work on integer minor units and give the same
results as the scalar ones, bit for bit. See docs/money.md.

>>> from salesflow.money import Money, allocate
>>> allocate(Money("100.00", "CNY"), [1, 1, 1])
[Money('33.34', 'CNY'), Money('33.33', 'CNY'), Money('33.33', 'CNY')]
"""

from ._allocation import allocate, allocate_equal, allocate_units
from ._carried import CARRY_ONE, allocate_grouped_carried, allocate_units_carried
from ._currency import Currency
from ._exact import EXACT, RoundingMode, decimal_rounding
from ._money import Money
from ._vectorized import (
    allocate_array,
    allocate_grouped,
    from_minor_units_array,
    scale_weights,
    to_minor_units_array,
)

__all__ = [
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
]
