"""The benchmark scripts still run (on small sizes), so their figures can be re-measured.

They need the [bench] extra's peers (cel-python, simpleeval, transitions,
python-statemachine); .ci/run installs them. Slow: run by the second pytest pass.
"""

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
SMALL = {
    "bench_allocation.py": [
        "--groups",
        "200",
        "--weights",
        "5000",
        "--scalar-groups",
        "50",
        "--repeat",
        "1",
    ],
    "bench_expressions.py": [],
    "bench_incentives.py": [
        "--transactions",
        "20000",
        "--payees",
        "200",
        "--reference-payees",
        "20",
    ],
    "bench_simulate.py": ["--scenarios", "2000", "--payees", "100", "--check-scenarios", "500"],
    "bench_table_input.py": ["--transactions", "20000", "--payees", "200", "--repeat", "1"],
    "bench_targets.py": ["--persons", "2000"],
    "bench_workflow.py": ["--fires", "2000", "--states", "200", "--transitions", "1000"],
}
PEERS = ("celpy", "simpleeval", "transitions", "statemachine", "pandas")


def test_every_benchmark_script_is_listed_here():
    assert sorted(p.name for p in BENCHMARKS.glob("bench_*.py")) == sorted(SMALL)


@pytest.mark.slow
@pytest.mark.parametrize("script", sorted(SMALL))
def test_benchmark_runs_on_a_small_size_and_prints_its_figures(script):
    missing = [p for p in PEERS if importlib.util.find_spec(p) is None]
    if missing:
        pytest.skip(f"the [bench] extra is not installed (missing {missing})")
    completed = subprocess.run(  # noqa: S603 - our own scripts, our own interpreter
        [sys.executable, str(BENCHMARKS / script), *SMALL[script]],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    assert completed.stdout.strip()
