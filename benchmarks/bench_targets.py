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
import datetime as dt
import gc
import resource
import sys
import time
import tracemalloc
from decimal import Decimal
from typing import TYPE_CHECKING, TypeVar

import numpy as np
import pandas as pd

from salesflow.targets import Actuals, OrgTree, TargetGrid, TargetPlan, decompose, track

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

T = TypeVar("T")
TOTAL = Decimal("1234567890.12")
WEEKS_PER_YEAR = 52


def org_records(persons: int, *, churn: bool = True) -> Iterator[dict[str, object]]:
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
        record = {"id": f"p{p}", "parent": f"t{p % teams}", "attributes": {"potential": p % 7 + 1}}
        # Churn, as a real year has it: in every team of 50, 3 join (and ramp), 2 leave
        # and 2 move to the next team.
        day = f"2026-{p % 12 + 1:02d}-{p % 28 + 1:02d}"
        seat = _seat(p, persons) if churn else _MOVE
        if seat < _JOIN:
            record["start"] = day
        elif seat < _LEAVE:
            record["end"] = day
        elif seat < _MOVE and day > "2026-01-01":
            yield {**record, "end": _day_before(day)}
            record = {**record, "parent": f"t{(p + 1) % teams}", "start": day}
        yield record


_JOIN, _LEAVE, _MOVE = 3, 5, 7


def _seat(person: int, persons: int) -> int:
    """The person's place within their team (0..49)."""
    return person // max(1, persons // 50)


def _day_before(day: str) -> str:
    return (dt.date.fromisoformat(day) - dt.timedelta(days=1)).isoformat()


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
        "ramp": ["0.25", "0.5", "0.75"],
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
    # Persons active all year (the churned ones would book only part of it).
    count = sum(1 for n in grid_nodes if n.startswith("p"))
    persons = np.array(
        [
            i
            for i, n in enumerate(grid_nodes)
            if n.startswith("p") and _seat(int(n[1:]), count) >= _MOVE
        ]
    )
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
    parser.add_argument(
        "--no-churn",
        action="store_true",
        help="no joiners, leavers or movers: the same work as the pandas idiom does",
    )
    parser.add_argument(
        "--salesflow-only", action="store_true", help="skip pandas, so peak RSS is salesflow's"
    )
    args = parser.parse_args()
    records = list(org_records(args.persons, churn=not args.no_churn))
    churn = "no churn" if args.no_churn else "7 of every 50 persons join, leave or move"
    print(f"org: {len(records):,} records, {args.persons:,} persons ({churn}); 52 weeks")
    org, load_s = measure("salesflow: load and validate the org", lambda: load(records))
    grid, cold_s = measure(
        "salesflow: decompose, first call (indexes org)", lambda: decompose(PLAN, org)
    )
    grid, sf_s = measure("salesflow: decompose, again (org indexed)", lambda: decompose(PLAN, org))
    deals = 50 * args.persons
    nodes, days, amounts = bookings(grid.nodes, deals)
    year_end = PLAN.calendar.year(PLAN.fiscal_year).end
    actuals = Actuals.from_columns(nodes, days, amounts)
    tracking, roll_s = measure(
        f"salesflow: roll up {deals:,} bookings (track)", lambda: track(grid, actuals, at=year_end)
    )
    persons = [i for i, n in enumerate(grid.nodes) if n.startswith("p")]
    drift = int(grid.amounts[:, persons].sum()) - int(TOTAL * 100)
    print(f"sum of persons - total: salesflow {drift} fen")
    incoherent = [p for p in grid.check() if p.code == "targets.incoherent_sum"]
    print(f"cells whose reports do not add up (salesflow check): {len(incoherent)}")
    if not args.salesflow_only:
        compare_with_pandas(records, grid, (cold_s, sf_s), (nodes, days, amounts, roll_s))
        print(f"roll-up total agrees: {int(tracking.actual[:, 0].sum()) == int(amounts.sum())}")
    print(f"(loading the org took {load_s:.2f} s and is not part of the decomposition figure)")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**10
    side = "salesflow alone" if args.salesflow_only else "both sides"
    print(f"peak RSS of the whole run ({side}): {peak:,.0f} MiB")


def compare_with_pandas(
    records: list[dict[str, object]],
    grid: TargetGrid,
    decompose_s: tuple[float, float],
    booked: tuple[np.ndarray, np.ndarray, np.ndarray, float],
) -> None:
    """Run the pandas idioms on the same input and print the ratios and the drift."""
    # The idiom has no effective dating: it gets one record per node (the first).
    snapshot = list({r["id"]: r for r in reversed(records)}.values())[::-1]
    cells, pd_s = measure("pandas idiom: decompose", lambda: pandas_decomposition(snapshot))
    nodes, days, amounts, roll_s = booked
    rolled, pd_roll_s = measure(
        "pandas idiom: roll up the same bookings",
        lambda: pandas_roll_up(snapshot, nodes, days, amounts),
    )
    if int(rolled.loc["co"].sum()) != int(amounts.sum()):
        sys.exit("the pandas roll-up lost bookings")
    cold_s, sf_s = decompose_s
    drift = round(float(cells["amount"].sum()) * 100) - int(TOTAL * 100)
    print(
        f"pandas time / salesflow time: {pd_s / cold_s:.2f} (first call), {pd_s / sf_s:.2f} (again)"
    )
    print(f"sum of persons - total: pandas {drift} fen")
    print(f"roll-up: pandas time / salesflow time: {pd_roll_s / roll_s:.2f}")
    weekly = cells.groupby("week")["amount"].sum().round(2).to_numpy()
    exact_week = grid.amounts[:, grid.nodes.index("co")] / 100
    off = int((np.abs(weekly - exact_week) > 0.005).sum())
    print(f"pandas weeks whose persons do not sum to the week: {off} of 52")


if __name__ == "__main__":
    main()
