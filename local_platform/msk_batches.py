"""The MSK event source mapping without a broker: event lines cut into the batches the Lambda
would be handed, and fed to the handler body in process.

Records are placed as Kafka would hold them (the partition its default partitioner gives each
key, offsets counted per partition) and cut into batches in arrival order, like the mapping's
polls; `ecom stream run` (stream_consumer.py) does the same from a real broker.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator

import psycopg
from kafka.partitioner.default import murmur2

from lambdas.stream_processor.processor import ProcessorSettings, process_msk_event
from lambdas.stream_processor.records import SourceRecord, encode_msk_event
from local_platform.events_file import record_key
from local_platform.stream_consumer import StreamTotals

IN_PROCESS_SOURCE_ARN = "local:in-process"


def partition_for_key(key: bytes | None, partitions: int) -> int:
    """The partition Kafka's default partitioner picks for a key (murmur2, as the Java client
    and kafka-python do). Kafka spreads keyless records at random; here they go to 0."""
    if key is None:
        return 0
    return (murmur2(key) & 0x7FFFFFFF) % partitions


def msk_batches(
    values: Iterable[bytes], topic: str, partitions: int, batch_size: int
) -> Iterator[list[SourceRecord]]:
    """Records as Kafka would hold them (partition by key, offsets counted per partition),
    cut into batches of batch_size in arrival order, like an event source mapping's polls."""
    offsets = [0] * partitions
    batch: list[SourceRecord] = []
    for value in values:
        key = record_key(value)
        partition = partition_for_key(key, partitions)
        stamp_ms = time.time_ns() // 1_000_000  # CREATE_TIME: when the record is "sent"
        batch.append(SourceRecord(topic, partition, offsets[partition], stamp_ms, key, value))
        offsets[partition] += 1
        if len(batch) == batch_size:
            yield batch
            batch = []
    if batch:
        yield batch


def process_in_batches(
    values: Iterable[bytes],
    conn: psycopg.Connection,
    settings: ProcessorSettings,
    *,
    topic: str,
    partitions: int,
    batch_size: int,
    on_batch: Callable[[StreamTotals], None] | None = None,
) -> StreamTotals:
    """Hand every batch to the stream processor, as the mapping would, and add up what it did."""
    totals = StreamTotals()
    for batch in msk_batches(values, topic, partitions, batch_size):
        payload = encode_msk_event(batch, IN_PROCESS_SOURCE_ARN, "")
        totals.add(process_msk_event(payload, conn, settings), time.monotonic())
        if on_batch:
            on_batch(totals)
    return totals
