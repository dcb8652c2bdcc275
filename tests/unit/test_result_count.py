"""The result_count plugin on a tiny test tree, run by pytest in a subprocess.

The same file given twice with --keep-duplicates yields two tests with one id: the state
`make test` was in when a schemathesis test was silently dropped under xdist.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

TESTS_DIR = Path(__file__).resolve().parents[1]


def _run_pytest(tree: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(TESTS_DIR)}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "result_count", "-p", "no:cacheprovider", *args],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    (tmp_path / "test_tiny.py").write_text(
        "def test_one():\n    pass\n\ndef test_two():\n    pass\n"
    )
    return tmp_path


@pytest.mark.parametrize(
    "workers", [[], ["-n", "2", "--dist", "loadfile"]], ids=["serial", "xdist"]
)
def test_a_duplicated_id_fails_the_run_with_one_line(tree: Path, workers: list[str]) -> None:
    run = _run_pytest(tree, *workers, "--keep-duplicates", "test_tiny.py", "test_tiny.py")

    assert run.returncode == pytest.ExitCode.TESTS_FAILED, run.stdout + run.stderr
    lines = [line for line in run.stdout.splitlines() if line.startswith("result count:")]
    assert lines == [
        "result count: 4 tests collected, 2 results; ids collected more than once: "
        "test_tiny.py::test_one, test_tiny.py::test_two"
    ]


@pytest.mark.parametrize(
    "workers", [[], ["-n", "2", "--dist", "loadfile"]], ids=["serial", "xdist"]
)
def test_a_run_whose_results_add_up_passes(tree: Path, workers: list[str]) -> None:
    run = _run_pytest(tree, *workers, "test_tiny.py")

    assert run.returncode == pytest.ExitCode.OK, run.stdout + run.stderr
    assert "result count:" not in run.stdout


def test_a_run_stopped_early_is_not_checked(tree: Path) -> None:
    (tree / "test_tiny.py").write_text(
        "def test_one():\n    assert False\n\ndef test_two():\n    pass\n"
    )

    run = _run_pytest(tree, "-x", "test_tiny.py")

    assert run.returncode == pytest.ExitCode.TESTS_FAILED
    assert "result count:" not in run.stdout
