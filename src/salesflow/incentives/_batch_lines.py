"""The batch engine's statement lines, built in bulk for a range of statement payees.

A commission's credit and clawback lines, most of a statement, are built column by
column: each figure of every line at once (`Money` through `from_minor_units_array`,
the tiers and rates once per distinct combination, shared by the lines that cross
the same tiers), then the `Line` objects (`lines_from_columns`), and what they pay
per payee as an integer sum. The other components' lines come from `Paid.lines`.
Recalculation lines compare every payee's recomputed earnings with the ledger's in one
pass; only the cells that differ go through the line-by-line comparison.

A statement's lines are built in two steps: `component_lines` counts and sums the bulk
lines (a commission's credit and clawback lines) and builds the few others, which is
all a statement's total needs; `bulk_lines` builds the bulk lines of a range when the
statements are read (`PayoutColumns.run` makes a run whose statements are built a block
at a time on first read; `PayoutColumns.statement` one payee's at once). A
commission's `Paid.lines` is `commission_lines`, built by the same column builders.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from itertools import compress, repeat
from operator import attrgetter, is_, ne
from typing import TYPE_CHECKING, Any, Final, cast, final

import numpy as np

from salesflow.money import EXACT, Money, from_minor_units_array

from ._batch_credit import KIND_NAMES
from ._batch_pay import _CommissionPaid
from ._plan import Commission
from ._reference_book import find_component
from ._statement import Line, lines_from_columns

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Mapping, Sequence

    from numpy.typing import NDArray

    Ints = NDArray[np.signedinteger[Any]]

    from salesflow.money import Currency

    from ._batch_pay import Context, Paid
    from ._batch_rating import LineDetails
    from ._run import Ledger

__all__ = [
    "ComponentLines",
    "bulk_lines",
    "commission_lines",
    "component_lines",
    "recalculations",
]

_SCALE_PLACES: Final = 6  # rating's P is held times 10**6
_ALWAYS_SHOWN: Final = ("credit", "gate")  # a zero credit or closed gate still explains
_KINDS: Final = np.array(KIND_NAMES, dtype=object)
_AMOUNT: Final = attrgetter("amount")
_CURRENCY: Final = attrgetter("currency")


@final
@dataclass(frozen=True, slots=True)
class ComponentLines:
    """One component's statement lines for a range of statement payees, bulk lines unbuilt.

    A commission's credit and clawback lines (its bulk lines: most of a statement) are
    counted and summed here but built only by `bulk_lines`; the component's other
    shown lines are built.

    Attributes:
        minor: Per payee of the range, what its bulk lines pay, in minor units.
        counts: Per payee, how many bulk lines it has.
        rest: Per payee, the other lines shown, in statement order (after the bulk
            lines); their amounts are added as `Money`.
    """

    minor: NDArray[np.int64]
    counts: NDArray[np.int64]
    rest: list[list[Line]]


def component_lines(paid: Paid, first: int, stop: int) -> ComponentLines:
    """Statement payees ``first`` to ``stop - 1``: their bulk lines counted, the rest built."""
    size = stop - first
    if isinstance(paid, _CommissionPaid):
        credited, back, _, _ = _bulk_rows(paid, first, stop)
        amount = paid.lines_.rated.amount
        minor = np.zeros(size, dtype=np.int64)
        np.add.at(minor, paid.payee_of_line[credited] - first, amount[credited])
        np.subtract.at(minor, paid.payee_of_line[back] - first, amount[back])
        counts = np.bincount(paid.payee_of_line[credited] - first, minlength=size)
        counts += np.bincount(paid.payee_of_line[back] - first, minlength=size)
        rest = [
            [line for line in paid.extra.lines(paid.context, paid.id, p) if _shown(line)]
            for p in range(first, stop)
        ]
        return ComponentLines(minor, counts.astype(np.int64), rest)
    rest = [[line for line in paid.lines(p) if _shown(line)] for p in range(first, stop)]
    zeros = np.zeros(size, dtype=np.int64)
    return ComponentLines(zeros, zeros, rest)


def bulk_lines(paid: Paid, first: int, stop: int) -> list[list[Line]]:
    """Per statement payee ``first`` to ``stop - 1``, its bulk lines (see `ComponentLines`).

    A commission's credit lines then its nonzero clawbacks; none for other components.
    """
    if not isinstance(paid, _CommissionPaid):
        return [[] for _ in range(first, stop)]
    credited, back, bounds, back_bounds = _bulk_rows(paid, first, stop)
    credit, clawback = _credit_lines(paid, credited), _clawback_lines(paid, back)
    return [
        credit[bounds[at] : bounds[at + 1]] + clawback[back_bounds[at] : back_bounds[at + 1]]
        for at in range(stop - first)
    ]


def commission_lines(paid: _CommissionPaid, position: int) -> list[Line]:
    """Statement payee ``position``'s commission lines in the period, zero kept.

    Its credit lines, its clawbacks, then the period-level lines (`Paid.lines`).
    """
    credited = paid.credit_order[
        int(paid.credit_bounds[position]) : int(paid.credit_bounds[position + 1])
    ]
    back = paid.back_order[int(paid.back_bounds[position]) : int(paid.back_bounds[position + 1])]
    return (
        _credit_lines(paid, credited)
        + _clawback_lines(paid, back)
        + paid.extra.lines(paid.context, paid.id, position)
    )


def recalculations(
    context: Context,
    earned: Mapping[str, NDArray[np.int64]],
    ledger: Ledger,
    first: int,
    stop: int,
) -> list[list[Line]]:
    """Per statement payee ``first`` to ``stop - 1``, its recalculation lines.

    A line per earlier period whose recomputed pay differs from what was stated. The
    cells whose ledger amount is exactly the recomputed one, in the plan currency, are
    skipped at once; the others are compared as `Money`, as the reference does.
    """
    payees = [context.payees[i] for i in context.stated[first:stop].tolist()]
    plan = context.versions.first.id
    result: list[list[Line]] = [[] for _ in payees]
    labels = [period.label for period in context.periods[: context.last]]
    if not labels:
        return result
    currency, money = context.currency, context.money
    for cid, matrix in earned.items():
        units = matrix[first:stop, : len(labels)].ravel().tolist()
        found = ledger.stated_many(plan, cid, payees, labels)
        for at in _changed(found, units, currency):
            stated = found[at]
            stated = money(0) if stated is None else stated
            now = money(units[at])
            if now != stated:
                position, j = divmod(at, len(labels))
                result[position].append(
                    Line(
                        kind="recalculation",
                        amount=now - stated,
                        component=cid,
                        basis=stated,
                        period=labels[j],
                    )
                )
    return result


def _changed(found: Sequence[Money | None], units: list[int], currency: Currency) -> list[int]:
    """The cells where the ledger does not hold exactly ``units`` in ``currency``."""
    zero = Money.zero(currency)  # not recorded: compared with zero
    stated: Sequence[Money]
    if any(map(is_, found, repeat(None))):  # by identity: `None in` would call __eq__
        stated = [zero if money is None else money for money in found]
    else:
        stated = cast("Sequence[Money]", found)  # no None in it
    now = map(EXACT.multiply, units, repeat(Decimal(1).scaleb(-currency.minor_units)))
    differs = list(map(ne, map(_AMOUNT, stated), now))
    if set(map(_CURRENCY, stated)) - {currency}:
        differs = [
            differ or money.currency != currency
            for differ, money in zip(differs, stated, strict=True)
        ]
    return list(compress(range(len(found)), differs))


def _shown(line: Line) -> bool:
    return line.kind in _ALWAYS_SHOWN or not line.amount.amount.is_zero()


def _bulk_rows(
    paid: _CommissionPaid, first: int, stop: int
) -> tuple[Ints, Ints, list[int], list[int]]:
    """The credit and nonzero clawback lines of statement payees ``first`` to ``stop - 1``.

    Returns:
        The positions (in the rated lines) of the credit lines and of the clawbacks,
        each in payee order, and where each payee's start in each (``stop - first + 1``
        bounds, from 0).
    """
    amount = paid.lines_.rated.amount
    bounds = paid.credit_bounds[first : stop + 1]
    credited = paid.credit_order[int(bounds[0]) : int(bounds[-1])]
    back = paid.back_order[int(paid.back_bounds[first]) : int(paid.back_bounds[stop])]
    back = back[amount[back] != 0]  # a zero clawback is not shown
    back_bounds = np.searchsorted(paid.payee_of_line[back], np.arange(first, stop + 1))
    return credited, back, (bounds - bounds[0]).tolist(), back_bounds.tolist()


def _credit_lines(paid: _CommissionPaid, lines: Ints) -> list[Line]:
    """`_batch_pay`'s credit lines of ``lines`` (positions in the rated lines)."""
    context = paid.context
    rated = paid.lines_.rated
    rows = context.rows
    row = rated.row[lines]
    amount, uncapped, credit = rated.amount[lines], rated.uncapped[lines], rows.amount[row]
    details = rated.details.take(lines)
    currency = context.currency
    tiers, rates = _tiers_and_rates(paid, rated.version[lines], details, credit)
    columns: dict[str, list[Any]] = {
        "amount": from_minor_units_array(amount, currency),
        "transaction": context.table.ids_of(rows.tx[row]),
        "date": _days(rows.day[row]),
        "credit": _KINDS[rows.kind[row]].tolist(),
        "basis": from_minor_units_array(credit, currency),
        "before": _money_where(details.before, details.before != 0, context.money(0), currency),
        "tiers": tiers,
        "rates": rates,
        "exact": _decimals(details.exact, -(currency.minor_units + _SCALE_PLACES)),
        "capped_from": _money_where(uncapped, uncapped != amount, None, currency),
    }
    return lines_from_columns(len(lines), columns, kind="credit", component=paid.id)


def _clawback_lines(paid: _CommissionPaid, lines: Ints) -> list[Line]:
    """`_batch_pay`'s clawback lines of ``lines`` (positions in the rated lines)."""
    context = paid.context
    rows = context.rows
    row = paid.lines_.rated.row[lines]
    currency = context.currency
    columns: dict[str, list[Any]] = {
        "amount": from_minor_units_array(-paid.lines_.rated.amount[lines], currency),
        "transaction": context.table.ids_of(rows.tx[row]),
        "date": _days(rows.gone[row]),
        "credit": _KINDS[rows.kind[row]].tolist(),
        "basis": from_minor_units_array(rows.amount[row], currency),
    }
    return lines_from_columns(len(lines), columns, kind="clawback", component=paid.id)


def _tiers_and_rates(
    paid: _CommissionPaid, version: Ints, details: LineDetails, credit: NDArray[np.int64]
) -> tuple[list[tuple[int, ...]], list[tuple[Decimal, ...]]]:
    """Each line's tiers crossed and their rates: one tuple per distinct combination.

    A line's tiers follow from its version, its tiers before and after, and whether
    its running total changes sign (`_tiers_between`); they are packed in one key.
    """
    if not len(version):
        return [], []
    before = details.before
    after = before + credit
    sign_change = ((before < 0) & (after > 0)) | ((after < 0) & (before > 0))
    low = min(int(details.tier_before.min()), int(details.tier_after.min()))
    width = max(int(details.tier_before.max()), int(details.tier_after.max())) - low + 1
    key = version.astype(np.int64) * width + (details.tier_before - low)
    key = (key * width + (details.tier_after - low)) * 2 + sign_change
    unique, inverse = np.unique(key, return_inverse=True)
    tiers: list[tuple[int, ...]] = []
    rates: list[tuple[Decimal, ...]] = []
    tables: dict[int, tuple[Decimal, ...]] = {}
    for code in unique.tolist():
        rest, changes = divmod(code, 2)
        rest, tier_after = divmod(rest, width)
        number, tier_before = divmod(rest, width)
        crossed = _tiers_between(tier_before + low, tier_after + low, -changes, changes)
        if number not in tables:
            tables[number] = _rates_of(paid.context, paid.id, number)
        tiers.append(crossed)
        rates.append(tuple(tables[number][t] for t in crossed))
    picks = inverse.reshape(-1).tolist()
    return list(map(tiers.__getitem__, picks)), list(map(rates.__getitem__, picks))


def _rates_of(context: Context, component_id: str, version: int) -> tuple[Decimal, ...]:
    """The tier rates of a commission in plan version ``version``."""
    component = find_component(context.versions.plans[version], component_id)
    assert isinstance(component, Commission)  # noqa: S101 - rated by a commission
    return tuple(tier.rate for tier in component.table.tiers)


def _tiers_between(first: int, last: int, low: int, high: int) -> tuple[int, ...]:
    """`_rating._bands_between` from the tiers of ``|low|`` and ``|high|``."""
    if (low < 0 < high) or (high < 0 < low):
        return tuple(range(max(first, last) + 1))
    step = 1 if last >= first else -1
    return tuple(range(first, last + step, step))


def _money_where(
    units: NDArray[np.int64], mask: NDArray[np.bool_], otherwise: Money | None, currency: Currency
) -> list[Money | None]:
    """``units`` as Money where ``mask``, ``otherwise`` elsewhere."""
    if bool(mask.all()):
        return list(from_minor_units_array(units, currency))
    result: list[Money | None] = [otherwise] * len(units)
    made = from_minor_units_array(units[mask], currency)
    for at, money in zip(np.flatnonzero(mask).tolist(), made, strict=True):
        result[at] = money
    return result


def _days(numbers: Ints) -> list[dt.date]:
    """Day numbers (since 1970) as `datetime.date`, converting each distinct day once."""
    unique, inverse = np.unique(numbers, return_inverse=True)
    dates: list[dt.date] = unique.astype("datetime64[D]").tolist()
    return list(map(dates.__getitem__, inverse.reshape(-1).tolist()))


def _decimals(units: NDArray[np.int64], exponent: int) -> list[Decimal]:
    """``units[i] * 10**exponent`` as exact Decimals."""
    return list(map(EXACT.multiply, units.tolist(), repeat(Decimal(1).scaleb(exponent))))
