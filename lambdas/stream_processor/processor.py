"""One batch of Kafka records -> real-time tables, exactly once per event id.

Steps: decode and validate every record with the event contract; poison records become dead
letters (they never block the partition); valid events are de-duplicated by event_id within
the batch, then against realtime.processed_events in the same transaction that adds their
counts, so a redelivered or overlapping batch counts nothing twice.
"""

from __future__ import annotations

import gc
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import psycopg

from contracts.events import parse_event
from lambdas.stream_processor import store
from lambdas.stream_processor.aggregation import Event, aggregate_events, partition_watermarks
from lambdas.stream_processor.dead_letters import DeadLetter, DeadLetterPublisher, dead_letter
from lambdas.stream_processor.records import SourceRecord, decode_msk_event

# Client clocks run ahead; an event time further ahead than this does not move "now".
MAX_CLOCK_SKEW = timedelta(minutes=5)
# Errors caused by the values of a row (out of range, constraint broken), not by the database.
_DATA_ERRORS = (psycopg.errors.DataError, psycopg.errors.IntegrityError)
_Result = TypeVar("_Result")


@dataclass(frozen=True)
class ProcessorSettings:
    cart_abandonment_minutes: int
    # How long an event id is remembered for the dedupe: the events topic's retention.
    dedupe_window_hours: int


# The stages a batch's wall time is split into (BatchResult.stage_seconds), in the order they
# run: decode and validate every record, claim the event ids, fold the new events into deltas,
# upsert the deltas, then watermarks, abandoned carts, dead letters and the dedupe window's
# housekeeping, and the transaction's BEGIN and COMMIT. Work the client does while waiting for
# the server (folding during the claim, the watermarks during the upserts) is charged to its
# own stage, so the claim and upsert stages are the waits beyond it.
STAGES = ("parse", "claim", "aggregate", "upsert", "housekeeping", "transaction")


class StageClock:
    """Wall seconds per stage of one batch, taken as laps: one clock read per stage, so it
    costs nothing next to the batch and can be logged for every one."""

    def __init__(self, now: Callable[[], float] = time.perf_counter) -> None:
        self.seconds: dict[str, float] = dict.fromkeys(STAGES, 0.0)
        self._now = now
        self._last = now()

    def lap(self, stage: str) -> None:
        """Charge the time since the previous lap to `stage`."""
        now = self._now()
        self.seconds[stage] += now - self._last
        self._last = now

    def aside(self, stage: str, action: Callable[[], _Result]) -> _Result:
        """Run `action` within a lap, charging its time to `stage` rather than to that lap."""
        started = self._now()
        result = action()
        spent = self._now() - started
        self.seconds[stage] += spent
        self._last += spent
        return result


@dataclass(frozen=True)
class BatchResult:
    received: int
    counted: int
    duplicates: int
    dead_lettered: int
    abandoned_carts: int
    stage_seconds: Mapping[str, float] = field(default_factory=dict, compare=False)

    def as_dict(self) -> dict[str, int]:
        """The counts (what the handler returns; stage_seconds goes to the log only)."""
        return {
            "received": self.received,
            "counted": self.counted,
            "duplicates": self.duplicates,
            "dead_lettered": self.dead_lettered,
            "abandoned_carts": self.abandoned_carts,
        }

    def stage_ms(self) -> dict[str, float]:
        """Milliseconds per stage, rounded for a log line."""
        return {stage: round(seconds * 1000, 1) for stage, seconds in self.stage_seconds.items()}


def split_records(
    records: Sequence[SourceRecord],
) -> tuple[list[tuple[SourceRecord, Event]], list[DeadLetter]]:
    """Valid events (first occurrence of each event_id) and dead letters, in record order."""
    valid: list[tuple[SourceRecord, Event]] = []
    letters: list[DeadLetter] = []
    seen: set[str] = set()
    for record in records:
        if record.value is None:
            letters.append(dead_letter(record, ["record has no value (tombstone)"]))
            continue
        event, reasons = parse_event(record.value)
        if event is None or reasons:
            letters.append(dead_letter(record, reasons or ["not a valid event"]))
            continue
        event_id = event["event_id"].lower()
        if event_id not in seen:
            seen.add(event_id)
            valid.append((record, event))
    return valid, letters


class CollectorPause:
    """Pauses Python's cycle collector while batches are parsed and counted.

    Decoding thousands of events allocates tens of thousands of dicts, which set off
    collections that scan them again and again (a quarter of a batch's CPU). The events hold no
    cycles and are freed by reference counting once their batch is done, so the pause defers
    no real work; it spans parse and count, since a collection in between scans every event
    of the batch. Holds are counted, as one thread may parse a batch while another counts the
    previous one: the collector runs again when the last hold is released (if it ran before
    the first)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._holders = 0
        self._resume = False

    def hold(self) -> None:
        with self._lock:
            if self._holders == 0:
                self._resume = gc.isenabled()
                gc.disable()
            self._holders += 1

    def release(self) -> None:
        with self._lock:
            self._holders -= 1
            if self._holders == 0 and self._resume:
                gc.enable()

    @contextmanager
    def held(self) -> Iterator[None]:
        self.hold()
        try:
            yield
        finally:
            self.release()


COLLECTOR_PAUSE = CollectorPause()


@dataclass(frozen=True)
class ParsedBatch:
    """A batch decoded and validated (no database needed), ready to be counted."""

    received: int
    valid: list[tuple[SourceRecord, Event]]
    letters: list[DeadLetter]
    parse_seconds: float


def parse_batch(records: Sequence[SourceRecord]) -> ParsedBatch:
    """The CPU half of a batch: a caller may parse the next batch while one is counted."""
    with COLLECTOR_PAUSE.held():
        started = time.perf_counter()
        valid, letters = split_records(records)
        return ParsedBatch(len(records), valid, letters, time.perf_counter() - started)


def process_records(
    conn: psycopg.Connection,
    records: Sequence[SourceRecord],
    settings: ProcessorSettings,
    publisher: DeadLetterPublisher | None = None,
) -> BatchResult:
    """Count a batch in one transaction; on an exception nothing changed: retry the batch."""
    with COLLECTOR_PAUSE.held():  # one hold over both: see CollectorPause
        return count_parsed(conn, parse_batch(records), settings, publisher)


def count_parsed(
    conn: psycopg.Connection,
    batch: ParsedBatch,
    settings: ProcessorSettings,
    publisher: DeadLetterPublisher | None = None,
) -> BatchResult:
    """Count a parsed batch in one transaction; on an exception nothing changed.

    An event the contract allows but the tables cannot hold (an id past bigint, a quantity
    that overflows its line) would fail every retry and block its partition; when the batch
    fails with such a data error, the events the database refuses are found one by one and
    dead-lettered, and the rest is counted.
    """
    clock = StageClock()
    clock.seconds["parse"] = batch.parse_seconds
    with COLLECTOR_PAUSE.held():
        try:
            return _count_batch(
                conn, batch.received, batch.valid, batch.letters, settings, publisher, clock
            )
        except _DATA_ERRORS:
            refused = _refused_by_database(conn, batch.valid)
            clock.lap("upsert")  # the search adds the events one by one
            if not refused:
                raise
            refused_records = {letter.record for letter in refused}
            kept = [pair for pair in batch.valid if pair[0] not in refused_records]
            letters = batch.letters + refused
            return _count_batch(conn, batch.received, kept, letters, settings, publisher, clock)


def _count_batch(
    conn: psycopg.Connection,
    received: int,
    valid: list[tuple[SourceRecord, Event]],
    letters: list[DeadLetter],
    settings: ProcessorSettings,
    publisher: DeadLetterPublisher | None,
    clock: StageClock,
) -> BatchResult:
    not_after = datetime.now(UTC) + MAX_CLOCK_SKEW
    with conn.transaction():
        clock.lap("transaction")
        counted, latest = _add_new_events(
            conn,
            valid,
            clock,
            lambda: clock.aside("housekeeping", lambda: partition_watermarks(valid, not_after)),
        )
        abandoned = 0
        if latest:
            now = store.advance_watermarks(conn, latest)
            if now is not None:
                abandoned = store.flag_abandoned_carts(conn, now, settings.cart_abandonment_minutes)
        store.insert_dead_letters(conn, letters)
        store.forget_processed_events(conn, settings.dedupe_window_hours)
        if publisher is not None and letters:
            publisher.publish(letters)
        clock.lap("housekeeping")
    clock.lap("transaction")
    return BatchResult(
        received=received,
        counted=counted,
        duplicates=received - len(letters) - counted,
        dead_lettered=len(letters),
        abandoned_carts=abandoned,
        stage_seconds=clock.seconds,
    )


def _add_new_events(
    conn: psycopg.Connection,
    valid: list[tuple[SourceRecord, Event]],
    clock: StageClock,
    meanwhile: Callable[[], _Result],
) -> tuple[int, _Result]:
    """Claim the events' ids and add the counts of those not seen before; returns how many,
    and what `meanwhile` returned.

    The client works while the server does: the whole batch is folded while the server claims
    (its ids are new unless it is a redelivery; it is folded again without the ids seen before
    when there are any), and `meanwhile` runs while the server adds the counts."""
    events = [event for _, event in valid]
    new_ids, aggregates = store.claim_new_events(
        conn, valid, lambda: clock.aside("aggregate", lambda: aggregate_events(events))
    )
    clock.lap("claim")
    new_events = [event for event in events if event["event_id"].lower() in new_ids]
    if len(new_events) < len(events):
        aggregates = aggregate_events(new_events)
    clock.lap("aggregate")
    result = store.apply_aggregates(conn, aggregates, meanwhile)
    clock.lap("upsert")
    return len(new_events), result


def _refused_by_database(
    conn: psycopg.Connection, valid: list[tuple[SourceRecord, Event]]
) -> list[DeadLetter]:
    """Add the events one at a time, in order, in a transaction that is rolled back; those
    the database refuses become dead letters (slow, but only after a batch failed)."""
    refused = []
    with conn.transaction(force_rollback=True):
        for record, event in valid:
            try:
                with conn.transaction():
                    _add_new_events(conn, [(record, event)], StageClock(), lambda: None)
            except _DATA_ERRORS as error:
                reason = (
                    f"event: the real-time tables cannot store it ({error.diag.message_primary})"
                )
                refused.append(dead_letter(record, [reason]))
    return refused


def process_msk_event(
    event: Mapping[str, Any],
    conn: psycopg.Connection,
    settings: ProcessorSettings,
    publisher: DeadLetterPublisher | None = None,
) -> BatchResult:
    """The handler body shared by Lambda and the local consumer loop."""
    return process_records(conn, decode_msk_event(event), settings, publisher)
