"""Payouts of a year: 1,000,000 transactions, 10,000 payees, one commission plan.

The plan has tiers (3% marginal, 5% retroactive from 20,000, an 8% accelerator above
50,000, on the year's running total), a per-period cap, 60/40 credit splits on one deal
in ten, and clawbacks of deals cancelled within 90 days. In one process, on the same
data, it runs:

* salesflow's batch engine: the core (every credit line of the year, what each payee
  earned each month, caps and clawbacks, as arrays), then the run for the statement
  period: every statement's total, line count, recalculations and draw, with the lines
  built when a statement is first read; and, timed apart, the run with every
  statement read (all its Line objects built), the run's ``earned`` mapping (made on
  first use) and one payee's statement on demand;
* the reference engine on the transactions of a subset of the payees (its time is
  extrapolated to the whole input by transaction count, and said so), after checking
  that both engines give identical runs on that subset;
* the strongest pandas implementation an analyst would write: a groupby cumulative sum,
  each tier by its formula over the running total, float, rounded at the end.

Prints times, ratios, the pandas float drift in cents against the exact figures, and
the peak RSS. ``--transactions 10000000 --salesflow-only`` gives the memory figure.

    python benchmarks/bench_incentives.py
    python benchmarks/bench_incentives.py --transactions 10000000 --salesflow-only
"""

from __future__ import annotations

import argparse
import gc
import resource
import time
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np

from salesflow.incentives import Assignment, Ledger, calculate, load_plan
from salesflow.incentives._batch import calculate_columns
from salesflow.incentives._table_input import TransactionTable

if TYPE_CHECKING:
    from collections.abc import Callable

    import pandas as pd

    from salesflow.incentives import PayoutColumns, PayoutRun

T = TypeVar("T")
PERIOD = "FY2027-M12"
CLOSED = "FY2027-M11"  # recorded in the ledger before the timed run: a monthly close
YEAR_END = np.datetime64("2027-12-31")
CAP_CENTS = 60_000_00  # the per-period cap, 60,000.00 CNY
PLAN = load_plan(
    f"""
id: ae
currency: CNY
fiscal_year: 2027
rounding: half_even
measures: {{bookings: {{credit: [direct]}}}}
components:
  - kind: commission
    id: commission
    measure: bookings
    rating: cumulative
    accumulate: year
    table:
      tiers:
        - {{start: 0, end: 20000, rate: "0.03"}}
        - {{start: 20000, end: 50000, rate: "0.05", style: retroactive}}
        - {{start: 50000, rate: "0.08"}}
    cap: {{per_period: "{Decimal(CAP_CENTS) / 100}"}}
    clawback: {{within_days: 90}}
"""
)


def bookings(count: int, payees: int, seed: int = 2027) -> dict[str, Any]:
    """A year of deals, seeded.

    Days in order, amounts 100.00-50,000.00 CNY, 3% cancelled within 120 days, one in
    ten split 60/40 with another payee.
    """
    rng = np.random.default_rng(seed)
    days = np.sort(rng.integers(0, 365, count))
    dates = np.datetime64("2027-01-01") + days
    cancelled = np.full(count, np.datetime64("NaT"), dtype="datetime64[D]")
    gone = rng.random(count) < 0.03
    cancelled[gone] = dates[gone] + rng.integers(0, 120, int(gone.sum()))
    owners = rng.integers(0, payees, count)
    split = np.flatnonzero(rng.random(count) < 0.10)
    other = (owners[split] + 1 + rng.integers(0, payees - 1, len(split))) % payees
    holders = np.empty(2 * len(split), dtype=np.int64)
    holders[0::2], holders[1::2] = owners[split], other
    return {
        "ids": np.arange(count),
        "dates": dates,
        "amounts": rng.integers(100_00, 50_000_00, count),
        "owners": owners,
        "cancelled": cancelled,
        "split_transaction": np.repeat(split, 2),
        "split_payee": holders,
        "split_share": np.tile(
            np.array([Decimal("0.6"), Decimal("0.4")], dtype=object), len(split)
        ),
        "payees": [f"p{i:05d}" for i in range(payees)],
    }


def table_of(data: dict[str, Any]) -> TransactionTable:
    """The transactions as a salesflow `TransactionTable` (built once, like a load)."""
    return TransactionTable.from_arrays(currency="CNY", **data)


def subset(data: dict[str, Any], payees: int) -> dict[str, Any]:
    """The deals whose every credit holder is one of the first ``payees`` payees."""
    keep = data["owners"] < payees
    split_tx = data["split_transaction"]
    outside = split_tx[data["split_payee"] >= payees]
    keep[outside] = False
    rows = np.flatnonzero(keep)
    renumber = np.full(len(keep), -1)
    renumber[rows] = np.arange(len(rows))
    splits = keep[split_tx]
    return {
        "ids": data["ids"][rows],
        "dates": data["dates"][rows],
        "amounts": data["amounts"][rows],
        "owners": data["owners"][rows],
        "cancelled": data["cancelled"][rows],
        "split_transaction": renumber[split_tx[splits]],
        "split_payee": data["split_payee"][splits],
        "split_share": data["split_share"][splits],
        "payees": data["payees"][:payees],
    }


def close(transactions: Any, assignments: list[Assignment], engine: str) -> Ledger:  # noqa: ANN401
    """The ledger after the months before the statement period were paid and recorded."""
    run = calculate(PLAN, transactions, assignments, period=CLOSED, ledger=Ledger(), engine=engine)
    return Ledger().record(run)


def best(run: Callable[[], T], repeats: int) -> tuple[T, float]:
    """The result and the best time of ``repeats`` runs."""
    seconds = float("inf")
    result: T | None = None
    for _ in range(repeats):
        result = None  # the last result goes before the next is made (peak memory)
        gc.collect()
        start = time.perf_counter()
        result = run()
        seconds = min(seconds, time.perf_counter() - start)
    return result, seconds  # type: ignore[return-value]  # repeats >= 1


def pandas_frames(data: dict[str, Any]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The same deals as DataFrames, amounts as float CNY (what an analyst loads)."""
    import pandas as pd  # noqa: PLC0415 - the peer, imported only when compared

    frame = pd.DataFrame(
        {
            "id": data["ids"],
            "payee": data["owners"],
            "date": data["dates"].astype("datetime64[ns]"),
            "amount": data["amounts"] / 100.0,
            "cancelled": data["cancelled"].astype("datetime64[ns]"),
        }
    )
    shares = np.array([float(s) for s in data["split_share"]])
    splits = pd.DataFrame(
        {
            "id": data["ids"][data["split_transaction"]],
            "payee": data["split_payee"],
            "share": shares,
        }
    )
    return frame, splits


def pandas_payouts(frame: pd.DataFrame, splits: pd.DataFrame) -> pd.Series:
    """The idiom, vectorized: split rows, then a groupby cumulative sum.

    Cancellations are negative events; P(total) tier by tier; a line is the difference
    of P; clawbacks take lines back; the cap clips each month.
    """
    import pandas as pd  # noqa: PLC0415 - the peer, imported only when compared

    whole = frame[~frame["id"].isin(splits["id"])]
    parts = splits.merge(frame.drop(columns="payee"), on="id")
    parts["amount"] = (parts["amount"] * parts["share"]).round(2)
    rows = pd.concat([whole, parts.drop(columns="share")], ignore_index=True)
    gone = rows[rows["cancelled"] <= YEAR_END]  # a cancellation next year is next year's
    undo = gone.assign(date=gone["cancelled"], amount=-gone["amount"], sale=False)
    events = pd.concat([rows.assign(sale=True), undo], ignore_index=True)
    # Same day: sales before cancellations, then in deal order (the engine's credit order).
    events = events.sort_values(
        ["payee", "date", "sale", "id"], ascending=[True, True, False, True]
    )
    total = events.groupby("payee", sort=False)["amount"].cumsum().to_numpy()
    payout = np.where(
        total < 20_000,
        0.03 * total,
        np.where(total < 50_000, 0.05 * total, 2_500 + 0.08 * (total - 50_000)),
    )
    events["paid"] = payout.round(2)
    events["line"] = events.groupby("payee", sort=False)["paid"].diff().fillna(events["paid"])
    lines = events[events["sale"]]
    back = lines[
        (lines["cancelled"] <= YEAR_END) & ((lines["cancelled"] - lines["date"]).dt.days <= 90)
    ]
    back = back.assign(date=back["cancelled"], line=-back["line"])
    pay = pd.concat([lines[["payee", "date", "line"]], back[["payee", "date", "line"]]])
    pay["month"] = pay["date"].dt.month
    monthly = pay.groupby(["payee", "month"])["line"].sum()
    return monthly.clip(upper=CAP_CENTS / 100).round(2)


def drift(monthly: pd.Series, exact: np.ndarray) -> tuple[int, int, int]:
    """Cents the pandas figures are off, per (payee, month): total, cells off, largest."""
    cents = np.zeros_like(exact)
    payee = monthly.index.get_level_values(0).to_numpy()
    month = monthly.index.get_level_values(1).to_numpy() - 1
    cents[payee, month] = np.round(monthly.to_numpy() * 100).astype(np.int64)
    off = np.abs(cents - exact)
    return int(off.sum()), int((off > 0).sum()), int(off.max(initial=0))


def main() -> None:
    """Run the engines and the pandas idiom, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--transactions", type=int, default=1_000_000)
    parser.add_argument("--payees", type=int, default=10_000)
    parser.add_argument(
        "--reference-payees", type=int, default=100, help="payees whose deals the reference rates"
    )
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--salesflow-only",
        action="store_true",
        help="skip pandas, the reference and the monthly close: the memory figure",
    )
    args = parser.parse_args()
    data = bookings(args.transactions, args.payees)
    assignments = [Assignment(p, "ae") for p in data["payees"]]
    closed = "nothing" if args.salesflow_only else f"{CLOSED} and before"
    print(
        f"{args.transactions:,} transactions, {args.payees:,} payees, "
        f"{len(data['split_transaction']) // 2:,} split 60/40; statement period {PERIOD}, "
        f"{closed} recorded"
    )
    table, load_s = best(lambda: table_of(data), 1)
    print(
        f"salesflow: build the TransactionTable        {load_s:8.3f} s (not in the figures below;"
        f" peak RSS so far {peak_rss():,.0f} MiB)"
    )
    ledger = Ledger()
    if args.salesflow_only:
        del data  # the table holds what the engine reads
        gc.collect()
    else:
        ledger, close_s = best(lambda: close(table, assignments, "batch"), 1)
        print(
            f"salesflow: run and record {CLOSED} (the ledger) {close_s:7.3f} s (not in the figures)"
        )
    computed, core_s = best(
        lambda: calculate_columns(PLAN, table, assignments, period=PERIOD, ledger=ledger),
        args.repeat,
    )
    print(f"salesflow batch: core (every line, as arrays) {core_s:8.3f} s  (best of {args.repeat})")
    core_peak = peak_rss()
    run, statements_s = best(computed.run, args.repeat)
    print(
        f"salesflow batch: the run (totals; lines on use) {statements_s:6.3f} s  (best of "
        f"{args.repeat}) -> full run {core_s + statements_s:.3f} s, total {run.total}"
    )
    lines, read_s = best(lambda: every_line(computed.run()), args.repeat)
    full = (core_s + statements_s, core_s + read_s)
    print(
        f"salesflow batch: the run, every statement read ({lines:,} Lines) {read_s:6.3f} s  "
        f"(best of {args.repeat}) -> full run {full[1]:.3f} s"
    )
    if args.salesflow_only:
        run = computed.run()
        every_line(run)
        print(f"peak RSS through the core: {core_peak:,.0f} MiB (target < 1,536 MiB at 10M)")
        print(f"peak RSS with the statements' {lines:,} Line objects: {peak_rss():,.0f} MiB")
        return
    del run
    on_demand(computed, args.repeat)
    exact = computed.earned("commission")
    compare_reference(data, args, (core_s, *full))
    compare_pandas(data, exact, core_s, args.repeat)
    print(f"peak RSS of the whole run (all engines in this process): {peak_rss():,.0f} MiB")


def on_demand(computed: PayoutColumns, repeat: int) -> None:
    """What the full run leaves for later: ``run.earned``, and one payee's statement."""
    run = computed.run()
    count, earned_s = best(lambda: len(run.earned), 1)  # the first read makes it
    print(
        f"  + run.earned ({count:,} Money), made on first use (Ledger.record reads it): "
        f"{earned_s:.3f} s"
    )
    payee = computed.payees[len(computed.payees) // 2]
    _, one_s = best(lambda: computed.statement(payee), repeat)
    print(f"  one payee's statement on demand (PayoutColumns.statement): {one_s * 1000:.1f} ms")


def every_line(run: PayoutRun) -> int:
    """Read every statement of ``run`` (building its lines); the number of lines."""
    return sum(len(statement.lines) for statement in run.statements)


def peak_rss() -> float:
    """The process's peak resident set size so far, MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**10


def compare_reference(
    data: dict[str, Any], args: argparse.Namespace, batch: tuple[float, float, float]
) -> None:
    """The reference engine on a subset of payees, extrapolated by transaction count."""
    part = subset(data, args.reference_payees)
    small = table_of(part)
    records = list(small.records())
    assignments = [Assignment(p, "ae") for p in part["payees"]]
    ledger = close(records, assignments, "reference")
    arguments = {"period": PERIOD, "ledger": ledger}
    reference, reference_s = best(
        lambda: calculate(PLAN, records, assignments, engine="reference", **arguments), 1
    )
    ours = calculate(PLAN, small, assignments, engine="batch", **arguments)
    scale = args.transactions / max(len(records), 1)
    estimate = reference_s * scale
    core_s, full_s, read_s = batch
    print(
        f"reference engine: {len(records):,} transactions of {args.reference_payees} payees "
        f"{reference_s:.2f} s; identical run from the batch engine: {reference == ours}"
    )
    print(
        f"reference engine, extrapolated x{scale:,.0f} to the whole input: ~{estimate:,.0f} s -> "
        f"batch is {estimate / core_s:,.0f}x (core), {estimate / full_s:,.0f}x (full run), "
        f"{estimate / read_s:,.0f}x (full run, every statement read)"
    )


def compare_pandas(data: dict[str, Any], exact: np.ndarray, core_s: float, repeat: int) -> None:
    """The pandas idiom on the same deals: time, ratio, float drift in cents."""
    frame, splits = pandas_frames(data)
    monthly, pandas_s = best(lambda: pandas_payouts(frame, splits), repeat)
    total, cells, largest = drift(monthly, exact)
    print(
        f"pandas idiom (groupby cumsum, tiers, float)   {pandas_s:8.3f} s  "
        f"-> salesflow core is {pandas_s / core_s:.1f}x faster"
    )
    print(
        f"pandas drift against the exact figures: {total:,} cents over {cells:,} payee-months "
        f"(largest {largest} cents); salesflow: 0 by construction"
    )


if __name__ == "__main__":
    main()
