"""The README, as a new user reads it: its commands are what CI runs, its code runs."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")
CI = (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def _blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README, flags=re.DOTALL)


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own README and examples, our own interpreter
        [sys.executable, *args], capture_output=True, text=True, check=False, cwd=ROOT, timeout=300
    )


def test_the_readme_set_up_is_two_commands_one_main_job_one_test_suite():
    commands = [block.strip() for block in _blocks("bash")[:2]]
    assert len(commands) == 2
    main_job, tests = commands
    assert "examples/tour.py" in main_job or "salesflow demo" in main_job
    assert "pytest" in tests


def test_ci_runs_exactly_the_readme_test_command():
    test_command = _blocks("bash")[1].strip()
    assert test_command in CI


@pytest.mark.parametrize("block", _blocks("python"), ids=lambda b: b.splitlines()[0][:40])
def test_every_python_block_in_the_readme_runs(block):
    completed = _run("-c", block)
    assert completed.returncode == 0, completed.stderr


def test_printed_results_shown_in_comments_are_what_the_code_prints():
    for block in _blocks("python"):
        shown = re.findall(r"print\(.*\)\s+#\s*(.+)$", block, flags=re.MULTILINE)
        if not shown:
            continue
        completed = _run("-c", block)
        assert completed.returncode == 0, completed.stderr
        assert completed.stdout.splitlines() == [s.strip() for s in shown]


def test_the_main_job_runs_and_says_what_it_shows():
    completed = _run(str(ROOT / "examples" / "tour.py"))
    assert completed.returncode == 0, completed.stderr
    for heading in ("Money", "Fiscal calendar", "Business time", "Expressions", "Org", "Workflow"):
        assert heading in completed.stdout
