"""Sessionization: 30 minutes of inactivity ends a session.

The client's session_id is kept when it is trustworthy: one visitor (anonymous_id) and no
gap longer than the inactivity timeout between its consecutive events. Otherwise (missing,
spanning a long gap, or shared by several visitors) the events are cut into sessions by
inactivity per visitor, and each such session gets a deterministic id derived from its first
event, so re-running the job gives the same ids. Events are ordered by occurred_at, never by
arrival, so out-of-order delivery changes nothing.
"""

from __future__ import annotations

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as sf

INACTIVITY_TIMEOUT_SECONDS = 30 * 60

FUNNEL_EVENT_FLAGS = {
    "reached_product_view": "product_viewed",
    "reached_add_to_cart": "product_added_to_cart",
    "reached_checkout": "checkout_started",
    "converted": "order_completed",
}


def _uuid_from_text(text: Column) -> Column:
    """A UUID-shaped string from the MD5 of `text`: stable across runs and engines."""
    digest = sf.md5(text)
    return sf.concat_ws(
        "-",
        sf.substring(digest, 1, 8),
        sf.substring(digest, 9, 4),
        sf.substring(digest, 13, 4),
        sf.substring(digest, 17, 4),
        sf.substring(digest, 21, 12),
    )


def assign_sessions(
    events: DataFrame, inactivity_timeout_seconds: int = INACTIVITY_TIMEOUT_SECONDS
) -> DataFrame:
    """Give every curated event its curated `session_id`.

    The envelope's session_id is kept as `client_session_id`; `session_source` says whether
    the curated id is the client's ("client") or was derived by inactivity ("inactivity").
    A gap of exactly the timeout stays in the same session; only a longer gap splits.
    """
    client_key = sf.coalesce(sf.col("client_session_id"), sf.lit(""))
    visitor_session = Window.partitionBy("anonymous_id", client_key).orderBy(
        "occurred_at", "event_id"
    )
    whole_visitor_session = Window.partitionBy("anonymous_id", client_key)
    # Null client ids are spread by visitor instead of piling into one partition.
    whole_client_session = Window.partitionBy(
        sf.coalesce(sf.col("client_session_id"), sf.col("anonymous_id"))
    )

    # Exact microseconds: casting a timestamp to long would drop the fraction of a second.
    gap_micros = sf.unix_micros("occurred_at") - sf.lag(sf.unix_micros("occurred_at")).over(
        visitor_session
    )
    starts_segment = gap_micros.isNull() | (gap_micros > inactivity_timeout_seconds * 1_000_000)

    running = visitor_session.rowsBetween(Window.unboundedPreceding, Window.currentRow)
    segmented = (
        events.withColumnRenamed("session_id", "client_session_id")
        .withColumn("_starts_segment", starts_segment)
        # Each row carries the id of the event that opened its segment.
        .withColumn(
            "_segment_first_event",
            sf.last(sf.when(sf.col("_starts_segment"), sf.col("event_id")), ignorenulls=True).over(
                running
            ),
        )
    )
    trusted = (
        sf.col("client_session_id").isNotNull()
        & (sf.sum(sf.col("_starts_segment").cast("int")).over(whole_visitor_session) == 1)
        & (
            sf.min("anonymous_id").over(whole_client_session)
            == sf.max("anonymous_id").over(whole_client_session)
        )
    )
    derived_id = _uuid_from_text(
        sf.concat_ws("|", sf.col("anonymous_id"), sf.col("_segment_first_event"))
    )
    return (
        segmented.withColumn("_trusted", trusted)
        .withColumn(
            "session_id",
            sf.when(sf.col("_trusted"), sf.col("client_session_id")).otherwise(derived_id),
        )
        .withColumn("session_source", sf.when(sf.col("_trusted"), "client").otherwise("inactivity"))
        .drop("_starts_segment", "_segment_first_event", "_trusted")
    )


def summarize_sessions(sessionized_events: DataFrame) -> DataFrame:
    """One row per curated session: timing, pages, entry/exit, source and funnel flags.

    Entry and exit pages are the first and last page paths seen; the traffic source,
    channel and device are those of the first event. page_count counts page_viewed events.
    """
    order_key = sf.struct("occurred_at", "event_id")
    with_page_key = sf.when(sf.col("page_path").isNotNull(), order_key)
    flags = [
        sf.max(sf.col("event_type") == event_type).alias(flag)
        for flag, event_type in FUNNEL_EVENT_FLAGS.items()
    ]
    return (
        sessionized_events.groupBy("session_id")
        .agg(
            sf.first("session_source").alias("session_source"),
            sf.min_by("client_session_id", order_key).alias("client_session_id"),
            sf.min_by("anonymous_id", order_key).alias("anonymous_id"),
            sf.max("user_id").alias("user_id"),
            sf.min_by("channel", order_key).alias("channel"),
            sf.min_by("device_type", order_key).alias("device_type"),
            sf.min_by("traffic_source", order_key).alias("traffic_source"),
            sf.min("occurred_at").alias("started_at"),
            sf.max("occurred_at").alias("ended_at"),
            sf.count(sf.lit(1)).alias("event_count"),
            sf.count(sf.when(sf.col("event_type") == "page_viewed", 1)).alias("page_count"),
            sf.min_by("page_path", with_page_key).alias("entry_page"),
            sf.max_by("page_path", with_page_key).alias("exit_page"),
            *flags,
            sf.count(sf.when(sf.col("event_type") == "order_completed", 1)).alias("order_count"),
        )
        .withColumn(
            "duration_seconds",
            (sf.unix_micros("ended_at") - sf.unix_micros("started_at")) / 1_000_000,
        )
        .withColumn("session_date", sf.to_date("started_at"))
    )
