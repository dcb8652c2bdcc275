"""Driver threads: calls side by side, results in order, errors raised where read."""

from __future__ import annotations

import threading

import pytest

from glue_jobs.parallel import map_concurrently, started_beside


def test_map_concurrently_runs_calls_at_once_and_keeps_the_items_order() -> None:
    # Each call waits until all three have started: run one at a time, this would time out.
    barrier = threading.Barrier(3, timeout=10)

    def square(number: int) -> int:
        barrier.wait()
        return number * number

    assert map_concurrently(square, [3, 1, 2], threads=3) == [9, 1, 4]


def test_a_function_started_beside_runs_while_the_block_does() -> None:
    started = threading.Event()
    release = threading.Event()

    def beside() -> str:
        started.set()
        assert release.wait(timeout=10)
        return threading.current_thread().name

    with started_beside(beside) as future:
        assert started.wait(timeout=10)  # running before the block does anything else
        assert not future.done()
        release.set()
        thread = future.result()
    assert thread != threading.current_thread().name


def test_an_error_beside_is_raised_when_its_result_is_read() -> None:
    def failing() -> None:
        raise ValueError("holdout failed")

    with started_beside(failing) as future, pytest.raises(ValueError, match="holdout failed"):
        future.result()
