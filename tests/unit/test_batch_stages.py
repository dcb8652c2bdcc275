"""How the local batch runs a pair of stages: side by side or one after the other."""

from __future__ import annotations

import threading

import pytest

from local_platform.batch_pipeline import BatchSettings, both

WAIT_S = 10


def test_side_by_side_the_two_stages_run_at_the_same_time() -> None:
    # Each stage waits for the other to have started: only concurrent calls can both return.
    started = [threading.Event(), threading.Event()]

    def stage(index: int) -> int:
        started[index].set()
        assert started[1 - index].wait(WAIT_S)
        return index * 10 + 7

    assert both(lambda: stage(0), lambda: stage(1), side_by_side=True) == (7, 17)


def test_one_at_a_time_the_second_starts_after_the_first_ended() -> None:
    order: list[str] = []
    threads: list[int] = []

    def stage(name: str) -> str:
        threads.append(threading.get_ident())
        order.append(f"{name} start")
        order.append(f"{name} end")
        return name.upper()

    assert both(lambda: stage("a"), lambda: stage("b"), side_by_side=False) == ("A", "B")
    assert order == ["a start", "a end", "b start", "b end"]
    assert set(threads) == {threading.get_ident()}


@pytest.mark.parametrize("failing_first", [True, False])
def test_side_by_side_a_failure_is_raised_once_the_other_stage_ended(failing_first) -> None:
    ended = threading.Event()

    def failing() -> None:
        raise ValueError("gate failed")

    def slow() -> int:
        threading.Event().wait(0.2)
        ended.set()
        return 1

    pair = (failing, slow) if failing_first else (slow, failing)
    with pytest.raises(ValueError, match="gate failed"):
        both(*pair, side_by_side=True)
    assert ended.is_set()


def test_one_at_a_time_a_failed_first_stage_stops_the_pair() -> None:
    called: list[str] = []

    def failing() -> None:
        raise ValueError("gate failed")

    with pytest.raises(ValueError, match="gate failed"):
        both(failing, lambda: called.append("second"), side_by_side=False)
    assert called == []


def test_stages_run_side_by_side_unless_told_otherwise(tmp_path) -> None:
    assert BatchSettings("postgresql://localhost/shop", tmp_path / "events.jsonl").side_by_side
