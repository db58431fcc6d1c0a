"""Hypothesis strategies for salesflow.money: currencies, amounts, weights, groups."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

import numpy as np
from hypothesis import strategies as st

from salesflow.money import Money

if TYPE_CHECKING:
    from fractions import Fraction

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1

# Currencies with 0, 2, 3 and 4 minor units (CLDR), the ones salesflow's users hold first.
CURRENCY_CODES = ("CNY", "USD", "JPY", "KWD", "EUR", "HKD", "CLF")

# Locales whose CLDR currency symbol for the currency is unambiguous in that locale,
# so that formatting and parsing back must give the same money.
FORMAT_LOCALES = (
    ("en_US", "USD"),
    ("en", "JPY"),
    ("en", "CNY"),
    ("en", "KWD"),
    ("zh_CN", "CNY"),
    ("zh_CN", "USD"),
    ("zh_Hant_TW", "TWD"),
    ("zh_HK", "HKD"),
    ("ja_JP", "JPY"),
    ("de_DE", "EUR"),
    ("fr_FR", "EUR"),
    # Not ("de_CH", "CHF"): Babel groups amounts from 10**13 up irregularly there
    # ("CHF 1000000000000'000.00"), which is no digit grouping to read back.
    ("en_IN", "INR"),
    ("ar_EG", "EGP"),
)

currency_codes = st.sampled_from(CURRENCY_CODES)


def amounts(*, max_places: int = 6, max_digits: int = 20) -> st.SearchStrategy[Decimal]:
    """Finite Decimals with up to ``max_places`` decimals and ``max_digits`` digits."""

    @st.composite
    def build(draw: st.DrawFn) -> Decimal:
        places = draw(st.integers(0, max_places))
        coefficient = draw(st.integers(-(10**max_digits) + 1, 10**max_digits - 1))
        return Decimal(coefficient).scaleb(-places)

    return build()


def money(currency: str | None = None, **kwargs: int) -> st.SearchStrategy[Money]:
    """Money in ``currency`` (or any of `CURRENCY_CODES`), amounts as `amounts`."""
    codes = st.just(currency) if currency else currency_codes
    return st.builds(Money, amounts(**kwargs), codes)


def money_on_minor_unit(currency: str | None = None) -> st.SearchStrategy[Money]:
    """Money whose amount is a whole number of minor units."""
    codes = st.just(currency) if currency else currency_codes
    return st.builds(Money.from_minor_units, st.integers(-(10**18), 10**18), codes)


def totals() -> st.SearchStrategy[int]:
    """Integer totals: tiny, everyday, and at the int64 limits."""
    return st.one_of(
        st.integers(-10, 10),
        st.integers(-(10**12), 10**12),
        st.integers(INT64_MIN, INT64_MAX),
        st.sampled_from([INT64_MIN, INT64_MIN + 1, INT64_MAX, INT64_MAX - 1, 2**62, -(2**62)]),
    )


def _int_weight_magnitudes() -> st.SearchStrategy[int]:
    return st.sampled_from([1, 3, 10, 1000, 10**6, 2**31, 2**47, 2**55, 2**61])


@st.composite
def int_weights(draw: st.DrawFn, *, min_size: int = 1, max_size: int = 12) -> list[int]:
    """Non-negative int weights, not all zero, of one magnitude regime per draw."""
    top = draw(_int_weight_magnitudes())
    weights = draw(st.lists(st.integers(0, top), min_size=min_size, max_size=max_size))
    if not any(weights):
        weights[draw(st.integers(0, len(weights) - 1))] = draw(st.integers(1, top))
    return weights


@st.composite
def mixed_weights(draw: st.DrawFn) -> list[int | Decimal | Fraction]:
    """Non-negative ints, Decimals and Fractions, not all zero."""
    one = st.one_of(
        st.integers(0, 1000),
        st.decimals(min_value=0, max_value=1000, places=4, allow_nan=False),
        st.fractions(min_value=0, max_value=1000, max_denominator=97),
    )
    weights: list[int | Decimal | Fraction] = draw(st.lists(one, min_size=1, max_size=10))
    if not any(weights):
        weights[0] = 1
    return weights


@st.composite
def grouped_inputs(
    draw: st.DrawFn, *, max_groups: int = 6, max_size: int = 8
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(totals, weights, groups) for `allocate_grouped`: every group has a positive weight.

    The weights of each group are placed at shuffled positions, so groups are
    interleaved and unsorted, as `allocate_grouped` allows.
    """
    count = draw(st.integers(1, max_groups))
    group_totals = [draw(totals()) for _ in range(count)]
    members: list[tuple[int, int]] = []
    for group in range(count):
        members += [(group, w) for w in draw(int_weights(max_size=max_size))]
    order = draw(st.permutations(range(len(members))))
    groups = np.array([members[i][0] for i in order], dtype=np.intp)
    weights = np.array([members[i][1] for i in order], dtype=np.int64)
    return np.array(group_totals, dtype=np.int64), weights, groups


# Text that looks like money more often than arbitrary text does: digits, separators,
# signs, letters of codes, symbols, spaces and full-width forms.
money_like_text = st.text(
    alphabet=st.sampled_from(
        list("0123456789,.+- CNYUSDJPYcny$¥€₹'\u00a0\u202f\u3000\uffe5\uff10\uff11\uff0c\n\u200f")
    ),
    max_size=24,
)
