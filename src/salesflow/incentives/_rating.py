"""Rating transactions against a rate table: the scalar reference engine."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, final

from salesflow.errors import InvalidValueError
from salesflow.money import Money

from ._schedule import Band, Schedule, tidy

if TYPE_CHECKING:
    from collections.abc import Sequence
    from decimal import Decimal

    from salesflow.money import RoundingMode

    from ._tables import RateTable

__all__ = ["RatedLine", "RatingMode", "payout", "rate_transactions"]

RatingMode = Literal["cumulative", "individual"]
RatingMode.__doc__ = """How transactions are rated.

* ``"cumulative"``: each at the running total it lands on:
  ``line_i = R(total_i) - R(total_{i-1})`` with ``R`` the rounded payout.
* ``"individual"``: each on its own amount: ``line_i = round(P(amount_i))``.
"""

_STYLE_ZH = {"marginal": "累进", "retroactive": "追溯"}
# Chinese text takes full-width punctuation; escaped so no look-alike hides in the source.
_OPEN, _CLOSE, _COLON, _SEMI, _COMMA = "\uff08", "\uff09", "\uff1a", "\uff1b", "\uff0c"


@final
@dataclass(frozen=True, slots=True)
class RatedLine:
    """One transaction rated, with the reasons for its figure.

    Attributes:
        index: The transaction's position in the input.
        amount: The transaction's amount.
        before: The basis before it (the running total, or 0 when rated individually).
        after: The basis after it (``before + amount``).
        tiers: The 0-based indexes of the tiers from ``before`` to ``after``, in order.
        rates: Their rates.
        exact: ``P(after) - P(before)``, unrounded.
        payout: The line's payout in minor units of the currency (see `RatingMode`).
        explanation_en: Why, in English.
        explanation_zh: Why, in Chinese.
    """

    index: int
    amount: Money
    before: Money
    after: Money
    tiers: tuple[int, ...]
    rates: tuple[Decimal, ...]
    exact: Money
    payout: Money
    explanation_en: str
    explanation_zh: str


def payout(table: RateTable, value: Money, *, quota: Money | None = None) -> Money:
    """P(value): the exact, unrounded payout of ``table`` for one value.

    Raises:
        InvalidValueError: see `rate_transactions`.

    >>> from salesflow.incentives import RateTable
    >>> table = RateTable.model_validate({"tiers": [
    ...     {"start": 0, "end": 100, "rate": "0.02"},
    ...     {"start": 100, "rate": "0.05", "style": "retroactive"},
    ... ]})
    >>> payout(table, Money("80", "CNY")), payout(table, Money("100", "CNY"))
    (Money('1.60', 'CNY'), Money('5.00', 'CNY'))
    """
    schedule = Schedule.build(table, value.currency, quota)
    exact = schedule.payout(value.amount)
    return Money(tidy(exact, value.currency.minor_units), value.currency)


def rate_transactions(
    table: RateTable,
    amounts: Sequence[Money],
    *,
    how: RatingMode,
    rounding: RoundingMode,
    quota: Money | None = None,
) -> list[RatedLine]:
    """Rate one payee's transactions, in order, each line explained.

    Args:
        table: The rate table.
        amounts: The transactions (one currency; negative for refunds).
        how: ``"cumulative"`` or ``"individual"`` (`RatingMode`).
        rounding: The `RoundingMode` applied to payouts at the minor unit.
        quota: The payee's quota; required for an attainment table, refused otherwise.

    Raises:
        InvalidValueError: no amounts; an unknown ``how``; a quota missing, not
            positive or unexpected; an amount edge between two minor units.
        CurrencyMismatchError: amounts or quota in two currencies.

    >>> from salesflow.incentives import RateTable
    >>> table = RateTable.model_validate({"tiers": [
    ...     {"start": 0, "end": 100, "rate": "0.02"},
    ...     {"start": 100, "rate": "0.05", "style": "retroactive"},
    ... ]})
    >>> lines = rate_transactions(table, [Money("80", "CNY"), Money("40", "CNY")],
    ...                           how="cumulative", rounding="half_up")
    >>> [str(line.payout) for line in lines]
    ['1.60 CNY', '4.40 CNY']
    >>> print(lines[1].explanation_en)  # doctest: +NORMALIZE_WHITESPACE
    running total 80.00 -> 120.00 CNY (+40.00):
    from tier 1 (marginal 2%) into tier 2 (retroactive 5%);
    P(120.00) = 120.00 x 5% = 6.00, P(80.00) = 80.00 x 2% = 1.60;
    line 6.00 - 1.60 = 4.40 CNY
    """
    if not amounts:
        msg = "no transactions to rate"
        raise InvalidValueError(msg, code="incentives.no_transactions")
    if how not in ("cumulative", "individual"):
        msg = f"how must be 'cumulative' or 'individual', not {how!r}"
        raise InvalidValueError(msg, code="incentives.unknown_rating_mode")
    currency = amounts[0].currency
    schedule = Schedule.build(table, currency, quota)
    zero = Money.zero(currency)
    lines: list[RatedLine] = []
    running = zero
    for index, amount in enumerate(amounts):
        before = running if how == "cumulative" else zero
        after = before + amount  # CurrencyMismatchError names both currencies
        lines.append(
            _line(schedule, index, amount, span=(before, after), rounding=rounding, how=how)
        )
        running = after
    return lines


def _line(  # noqa: PLR0913 - one line's inputs; private, keywords after the first three
    schedule: Schedule,
    index: int,
    amount: Money,
    *,
    span: tuple[Money, Money],
    rounding: RoundingMode,
    how: RatingMode,
) -> RatedLine:
    currency = schedule.currency
    before, after = span
    p_before = schedule.payout(before.amount)
    p_after = schedule.payout(after.amount)
    rounded_before = Money(p_before, currency).round(rounding=rounding)
    rounded_after = Money(p_after, currency).round(rounding=rounding)
    bands = _bands_between(schedule, before.amount, after.amount)
    line = RatedLine(
        index=index,
        amount=amount,
        before=before,
        after=after,
        tiers=tuple(band.index for band in bands),
        rates=tuple(band.rate for band in bands),
        exact=Money(tidy(p_after - p_before, currency.minor_units), currency),
        payout=rounded_after - rounded_before,
        explanation_en="",
        explanation_zh="",
    )
    cumulative = how == "cumulative"
    en, zh = _explain(schedule, line, rounded_before, rounded_after, cumulative=cumulative)
    return dataclasses.replace(line, explanation_en=en, explanation_zh=zh)


def _bands_between(schedule: Schedule, low: Decimal, high: Decimal) -> list[Band]:
    first = schedule.band_of(abs(low)).index
    last = schedule.band_of(abs(high)).index
    if (low < 0 < high) or (high < 0 < low):
        # Through zero, |value| sweeps down to 0 and back up: every tier up to the higher.
        return list(schedule.bands[: max(first, last) + 1])
    step = 1 if last >= first else -1
    return [schedule.bands[i] for i in range(first, last + step, step)]


def _percent(rate: Decimal) -> str:
    return f"{(rate * 100).normalize():f}%"


def _money(value: Money) -> str:
    return f"{tidy(value.amount, value.currency.minor_units):f}"


def _formula(schedule: Schedule, value: Decimal) -> str:
    band = schedule.band_of(abs(value))
    sign = "-" if value < 0 else ""
    places = schedule.currency.minor_units
    v, base, start = (f"{tidy(x, places):f}" for x in (abs(value), band.base, band.start))
    if band.style == "retroactive" or (band.start == 0 and band.base == 0):
        return f"{sign}{v} x {_percent(band.rate)}"
    return f"{sign}({base} + ({v} - {start}) x {_percent(band.rate)})"


def _tier_text(band: Band) -> tuple[str, str]:
    en = f"tier {band.index + 1} ({band.style} {_percent(band.rate)})"
    zh = f"第{band.index + 1}档{_OPEN}{_STYLE_ZH[band.style]} {_percent(band.rate)}{_CLOSE}"
    return en, zh


def _valued(schedule: Schedule, value: Decimal, rounded: Money) -> str:
    """``formula = exact``, and ``~ rounded`` when rounding changed it."""
    exact = tidy(schedule.payout(value), schedule.currency.minor_units)
    if value == 0:
        return f"{exact:f}"
    text = f"{_formula(schedule, value)} = {exact:f}"
    return text if exact == rounded.amount else f"{text} ~ {_money(rounded)}"


def _explain(
    schedule: Schedule, line: RatedLine, r_before: Money, r_after: Money, *, cumulative: bool
) -> tuple[str, str]:
    currency = schedule.currency
    texts = [_tier_text(schedule.bands[i]) for i in line.tiers]
    if len(texts) == 1:
        where_en, where_zh = f"in {texts[0][0]}", f"位于{texts[0][1]}"
    else:
        where_en = f"from {texts[0][0]} into {texts[-1][0]}"
        where_zh = f"由{texts[0][1]}进入{texts[-1][1]}"
    after, before, paid = _money(line.after), _money(line.before), _money(line.payout)
    p_after = _valued(schedule, line.after.amount, r_after)
    if not cumulative:
        en = (
            f"amount {after} {currency}: {where_en}; P({after}) = {p_after}; line {paid} {currency}"
        )
        zh = (
            f"金额 {after} {currency}{_COLON}{where_zh}{_SEMI}"
            f"应付 {p_after}{_SEMI}本笔提成 {paid} {currency}"
        )
        return en, zh
    delta = f"{tidy(line.amount.amount, currency.minor_units):+f}"
    p_before = _valued(schedule, line.before.amount, r_before)
    difference = f"{_money(r_after)} - {_money(r_before)} = {paid} {currency}"
    en = (
        f"running total {before} -> {after} {currency} ({delta}): {where_en}; "
        f"P({after}) = {p_after}, P({before}) = {p_before}; line {difference}"
    )
    zh = (
        f"累计 {before} → {after} {currency}{_OPEN}本笔交易 {delta}{_CLOSE}"
        f"{_COLON}{where_zh}{_SEMI}"
        f"累计 {after} 应付 {p_after}{_COMMA}此前 {before} 应付 {p_before}{_SEMI}"
        f"本笔提成 {difference}"
    )
    return en, zh
