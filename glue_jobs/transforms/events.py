"""Curation of raw events: check each line against the contract, drop duplicates, accept late
events within a window, and quarantine everything else with its reason.

`classify_raw_lines` gives every raw line exactly one outcome; the curated table, the
quarantine table and the counts are all read from that one frame, so (with the frame
persisted by the job) the contract check runs once per line and the counts always add up.
`with_parsed_events` adds the parsed event; `classify_raw_events` is the two together.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as sf
from pyspark.sql.types import StringType, StructField, StructType

from contracts.events.validator import parse_event

ACCEPTED = "accepted"
DUPLICATE = "duplicate"
BAD_JSON = "bad_json"
SCHEMA_VIOLATION = "schema_violation"
TOO_LATE = "too_late"
OUTCOMES = (ACCEPTED, DUPLICATE, BAD_JSON, SCHEMA_VIOLATION, TOO_LATE)

# A check gets a line's bytes and returns None for a valid event, else
# (BAD_JSON | SCHEMA_VIOLATION, detail).
EventCheck = Callable[[bytes], tuple[str, str] | None]
PROBLEM_TYPE = StructType(
    [StructField("reason", StringType(), False), StructField("detail", StringType(), False)]
)


def contract_problem(raw: bytes | str) -> tuple[str, str] | None:
    """The contract validator's verdict on one raw line (the same one every runtime uses):
    lines that do not decode to a JSON object (or are oversized) are bad JSON, decoded
    objects that break the contract are schema violations."""
    event, reasons = parse_event(raw)
    if not reasons:
        return None
    return (BAD_JSON if event is None else SCHEMA_VIOLATION), "; ".join(reasons)


def contract_check(check: Callable[[Any], tuple[str, str] | None], line: Column) -> Column:
    """`check` applied to each value of `line` (binary) as a PROBLEM_TYPE column. The values
    reach Python in Arrow batches, not one pickled row at a time: the per-row plumbing of a
    plain Python UDF cost more than the validator itself."""
    return sf.udf(check, PROBLEM_TYPE, useArrow=True)(line)


def classify_raw_lines(
    raw: DataFrame,
    *,
    event_schema: StructType,
    watermark: datetime | None,
    allowed_lateness: timedelta,
    check_event: EventCheck = contract_problem,
) -> DataFrame:
    """One row per raw line (columns `value`, `received_at`) with its `outcome` and `detail`,
    without the parsed event (`with_parsed_events` adds it).

    An event is too late when it occurred before `watermark - allowed_lateness` (no
    watermark: nothing is late). Among the remaining valid events, the earliest received
    copy of each event_id is accepted and the others are duplicates (dropped, counted).

    The dedupe shuffles the lines, not their parsed events: before it, only the event id and
    time are read from each valid line, with the same JSON reader (and so the same value)
    as the whole event later.
    """
    if watermark is not None and watermark.tzinfo is None:
        raise ValueError("the watermark must be timezone-aware")
    # The check gets the line's exact bytes: a line that is not valid UTF-8 is then named as
    # such, instead of reaching the check with replacement characters (and passing).
    checked = raw.withColumn(
        "_problem", contract_check(check_event, sf.col("value").cast("binary"))
    )
    valid = sf.col("_problem").isNull()
    key_schema = StructType([event_schema["event_id"], event_schema["occurred_at"]])
    key = sf.when(valid, sf.from_json("value", key_schema))
    late = sf.lit(False)
    late_detail = sf.lit(None).cast("string")
    if watermark is not None:
        oldest_accepted = watermark - allowed_lateness
        late = sf.col("_key.occurred_at") < sf.lit(oldest_accepted)
        late_detail = sf.lit(f"occurred before {oldest_accepted.isoformat()}")
    # Only valid, timely lines compete for an event_id: a rejected copy never wins.
    eligible = valid & ~sf.col("_late")
    copies = Window.partitionBy(eligible, "_key.event_id").orderBy("received_at", "value")
    return (
        checked.withColumn("_key", key)
        .withColumn("_late", late)
        .withColumn("_copy", sf.when(eligible, sf.row_number().over(copies)))
        .select(
            "value",
            "received_at",
            sf.when(sf.col("_problem").isNotNull(), sf.col("_problem.reason"))
            .when(sf.col("_late"), sf.lit(TOO_LATE))
            .when(sf.col("_copy") == 1, sf.lit(ACCEPTED))
            .otherwise(sf.lit(DUPLICATE))
            .alias("outcome"),
            sf.coalesce(sf.col("_problem.detail"), sf.when(sf.col("_late"), late_detail)).alias(
                "detail"
            ),
        )
    )


def with_parsed_events(classified_lines: DataFrame, event_schema: StructType) -> DataFrame:
    """`classified_lines` plus the parsed `event` of the lines that passed the check (null for
    the others). Parsing is lazy: reading only accepted lines parses only those."""
    passed = sf.col("outcome").isin(ACCEPTED, DUPLICATE, TOO_LATE)
    return classified_lines.select(
        "value",
        "received_at",
        sf.when(passed, sf.from_json("value", event_schema)).alias("event"),
        "outcome",
        "detail",
    )


def classify_raw_events(
    raw: DataFrame,
    *,
    event_schema: StructType,
    watermark: datetime | None,
    allowed_lateness: timedelta,
    check_event: EventCheck = contract_problem,
) -> DataFrame:
    """`classify_raw_lines` with each valid line's parsed `event`."""
    lines = classify_raw_lines(
        raw,
        event_schema=event_schema,
        watermark=watermark,
        allowed_lateness=allowed_lateness,
        check_event=check_event,
    )
    return with_parsed_events(lines, event_schema)


def _flattened_context(context_type: StructType) -> list[Column]:
    """context.x -> x and context.x.y -> x_y, so analysts get flat columns."""
    columns = []
    for field in context_type.fields:
        if isinstance(field.dataType, StructType):
            columns += [
                sf.col(f"event.context.{field.name}.{child.name}").alias(
                    f"{field.name}_{child.name}"
                )
                for child in field.dataType.fields
            ]
        else:
            columns.append(sf.col(f"event.context.{field.name}").alias(field.name))
    return columns


def curated_events(classified: DataFrame) -> DataFrame:
    """The accepted events, flat (context unpacked), with `event_date` to partition by."""
    event_type = classified.schema["event"].dataType
    if not isinstance(event_type, StructType):
        raise TypeError(f"event must be a struct, not {event_type}")
    envelope = [
        sf.col(f"event.{field.name}").alias(field.name)
        for field in event_type.fields
        if field.name not in ("context", "properties")
    ]
    context_type = event_type["context"].dataType
    if not isinstance(context_type, StructType):
        raise TypeError(f"event.context must be a struct, not {context_type}")
    return classified.filter(sf.col("outcome") == ACCEPTED).select(
        *envelope,
        *_flattened_context(context_type),
        sf.col("event.properties").alias("properties"),
        "received_at",
        sf.to_date("event.occurred_at").alias("event_date"),
    )


def quarantined_events(classified: DataFrame) -> DataFrame:
    """Lines that were not accepted and not duplicates, kept verbatim with their reason."""
    return classified.filter(sf.col("outcome").isin(BAD_JSON, SCHEMA_VIOLATION, TOO_LATE)).select(
        sf.col("value").alias("raw_event"),
        "received_at",
        sf.get_json_object("value", "$.event_id").alias("event_id"),
        sf.get_json_object("value", "$.event_type").alias("event_type"),
        sf.col("outcome").alias("reason"),
        "detail",
    )


def curation_counts(classified: DataFrame) -> DataFrame:
    """One row: lines received and how many had each outcome (they add up to received)."""
    return classified.agg(
        sf.count(sf.lit(1)).alias("received"),
        *[sf.count(sf.when(sf.col("outcome") == name, 1)).alias(name) for name in OUTCOMES],
    )
