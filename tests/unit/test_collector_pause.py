"""The stream processor's pause of the cycle collector: counted holds, and the collector's
state before the first hold is what the last release restores."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from lambdas.stream_processor.processor import CollectorPause


@pytest.fixture
def collector_restored() -> Iterator[None]:
    enabled = gc.isenabled()
    yield
    if enabled:
        gc.enable()
    else:
        gc.disable()


def test_the_collector_resumes_only_when_the_last_hold_is_released(collector_restored) -> None:
    gc.enable()
    pause = CollectorPause()
    pause.hold()  # a batch being parsed
    pause.hold()  # the previous one being counted on another thread
    pause.release()
    assert not gc.isenabled()
    pause.release()
    assert gc.isenabled()


def test_a_collector_switched_off_before_stays_off(collector_restored) -> None:
    gc.disable()
    pause = CollectorPause()
    with pause.held():
        assert not gc.isenabled()
    assert not gc.isenabled()


def test_a_batch_that_raises_still_releases_its_hold(collector_restored) -> None:
    gc.enable()
    pause = CollectorPause()
    with pytest.raises(ValueError, match="batch failed"), pause.held():
        raise ValueError("batch failed")
    assert gc.isenabled()
