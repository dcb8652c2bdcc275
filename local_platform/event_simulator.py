"""The live event simulator: the live traffic's events, stamped with the time they are sent,
paced by a token bucket and produced to Kafka keyed by user (lambdas.shared.kafka_producer).

Sends are asynchronous; the producer's acknowledgements and failures are counted as they
arrive, so the totals say what the broker holds, not only what was handed to the client.
"""

from __future__ import annotations

import math
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import orjson
from confluent_kafka import KafkaError, Message

from data_generators.timeline import iso_utc
from lambdas.shared.kafka_producer import EventProducer, ProducerError, event_key
from local_platform.live_traffic import LiveTraffic

# A visit of the model lasts ~165 s for ~12.8 events: about 13 s of visit per event. Keeping
# rate × 13 visits in flight gives each visit its real pace, so live metrics such as active
# sessions per minute look like a shop's; the cap bounds memory at very high rates.
VISIT_SECONDS_PER_EVENT = 13.0
MAX_CONCURRENT_VISITS = 10_000
# The bucket holds 50 ms of tokens: smooth pacing, few wake-ups at high rates.
BURST_SECONDS = 0.05


def concurrent_visits_for(rate: float) -> int:
    return max(1, min(MAX_CONCURRENT_VISITS, math.ceil(rate * VISIT_SECONDS_PER_EVENT)))


class TokenBucket:
    """Allows `rate` sends per second on average and at most `capacity` at once."""

    def __init__(
        self, rate: float, capacity: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if rate <= 0 or capacity < 1:
            raise ValueError("rate must be positive and capacity at least 1")
        self.rate = rate
        self.capacity = capacity
        self._clock = clock
        self._tokens = 0.0
        self._updated = clock()

    def take(self, most: int) -> int:
        """Take as many whole tokens as are there, up to `most`; 0 when none is."""
        now = self._clock()
        self._tokens = min(self.capacity, self._tokens + (now - self._updated) * self.rate)
        self._updated = now
        taken = min(most, int(self._tokens))
        self._tokens -= taken
        return taken

    def seconds_until_token(self) -> float:
        return max(0.0, (1.0 - self._tokens) / self.rate)


@dataclass
class SimulationTotals:
    sent: int = 0
    acknowledged: int = 0
    failed: int = 0
    by_type: Counter = field(default_factory=Counter)
    last_error: str | None = None
    started: float = field(default_factory=time.monotonic)

    @property
    def elapsed_s(self) -> float:
        return time.monotonic() - self.started

    def delivered(self, error: KafkaError | None, _message: Message) -> None:
        """The producer's report on one record: no error when the broker has it."""
        if error is None:
            self.acknowledged += 1
        else:
            self.fail(error.str())

    def fail(self, error: str) -> None:
        self.failed += 1
        self.last_error = error


class EventSimulator:
    """Sends live events to one topic; `run` paces them, `send` is the unpaced producer path."""

    def __init__(self, traffic: LiveTraffic, producer: EventProducer, topic: str) -> None:
        self.traffic = traffic
        self.producer = producer
        self.topic = topic
        self.totals = SimulationTotals()

    def send(self, count: int) -> None:
        """Send the next `count` events, each stamped with the time it is sent."""
        totals, producer, topic = self.totals, self.producer, self.topic
        for _ in range(count):
            event = self.traffic.next_event()
            event["occurred_at"] = iso_utc(time.time_ns() // 1_000_000)
            try:
                producer.send(topic, orjson.dumps(event), event_key(event), totals.delivered)
            except ProducerError as error:  # the send queue stayed full for max_block_ms
                totals.fail(str(error))
                continue
            totals.sent += 1
            totals.by_type[event["event_type"]] += 1

    def run(
        self,
        rate: float,
        stop: threading.Event,
        duration_s: float | None = None,
        on_progress: Callable[[SimulationTotals, float], None] | None = None,
        progress_every_s: float = 1.0,
    ) -> SimulationTotals:
        """Send at `rate` events/s until `duration_s` has passed or `stop` is set; on_progress
        gets the totals and the rate since its last call. The caller flushes the producer."""
        bucket = TokenBucket(rate, max(1.0, rate * BURST_SECONDS))
        started = time.monotonic()
        deadline = math.inf if duration_s is None else started + duration_s
        last_report, sent_at_report = started, 0
        while not stop.is_set():
            now = time.monotonic()
            if now >= deadline:
                break
            if on_progress and now - last_report >= progress_every_s:
                on_progress(self.totals, (self.totals.sent - sent_at_report) / (now - last_report))
                last_report, sent_at_report = now, self.totals.sent
            allowed = bucket.take(max(1, int(bucket.capacity)))
            if allowed:
                self.send(allowed)
            else:
                stop.wait(min(bucket.seconds_until_token(), deadline - now, progress_every_s))
        return self.totals
