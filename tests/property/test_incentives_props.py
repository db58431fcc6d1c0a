"""Property tests: the vectorized engine equals the scalar reference, line for line."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from salesflow.errors import MoneyOverflowError
from salesflow.incentives import RateTable, payout, rate_cumulative, rate_transactions
from salesflow.money import Money, RoundingMode

from strategies.incentives import batches, rate_tables, rounding_modes


def _quota(table: RateTable, quotas: np.ndarray, payee: int) -> Money | None:
    if table.basis == "amount":
        return None
    return Money.from_minor_units(int(quotas[payee]), "CNY")


def _reference(
    table: RateTable,
    amounts: np.ndarray,
    payees: np.ndarray,
    quotas: np.ndarray,
    rounding: RoundingMode,
) -> np.ndarray:
    """Each payee's lines by the scalar engine, put back in input order."""
    lines = np.zeros(amounts.size, dtype=object)
    for payee in np.unique(payees):
        where = np.flatnonzero(payees == payee)
        rated = rate_transactions(
            table,
            [Money.from_minor_units(int(a), "CNY") for a in amounts[where]],
            how="cumulative",
            rounding=rounding,
            quota=_quota(table, quotas, int(payee)),
        )
        lines[where] = [line.payout.to_minor_units() for line in rated]
    return lines


def _vectorized(table, amounts, payees, quotas, rounding):
    return rate_cumulative(
        amounts,
        payees,
        table,
        quotas if table.basis == "attainment" else None,
        currency="CNY",
        rounding=rounding,
    )


@given(rate_tables(), batches(), rounding_modes)
def test_vectorized_lines_equal_scalar_reference_lines(table, batch, rounding):
    amounts, payees, quotas = batch
    fast = _vectorized(table, amounts, payees, quotas, rounding)
    assert fast.dtype == np.int64
    assert fast.tolist() == _reference(table, amounts, payees, quotas, rounding).tolist()


@given(rate_tables(), batches(), rounding_modes)
def test_each_payees_lines_sum_to_its_rounded_payout_on_the_total(table, batch, rounding):
    amounts, payees, quotas = batch
    fast = _vectorized(table, amounts, payees, quotas, rounding)
    for payee in np.unique(payees):
        mine = payees == payee
        total = Money.from_minor_units(int(amounts[mine].sum()), "CNY")
        exact = payout(table, total, quota=_quota(table, quotas, int(payee)))
        assert int(fast[mine].sum()) == exact.to_minor_units(rounding=rounding)


@given(rate_tables(basis="amount"), st.integers(0, 10**12), rounding_modes)
def test_payout_is_odd_so_a_full_refund_returns_it_exactly(table, cents, rounding):
    value = Money.from_minor_units(cents, "CNY")
    assert payout(table, -value) == -payout(table, value)
    lines = rate_transactions(table, [value, -value], how="cumulative", rounding=rounding)
    assert lines[0].payout + lines[1].payout == Money.zero("CNY")


@given(rate_tables(), batches(limit=2**62, max_size=6), rounding_modes)
def test_huge_amounts_either_equal_the_reference_or_raise_money_overflow(table, batch, rounding):
    amounts, payees, quotas = batch
    try:
        fast = _vectorized(table, amounts, payees, quotas, rounding)
    except MoneyOverflowError as err:
        code = err.code
    else:
        code = None
    if code is not None:
        assert code == "incentives.int64_overflow"
        return
    assert fast.tolist() == _reference(table, amounts, payees, quotas, rounding).tolist()


@pytest.mark.parametrize("rounding", ["half_up", "floor"])
@given(rate_tables(basis="amount"), st.lists(st.integers(-(10**8), 10**8), max_size=20))
def test_individual_lines_round_each_amounts_own_payout(rounding, table, cents):
    amounts = [Money.from_minor_units(c, "CNY") for c in cents]
    if not amounts:
        return
    lines = rate_transactions(table, amounts, how="individual", rounding=rounding)
    for amount, line in zip(amounts, lines, strict=True):
        assert line.payout == payout(table, amount).round(rounding=rounding)


@st.composite
def _edge_walks(draw):
    """A table and one payee's amounts whose running totals land on every tier edge."""
    table = draw(rate_tables())
    quota = 10**6  # attainment edges e (6 decimals) sit at exactly e * 10**6 fen
    scale = 100 if table.basis == "amount" else quota
    edges = [int(tier.start * scale) for tier in table.tiers[1:]]
    steps = [b - a for a, b in zip([0, *edges], edges, strict=False)]
    jitter = draw(st.lists(st.sampled_from([-1, 0, 1]), min_size=len(steps), max_size=len(steps)))
    amounts = []
    for step, nudge in zip(steps, jitter, strict=True):
        amounts += [step + nudge, -nudge] if nudge else [step]
    return table, np.array(amounts or [0], dtype=np.int64), np.array([quota], dtype=np.int64)


@given(_edge_walks(), rounding_modes)
def test_running_totals_on_tier_edges_follow_the_boundary_rule_in_both_engines(walk, rounding):
    table, amounts, quotas = walk
    payees = np.zeros(amounts.size, dtype=np.intp)
    fast = _vectorized(table, amounts, payees, quotas, rounding)
    assert fast.tolist() == _reference(table, amounts, payees, quotas, rounding).tolist()
