"""Decompose a year target over a 100,000-person org (5 levels) and 52 weeks.

salesflow's vectorized engine side by side with the pandas implementation an analyst
would write (float shares down the tree, times the weekly amount, rounded to cents),
in one process, on the same org and plan. Prints times, the ratio, tracemalloc peaks,
and how far each result is from adding up.

    python benchmarks/bench_targets.py            # 100,000 persons
    python benchmarks/bench_targets.py --persons 10000
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
import tracemalloc
from decimal import Decimal
from typing import TYPE_CHECKING, TypeVar

import numpy as np
import pandas as pd

from salesflow.targets import Actuals, OrgTree, TargetPlan, decompose, track

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

T = TypeVar("T")
TOTAL = Decimal("1234567890.12")
WEEKS_PER_YEAR = 52


def org_records(persons: int) -> Iterator[dict[str, object]]:
    """Company -> 10 regions -> 100 districts -> persons/50 teams -> persons."""
    regions, districts, teams = 10, 100, max(1, persons // 50)
    yield {"id": "co"}
    for r in range(regions):
        yield {"id": f"r{r}", "parent": "co", "attributes": {"potential": r % 3 + 1}}
    for d in range(districts):
        yield {"id": f"d{d}", "parent": f"r{d % regions}", "attributes": {"potential": 1}}
    for t in range(teams):
        yield {"id": f"t{t}", "parent": f"d{t % districts}", "attributes": {"potential": t % 5 + 1}}
    for p in range(persons):
        yield {"id": f"p{p}", "parent": f"t{p % teams}", "attributes": {"potential": p % 7 + 1}}


PLAN = TargetPlan.model_validate(
    {
        "name": "FY2026 bookings",
        "total": f"{TOTAL} CNY",
        "fiscal_year": 2026,
        "calendar": {
            "kind": "retail",
            "pattern": "4-4-5",
            "year_end_month": 12,
            "year_end_weekday": "saturday",
        },
        "grain": "week",
        "time": {"method": "equal"},
        "org": [{"method": "attribute", "attribute": "potential"}],
    }
)


def pandas_decomposition(records: list[dict[str, object]]) -> pd.DataFrame:
    """The idiom: float shares down the tree, times each week's amount, round(2)."""
    nodes = pd.DataFrame(
        {
            "id": [r["id"] for r in records],
            "parent": [r.get("parent") for r in records],
            "w": [r.get("attributes", {}).get("potential", 1) for r in records],
        }
    )
    nodes["share"] = nodes["w"] / nodes.groupby("parent", dropna=False)["w"].transform("sum")
    nodes.loc[nodes["parent"].isna(), "share"] = 1.0
    share = nodes.set_index("id")["share"]
    parent = nodes.set_index("id")["parent"]
    path_share = share.copy()
    up = parent.copy()
    while up.notna().any():  # multiply the shares up to the root, one level per pass
        has = up.notna()
        path_share[has] *= share.reindex(up[has]).to_numpy()
        up = parent.reindex(up).set_axis(up.index).where(has)
    leaves = nodes.loc[~nodes["id"].isin(nodes["parent"].dropna()), "id"]
    weeks = pd.DataFrame({"week": range(WEEKS_PER_YEAR)})
    weeks["amount"] = float(TOTAL) / WEEKS_PER_YEAR
    cells = pd.DataFrame({"id": leaves}).merge(weeks, how="cross")
    cells["amount"] = (cells["amount"] * path_share.reindex(cells["id"]).to_numpy()).round(2)
    return cells


def measure(label: str, run: Callable[[], T]) -> tuple[T, float]:
    """Time one run, then run again under tracemalloc for its peak (tracing slows it)."""
    gc.collect()
    start = time.perf_counter()
    result = run()
    seconds = time.perf_counter() - start
    del result
    gc.collect()
    tracemalloc.start()
    result = run()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"{label:<44} {seconds:8.3f} s   peak {peak / 2**20:8.1f} MiB")
    return result, seconds


def bookings(grid_nodes: tuple[str, ...], count: int) -> tuple[np.ndarray, ...]:
    """A year of deals: random persons, days and amounts in fen (seeded)."""
    rng = np.random.default_rng(2026)
    persons = np.array([i for i, n in enumerate(grid_nodes) if n.startswith("p")])
    nodes = rng.choice(persons, size=count)
    start = PLAN.calendar.year(PLAN.fiscal_year).start
    days = np.datetime64(start, "D") + rng.integers(0, 364, size=count)
    amounts = rng.integers(1_000_00, 500_000_00, size=count)
    return nodes, days, amounts


def pandas_roll_up(
    records: list[dict[str, object]], nodes: np.ndarray, days: np.ndarray, amounts: np.ndarray
) -> pd.Series:
    """The idiom: sum per (node, week), then add each level into its parent."""
    parent = pd.Series({r["id"]: r.get("parent") for r in records})
    ids = np.array([r["id"] for r in records], dtype=object)
    start = np.datetime64(PLAN.calendar.year(PLAN.fiscal_year).start, "D")
    frame = pd.DataFrame(
        {"node": ids[nodes], "week": (days - start).astype(int) // 7, "amount": amounts}
    )
    level = frame.groupby(["node", "week"], as_index=False)["amount"].sum()
    total = [level]
    while len(level):
        level = level.assign(node=parent.reindex(level["node"]).to_numpy()).dropna()
        level = level.groupby(["node", "week"], as_index=False)["amount"].sum()
        total.append(level)
    return pd.concat(total).groupby(["node", "week"])["amount"].sum()


def load(records: list[dict[str, object]]) -> OrgTree:
    """Load the org (timed separately: not part of the decomposition figure)."""
    return OrgTree.from_records(records)


def main() -> None:
    """Run both, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--persons", type=int, default=100_000)
    args = parser.parse_args()
    records = list(org_records(args.persons))
    print(f"org: {len(records):,} nodes, {args.persons:,} persons; 52 weeks")
    org, load_s = measure("salesflow: load and validate the org", lambda: load(records))
    grid, cold_s = measure(
        "salesflow: decompose, first call (indexes org)", lambda: decompose(PLAN, org)
    )
    grid, sf_s = measure("salesflow: decompose, again (org indexed)", lambda: decompose(PLAN, org))
    cells, pd_s = measure("pandas idiom: decompose", lambda: pandas_decomposition(records))
    deals = 50 * args.persons
    nodes, days, amounts = bookings(grid.nodes, deals)
    year_end = PLAN.calendar.year(PLAN.fiscal_year).end
    actuals = Actuals.from_columns(nodes, days, amounts)
    tracking, roll_s = measure(
        f"salesflow: roll up {deals:,} bookings (track)", lambda: track(grid, actuals, at=year_end)
    )
    rolled, pd_roll_s = measure(
        "pandas idiom: roll up the same bookings",
        lambda: pandas_roll_up(records, nodes, days, amounts),
    )
    if not int(rolled.loc["co"].sum()) == int(amounts.sum()) == int(tracking.actual[:, 0].sum()):
        sys.exit("the two roll-ups disagree")

    leaves_sum = int(
        grid.amounts[:, [i for i, n in enumerate(grid.nodes) if n.startswith("p")]].sum()
    )
    sf_drift = leaves_sum - int(TOTAL * 100)
    pd_drift = round(float(cells["amount"].sum()) * 100) - int(TOTAL * 100)
    cell_count = grid.amounts.shape[0] * args.persons
    print()
    print(f"cells (person x week): {cell_count:,}")
    print(
        f"pandas time / salesflow time: {pd_s / cold_s:.2f} (first call), {pd_s / sf_s:.2f} (again)"
    )
    print(f"sum of persons - total: salesflow {sf_drift} fen, pandas {pd_drift} fen")
    print(f"incoherent parent cells (salesflow check): {len(grid.check())}")
    print(f"roll-up: pandas time / salesflow time: {pd_roll_s / roll_s:.2f}")
    weekly = cells.groupby("week")["amount"].sum().round(2).to_numpy()
    exact_week = np.array([int(v) for v in grid.amounts[:, grid.nodes.index("co")]]) / 100
    off = int((np.abs(weekly - exact_week) > 0.005).sum())
    print(f"pandas weeks whose persons do not sum to the week: {off} of 52")
    print(f"(loading the org took {load_s:.2f} s and is not part of the decomposition figure)")
    print(f"(the roll-up runs on positions; a year of {deals:,} bookings, all persons' weeks)")


if __name__ == "__main__":
    main()
