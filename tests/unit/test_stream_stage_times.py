"""The stream processor's per-stage timings: laps charged to the right stage, summed over
batches and scaled per 1,000 records. A scripted clock stands in for perf_counter, so every
expected value is worked out by hand."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from lambdas.stream_processor.processor import STAGES, BatchResult, StageClock
from local_platform.stream_consumer import StreamTotals


def scripted(readings: list[float]) -> Iterator[float]:
    return iter(readings)


def test_laps_charge_the_time_since_the_previous_lap_and_add_up_per_stage() -> None:
    readings = scripted([100.0, 100.5, 100.75, 102.0, 102.125])
    clock = StageClock(now=lambda: next(readings))

    clock.lap("parse")  # 0.5
    clock.lap("claim")  # 0.25
    clock.lap("parse")  # 1.25 more
    clock.lap("transaction")  # 0.125

    assert clock.seconds == {
        "parse": 1.75,
        "claim": 0.25,
        "aggregate": 0.0,
        "upsert": 0.0,
        "housekeeping": 0.0,
        "transaction": 0.125,
    }
    assert list(clock.seconds) == list(STAGES)


def test_work_aside_is_charged_to_its_own_stage_and_not_to_the_lap_around_it() -> None:
    # The batch is folded while the server claims: the claim's lap is only the wait beyond it.
    readings = scripted([10.0, 10.25, 11.0, 13.0, 13.5, 14.0, 14.0625])
    clock = StageClock(now=lambda: next(readings))

    folded = clock.aside("aggregate", lambda: "deltas")  # 10.25 -> 11.0: 0.75
    clock.lap("claim")  # 13.0 - 10.0 - 0.75 = 2.25
    clock.aside("housekeeping", lambda: None)  # 13.5 -> 14.0: 0.5
    clock.lap("upsert")  # 14.0625 - 13.0 - 0.5 = 0.5625

    assert folded == "deltas"
    assert clock.seconds == {
        "parse": 0.0,
        "claim": 2.25,
        "aggregate": 0.75,
        "upsert": 0.5625,
        "housekeeping": 0.5,
        "transaction": 0.0,
    }
    assert sum(clock.seconds.values()) == 14.0625 - 10.0


def test_a_stage_outside_the_list_is_refused() -> None:
    readings = scripted([0.0, 1.0])
    clock = StageClock(now=lambda: next(readings))
    with pytest.raises(KeyError):
        clock.lap("decode")


def test_batch_result_keeps_timings_out_of_its_counts() -> None:
    result = BatchResult(
        received=9,
        counted=6,
        duplicates=2,
        dead_lettered=1,
        abandoned_carts=3,
        stage_seconds={"parse": 0.01234, "upsert": 0.5},
    )
    assert result.as_dict() == {
        "received": 9,
        "counted": 6,
        "duplicates": 2,
        "dead_lettered": 1,
        "abandoned_carts": 3,
    }
    assert result.stage_ms() == {"parse": 12.3, "upsert": 500.0}
    # Two runs of the same batch are the same result, however long each took.
    assert result == BatchResult(9, 6, 2, 1, 3, stage_seconds={"parse": 7.0})


def test_totals_sum_stages_over_batches_per_thousand_records() -> None:
    totals = StreamTotals()
    totals.add(BatchResult(400, 400, 0, 0, 0, stage_seconds={"parse": 0.2, "claim": 0.05}), 1.0)
    totals.add(BatchResult(1_600, 1_590, 10, 0, 0, stage_seconds={"parse": 0.6}), 2.0)
    totals.stage_seconds["poll"] += 0.3

    # parse: 0.8 s over 2,000 records = 400 ms per 1,000; claim 0.05 s -> 25; poll 0.3 s -> 150
    assert totals.ms_per_thousand() == pytest.approx({"parse": 400.0, "claim": 25.0, "poll": 150.0})
    assert (totals.batches, totals.received, totals.counted, totals.duplicates) == (
        2,
        2_000,
        1_990,
        10,
    )


def test_no_records_means_no_rates() -> None:
    assert StreamTotals().ms_per_thousand() == {}
