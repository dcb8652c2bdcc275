"""MSK payload decoding, record splitting and dead-letter messages (no broker, no database)."""

from __future__ import annotations

import base64
from collections.abc import Iterable

import orjson
import pytest
from stream_events import START, Visitor, encode, make_event

from lambdas.shared.kafka_producer import ProducerError
from lambdas.stream_processor.dead_letters import (
    MAX_DEAD_LETTER_PAYLOAD_BYTES,
    KafkaDeadLetterPublisher,
    dead_letter,
    dead_letter_message,
)
from lambdas.stream_processor.processor import split_records
from lambdas.stream_processor.records import SourceRecord, decode_msk_event, encode_msk_event

# The shape MSK hands Lambda: base64 key/value, grouped by "topic-partition".
MSK_EVENT = {
    "eventSource": "aws:kafka",
    "eventSourceArn": "arn:aws:kafka:eu-west-1:123456789012:cluster/demo/abc",
    "bootstrapServers": "b-1.demo:9098",
    "records": {
        "ecommerce.events.v1-0": [
            {
                "topic": "ecommerce.events.v1",
                "partition": 0,
                "offset": 15,
                "timestamp": 1790000000000,
                "timestampType": "CREATE_TIME",
                "key": "dXNlci0x",  # "user-1"
                "value": "aGVsbG8=",  # "hello"
                "headers": [],
            }
        ],
        "ecommerce.events.v1-2": [
            {"topic": "ecommerce.events.v1", "partition": 2, "offset": 7, "timestamp": 0}
        ],
    },
}

VISITOR = Visitor("11111111-1111-4111-8111-111111111111", "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa", 9)


def test_decodes_an_msk_payload() -> None:
    assert decode_msk_event(MSK_EVENT) == [
        SourceRecord("ecommerce.events.v1", 0, 15, 1790000000000, b"user-1", b"hello"),
        SourceRecord("ecommerce.events.v1", 2, 7, 0, None, None),
    ]


def test_encoding_then_decoding_gives_the_records_back() -> None:
    records = [
        SourceRecord("t", 1, 3, 10, b"k", b'{"a": 1}'),
        SourceRecord("t", 0, 8, 11, None, b"\xff\x00"),
        SourceRecord("t", 1, 4, 12, b"k", None),
    ]
    payload = encode_msk_event(records, "arn", "localhost:9092")

    assert sorted(payload["records"]) == ["t-0", "t-1"]
    assert sorted(decode_msk_event(payload), key=lambda r: (r.partition, r.offset)) == sorted(
        records, key=lambda r: (r.partition, r.offset)
    )


def _record(offset: int, value: bytes | None) -> SourceRecord:
    return SourceRecord("events", 0, offset, 0, b"k", value)


def test_split_keeps_the_first_of_repeated_event_ids_and_dead_letters_the_rest() -> None:
    first = make_event("page_viewed", START, VISITOR, {"page_type": "home", "path": "/"})
    second = make_event("session_started", START, VISITOR, {"landing_page": "/"})
    wrong = {**first, "event_id": "e1", "properties": {"page_type": "moon", "path": "/"}}
    records = [
        _record(0, encode(first)),
        _record(1, b"not json"),
        _record(2, encode(first)),  # the same event again
        _record(3, None),
        _record(4, encode(wrong)),
        _record(5, encode(second)),
    ]

    valid, letters = split_records(records)

    assert [(record.offset, event["event_id"]) for record, event in valid] == [
        (0, first["event_id"]),
        (5, second["event_id"]),
    ]
    assert [letter.record.offset for letter in letters] == [1, 3, 4]
    assert "not valid JSON" in letters[0].reasons[0]
    assert letters[1].reasons == ("record has no value (tombstone)",)
    assert {reason.split(":")[0] for reason in letters[2].reasons} == {
        "event_id",
        "properties.page_type",
    }
    # The id and type are kept when the payload still shows them.
    assert (letters[2].event_id, letters[2].event_type) == ("e1", "page_viewed")
    assert (letters[0].event_id, letters[0].event_type) == (None, None)


def test_dead_letter_message_carries_reasons_source_and_original_bytes() -> None:
    record = SourceRecord("events", 3, 42, 1790000000123, b"user-1", b'{"event_type": 7}')
    message = orjson.loads(dead_letter_message(dead_letter(record, ["event_type: 7 is bad"])))

    assert message["reasons"] == ["event_type: 7 is bad"]
    assert message["source"] == {
        "topic": "events",
        "partition": 3,
        "offset": 42,
        "timestamp_ms": 1790000000123,
    }
    assert base64.b64decode(message["payload_base64"]) == b'{"event_type": 7}'
    assert (message["payload_bytes"], message["payload_truncated"]) == (17, False)
    assert (message["event_id"], message["event_type"]) == (None, None)  # 7 is not a name


def test_dead_letter_message_cuts_a_huge_payload_but_says_how_big_it_was() -> None:
    huge = b"x" * 900_000  # near Kafka's 1 MB record limit; base64 of it would not fit
    message = orjson.loads(dead_letter_message(dead_letter(_record(0, huge), ["too big"])))

    assert base64.b64decode(message["payload_base64"]) == huge[:MAX_DEAD_LETTER_PAYLOAD_BYTES]
    assert (message["payload_bytes"], message["payload_truncated"]) == (900_000, True)


class _Producer:
    """An EventProducer that stores what it is given, or refuses it all with `error`."""

    def __init__(self, error: ProducerError | None = None) -> None:
        self.sent: list[tuple[str, bytes | None, bytes]] = []
        self.error = error

    def deliver(self, records: Iterable[tuple[str, bytes | None, bytes]], timeout_s: float) -> int:
        if self.error:
            raise self.error
        self.sent.extend(records)
        return len(self.sent)


def test_publisher_delivers_every_letter_keyed_like_its_record() -> None:
    producer = _Producer()
    letters = [dead_letter(_record(i, b"x"), ["bad"]) for i in range(3)]

    KafkaDeadLetterPublisher(producer, "events.dlq").publish(letters)

    assert [(topic, key) for topic, key, _ in producer.sent] == [("events.dlq", b"k")] * 3
    assert [orjson.loads(value)["source"]["offset"] for *_, value in producer.sent] == [0, 1, 2]


def test_publisher_raises_when_the_broker_refused_a_letter() -> None:
    producer = _Producer(error=ProducerError("1 of 1 records failed: Broker: timed out"))

    with pytest.raises(ProducerError, match="timed out"):
        KafkaDeadLetterPublisher(producer, "events.dlq").publish(
            [dead_letter(_record(0, b"x"), ["bad"])]
        )
