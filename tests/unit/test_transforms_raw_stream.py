"""Kafka records -> raw events and quarantine, on hand-made records shaped like the Kafka
source's rows. The contract check is the real validator."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from pyspark.sql.types import LongType, StructType, TimestampType
from spark_fixtures import raw_event

from glue_jobs.stream_events_to_raw import StreamSettings, kafka_source_options
from glue_jobs.transforms.event_schema import spark_event_schema
from glue_jobs.transforms.raw_stream import (
    classify_kafka_records,
    quarantined_records,
    raw_events,
)

E1 = "00000000-0000-4000-8000-00000000000a"
E2 = "00000000-0000-4000-8000-00000000000b"
E3 = "00000000-0000-4000-8000-00000000000c"
CART = "33333333-3333-4333-8333-333333333333"
KAFKA_SCHEMA = (
    "key binary, value binary, topic string, partition int, offset long, "
    "timestamp timestamp, timestampType int"
)
RECEIVED = datetime(2026, 10, 2, 0, 30)  # UTC (the spark fixture pins the time zone)
BAD_QUANTITY = raw_event(
    E3,
    "2026-10-01T11:10:00Z",
    event_type="product_added_to_cart",
    properties={
        "cart_id": CART, "product_id": 5, "quantity": 0, "unit_price": 9.99, "currency": "USD",
    },
)  # fmt: skip
# (value, offset): partition 1 of topic "t" throughout.
RECORDS = [
    (raw_event(E1, "2026-10-01T23:59:59.999Z").encode(), 10),  # last ms of the day
    (raw_event(E2, "2026-10-02T00:00:00Z").encode(), 11),  # first instant of the next
    (b"not json", 12),
    (b'{"event_id": "\xff\xfe"}', 13),  # not UTF-8
    (BAD_QUANTITY.encode(), 14),
    (None, 15),  # a tombstone
    (b"[1, 2]", 16),
]


@pytest.fixture
def classified(spark):
    rows = [(b"k", value, "t", 1, offset, RECEIVED, 0) for value, offset in RECORDS]
    records = spark.createDataFrame(rows, KAFKA_SCHEMA)
    return classify_kafka_records(records, event_schema=spark_event_schema()).cache()


def test_valid_records_become_typed_events_partitioned_by_utc_date_and_hour(classified):
    events = raw_events(classified)
    rows = sorted(events.collect(), key=lambda row: row.kafka_offset)
    assert [
        (r.event_id, r.event_date, r.event_hour, r.kafka_topic, r.kafka_partition, r.kafka_offset)
        for r in rows
    ] == [
        (E1, date(2026, 10, 1), 23, "t", 1, 10),
        (E2, date(2026, 10, 2), 0, "t", 1, 11),
    ]
    assert rows[0].occurred_at == datetime(2026, 10, 1, 23, 59, 59, 999000)
    assert rows[0].properties.page_type == "other"
    assert rows[0].context.device.os == "Android"
    assert rows[0].kafka_timestamp == RECEIVED
    # The line as it arrived, for curate_events to check and parse like a landed line.
    assert [r.raw_event for r in rows] == [RECORDS[0][0].decode(), RECORDS[1][0].decode()]
    # The envelope keeps the contract's types: the same schema the curated zone reads.
    schema: StructType = events.schema
    assert isinstance(schema["occurred_at"].dataType, TimestampType)
    assert isinstance(schema["user_id"].dataType, LongType)
    assert schema["properties"].dataType == spark_event_schema()["properties"].dataType


def test_every_rejected_record_is_quarantined_verbatim_with_its_reason(classified):
    rows = sorted(quarantined_records(classified).collect(), key=lambda row: row.kafka_offset)
    assert [(r.kafka_offset, r.reason) for r in rows] == [
        (12, "bad_json"),
        (13, "bad_json"),
        (14, "schema_violation"),
        (15, "bad_json"),
        (16, "bad_json"),
    ]
    details = {r.kafka_offset: r.detail for r in rows}
    assert details[12].startswith("payload: is not valid JSON")
    assert details[13].startswith("payload: is not valid UTF-8")
    assert "properties.quantity" in details[14]
    assert details[15] == "payload: the record has no value"
    assert details[16] == "payload: is a JSON array, not an object"
    by_offset = {r.kafka_offset: r for r in rows}
    assert bytes(by_offset[13].raw_value) == b'{"event_id": "\xff\xfe"}'
    assert by_offset[14].raw_event == BAD_QUANTITY
    assert (by_offset[14].event_id, by_offset[14].event_type) == (E3, "product_added_to_cart")
    assert by_offset[15].raw_value is None
    # Partitioned by when Kafka received the record: 2026-10-02 00:30 UTC.
    assert {(r.received_date, r.received_hour) for r in rows} == {(date(2026, 10, 2), 0)}


def test_each_record_lands_in_exactly_one_output(classified):
    events = {r.kafka_offset for r in raw_events(classified).select("kafka_offset").collect()}
    rejected = {
        r.kafka_offset for r in quarantined_records(classified).select("kafka_offset").collect()
    }
    assert events.isdisjoint(rejected)
    assert events | rejected == {offset for _, offset in RECORDS}


def test_kafka_options_plaintext_locally_and_msk_iam_in_aws():
    local = StreamSettings(
        bootstrap_servers="127.0.0.1:9092",
        topic="events",
        raw_root="/lake/raw",
        checkpoint_root="/ckpt",
    )
    assert kafka_source_options(local) == {
        "kafka.bootstrap.servers": "127.0.0.1:9092",
        "subscribe": "events",
        "startingOffsets": "earliest",
        "failOnDataLoss": "true",
        "groupIdPrefix": "ecommerce-raw-stream",
    }
    msk = StreamSettings(
        bootstrap_servers="b-1:9098",
        topic="events",
        raw_root="s3://raw",
        checkpoint_root="s3://ckpt",
        kafka_auth="iam",
        max_offsets_per_trigger=500,
    )
    options = kafka_source_options(msk)
    assert options["kafka.security.protocol"] == "SASL_SSL"
    assert options["kafka.sasl.mechanism"] == "AWS_MSK_IAM"
    assert "IAMLoginModule required" in options["kafka.sasl.jaas.config"]
    assert options["maxOffsetsPerTrigger"] == "500"
