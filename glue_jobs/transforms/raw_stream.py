"""Kafka records of the events topic -> the raw zone: contract-valid events as typed rows
partitioned by event date and hour, everything else quarantined with its reason.

The raw zone keeps what arrived: no dedupe and no lateness rule (curation applies those), and
every record lands exactly once, in the events table or in the quarantine, with the Kafka
coordinates that identify it. `classify_kafka_records` runs the contract check once per
record; both outputs are read from its result.
"""

from __future__ import annotations

from collections.abc import Callable

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as sf
from pyspark.sql.types import StructType

from glue_jobs.transforms.events import BAD_JSON, contract_check, contract_problem

# None for a valid record, else (BAD_JSON | SCHEMA_VIOLATION, detail).
RecordCheck = Callable[[bytes | None], tuple[str, str] | None]


def record_problem(value: bytes | None) -> tuple[str, str] | None:
    """The contract validator's verdict on one record value (bytes, so bad UTF-8 is named);
    a record without a value (a tombstone) is not an event."""
    if value is None:
        return BAD_JSON, "payload: the record has no value"
    return contract_problem(bytes(value))


def classify_kafka_records(
    records: DataFrame, *, event_schema: StructType, check_record: RecordCheck = record_problem
) -> DataFrame:
    """Records as the Kafka source gives them (key, value, topic, partition, offset,
    timestamp, ...) with `problem` (null when valid) and the parsed `event` (valid only)."""
    return records.withColumn("problem", contract_check(check_record, sf.col("value"))).withColumn(
        "event",
        sf.when(
            sf.col("problem").isNull(),
            sf.from_json(sf.col("value").cast("string"), event_schema),
        ),
    )


def _kafka_coordinates() -> list[Column]:
    """Where a record came from: topic, partition and offset name it uniquely."""
    return [
        sf.col("topic").alias("kafka_topic"),
        sf.col("partition").alias("kafka_partition"),
        sf.col("offset").alias("kafka_offset"),
        sf.col("timestamp").alias("kafka_timestamp"),
    ]


def raw_events(classified: DataFrame) -> DataFrame:
    """The valid events: the contract's envelope as typed columns, the line as it arrived
    (`raw_event`: curate_events checks and parses it like a landed line), the Kafka
    coordinates, and the UTC date and hour the event occurred, to partition by."""
    event_type = classified.schema["event"].dataType
    if not isinstance(event_type, StructType):
        raise TypeError(f"event must be a struct, not {event_type}")
    return classified.filter(sf.col("problem").isNull()).select(
        *[sf.col(f"event.{field.name}").alias(field.name) for field in event_type.fields],
        # Valid events are valid UTF-8 (the check names any other as bad JSON).
        sf.col("value").cast("string").alias("raw_event"),
        *_kafka_coordinates(),
        sf.to_date("event.occurred_at").alias("event_date"),
        sf.hour("event.occurred_at").alias("event_hour"),
    )


def quarantined_records(classified: DataFrame) -> DataFrame:
    """The rejected records, verbatim, with the reason and detail, partitioned by the UTC date
    and hour Kafka received them (a rejected record may carry no usable event time)."""
    text = sf.col("value").cast("string")
    return classified.filter(sf.col("problem").isNotNull()).select(
        sf.col("value").alias("raw_value"),
        text.alias("raw_event"),
        sf.get_json_object(text, "$.event_id").alias("event_id"),
        sf.get_json_object(text, "$.event_type").alias("event_type"),
        sf.col("problem.reason").alias("reason"),
        sf.col("problem.detail").alias("detail"),
        *_kafka_coordinates(),
        sf.to_date("timestamp").alias("received_date"),
        sf.hour("timestamp").alias("received_hour"),
    )
