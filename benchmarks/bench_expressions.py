"""Expression language benchmark: salesflow against the peers a user would pick instead.

Run with ``python benchmarks/bench_expressions.py``. It prints three tables:

1. per-row evaluation of ``amount > 1000 && region == "east"``: a plain Python
   lambda (the floor), salesflow (``amount`` as int and as decimal(2)), simpleeval
   (pre-parsed) and cel-python (``celpy``);
2. the same condition over 1,000,000 rows: salesflow's vectorized ``mask`` against
   numpy by hand (the floor), a pandas boolean mask and ``DataFrame.eval``;
3. compile time.

Every implementation is first checked to select the same rows. Times are the best
of several repeats; ratios are against salesflow. Nothing here asserts on time.
The peers are in the ``bench`` extra (``pip install -e '.[bench]'``).
"""

from __future__ import annotations

import itertools
import random
import timeit
from decimal import Decimal
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from salesflow.expressions import compile_expression

if TYPE_CHECKING:
    from collections.abc import Callable

SOURCE = 'amount > 1000 && region == "east"'
PYTHON_SOURCE = "amount > 1000 and region == 'east'"
REGIONS = ["east", "west", "north", "south", "华东"]
ROWS = 2_000
COLUMN_ROWS = 1_000_000


def best_of(run: Callable[[], object], *, number: int, repeat: int = 5) -> float:
    """Seconds for one call of ``run``: the best of ``repeat`` timings of ``number`` calls."""
    return min(timeit.repeat(run, number=number, repeat=repeat)) / number


def make_rows(count: int) -> list[dict[str, object]]:
    """Rows with an int amount around the threshold and a region."""
    rng = random.Random(7)
    return [{"amount": rng.randint(0, 3000), "region": rng.choice(REGIONS)} for _ in range(count)]


def scalar_table() -> None:
    """Per-row evaluation: microseconds per row, and the ratio to salesflow."""
    import celpy  # noqa: PLC0415 - optional peer, imported where it is measured
    import simpleeval  # noqa: PLC0415
    from celpy import celtypes  # noqa: PLC0415

    rows = make_rows(ROWS)
    decimal_rows = [{**r, "amount": Decimal(f"{r['amount']}.00")} for r in rows]
    as_int = compile_expression(SOURCE, {"amount": "int", "region": "string"})
    as_decimal = compile_expression(SOURCE, {"amount": "decimal(2)", "region": "string"})

    def floor(row: dict[str, object]) -> bool:
        return row["amount"] > 1000 and row["region"] == "east"  # type: ignore[operator]

    evaluator = simpleeval.SimpleEval()
    parsed = evaluator.parse(PYTHON_SOURCE)

    def simple(row: dict[str, object]) -> object:
        evaluator.names = row
        return evaluator.eval(PYTHON_SOURCE, previously_parsed=parsed)

    environment = celpy.Environment()
    program = environment.program(environment.compile(SOURCE))
    cel_rows = [
        {"amount": celtypes.IntType(r["amount"]), "region": celtypes.StringType(r["region"])}
        for r in rows
    ]

    contenders: list[tuple[str, Callable[[], list[object]], int]] = [
        ("python lambda (floor)", lambda: [floor(r) for r in rows], 20),
        ("salesflow, amount int", lambda: [as_int.matches(r) for r in rows], 20),
        ("salesflow, amount decimal(2)", lambda: [as_decimal.matches(r) for r in decimal_rows], 10),
        ("simpleeval (pre-parsed)", lambda: [simple(r) for r in rows], 5),
        ("cel-python (celpy)", lambda: [bool(program.evaluate(r)) for r in cel_rows], 1),
    ]
    expected = [floor(r) for r in rows]
    timings = {}
    for name, run, number in contenders:
        if [bool(x) for x in run()] != expected:
            print(f"  !! {name} disagrees with the plain lambda")
        timings[name] = best_of(run, number=number, repeat=3) / len(rows)
    reference = timings["salesflow, amount int"]
    print(f"\nPer-row evaluation of {SOURCE!r} ({len(rows):,} rows)")
    print(f"  {'implementation':32} {'us/row':>10} {'x salesflow':>12}")
    for name, seconds in timings.items():
        print(f"  {name:32} {seconds * 1e6:10.3f} {seconds / reference:12.2f}")


def vector_table() -> None:
    """Whole-column evaluation: rows per second, and the ratio to salesflow."""
    rng = np.random.default_rng(7)
    amount = rng.integers(0, 3000, COLUMN_ROWS)
    region = np.array(REGIONS)[rng.integers(0, len(REGIONS), COLUMN_ROWS)]
    columns = {"amount": amount, "region": region}
    cents = {"amount": amount * 100, "region": region}
    frame = pd.DataFrame({"amount": amount, "region": region})
    as_int = compile_expression(SOURCE, {"amount": "int", "region": "string"})
    as_decimal = compile_expression(SOURCE, {"amount": "decimal(2)", "region": "string"})
    contenders: list[tuple[str, Callable[[], object]]] = [
        ("numpy by hand (floor)", lambda: (amount > 1000) & (region == "east")),
        ("salesflow mask, amount int", lambda: as_int.mask(columns)),
        ("salesflow mask, decimal(2) cents", lambda: as_decimal.mask(cents)),
        ("pandas boolean mask", lambda: (frame["amount"] > 1000) & (frame["region"] == "east")),
        ("pandas DataFrame.eval", lambda: frame.eval(PYTHON_SOURCE)),
    ]
    expected = np.asarray(contenders[0][1]())
    rates = {}
    for name, run in contenders:
        if not np.array_equal(np.asarray(run()), expected):
            print(f"  !! {name} disagrees with numpy by hand")
        rates[name] = COLUMN_ROWS / best_of(run, number=3)
    reference = rates["salesflow mask, amount int"]
    print(f"\nVectorized {SOURCE!r} over {COLUMN_ROWS:,} rows")
    print(f"  {'implementation':34} {'M rows/s':>10} {'x salesflow':>12}")
    for name, rate in rates.items():
        print(f"  {name:34} {rate / 1e6:10.1f} {rate / reference:12.2f}")


def compile_table() -> None:
    """Time to turn the text into something that evaluates."""
    import celpy  # noqa: PLC0415 - optional peer, imported where it is measured
    import simpleeval  # noqa: PLC0415

    schema = {"amount": "decimal(2)", "region": "string"}
    environment = celpy.Environment()
    # A new constant each call defeats the parse cache: the cost of a first compile.
    fresh = (f'amount > {1000 + i} && region == "east"' for i in itertools.count())
    contenders: list[tuple[str, Callable[[], object]]] = [
        ("salesflow, first compile", lambda: compile_expression(next(fresh), schema)),
        ("salesflow, again (parse cached)", lambda: compile_expression(SOURCE, schema)),
        ("cel-python compile + program", lambda: environment.program(environment.compile(SOURCE))),
        ("simpleeval parse", lambda: simpleeval.SimpleEval().parse(PYTHON_SOURCE)),
    ]
    timings = {name: best_of(run, number=50) for name, run in contenders}
    reference = timings["salesflow, first compile"]
    print(f"\nCompile time of {SOURCE!r}")
    print(f"  {'implementation':32} {'us':>10} {'x salesflow':>12}")
    for name, seconds in timings.items():
        print(f"  {name:32} {seconds * 1e6:10.1f} {seconds / reference:12.2f}")


if __name__ == "__main__":
    scalar_table()
    vector_table()
    compile_table()
