"""Poison records: what could not be counted, why, and the bytes as they were read.

A dead letter never stops its partition: it is stored (realtime.dead_letters, in the batch's
transaction) and, on the Kafka path, also published to the dead-letter topic before that
transaction commits, so a failed publish retries the batch instead of losing the record.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

import orjson

from lambdas.shared.kafka_producer import EventProducer, KafkaSettings, create_producer
from lambdas.stream_processor.records import SourceRecord

STAGE = "stream_processor"
# A record near Kafka's 1 MB limit would not fit the dead-letter topic once base64 encoded,
# and a dead letter that cannot be published would block its partition; the table keeps it all.
MAX_DEAD_LETTER_PAYLOAD_BYTES = 65_536
# How long a batch waits for the broker to acknowledge its dead letters.
PUBLISH_TIMEOUT_S = 30.0
_MAX_ID_CHARS = 200  # a hostile payload must not put megabytes into an id column
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


@dataclass(frozen=True)
class DeadLetter:
    record: SourceRecord
    reasons: tuple[str, ...]
    event_id: str | None = None
    event_type: str | None = None


def dead_letter(record: SourceRecord, reasons: Sequence[str]) -> DeadLetter:
    """A dead letter naming the event id and type when the payload still shows them."""
    event_id, event_type = _identity(record.value)
    return DeadLetter(record, tuple(map(storable_text, reasons)), event_id, event_type)


def storable_text(text: str) -> str:
    """The text as a PostgreSQL text column and UTF-8 can hold it: a NUL character (which
    text refuses, failing the batch on every retry) and unpaired surrogates become U+FFFD."""
    return _UNSTORABLE.sub("\ufffd", text)


def dead_letter_message(letter: DeadLetter) -> bytes:
    """The JSON published to the dead-letter topic (the collector's dead letters have the same
    top-level fields). The payload is base64, as it may not be text, and cut to
    MAX_DEAD_LETTER_PAYLOAD_BYTES; payload_bytes keeps the full size."""
    record = letter.record
    failed_at = datetime.now(UTC)
    value = record.value or b""
    payload = value[:MAX_DEAD_LETTER_PAYLOAD_BYTES]
    return orjson.dumps(
        {
            "stage": STAGE,
            "reasons": list(letter.reasons),
            "failed_at": failed_at.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "event_id": letter.event_id,
            "event_type": letter.event_type,
            "source": {
                "topic": record.topic,
                "partition": record.partition,
                "offset": record.offset,
                "timestamp_ms": record.timestamp_ms,
            },
            "payload_base64": None
            if record.value is None
            else base64.b64encode(payload).decode("ascii"),
            "payload_bytes": len(value),
            "payload_truncated": len(payload) < len(value),
        }
    )


class DeadLetterPublisher(Protocol):
    def publish(self, letters: Sequence[DeadLetter]) -> None: ...


class KafkaDeadLetterPublisher:
    """Publishes dead letters to a topic and waits until the broker has every one."""

    def __init__(self, producer: EventProducer, topic: str) -> None:
        self._producer = producer
        self._topic = topic

    def publish(self, letters: Sequence[DeadLetter]) -> None:
        """Raises ProducerError when a letter is not stored, so the batch is not committed."""
        self._producer.deliver(
            ((self._topic, letter.record.key, dead_letter_message(letter)) for letter in letters),
            PUBLISH_TIMEOUT_S,
        )


class DeadLetterTopic:
    """Publishes dead letters to a topic. The producer is built on the first dead letter, so
    clean batches never pay for a Kafka connection; the settings are checked at once."""

    def __init__(self, topic: str, settings: KafkaSettings) -> None:
        self.topic = topic
        self.settings = settings
        self._publisher: KafkaDeadLetterPublisher | None = None

    def publish(self, letters: Sequence[DeadLetter]) -> None:
        if self._publisher is None:
            producer = create_producer(self.settings, client_id="stream-processor")
            self._publisher = KafkaDeadLetterPublisher(producer, self.topic)
        self._publisher.publish(letters)


def _identity(value: bytes | None) -> tuple[str | None, str | None]:
    if value is None:
        return None, None
    try:
        payload = orjson.loads(value)
    except orjson.JSONDecodeError:
        return None, None
    if not isinstance(payload, dict):
        return None, None
    return _short_text(payload.get("event_id")), _short_text(payload.get("event_type"))


def _short_text(value: object) -> str | None:
    return storable_text(value[:_MAX_ID_CHARS]) if isinstance(value, str) else None
