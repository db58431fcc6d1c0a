"""The batch engine's first stages, over numpy columns: checks and crediting.

A table is checked as `prepare` checks records, with the same errors; crediting
(spec sections 1 and 2) gives the credit rows.

Crediting builds the credit rows of every transaction dated in the fiscal year, in
credit-row order (date, then input index, then direct/overlay rows in split order,
then override rows), as columns; no Python object is made per row.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Final, final

import numpy as np

from salesflow.errors import MoneyOverflowError
from salesflow.money import Currency, Money, allocate_grouped

from ._prepare import (
    check_fields,
    check_splits,
    check_transaction_ids,
    declared_fields,
    no_version,
    not_in_org,
    plan_amount,
    uncredited,
)
from ._table_input import MISSING, NO_DAY, SplitTable
from ._vectorized import floor_and_rest, round_quotient

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Mapping, Sequence

    from numpy.typing import NDArray

    Ints = NDArray[np.signedinteger[Any]]  # index and code columns, of any width

    from salesflow.errors import Problem
    from salesflow.targets import OrgTree

    from ._plan import Plan
    from ._prepare import Versions
    from ._table_input import TransactionTable

__all__ = [
    "DIRECT",
    "KIND_NAMES",
    "NO_DAY",
    "OVERLAY",
    "OVERRIDE",
    "Coverage",
    "CreditRows",
    "Crediting",
    "check_table",
    "credit_rows",
    "day_number",
]

DIRECT: Final = 0
OVERLAY: Final = 1
OVERRIDE: Final = 2
KIND_NAMES: Final = ("direct", "overlay", "override")

_INT64_MAX: Final = int(np.iinfo(np.int64).max)
_SHARE_PLACES: Final = 18  # 10**places fits int64
_FEW_PARTS: Final = 8  # splits wider than this go to the exact allocation
_SAFE: Final = float(2**62)
_BLOCK: Final = 1 << 16  # rows gathered at once: the temporaries stay in the cache


_EPOCH_ORDINAL: Final = 719_163  # date(1970, 1, 1).toordinal()


def day_number(day: dt.date) -> int:
    """``day`` as days since 1970-01-01 (the int64 view of datetime64[D])."""
    return day.toordinal() - _EPOCH_ORDINAL


# -- checks --------------------------------------------------------------------------


def check_table(
    table: TransactionTable,
    versions: Versions,
    fx: Mapping[str, Decimal] | None,
) -> NDArray[np.int64]:
    """`prepare`'s transaction checks over a table, with the same errors, in its order.

    Duplicate ids first (every transaction), then, for the first transaction dated in
    the fiscal year that fails, its splits, its fields and then its amount: the shared
    check functions raise, so the message and location are the reference engine's.

    Returns:
        Each transaction's amount in plan-currency minor units (only the rows dated
        in the fiscal year are meaningful).
    """
    _check_ids(table)
    plan = versions.first
    declared = declared_fields(versions)
    bad = _bad_splits(table)
    currencies = _bad_currencies(table, plan, fx)
    if currencies.any():
        bad |= currencies[table.currency]
    if declared:
        bad |= _bad_fields(table, declared)
    for row, money in table.off_grid.items():  # plan-currency amounts between two fen
        bad[row] |= money.currency.code == plan.currency
    if bad.any():  # only then which rows are in the year matters here
        bad &= _in_year(table, versions)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        record = table.record(row)
        check_splits(record.splits, row)
        check_fields(table.fields_of(row), row, declared)
        plan_amount(record.amount, row, plan, fx)
    if len(table.currencies) == 1 and table.currencies[0].code == plan.currency:
        return table.amounts  # read-only; rows outside the year are never credited
    in_year = _in_year(table, versions)
    units = _plan_units(table, plan, fx, in_year)
    for row, money in table.off_grid.items():  # foreign, between two of its minor units
        if in_year[row]:
            units[row] = plan_amount(money, row, plan, fx).to_minor_units()
    units[~in_year] = 0
    return units


def _in_year(table: TransactionTable, versions: Versions) -> NDArray[np.bool_]:
    """The transactions dated in the fiscal year."""
    days = table.dates.view(np.int64)
    return (days >= day_number(versions.year.start)) & (days <= day_number(versions.year.end))


def _bad_fields(table: TransactionTable, declared: Mapping[str, bool]) -> NDArray[np.bool_]:
    bad = np.zeros(len(table), dtype=bool)
    for name, nullable in declared.items():
        if nullable:
            continue
        column = table.fields.get(name)
        if column is None:
            return np.ones(len(table), dtype=bool)
        if column.dtype == object:
            bad |= np.array([v is MISSING for v in column.tolist()], dtype=bool)
    return bad


def _check_ids(table: TransactionTable) -> None:
    ids = table.ids
    if len(ids) < 2:  # noqa: PLR2004 - one id cannot repeat
        return
    if ids.dtype.kind in "iu":
        if bool(np.all(ids[1:] > ids[:-1])):
            return
        ordered = np.sort(ids)
        unique = not bool(np.any(ordered[1:] == ordered[:-1]))
    else:
        items = ids.tolist()
        unique = len(set(items)) == len(items)
    if not unique:
        check_transaction_ids(table.id_of(row) for row in range(len(ids)))


def _bad_splits(table: TransactionTable) -> NDArray[np.bool_]:
    """Transactions whose splits repeat a payee or whose shares do not sum to 1."""
    splits = table.splits
    bad = np.zeros(len(table), dtype=bool)
    if not len(splits):
        return bad
    # Splits are grouped by transaction: a payee twice in one is a repeated packed key;
    # with at most two splits a transaction (the usual), the repeat is adjacent.
    same = splits.transaction[1:] == splits.transaction[:-1]
    if not bool(np.any(same[1:] & same[:-1])):
        twice = same & (splits.payee[1:] == splits.payee[:-1])
        bad[splits.transaction[1:][twice]] = True
    else:
        keys = splits.transaction.astype(np.int64) * (len(table.payees) + 1) + splits.payee
        keys.sort()
        twice = keys[1:] == keys[:-1]
        bad[keys[1:][twice] // (len(table.payees) + 1)] = True
    counted = np.where(splits.overlay, 0, splits.share) if splits.overlay.any() else splits.share
    whole = 10**splits.share_places
    if splits.share.dtype == object:
        sums: dict[int, int] = {}
        for row, share in zip(splits.transaction.tolist(), counted.tolist(), strict=True):
            sums[row] = sums.get(row, 0) + share
        for row, total in sums.items():
            bad[row] |= total != whole
        return bad
    starts = np.flatnonzero(np.r_[True, splits.transaction[1:] != splits.transaction[:-1]])
    totals = np.add.reduceat(counted.astype(np.int64, copy=False), starts)
    bad[splits.transaction[starts]] |= totals != whole
    return bad


def _bad_currencies(
    table: TransactionTable, plan: Plan, fx: Mapping[str, Decimal] | None
) -> NDArray[np.bool_]:
    """Per currency code: whether a transaction in it cannot be converted."""
    return np.array(
        [
            currency.code != plan.currency and _rate(fx, currency) is None
            for currency in table.currencies
        ],
        dtype=bool,
    )


def _rate(fx: Mapping[str, Decimal] | None, currency: Currency) -> Decimal | None:
    rate = None if fx is None else fx.get(currency.code)
    if not isinstance(rate, Decimal) or not rate.is_finite() or rate <= 0:
        return None
    return rate


def _plan_units(
    table: TransactionTable,
    plan: Plan,
    fx: Mapping[str, Decimal] | None,
    in_year: NDArray[np.bool_],
) -> NDArray[np.int64]:
    """Amounts in plan minor units: ``round(amount x fx)`` for other currencies."""
    units = table.amounts.copy()
    places = Currency(plan.currency).minor_units
    for code, currency in enumerate(table.currencies):
        if currency.code == plan.currency:
            continue
        rows = np.flatnonzero((table.currency == code) & in_year)
        rate = _rate(fx, currency)
        if rate is None or not rows.size:
            continue
        units[rows] = _converted(table, rows, currency, rate, (places, plan))
    return units


def _converted(
    table: TransactionTable,
    rows: Ints,
    currency: Currency,
    rate: Decimal,
    target: tuple[int, Plan],
) -> NDArray[np.int64]:
    places, plan = target
    sign, digits, exponent = rate.as_tuple()
    assert isinstance(exponent, int)  # noqa: S101 - a finite rate
    numerator = int("".join(map(str, digits))) * (-1 if sign else 1)
    shift = exponent - currency.minor_units + places
    amounts = table.amounts[rows]
    factor = numerator * 10 ** max(shift, 0)
    estimate = np.abs(amounts.astype(np.float64)) * float(abs(factor))
    if factor <= _INT64_MAX and shift >= -18 and not bool(np.any(estimate >= _SAFE)):  # noqa: PLR2004
        product = amounts * np.int64(factor)
        return product if shift >= 0 else round_quotient(product, 10**-shift, plan.rounding)
    # Beyond int64 on the way: the scalar conversion, exactly, row by row (rare).
    out = np.empty(len(rows), dtype=np.int64)
    for position, row in enumerate(rows.tolist()):
        money = Money(Decimal(int(table.amounts[row])).scaleb(-currency.minor_units), currency)
        value = plan_amount(money, row, plan, {currency.code: rate}).to_minor_units()
        if not -_INT64_MAX <= value <= _INT64_MAX:
            msg = f"transactions[{row}].amount in {plan.currency} does not fit int64 minor units"
            raise MoneyOverflowError(msg, code="incentives.int64_overflow")
        out[position] = value
    return out


# -- credit rows -----------------------------------------------------------------------


@final
@dataclass(frozen=True, slots=True, eq=False)
class CreditRows:
    """Credit rows in credit-row order, as columns (spec section 2).

    Attributes:
        tx: The transaction's row in the table.
        payee: The payee as an index into the run's payees.
        kind: `DIRECT`, `OVERLAY` or `OVERRIDE`.
        amount: The credit amount, plan minor units.
        day: The transaction's day number.
        gone: The cancellation's day number, `NO_DAY` when not cancelled.
        version: The index of the plan version in force on the day.
    """

    tx: Ints
    payee: Ints
    kind: Ints
    amount: NDArray[np.int64]
    day: Ints
    gone: Ints
    version: Ints

    def __len__(self) -> int:
        """The number of rows."""
        return len(self.tx)

    def take(self, rows: Ints | NDArray[np.bool_]) -> CreditRows:
        """The rows selected by an index or a mask, in order."""
        return CreditRows(
            self.tx[rows],
            self.payee[rows],
            self.kind[rows],
            self.amount[rows],
            self.day[rows],
            self.gone[rows],
            self.version[rows],
        )


@final
@dataclass(frozen=True, slots=True)
class Crediting:
    """What crediting reads besides the transactions.

    Attributes:
        span: The first and last day numbers credited (year start, statement end).
        payees: Payee id -> index into the run's payees (those with assignments).
        coverage: Whether a payee is on the plan on a day.
        versions: Each version's first and last day number, in order.
        levels: Each version's ``crediting.override_levels``.
        plan_id: The plan id (for the messages).
        rounding: The plan's rounding mode (overlay credit).
        org: The org, for override credit.
    """

    span: tuple[int, int]
    payees: Mapping[str, int]
    coverage: Coverage
    versions: Sequence[tuple[int, int]]
    levels: Sequence[int | None]
    plan_id: str
    rounding: str
    org: OrgTree | None


def credit_rows(
    table: TransactionTable, units: NDArray[np.int64], how: Crediting
) -> tuple[CreditRows, list[Problem]]:
    """Every credit row of the transactions dated in ``how.span``, in credit-row order.

    Returns:
        The rows, and the problems (spec 2, decision D6), in the reference engine's
        order: by transaction in credit order; in one, a missing version, else the
        direct holders missing from the org, then the rows not given.
    """
    days = table.dates.view(np.int64)
    order, ordered_days, whole = _credit_order(days, how.span)
    version_of_tx = _version_of(ordered_days, how.versions)
    del ordered_days
    findings: list[tuple[int, int, int, Problem]] = [
        (rank, 0, 0, no_version(int(order[rank]), how.plan_id, _date_of(int(days[order[rank]]))))
        for rank in np.flatnonzero(version_of_tx < 0).tolist()
    ]
    rank_of_tx = _Ranks(order)
    if findings:
        order, whole = order[version_of_tx >= 0], False
    del version_of_tx
    base = _base_rows(table, units, order, how.rounding, whole=whole)
    # With one version, every row left is of it (the others were dropped above).
    version = (
        np.zeros(len(base.day), dtype=np.int8)
        if len(how.versions) == 1
        else _version_of(base.day, how.versions)
    )
    names = list(table.payees)
    if how.org is not None and any(level != 0 for level in how.levels):
        base, version = _with_overrides(
            base, version, names, how=how, findings=findings, rank_of_tx=rank_of_tx
        )
    if _same_payees(names, how.payees):
        engine_payee = base.payee  # the table's payees are the run's, in the same order
    else:
        codes = np.array([how.payees.get(name, -1) for name in names], dtype=np.intp)
        engine_payee = (codes[base.payee] if names else base.payee).astype(np.int32)
    if how.coverage.everyone_through(how.span):
        keep = None if engine_payee is base.payee else engine_payee >= 0
    else:
        keep = (engine_payee >= 0) & how.coverage.covers(engine_payee, base.day)
    dropped = np.zeros(0, dtype=np.intp) if keep is None else np.flatnonzero(~keep)
    for row in dropped.tolist():
        tx = int(base.tx[row])
        problem = uncredited(tx, names[int(base.payee[row])], _date_of(int(base.day[row])))
        findings.append((rank_of_tx[tx], 2, row, problem))
    rows = CreditRows(base.tx, engine_payee, base.kind, base.amount, base.day, base.gone, version)
    findings.sort(key=lambda finding: finding[:3])
    problems = [finding[3] for finding in findings]
    return (
        rows.take(np.flatnonzero(keep)) if dropped.size and keep is not None else rows
    ), problems


def _same_payees(names: list[str], payees: Mapping[str, int]) -> bool:
    """Whether payee ``names[i]`` is the run's payee i, for every i."""
    return list(payees) == names and list(payees.values()) == list(range(len(names)))


@final
class _Ranks:
    """Each transaction's rank in credit order, built on first use (problems are rare)."""

    def __init__(self, order: Ints) -> None:
        self._order = order
        self._ranks: Ints | None = None

    def __getitem__(self, tx: int) -> int:
        if self._ranks is None:
            self._ranks = np.empty(int(self._order.max(initial=-1)) + 1, dtype=np.intp)
            self._ranks[self._order] = np.arange(len(self._order))
        return int(self._ranks[tx])


def _unsorted(values: NDArray[np.int64]) -> bool:
    return bool(np.any(values[1:] < values[:-1]))


def _credit_order(
    days: NDArray[np.int64], span: tuple[int, int]
) -> tuple[Ints, NDArray[np.int64], bool]:
    """The rows dated in ``span`` by date (stably), their days, and whether that is every row.

    Inputs are usually a year in date order: then the order is every row as it is,
    and nothing is gathered.
    """
    inside = bool(len(days)) and int(days.min()) >= span[0] and int(days.max()) <= span[1]
    if inside and not _unsorted(days):
        return np.arange(len(days), dtype=np.int32), days, True
    picked = (
        np.arange(len(days), dtype=np.int32)
        if inside
        else np.flatnonzero((days >= span[0]) & (days <= span[1])).astype(np.int32)
    )
    chosen = days[picked]
    if not _unsorted(chosen):
        return picked, chosen, False
    by_day = np.argsort(chosen, kind="stable")
    return picked[by_day], chosen[by_day], False


@final
@dataclass(slots=True)
class _Base:
    tx: Ints
    payee: Ints  # table payee codes (names may be extended by the org)
    kind: Ints
    amount: NDArray[np.int64]
    day: Ints
    gone: Ints

    def take(self, rows: Ints) -> _Base:
        return _Base(
            self.tx[rows],
            self.payee[rows],
            self.kind[rows],
            self.amount[rows],
            self.day[rows],
            self.gone[rows],
        )


def _base_rows(
    table: TransactionTable,
    units: NDArray[np.int64],
    order: Ints,
    rounding: str,
    *,
    whole: bool,
) -> _Base:
    """Direct and overlay rows, in credit-row order.

    ``whole``: ``order`` is every row in order. Most transactions have no splits and
    give one row: every column is a gather by transaction (or the table's own column
    when no transaction is split and ``order`` is every row); the rows of split
    transactions are then written over, at their positions only.
    """
    splits = table.splits
    layout = _split_layout(splits, order, len(table), whole=whole)
    if layout is None:
        rows = None if whole else order
        return _Base(
            order.astype(np.int32, copy=False),
            table.owners if whole else table.owners[order],
            np.zeros(len(order), dtype=np.int8),
            units if whole else units[order],
            table.day_numbers(rows),
            table.cancelled_numbers(rows),
        )
    tx, at, split = layout
    payee, amount, days, gone = _gathered(table, units, tx)
    payee[at] = splits.payee[split]
    overlay = splits.overlay[split]
    kind = np.zeros(len(tx), dtype=np.int8)
    if not overlay.any():  # the usual: every split shares the amount
        amount[at] = _allocated(units, tx[at], splits, split)
    else:
        shared = ~overlay
        if shared.any():
            amount[at[shared]] = _allocated(units, tx[at[shared]], splits, split[shared])
        amount[at[overlay]] = _overlay_credit(
            units[tx[at[overlay]]], splits.share[split[overlay]], splits.share_places, rounding
        )
        kind[at[overlay]] = OVERLAY
    return _Base(tx, payee, kind, amount, days, gone)


def _gathered(
    table: TransactionTable, units: NDArray[np.int64], tx: NDArray[np.int32]
) -> tuple[Ints, NDArray[np.int64], NDArray[np.int32], NDArray[np.int32]]:
    """The owner, amount, day and cancellation day of each row's transaction.

    Block by block: numpy converts an int32 index to intp for each gather, and the
    conversions stay in the cache this way.
    """
    size = len(tx)
    payee = np.empty(size, dtype=table.owners.dtype)
    amount = np.empty(size, dtype=np.int64)
    days = np.empty(size, dtype=np.int32)
    gone = np.empty(size, dtype=np.int32)
    for lo in range(0, size, _BLOCK):
        rows = tx[lo : lo + _BLOCK].astype(np.intp)
        block = slice(lo, lo + len(rows))
        np.take(table.owners, rows, out=payee[block])
        np.take(units, rows, out=amount[block])
        days[block] = table.day_numbers(rows)
        gone[block] = table.cancelled_numbers(rows)
    return payee, amount, days, gone


def _split_layout(
    splits: SplitTable, order: Ints, transactions: int, *, whole: bool
) -> tuple[NDArray[np.int32], Ints, Ints] | None:
    """Where the split transactions' rows go; ``None`` when none of ``order`` is split.

    Returns each credit row's transaction, the positions of the rows of split
    transactions, and the split each of those stands for.
    """
    if not len(splits):
        return None
    if whole:
        # Splits are grouped by transaction in transaction order, and the transactions
        # are in order: each group's first split and its size come from the splits.
        heads = np.flatnonzero(np.r_[True, splits.transaction[1:] != splits.transaction[:-1]])
        ranks = splits.transaction[heads]
        sizes = np.diff(np.r_[heads, len(splits)])
        first = heads
    else:
        count = np.bincount(splits.transaction, minlength=transactions)
        per_tx = count[order]
        ranks = np.flatnonzero(per_tx)
        if not ranks.size:
            return None
        sizes = per_tx[ranks]
        first = (np.cumsum(count) - count)[order[ranks]]
    # A split transaction of rank r starts after r rows, plus the extra rows of the
    # split ones before it.
    before = np.cumsum(sizes) - sizes
    within = np.arange(int(sizes.sum())) - np.repeat(before, sizes)
    at = np.repeat(ranks + before - np.arange(len(ranks)), sizes) + within
    split = np.repeat(first, sizes) + within
    # Row i stands for rank i less the number of extra rows (a split's second, third,
    # ...) at or before i: a step function, one repeat over the extra rows.
    extra = at[within > 0]
    total = len(order) + len(extra)
    rank = np.arange(total, dtype=np.int32)
    rank -= np.repeat(np.arange(len(extra) + 1, dtype=np.int32), np.diff(np.r_[0, extra, total]))
    return (rank if whole else order.take(rank)), at, split


def _allocated(
    units: NDArray[np.int64], tx: Ints, splits: SplitTable, at: Ints
) -> NDArray[np.int64]:
    """Each non-overlay split's credit: its transaction's amount by largest remainder.

    The non-overlay shares of a transaction sum to exactly 1 (checked), that is to
    ``10**share_places`` as numerators: every part's exact quota has that denominator,
    and a split has few parts, so the ranks of the remainders come from comparing each
    part with its few neighbours. Beyond int64 it is `allocate_grouped`, exactly.

    Block by block, a transaction's parts in one block: the temporaries stay in the
    cache.
    """
    if len(tx) <= _BLOCK:
        return _allocated_block(units, tx, splits, at)
    edges = np.r_[np.flatnonzero(np.r_[True, tx[1:] != tx[:-1]]), len(tx)]
    # Each block starts at the first transaction starting at or after a multiple of it.
    cuts = np.unique(edges[np.searchsorted(edges, np.arange(0, len(tx), _BLOCK))])
    parts = np.empty(len(tx), dtype=np.int64)
    for lo, hi in itertools.pairwise(np.r_[cuts[cuts < len(tx)], len(tx)].tolist()):
        parts[lo:hi] = _allocated_block(units, tx[lo:hi], splits, at[lo:hi])
    return parts


def _allocated_block(
    units: NDArray[np.int64], tx: Ints, splits: SplitTable, at: Ints
) -> NDArray[np.int64]:
    """`_allocated` of whole transactions' parts."""
    shares = splits.share[at]
    starts = np.flatnonzero(np.r_[True, tx[1:] != tx[:-1]])
    sizes = np.diff(np.r_[starts, len(tx)])
    whole = units[tx]
    widest = int(sizes.max()) if len(sizes) else 0
    if (
        shares.dtype == object
        or splits.share_places > _SHARE_PLACES
        or widest > _FEW_PARTS
        or not _products_fit(whole, shares)
    ):
        return _allocated_exactly(units, tx, shares, starts)
    negative = bool(len(whole)) and int(whole.min()) < 0
    magnitude = np.abs(whole) if negative else whole
    quotas, remainders = floor_and_rest(magnitude * shares, 10**splits.share_places)
    groups = np.repeat(np.arange(len(starts)), sizes)
    leftover = magnitude[starts] - np.add.reduceat(quotas, starts)
    rank = np.zeros(len(tx), dtype=np.int64)
    for distance in range(1, widest):
        same = groups[distance:] == groups[:-distance]
        # A later part with a larger remainder, or an earlier one with a larger or
        # equal one, ranks before (ties go to the earlier part).
        rank[:-distance] += same & (remainders[distance:] > remainders[:-distance])
        rank[distance:] += same & (remainders[:-distance] >= remainders[distance:])
    quotas += rank < leftover[groups]
    if negative:
        np.negative(quotas, out=quotas, where=whole < 0)
    return quotas


def _products_fit(whole: NDArray[np.int64], shares: NDArray[np.int64]) -> bool:
    """Whether every ``|amount| x share`` is below 2**62 (so sums of two cannot wrap)."""
    if not len(whole):
        return True
    largest = max(int(whole.max()), -int(whole.min()))
    widest = max(int(shares.max()), -int(shares.min()))
    return largest * widest < _SAFE


def _allocated_exactly(
    units: NDArray[np.int64],
    tx: Ints,
    shares: NDArray[np.generic],
    starts: Ints,
) -> NDArray[np.int64]:
    groups = np.repeat(np.arange(len(starts)), np.diff(np.r_[starts, len(tx)]))
    if shares.dtype != object:
        return allocate_grouped(units[tx[starts]], shares.astype(np.int64), groups)
    from salesflow.money import allocate_units  # noqa: PLC0415 - the rare exact path

    out = np.empty(len(tx), dtype=np.int64)
    bounds = np.r_[starts, len(tx)]
    for lo, hi in itertools.pairwise(bounds.tolist()):
        out[lo:hi] = allocate_units(int(units[tx[lo]]), list(shares[lo:hi]))
    return out


def _overlay_credit(
    amounts: NDArray[np.int64], shares: NDArray[np.generic], places: int, rounding: str
) -> NDArray[np.int64]:
    """``round(amount x share)`` exactly, by the plan's rounding."""
    if shares.dtype != object:
        numerators = shares.astype(np.int64)
        estimate = np.abs(amounts.astype(np.float64)) * numerators.astype(np.float64)
        if not bool(np.any(estimate >= _SAFE)):
            return round_quotient(amounts * numerators, 10**places, rounding)
    from salesflow.money._exact import round_ratio  # noqa: PLC0415 - the rare exact path

    return np.array(
        [
            round_ratio(int(a) * int(s), 10**places, rounding)
            for a, s in zip(amounts.tolist(), shares.tolist(), strict=True)
        ],
        dtype=np.int64,
    )


def _with_overrides(  # noqa: PLR0913 - crediting's pieces, passed through
    base: _Base,
    version: Ints,
    names: list[str],
    *,
    how: Crediting,
    findings: list[tuple[int, int, int, Problem]],
    rank_of_tx: _Ranks,
) -> tuple[_Base, Ints]:
    """Base rows merged with override rows: after the base rows of their transaction."""
    levels = np.array([-1 if v is None else v for v in how.levels], dtype=np.intp)
    direct = np.flatnonzero((base.kind == DIRECT) & (levels[version] != 0))
    chains, lengths, pair, outside = _ancestors(base, direct, names, how.org)
    for position in np.flatnonzero(outside[pair]).tolist():
        row = int(direct[position])
        tx = int(base.tx[row])
        problem = not_in_org(tx, names[int(base.payee[row])], _date_of(int(base.day[row])))
        findings.append((rank_of_tx[tx], 1, row, problem))
    wanted = levels[version[direct]]
    count = np.where(wanted < 0, lengths[pair], np.minimum(lengths[pair], wanted))
    parent = np.repeat(direct, count)
    if not len(parent):
        return base, version
    level = np.arange(len(parent)) - np.repeat(np.cumsum(count) - count, count)
    over = base.take(parent)
    over.payee = chains[np.repeat(pair, count), level]
    over.kind = np.full(len(parent), OVERRIDE, dtype=np.int8)
    # Rows of one transaction are contiguous and in credit order, so an override row
    # goes after the last base row of its transaction: a merge by transaction rank.
    rank = np.cumsum(np.r_[True, base.tx[1:] != base.tx[:-1]])
    over_rank = rank[parent]
    size = len(base.tx) + len(parent)
    at_over = np.searchsorted(rank, over_rank, side="right") + np.arange(len(parent))
    at_base = np.arange(len(base.tx)) + np.searchsorted(over_rank, rank, side="left")
    merged = _Base(*(np.empty(size, dtype=column.dtype) for column in _columns(base)))
    for target, source, extra in zip(_columns(merged), _columns(base), _columns(over), strict=True):
        target[at_base] = source
        target[at_over] = extra
    merged_version = np.empty(size, dtype=np.intp)
    merged_version[at_base] = version
    merged_version[at_over] = version[parent]
    return merged, merged_version


def _columns(rows: _Base) -> tuple[NDArray[np.generic], ...]:
    return (rows.tx, rows.payee, rows.kind, rows.amount, rows.day, rows.gone)


def _ancestors(
    base: _Base, direct: Ints, names: list[str], org: OrgTree | None
) -> tuple[Ints, Ints, Ints, NDArray[np.bool_]]:
    """The ancestors of each (org epoch, payee) pair of the direct rows.

    Returns the ancestor codes (nearest first), their number, each row's pair, and
    whether the pair's payee is outside the org.
    """
    assert org is not None  # noqa: S101 - only called with an org
    changes = np.array([day_number(d) for d in org.change_dates()], dtype=np.int64)
    epoch = np.searchsorted(changes, base.day[direct], side="right")
    keys = epoch.astype(np.int64) * (len(names) + 1) + base.payee[direct]
    unique, first, pair = np.unique(keys, return_index=True, return_inverse=True)
    index = {name: code for code, name in enumerate(names)}
    chains: list[tuple[int, ...]] = []
    outside: list[bool] = []
    for row in direct[first].tolist():
        snapshot = org.as_of(_date_of(int(base.day[row])))
        name = names[int(base.payee[row])]
        outside.append(name not in snapshot)
        found = () if outside[-1] else snapshot.ancestors(name)
        chains.append(tuple(index.setdefault(str(a), _append(names, str(a))) for a in found))
    lengths = np.array([len(c) for c in chains], dtype=np.intp)
    widest = int(lengths.max()) if len(lengths) else 0
    table = np.zeros((len(unique), max(widest, 1)), dtype=np.intp)
    for position, chain in enumerate(chains):
        table[position, : len(chain)] = chain
    return table, lengths, pair.reshape(-1), np.array(outside, dtype=bool)


def _append(names: list[str], name: str) -> int:
    names.append(name)
    return len(names) - 1


def _date_of(number: int) -> dt.date:
    value: dt.date = np.datetime64(number, "D").astype(object)
    return value


def _version_of(days: NDArray[np.generic], versions: Sequence[tuple[int, int]]) -> Ints:
    """The index of the version in force on each day, -1 where none is."""
    if len(versions) == 1 and (
        not len(days) or (versions[0][0] <= days.min() and days.max() <= versions[0][1])
    ):
        return np.zeros(len(days), dtype=np.int8)
    starts = np.array([v[0] for v in versions], dtype=np.int64)
    ends = np.array([v[1] for v in versions], dtype=np.int64)
    at = np.searchsorted(starts, days, side="right") - 1
    inside = (at >= 0) & (np.asarray(days, dtype=np.int64) <= ends[np.maximum(at, 0)])
    return np.where(inside, at, -1).astype(np.int8)


@final
class Coverage:
    """Which payee is on the plan on which day: assignment spans, searched at once."""

    __slots__ = ("_ends", "_first", "_keys", "_last", "_payee", "_single")

    _WIDTH: Final = 1 << 32  # day numbers are offset into [0, 2**32)
    _OFFSET: Final = 1 << 31

    def __init__(self, spans: Sequence[tuple[int, int, int]]) -> None:
        """``spans``: (payee index, first day number, last day number), any order."""
        ordered = sorted(spans)
        self._payee = np.array([s[0] for s in ordered], dtype=np.int64)
        starts = np.array([s[1] for s in ordered], dtype=np.int64)
        self._keys = self._payee * self._WIDTH + np.clip(starts + self._OFFSET, 0, self._WIDTH - 1)
        self._ends = np.array([s[2] for s in ordered], dtype=np.int64)
        payees = int(self._payee.max()) + 1 if ordered else 0
        # The usual roster: one span per payee, read by a direct look-up.
        self._single = len(ordered) == payees and bool(
            np.array_equal(self._payee, np.arange(payees))
        )
        self._first = starts
        self._last = self._ends

    def everyone_through(self, span: tuple[int, int]) -> bool:
        """Whether every payee with an assignment is on the plan all through ``span``."""
        if not self._single:
            return False
        return bool(np.all(self._first <= span[0]) and np.all(self._last >= span[1]))

    def covers(self, payee: Ints, day: NDArray[np.int64]) -> NDArray[np.bool_]:
        """Whether ``payee[i]`` (>= 0) is on the plan on ``day[i]``."""
        if not len(self._keys):
            return np.zeros(len(payee), dtype=bool)
        if self._single:
            covered: NDArray[np.bool_] = (self._first[payee] <= day) & (day <= self._last[payee])
            return covered
        keys = payee.astype(np.int64) * self._WIDTH + (day.astype(np.int64) + self._OFFSET)
        at = np.searchsorted(self._keys, keys, side="right") - 1
        safe = np.maximum(at, 0)
        found: NDArray[np.bool_] = (
            (at >= 0) & (self._payee[safe] == payee) & (self._ends[safe] >= day)
        )
        return found
