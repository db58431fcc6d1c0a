"""The scalar reference: a rate table placed on amounts of one currency, and P(v).

A `Schedule` is a `RateTable` resolved for a currency (and, on an attainment table, a
quota): every tier edge is a whole amount of minor units, and every tier knows the
payout at its start. `Schedule.payout` is the reference P(v), exact in `Decimal`.
"""

from __future__ import annotations

import decimal
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, final

from salesflow.errors import CurrencyMismatchError, InvalidValueError, Location
from salesflow.money import EXACT, Currency, Money

if TYPE_CHECKING:
    from ._tables import RateTable, TierStyle

__all__ = ["Band", "Schedule", "tidy"]


def tidy(value: Decimal, places: int) -> Decimal:
    """``value`` with exactly ``places`` decimals when that is exact, else its shortest form.

    >>> tidy(Decimal("1.6000"), 2), tidy(Decimal("120"), 2), tidy(Decimal("0.00125"), 2)
    (Decimal('1.60'), Decimal('120.00'), Decimal('0.00125'))
    """
    shortest = value.normalize(EXACT)
    exponent = shortest.as_tuple().exponent
    if isinstance(exponent, int) and exponent >= -places:
        return value.quantize(Decimal(1).scaleb(-places), context=EXACT)
    return shortest


@final
@dataclass(frozen=True, slots=True)
class Band:
    """One tier placed on amounts: ``[start, end)`` (or ``(start, end]``), and its payout.

    Attributes:
        index: The tier's 0-based index in the table.
        start: Where it starts, in major units on the minor-unit grid.
        end: Where it ends, or ``None`` when open.
        rate: The tier's rate.
        style: The tier's style.
        base: P at ``start`` as the tier below computes it (0 for the first tier).
    """

    index: int
    start: Decimal
    end: Decimal | None
    rate: Decimal
    style: TierStyle
    base: Decimal

    def formula(self, value: Decimal) -> Decimal:
        """P(value) by this tier's rule, exact."""
        if self.style == "retroactive":
            return EXACT.multiply(value, self.rate)
        return EXACT.add(self.base, EXACT.multiply(EXACT.subtract(value, self.start), self.rate))


@final
@dataclass(frozen=True, slots=True)
class Schedule:
    """A rate table on the amounts of one currency (and one quota).

    Attributes:
        currency: The currency of the amounts rated.
        bands: The tiers, placed.
        boundary: Which tier an amount exactly on an edge belongs to.
    """

    currency: Currency
    bands: tuple[Band, ...]
    boundary: str

    @classmethod
    def build(cls, table: RateTable, currency: Currency | str, quota: Money | None) -> Schedule:
        """Place ``table`` on ``currency``'s amounts; see docs/incentives.md for the rule.

        Raises:
            InvalidValueError: a quota missing, not positive or given for an amount
                table (``incentives.quota_required``, ``incentives.quota_not_positive``,
                ``incentives.quota_unexpected``); an amount edge between two minor units
                (``incentives.edge_not_on_minor_unit``).
            CurrencyMismatchError: the quota is in another currency.
        """
        currency = Currency(currency)
        scale = _quota_scale(table, currency, quota)
        edges = [
            _place(tier.start, index, table, currency, scale)
            for index, tier in enumerate(table.tiers)
        ]
        bands: list[Band] = []
        base = Decimal(0)
        for index, tier in enumerate(table.tiers):
            end = edges[index + 1] if index + 1 < len(edges) else None
            band = Band(index, edges[index], end, tier.rate, tier.style, base)
            bands.append(band)
            if end is not None:
                base = band.formula(end)
        return cls(currency, tuple(bands), table.boundary)

    def band_of(self, value: Decimal) -> Band:
        """The tier a non-negative amount falls in, by the boundary rule."""
        for band in self.bands:
            if band.end is None:
                return band
            inside = value < band.end if self.boundary == "up" else value <= band.end
            if inside:
                return band
        return self.bands[-1]  # pragma: no cover - the last band is always open

    def payout(self, value: Decimal) -> Decimal:
        """P(value), exact; P(-v) = -P(v) for refunds and clawbacks."""
        if value < 0:
            return EXACT.minus(self.payout(EXACT.minus(value)))
        result = self.band_of(value).formula(value)
        return result.copy_abs() if result.is_zero() else result


def _quota_scale(table: RateTable, currency: Currency, quota: Money | None) -> Decimal | None:
    if table.basis == "amount":
        if quota is not None:
            msg = "a quota was given for a table on amounts; it would be ignored"
            raise InvalidValueError(
                msg, code="incentives.quota_unexpected", location=Location(path="quota")
            )
        return None
    if quota is None:
        msg = "a table on attainment needs the quota the edges are fractions of"
        raise InvalidValueError(
            msg, code="incentives.quota_required", location=Location(path="quota")
        )
    if quota.currency != currency:
        msg = f"the quota is in {quota.currency}, the amounts in {currency}"
        raise CurrencyMismatchError(
            msg, code="incentives.currency_mismatch", location=Location(path="quota")
        )
    if quota.amount <= 0:
        msg = f"the quota must be positive, not {quota}"
        raise InvalidValueError(
            msg, code="incentives.quota_not_positive", location=Location(path="quota")
        )
    return quota.amount


def _place(
    edge: Decimal, index: int, table: RateTable, currency: Currency, scale: Decimal | None
) -> Decimal:
    step = Decimal(1).scaleb(-currency.minor_units)
    if scale is None:
        placed = edge.quantize(step, rounding=decimal.ROUND_DOWN, context=EXACT)
        if placed != edge:
            msg = f"tier edge {edge} is not a whole number of {currency} minor units ({step})"
            raise InvalidValueError(
                msg,
                code="incentives.edge_not_on_minor_unit",
                location=Location(path=f"table.tiers[{index}].start"),
            )
        return placed
    # On the grid, 'up' takes the smallest amount that reaches edge x quota and 'down'
    # the largest that does not pass it, so every whole amount lands in the tier the
    # exact attainment comparison puts it in.
    mode = decimal.ROUND_CEILING if table.boundary == "up" else decimal.ROUND_FLOOR
    return EXACT.multiply(edge, scale).quantize(step, rounding=mode, context=EXACT)
