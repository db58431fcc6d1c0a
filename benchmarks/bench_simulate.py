"""Benchmark: Monte Carlo of a plan's cost, 100,000 scenarios x 1,000 payees, to the fen.

Two ways to do the same job, in one process:

1. ``simulate``: salesflow's seeded simulation: annual attainments drawn per payee
   stream, the plan paid exactly in int64 minor units (tiers with an accelerator and a
   retroactive lift, a gate, a cap on target incentive, a milestone), per-payee
   percentiles and tier shares included;
2. the numpy idiom an analyst would write: float attainments x quota in yuan, the tiers
   with ``np.where``, ``np.minimum`` for the cap, each payee-year rounded to the fen with
   the plan's own rounding mode (``half_up``: ``floor(x * 100 + 0.5)``), summed per
   scenario; in chunks of scenarios. As the strongest peer, it runs at its fastest
   chunk size: a few sizes are tried on a tenth of the scenarios, the fastest is used
   (and printed).

Both are timed the same way (wall clock, one run each, no memory tracing); peak numpy
memory is measured for both in a separate pass under ``tracemalloc``. The timed idiom
draws its own attainments from the same distributions with its own generator (not the
same draws: its mean cost differs by sampling noise). Its drift is measured on the same
draws: the idiom run on the annual values ``simulate`` drew for a subset of scenarios,
against ``simulate``'s exact payouts (payee-years off by a fen or more, the worst, the
total cost off). The ratio is printed whichever way it falls. Nothing is asserted
about time.

Run: ``.venv/bin/python benchmarks/bench_simulate.py [--scenarios N] [--payees N]``.
"""

from __future__ import annotations

import argparse
import functools
import os
import platform
import time
import tracemalloc
from decimal import Decimal
from typing import TYPE_CHECKING, TypeVar

import numpy as np

from salesflow.incentives import Normal, Payees, Simulation, load_plan, simulate

if TYPE_CHECKING:
    from collections.abc import Callable

T = TypeVar("T")

SEED = 20261127
PLAN = load_plan("""
id: ae-2027
currency: CNY
fiscal_year: 2027
rounding: half_up
measures: {bookings: {quota: true}}
components:
  - kind: commission
    id: commission
    measure: bookings
    rating: cumulative
    accumulate: year
    table:
      basis: attainment
      tiers:
        - {start: 0, end: "0.5", rate: "0.03"}
        - {start: "0.5", end: "1.0", rate: "0.05", style: retroactive}
        - {start: "1.0", rate: "0.083333"}
    gate: {measure: bookings, attainment: "0.3"}
    cap: {target_incentive_multiple: "2.5"}
  - kind: milestone
    id: presidents-club
    measure: bookings
    attainment: "1.25"
    amount: 20000
    accumulate: year
""")


def make_payees(payees: int) -> tuple[Payees, np.ndarray, np.ndarray]:
    """Quotas of 600k..3M yuan (to the fen), target incentives of 8% of quota."""
    rng = np.random.default_rng(SEED)
    quota_fen = rng.integers(60_000_000, 300_000_000, size=payees)
    ti_fen = quota_fen * 8 // 100
    quotas = [str(Decimal(int(q)) / 100) for q in quota_fen]
    incentives = [str(Decimal(int(t)) / 100) for t in ti_fen]
    return Payees({"bookings": quotas}, target_incentive=incentives), quota_fen, ti_fen


def attainment(payees: int) -> Normal:
    """Each payee's own mean (0.8..1.2), one spread."""
    means = np.linspace(0.8, 1.2, payees)
    return Normal(means, 0.3)


# The plan's rounding of a non-negative amount in fen, in float, as the idiom would write it.
FLOAT_ROUNDING: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "half_up": lambda fen: np.floor(fen + 0.5),
    "half_down": lambda fen: np.ceil(fen - 0.5),
    "half_even": np.rint,
    "floor": np.floor,
    "down": np.floor,
    "ceiling": np.ceil,
    "up": np.ceil,
}
CHUNKS = (100, 400, 1_000, 10_000)


def naive_payout(values_yuan: np.ndarray, quota: np.ndarray, ti: np.ndarray) -> np.ndarray:
    """The float idiom: (scenarios, payees) year values in yuan -> payouts in whole fen."""
    a = values_yuan / quota
    lift = values_yuan * 0.05
    pay = np.where(a < 0.5, values_yuan * 0.03, lift)
    pay = np.where(a >= 1.0, quota * 0.05 + (values_yuan - quota) * 0.083333, pay)
    pay = np.where(a >= 0.3, pay, 0.0)
    pay = np.minimum(pay, ti * 2.5)
    pay = pay + np.where(a >= 1.25, 20000.0, 0.0)
    return FLOAT_ROUNDING[PLAN.rounding](pay * 100)


def naive_run(scenarios: int, quota: np.ndarray, ti: np.ndarray, chunk: int) -> np.ndarray:
    """The idiom over every scenario, ``chunk`` at a time: total cost per scenario, in fen."""
    payees = len(quota)
    rng = np.random.default_rng(SEED)
    means = np.linspace(0.8, 1.2, payees)
    totals = np.empty(scenarios)
    for start in range(0, scenarios, chunk):
        size = min(chunk, scenarios - start)
        draws = np.maximum(rng.normal(means, 0.3, size=(size, payees)), 0.0)
        values = (draws * quota).round(2)
        totals[start : start + size] = naive_payout(values, quota, ti).sum(axis=1)
    return totals


def timed(work: Callable[[], T]) -> tuple[T, float]:
    """``work()`` and its wall-clock time, with nothing else running."""
    start = time.perf_counter()
    result = work()
    return result, time.perf_counter() - start


def peak_memory(work: Callable[[], object]) -> float:
    """Peak memory traced by ``tracemalloc`` while ``work`` runs, in MiB (a separate pass)."""
    tracemalloc.start()
    work()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 2**20


def best_chunk(scenarios: int, quota: np.ndarray, ti: np.ndarray) -> int:
    """The idiom's fastest chunk size, tried on a tenth of the scenarios."""
    trial = min(scenarios, max(scenarios // 10, *CHUNKS))
    sizes = [c for c in CHUNKS if c <= trial] or [trial]
    times: dict[int, float] = {}
    for size in sizes:
        times[size] = timed(functools.partial(naive_run, trial, quota, ti, size))[1]
    best = min(times, key=times.__getitem__)
    tried = ", ".join(f"{c:,}: {t:.2f} s" for c, t in times.items())
    print(f"float idiom chunk sizes on {trial:,} scenarios: {tried} -> {best:,}")
    return best


def main() -> None:
    """Run both ways and print the comparison."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenarios", type=int, default=100_000)
    parser.add_argument("--payees", type=int, default=1_000)
    parser.add_argument("--check-scenarios", type=int, default=10_000)
    args = parser.parse_args()
    payees, quota_fen, ti_fen = make_payees(args.payees)
    quota, ti = quota_fen / 100, ti_fen / 100
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores")
    print("plan: 3 tiers (marginal, retroactive lift, accelerator), gate, TI cap, milestone")
    print(f"data: {args.scenarios:,} scenarios x {args.payees:,} payees")
    chunk = best_chunk(args.scenarios, quota, ti)

    def exact() -> Simulation:
        return simulate(
            PLAN, payees, attainment=attainment(args.payees), scenarios=args.scenarios, seed=SEED
        )

    def idiom() -> np.ndarray:
        return naive_run(args.scenarios, quota, ti, chunk)

    result, exact_time = timed(exact)
    naive_totals, naive_time = timed(idiom)
    cost = result.summary()["total_cost"]
    if not isinstance(cost, dict):
        raise TypeError(cost)
    print(
        f"\nsimulate (exact int64)          : {exact_time:8.2f} s   mean total cost "
        f"{cost['mean']:,} CNY (p5 {cost['p5']:,}, p95 {cost['p95']:,})"
    )
    print(
        f"numpy float idiom (chunk {chunk:>5,}) : {naive_time:8.2f} s   mean total cost "
        f"{naive_totals.mean() / 100:,.2f} CNY (its own draws; no per-payee percentiles, "
        "no tier shares)"
    )
    if naive_time < exact_time:
        print(f"the float idiom is {exact_time / naive_time:.2f}x faster than simulate")
    else:
        print(f"simulate is {naive_time / exact_time:.2f}x faster than the float idiom")
    print(
        f"numpy peak memory (separate pass, tracemalloc): simulate {peak_memory(exact):,.0f} MiB,"
        f" float idiom {peak_memory(idiom):,.0f} MiB"
    )
    drift(args, payees, quota, ti)


def drift(args: argparse.Namespace, payees: Payees, quota: np.ndarray, ti: np.ndarray) -> None:
    """The idiom on exactly the values simulate drew, against its exact payouts."""
    check = min(args.check_scenarios, args.scenarios)
    kept = simulate(
        PLAN, payees, attainment=attainment(args.payees), scenarios=check, seed=SEED, keep=True
    )
    if kept.values is None or kept.payouts is None:
        msg = "keep=True kept nothing"
        raise SystemExit(msg)
    naive_fen = naive_payout(kept.values["bookings"] / 100, quota, ti).astype(np.int64)
    off = naive_fen - kept.payouts
    wrong = int(np.count_nonzero(off))
    total_off = sum(naive_fen.ravel().tolist()) - sum(kept.payouts.ravel().tolist())
    print(
        f"idiom drift on {check:,} scenarios x {args.payees:,} payees (the same draws, "
        f"rounded {PLAN.rounding} like the plan): {wrong:,} payee-years off "
        f"({wrong / off.size:.4%}), worst {int(np.abs(off).max())} fen; "
        f"total cost off by {total_off / 100:+,.2f} CNY"
    )


if __name__ == "__main__":
    main()
