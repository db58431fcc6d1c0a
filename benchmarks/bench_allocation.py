"""Benchmark: splitting 100k parent targets over 5M children, to the fen.

Three ways to do the same job, in one process on the same data:

1. ``allocate_grouped``: salesflow's vectorized largest-remainder allocation over
   int64 minor units, all groups in one call;
2. ``allocate`` (the scalar reference) called once per group in a Python loop, timed
   on a subset of groups and extrapolated linearly to all of them (labelled so);
3. the pandas idiom an analyst would write: float shares per group, ``round(2)``.

It prints the times, their ratios, and how many groups each way gets wrong (parts
that do not sum to the parent's total). Nothing is asserted about time.

Run: ``.venv/bin/python benchmarks/bench_allocation.py [--groups N] [--weights N]``.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from salesflow.money import Money, allocate, allocate_grouped, from_minor_units_array

if TYPE_CHECKING:
    from collections.abc import Callable

    from numpy.typing import NDArray

SEED = 20261127


def make_data(
    groups: int, weights: int, seed: int = SEED
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.intp]]:
    """Parent totals in fen, child weights (last year's sales in yuan), child->parent."""
    rng = np.random.default_rng(seed)
    totals = rng.integers(1_000_000, 10_000_000_000, size=groups, dtype=np.int64)  # 1e4..1e8 CNY
    child_weights = rng.integers(0, 2_000_000, size=weights, dtype=np.int64)
    parent = rng.integers(0, groups, size=weights).astype(np.intp)
    parent[:groups] = np.arange(groups)  # every parent has a child...
    rng.shuffle(parent)  # ...and children come in no particular order
    child_weights[child_weights == 0] = 1  # and no parent has only zero weights
    return totals, child_weights, parent


def timed(function: Callable[[], object], repeat: int) -> tuple[float, float, object]:
    """First-call time, median of the next ``repeat`` calls, and the last result."""
    start = time.perf_counter()
    result = function()
    first = time.perf_counter() - start
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return first, statistics.median(times) if times else first, result


def scalar_loop(
    totals: NDArray[np.int64], members: list[NDArray[np.intp]], weights: NDArray[np.int64]
) -> dict[int, list[Money]]:
    """The scalar reference, group by group, as a loop over Money would be written."""
    parts = {}
    for group, positions in enumerate(members):
        total = Money.from_minor_units(int(totals[group]), "CNY")
        parts[group] = allocate(total, weights[positions].tolist())
    return parts


def pandas_idiom(frame: pd.DataFrame, totals_yuan: pd.Series) -> pd.Series:
    """Float shares of each parent's total in yuan, rounded to the fen with round(2)."""
    weight_sum = frame.groupby("parent")["weight"].transform("sum")
    share = frame["parent"].map(totals_yuan) * frame["weight"] / weight_sum
    return share.round(2)


def main() -> None:
    """Run the three ways and print the comparison."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--groups", type=int, default=100_000)
    parser.add_argument("--weights", type=int, default=5_000_000)
    parser.add_argument("--scalar-groups", type=int, default=2_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    totals, weights, parent = make_data(args.groups, args.weights)
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores")
    print(f"data: {args.groups:,} parents, {args.weights:,} children, totals in fen")

    # 1. vectorized
    first, grouped_time, result = timed(
        lambda: allocate_grouped(totals, weights, parent), args.repeat
    )
    grouped = np.asarray(result)
    sums = np.zeros(args.groups, dtype=np.int64)
    np.add.at(sums, parent, grouped)
    grouped_wrong = int((sums != totals).sum())
    print(
        f"\nallocate_grouped          : {grouped_time:8.3f} s  (median of {args.repeat}; "
        f"first call in the process {first:.3f} s)   groups wrong: {grouped_wrong}"
    )

    # 2. scalar reference in a Python loop, on a subset, extrapolated
    subset = min(args.scalar_groups, args.groups)
    order = np.argsort(parent, kind="stable")
    bounds = np.searchsorted(parent[order], np.arange(args.groups + 1))
    members = [order[bounds[g] : bounds[g + 1]] for g in range(subset)]
    start = time.perf_counter()
    scalar = scalar_loop(totals, members, weights)
    scalar_subset_time = time.perf_counter() - start
    scalar_time = scalar_subset_time * args.groups / subset
    identical = all(
        from_minor_units_array(grouped[positions], "CNY") == scalar[g]
        for g, positions in enumerate(members)
    )
    print(
        f"scalar allocate() loop    : {scalar_time:8.3f} s  EXTRAPOLATED from {subset:,} "
        f"groups measured in {scalar_subset_time:.3f} s   identical to allocate_grouped "
        f"on those groups: {identical}"
    )

    # 3. the pandas idiom
    frame = pd.DataFrame({"parent": parent, "weight": weights})
    totals_yuan = pd.Series(totals / 100)
    first, pandas_time, result = timed(lambda: pandas_idiom(frame, totals_yuan), args.repeat)
    pandas_parts = result if isinstance(result, pd.Series) else pd.Series(result)
    fen = (pandas_parts * 100).round().astype(np.int64)
    pandas_sums = fen.groupby(frame["parent"]).sum().reindex(range(args.groups), fill_value=0)
    off = pandas_sums.to_numpy() - totals
    pandas_wrong = int((off != 0).sum())
    print(
        f"pandas float + round(2)   : {pandas_time:8.3f} s  (median of {args.repeat})"
        f"   groups wrong: {pandas_wrong:,} of {args.groups:,} "
        f"({pandas_wrong / args.groups:.1%}; worst {int(np.abs(off).max())} fen off)"
    )

    print("\nratios (higher = allocate_grouped faster):")
    print(f"  scalar loop (extrapolated) / allocate_grouped : {scalar_time / grouped_time:8.1f}x")
    print(f"  pandas idiom / allocate_grouped               : {pandas_time / grouped_time:8.1f}x")


if __name__ == "__main__":
    main()
