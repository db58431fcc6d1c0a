"""Hypothesis strategies for salesflow.incentives: rate tables, transactions, payees."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

import numpy as np
from hypothesis import strategies as st

from salesflow.incentives import RateTable, Tier

if TYPE_CHECKING:
    from salesflow.money import RoundingMode

ROUNDING_MODES: tuple[RoundingMode, ...] = (
    "half_up",
    "half_even",
    "half_down",
    "down",
    "up",
    "floor",
    "ceiling",
)

rounding_modes = st.sampled_from(ROUNDING_MODES)

# Rates with 0 to 6 decimal places, from 0 to 150% (accelerators above 100% exist).
# The places first, then units bounded by 1.5 at those places: nothing drawn is thrown
# away (a filter on the rate discarded most draws and tripped Hypothesis's health check).
rates = st.integers(0, 6).flatmap(
    lambda places: st.integers(0, 15 * 10 ** (places - 1) if places else 1).map(
        lambda units: Decimal(units).scaleb(-places)
    )
)


@st.composite
def rate_tables(draw: st.DrawFn, *, basis: str | None = None) -> RateTable:
    """Tables of 1-5 tiers, marginal and retroactive mixed, either boundary.

    Amount edges are whole cents (CNY); attainment edges have up to 6 decimals.
    """
    chosen = basis or draw(st.sampled_from(["amount", "attainment"]))
    count = draw(st.integers(1, 5))
    if chosen == "amount":
        steps = st.integers(1, 5_000_000).map(lambda cents: Decimal(cents).scaleb(-2))
    else:
        steps = st.integers(1, 1_500_000).map(lambda micro: Decimal(micro).scaleb(-6))
    widths = draw(st.lists(steps, min_size=count - 1, max_size=count - 1))
    edges = [Decimal(0)]
    for width in widths:
        edges.append(edges[-1] + width)
    tiers = [
        Tier(
            start=start,
            end=edges[index + 1] if index + 1 < count else None,
            rate=draw(rates),
            style=draw(st.sampled_from(["marginal", "retroactive"])),
        )
        for index, start in enumerate(edges)
    ]
    boundary = draw(st.sampled_from(["up", "down"]))
    return RateTable(basis=chosen, tiers=tuple(tiers), boundary=boundary)


@st.composite
def batches(
    draw: st.DrawFn, *, max_size: int = 40, max_payees: int = 5, limit: int = 10**9
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(amounts_minor, payees, quotas_minor): refunds included, quotas positive."""
    size = draw(st.integers(0, max_size))
    payee_count = draw(st.integers(1, max_payees))
    amount = st.integers(-limit, limit) | st.sampled_from([0, 1, -1, 100, 5_000_000])
    amounts = draw(st.lists(amount, min_size=size, max_size=size))
    payees = draw(st.lists(st.integers(0, payee_count - 1), min_size=size, max_size=size))
    quotas = draw(st.lists(st.integers(1, limit), min_size=payee_count, max_size=payee_count))
    return (
        np.array(amounts, dtype=np.int64),
        np.array(payees, dtype=np.intp),
        np.array(quotas, dtype=np.int64),
    )
