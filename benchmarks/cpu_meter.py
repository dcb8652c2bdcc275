"""CPU seconds of this process and everything it started, without losing the processes that
ended.

A snapshot of the live process tree (psutil's children) misses a process that has ended,
unless a parent in the tree waited for it and so holds its time in its own `children_*`
times. Spark's Python workers can outlive the daemon that forked them; init then reaps them
and their time is gone, so a snapshot taken after they ended can come out lower than one
taken before (a benchmark printed -0.1 CPU s for a 9.7 s run). The meter samples the tree in
the background, follows a process it has seen even once init adopted it, and keeps each
process's last-seen time (also through a scan that fails to read a process still running); a
process that ends is forgotten only when its parent is still in the tree, where its time now
is.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import psutil

SAMPLE_INTERVAL_S = 0.2


@dataclass(frozen=True)
class _Seen:
    cpu: float  # own user + system time, plus the children it waited for
    parent: int


class CpuMeter:
    """Samples this process's tree every `interval_s` on a daemon thread."""

    def __init__(self, interval_s: float = SAMPLE_INTERVAL_S) -> None:
        self._interval_s = interval_s
        self._lock = threading.Lock()
        self._seen: dict[tuple[int, float], _Seen] = {}
        self._ended = 0.0  # time of ended processes that no parent in the tree waited for
        self._sample()
        threading.Thread(target=self._keep_sampling, daemon=True).start()

    def seconds(self) -> float:
        """CPU seconds used so far by this process and every process it started."""
        return self._sample()

    def _keep_sampling(self) -> None:
        while True:
            time.sleep(self._interval_s)
            self._sample()

    def _sample(self) -> float:
        """One scan of the tree, under the lock: two scans at once could each see a process
        end and count its time twice."""
        with self._lock:
            me = psutil.Process()
            tree = [me, *me.children(recursive=True)]
            in_tree = {process.pid for process in tree}
            adopted = _still_running([key for key in self._seen if key[0] not in in_tree])
            live: dict[tuple[int, float], _Seen] = {}
            for process in [*tree, *adopted]:
                try:
                    with process.oneshot():
                        times = process.cpu_times()
                        cpu = (
                            times.user + times.system + times.children_user + times.children_system
                        )
                        live[(process.pid, process.create_time())] = _Seen(cpu, process.ppid())
                except psutil.Error:
                    continue
            live_pids = {pid for pid, _ in live}
            for key, seen in self._seen.items():
                if key in live:
                    continue
                if _still_running([key]):
                    # Missed by this scan (psutil could not read it this time), not ended:
                    # its last-seen time still counts, or the total would dip until next scan.
                    live[key] = seen
                elif seen.parent not in live_pids:
                    self._ended += seen.cpu
            self._seen = live
            return self._ended + sum(seen.cpu for seen in live.values())


def _still_running(keys: list[tuple[int, float]]) -> list[psutil.Process]:
    """The processes seen before that still run outside the tree: one whose parent ended has
    left it (init adopted it) but still uses CPU this process started."""
    running = []
    for pid, created in keys:
        try:
            process = psutil.Process(pid)
            if process.create_time() == created and process.status() != psutil.STATUS_ZOMBIE:
                running.append(process)
        except psutil.Error:
            continue
    return running


_METER: CpuMeter | None = None


def cpu_seconds() -> float:
    """CPU time used so far by this process and everything it started (Spark's JVM, its
    Python workers, the steps it ran, and those already gone): unlike wall time, it hardly
    depends on what else the machine runs. The first call starts the background sampling."""
    global _METER
    if _METER is None:
        _METER = CpuMeter()
    return _METER.seconds()
