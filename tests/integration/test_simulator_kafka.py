"""The live event simulator on a real broker: valid, keyed, per-key ordered, counted right.

Order is checked against a replay: the same seed and clock give the same events, so the
order each key's events must have is known without looking at what the broker returned.
"""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from collections import defaultdict
from pathlib import Path

import pytest
from kafka_harness import read_topic
from kafka_test_topics import StreamTopics

from contracts.events import validate_event
from lambdas.shared.kafka_producer import KafkaSettings, create_producer, event_key
from local_platform.event_simulator import EventSimulator
from local_platform.live_traffic import LiveTraffic

pytestmark = pytest.mark.integration

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "simulate_events.py"
CLOCK_MS = 1_790_000_000_000
TOTALS = re.compile(r"sent ([\d,]+) · acknowledged ([\d,]+) · failed ([\d,]+)")


def fixed_clock() -> int:
    return CLOCK_MS


def test_two_seconds_at_a_small_rate_give_valid_keyed_ordered_events(
    stream_topics: StreamTopics,
) -> None:
    producer = create_producer(KafkaSettings(stream_topics.bootstrap_servers), client_id="test")
    simulator = EventSimulator(
        LiveTraffic(300, 13, 60, clock_ms=fixed_clock), producer, stream_topics.events
    )
    totals = simulator.run(40.0, threading.Event(), duration_s=2.0)
    producer.flush(30)
    producer.close()

    stored = read_topic(stream_topics.bootstrap_servers, stream_topics.events)
    assert len(stored) == totals.sent == totals.acknowledged > 0
    assert totals.failed == 0
    assert [validate_event(event) for _, _, event in stored] == [[]] * len(stored)
    assert all(key == event_key(event) for _, key, event in stored)

    replay = LiveTraffic(300, 13, 60, clock_ms=fixed_clock)
    expected: dict[bytes | None, list[str]] = defaultdict(list)
    for _ in range(totals.sent):
        event = replay.next_event()
        expected[event_key(event)].append(event["event_id"])
    received: dict[bytes | None, list[str]] = defaultdict(list)
    stamps: dict[bytes | None, list[str]] = defaultdict(list)
    for _, key, event in stored:
        received[key].append(event["event_id"])
        stamps[key].append(event["occurred_at"])
    assert received == expected
    assert all(times == sorted(times) for times in stamps.values())


def run_script(*args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, str(SCRIPT), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
    )


def final_totals(stderr: str) -> tuple[int, int, int]:
    done = [line for line in stderr.splitlines() if line.startswith("Done")]
    assert done, stderr
    match = TOTALS.search(done[-1])
    assert match, done[-1]
    return tuple(int(group.replace(",", "")) for group in match.groups())  # type: ignore[return-value]


def test_script_stops_after_its_duration(stream_topics: StreamTopics) -> None:
    process = run_script(
        "--rate", "25", "--duration", "1.5", "--users", "100", "--seed", "4",
        "--bootstrap-servers", stream_topics.bootstrap_servers, "--topic", stream_topics.events,
    )  # fmt: skip
    _, stderr = process.communicate(timeout=120)

    assert process.returncode == 0, stderr
    sent, acknowledged, failed = final_totals(stderr)
    assert sent == acknowledged > 0
    assert failed == 0
    assert len(read_topic(stream_topics.bootstrap_servers, stream_topics.events)) == sent


def test_ctrl_c_flushes_and_prints_the_final_counts(stream_topics: StreamTopics) -> None:
    process = run_script(
        "--rate", "200", "--users", "100",
        "--bootstrap-servers", stream_topics.bootstrap_servers, "--topic", stream_topics.events,
    )  # fmt: skip
    lines: queue.Queue[str] = queue.Queue()
    collected: list[str] = []

    def pump() -> None:
        for line in process.stderr:  # type: ignore[union-attr]
            lines.put(line)

    reader = threading.Thread(target=pump, daemon=True)
    reader.start()
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:  # the first progress line: events are flowing
        line = lines.get(timeout=deadline - time.monotonic())
        collected.append(line)
        if "events/s" in line and "sent" in line:
            break
    process.send_signal(signal.SIGINT)
    process.wait(timeout=60)
    reader.join(timeout=10)  # the pipe is at its end once the process exited
    while not lines.empty():
        collected.append(lines.get_nowait())
    stderr = "".join(collected)

    assert process.returncode == 0, stderr
    sent, acknowledged, failed = final_totals(stderr)
    assert sent == acknowledged > 0
    assert failed == 0
    assert len(read_topic(stream_topics.bootstrap_servers, stream_topics.events)) == sent


def test_unreachable_broker_is_a_clear_error() -> None:
    process = run_script("--rate", "5", "--duration", "1", "--bootstrap-servers", "127.0.0.1:1")
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 1
    assert "cannot reach Kafka at 127.0.0.1:1" in stderr
