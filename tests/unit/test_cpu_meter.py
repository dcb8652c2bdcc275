"""The benchmarks' CPU meter keeps the time of processes that ended, whoever reaped them, and
counts a reaped child once."""

from __future__ import annotations

import functools
import subprocess
import sys
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

from cpu_meter import CpuMeter

BURN_S = 0.5
# Burns BURN_S of its own CPU time, then idles long enough for the meter to see all of it.
BURN = f"""
import time
started = time.process_time()
while time.process_time() - started < {BURN_S}:
    pass
time.sleep(1.0)
"""


def _wait_gone(pid: int) -> None:
    deadline = time.monotonic() + 30
    while psutil.pid_exists(pid) and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
        assert time.monotonic() < deadline, f"process {pid} still running"
        time.sleep(0.05)


def test_a_child_this_process_waits_for_counts_once() -> None:
    meter = CpuMeter(interval_s=0.05)
    before = meter.seconds()
    subprocess.run([sys.executable, "-c", BURN], check=True)
    used = meter.seconds() - before
    # Its burn plus an interpreter's start-up, not twice the burn (live, then reaped).
    assert BURN_S <= used < 2 * BURN_S


def test_an_orphan_that_init_reaps_keeps_its_time(tmp_path: Path) -> None:
    meter = CpuMeter(interval_s=0.05)
    before = meter.seconds()
    pid_file = tmp_path / "orphan.pid"
    # The child starts the burner and ends soon after: the burner is reparented to init,
    # which reaps it, so its time never reaches this process's tree.
    starter = (
        "import subprocess, sys, time; "
        f"p = subprocess.Popen([sys.executable, '-c', {BURN!r}]); "
        f"open({str(pid_file)!r}, 'w').write(str(p.pid)); time.sleep(0.3)"
    )
    subprocess.run([sys.executable, "-c", starter], check=True)
    orphan = int(pid_file.read_text())
    _wait_gone(orphan)
    time.sleep(0.2)  # a sample after it ended
    assert meter.seconds() - before >= BURN_S


def test_a_running_process_a_scan_cannot_read_keeps_its_time(monkeypatch) -> None:
    # A scan that fails to read a live process (psutil raises, e.g. while the machine is
    # loaded) took its time out of the total until the next scan: a benchmark step once
    # came out at -25 CPU s.
    meter = CpuMeter(interval_s=3600)  # scans only when asked
    burner = BURN.replace("time.sleep(1.0)", "time.sleep(60)")  # burns, then stays alive
    child = subprocess.Popen([sys.executable, "-c", burner])
    try:
        deadline = time.monotonic() + 30
        while sum(psutil.Process(child.pid).cpu_times()[:2]) < BURN_S:
            assert time.monotonic() < deadline, "the child did not burn its CPU"
            time.sleep(0.05)
        read = meter.seconds()
        original = psutil.Process.cpu_times

        @functools.wraps(original)  # keeps what psutil's oneshot() calls on it
        def unreadable_child(process: psutil.Process):
            if process.pid == child.pid:
                raise psutil.AccessDenied(process.pid)
            return original(process)

        monkeypatch.setattr(psutil.Process, "cpu_times", unreadable_child)
        assert meter.seconds() >= read
    finally:
        child.kill()
        child.wait()
