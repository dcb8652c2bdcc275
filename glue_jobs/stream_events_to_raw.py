"""Glue streaming job stream_events_to_raw: the events topic -> the raw zone as Parquet
partitioned by event date and hour; rejected records -> the raw quarantine with their reasons.
Thin: arguments and I/O here, the rules in glue_jobs.transforms.raw_stream.

Arguments (Glue style): --bootstrap_servers, --topic, --raw_uri (root of the raw zone),
--checkpoint_uri (one sub-folder per output), optional --kafka_auth (plaintext | iam),
--trigger_seconds (0: read what the topic holds, then stop; N: a micro-batch every N seconds
until stopped), --max_offsets_per_trigger and --consumer_group_prefix.

Each output is its own file-sink query with its own checkpoint: Spark commits a batch's files
and its Kafka offsets together, so a restart resumes after the last committed batch and
neither output gets a record twice. Readers should read a table through Spark (or a catalog
built from its `_spark_metadata` log), which ignores files of an uncommitted batch.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Literal

from pydantic import ConfigDict, Field
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as sf
from pyspark.sql.streaming import StreamingQuery

from contracts.events.topics import RAW_STREAM_GROUP_PREFIX
from contracts.lake import (
    RAW_STREAM_EVENT_PARTITIONS,
    RAW_STREAM_EVENTS,
    RAW_STREAM_QUARANTINE,
    RAW_STREAM_QUARANTINE_PARTITIONS,
    table_path,
)
from glue_jobs.job_runtime import JobArguments, job_arguments, job_spark_session, report
from glue_jobs.transforms.event_schema import spark_event_schema
from glue_jobs.transforms.raw_stream import classify_kafka_records, quarantined_records, raw_events

JOB_NAME = "stream_events_to_raw"
KafkaAuth = Literal["plaintext", "iam"]
# MSK IAM for the Java Kafka client (the aws-msk-iam-auth login module).
_MSK_IAM_OPTIONS = {
    "kafka.security.protocol": "SASL_SSL",
    "kafka.sasl.mechanism": "AWS_MSK_IAM",
    "kafka.sasl.jaas.config": "software.amazon.msk.auth.iam.IAMLoginModule required;",
    "kafka.sasl.client.callback.handler.class": (
        "software.amazon.msk.auth.iam.IAMClientCallbackHandler"
    ),
}


class StreamSettings(JobArguments):
    """The job's arguments; the two roots are passed as --raw_uri and --checkpoint_uri."""

    model_config = ConfigDict(validate_by_name=True)

    bootstrap_servers: str
    topic: str
    raw_root: str = Field(alias="raw_uri")
    checkpoint_root: str = Field(alias="checkpoint_uri")
    kafka_auth: KafkaAuth = "plaintext"
    trigger_seconds: int = 0
    max_offsets_per_trigger: int | None = None
    consumer_group_prefix: str = RAW_STREAM_GROUP_PREFIX


def kafka_source_options(settings: StreamSettings) -> dict[str, str]:
    """Options of Spark's Kafka source. A new checkpoint starts at the earliest offset, so a
    first run lands what the topic still holds; a lost offset (expired by retention while
    the job was down) fails the query instead of skipping records silently."""
    options = {
        "kafka.bootstrap.servers": settings.bootstrap_servers,
        "subscribe": settings.topic,
        "startingOffsets": "earliest",
        "failOnDataLoss": "true",
        # IAM policies name the consumer groups this job may use by this prefix.
        "groupIdPrefix": settings.consumer_group_prefix,
    }
    if settings.max_offsets_per_trigger:
        options["maxOffsetsPerTrigger"] = str(settings.max_offsets_per_trigger)
    if settings.kafka_auth == "iam":
        options |= _MSK_IAM_OPTIONS
    return options


def start_streams(spark: SparkSession, settings: StreamSettings) -> dict[str, StreamingQuery]:
    """Start one query per output (raw events and quarantine), reading the same topic."""
    records = spark.readStream.format("kafka").options(**kafka_source_options(settings)).load()
    classified = classify_kafka_records(records, event_schema=spark_event_schema())
    outputs = {
        "events": (raw_events(classified), RAW_STREAM_EVENTS, RAW_STREAM_EVENT_PARTITIONS),
        "quarantined": (
            quarantined_records(classified),
            RAW_STREAM_QUARANTINE,
            RAW_STREAM_QUARANTINE_PARTITIONS,
        ),
    }
    return {
        name: _file_sink(frame, name, table_path(settings.raw_root, table), partitions, settings)
        for name, (frame, table, partitions) in outputs.items()
    }


def _file_sink(
    frame: DataFrame, name: str, path: str, partitions: Sequence[str], settings: StreamSettings
) -> StreamingQuery:
    counted = frame.observe(name, sf.count(sf.lit(1)).alias("rows"))
    writer = (
        counted.writeStream.format("parquet")
        .queryName(f"{JOB_NAME}.{name}")
        .option("path", path)
        .option("checkpointLocation", f"{settings.checkpoint_root.rstrip('/')}/{name}")
        .partitionBy(*partitions)
        .outputMode("append")
    )
    if settings.trigger_seconds > 0:
        writer = writer.trigger(processingTime=f"{settings.trigger_seconds} seconds")
    else:
        writer = writer.trigger(availableNow=True)
    return writer.start()


def run_available_now(spark: SparkSession, settings: StreamSettings) -> dict[str, int]:
    """Land everything the topic holds beyond the checkpoints, then stop; returns the rows
    each output got in this run (both add up to the records read)."""
    if settings.trigger_seconds > 0:
        raise ValueError("run_available_now reads what is there; use trigger_seconds=0")
    queries = start_streams(spark, settings)
    for query in queries.values():
        query.awaitTermination()
    return {name: _rows_written(query, name) for name, query in queries.items()}


def _rows_written(query: StreamingQuery, name: str) -> int:
    """Rows of this run's batches, from the metric the query observed on its output (the
    progress reports are JSON documents; a batch without rows may omit the metric)."""
    return sum(
        progress.get("observedMetrics", {}).get(name, {}).get("rows", 0)
        for progress in query.recentProgress
    )


def main(argv: Sequence[str] = sys.argv) -> None:
    settings = job_arguments(argv, StreamSettings)
    spark = job_spark_session(JOB_NAME, needs_extra_jars=True)
    if settings.trigger_seconds > 0:
        start_streams(spark, settings)
        spark.streams.awaitAnyTermination()  # a failed query fails the run; Glue restarts it
    else:
        report(JOB_NAME, run_available_now(spark, settings))


if __name__ == "__main__":
    main()
