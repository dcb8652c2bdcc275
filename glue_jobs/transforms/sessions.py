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


def session_owner(client_session_column: str) -> Column:
    """What sessionization partitions events by: the client session id, else the visitor."""
    return sf.coalesce(sf.col(client_session_column), sf.col("anonymous_id"))


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

    All the windows share one shuffle and one sort: events are partitioned by client
    session id (by visitor when they have none), so a client session is never split, and
    ordered by visitor, client session id and time, so each visitor's events under one
    client session id are consecutive. This relies on what the event contract guarantees
    of a curated event: it has an event_id and an anonymous_id, and a client session id is
    a UUID (never empty) when present.
    """
    client_id = sf.col("client_session_id")
    in_order = Window.partitionBy("_owner").orderBy(
        "anonymous_id", "client_session_id", "occurred_at", "event_id"
    )
    running = in_order.rowsBetween(Window.unboundedPreceding, Window.currentRow)
    whole = in_order.rowsBetween(Window.unboundedPreceding, Window.unboundedFollowing)

    def previous(column: str | Column) -> Column:
        return sf.lag(column).over(in_order)

    same_visitor = previous("anonymous_id").eqNullSafe(sf.col("anonymous_id"))
    same_client_id = previous("client_session_id").eqNullSafe(client_id)
    # Exact microseconds: casting a timestamp to long would drop the fraction of a second.
    # The gap is null on a partition's first row, which therefore starts a segment.
    gap_micros = sf.unix_micros("occurred_at") - previous(sf.unix_micros("occurred_at"))
    starts_segment = (
        ~(same_visitor & same_client_id)
        | gap_micros.isNull()
        | (gap_micros > inactivity_timeout_seconds * 1_000_000)
    )
    segmented = (
        events.withColumnRenamed("session_id", "client_session_id")
        .withColumn("_owner", session_owner("client_session_id"))
        .repartition("_owner")
        .withColumn("_starts_segment", starts_segment)
    )
    one_visitor = sf.min("anonymous_id").over(whole) == sf.max("anonymous_id").over(whole)
    # With one visitor, the events that have a client session id are one visitor session
    # (events without one land here only if the client session id equals their visitor's id).
    client_segments = sf.count(sf.when(client_id.isNotNull() & sf.col("_starts_segment"), 1))
    trusted = client_id.isNotNull() & one_visitor & (client_segments.over(whole) == 1)
    # Each row carries the id of the event that opened its segment (a visitor session's
    # first row always opens one, so this never reaches into the previous visitor session).
    segment_first_event = sf.last(
        sf.when(sf.col("_starts_segment"), sf.col("event_id")), ignorenulls=True
    ).over(running)
    derived_id = _uuid_from_text(
        sf.concat_ws("|", sf.col("anonymous_id"), sf.col("_segment_first_event"))
    )
    return (
        # One projection, so that the windows of one frame order are computed together.
        segmented.withColumns({"_trusted": trusted, "_segment_first_event": segment_first_event})
        .withColumn("session_id", sf.when(sf.col("_trusted"), client_id).otherwise(derived_id))
        .withColumn("session_source", sf.when(sf.col("_trusted"), "client").otherwise("inactivity"))
        .drop("_owner", "_starts_segment", "_segment_first_event", "_trusted")
    )


def summarize_sessions(sessionized_events: DataFrame) -> DataFrame:
    """One row per curated session: timing, pages, entry/exit, source and funnel flags.

    Entry and exit pages are the first and last page paths seen; the traffic source,
    channel and device are those of the first event. page_count counts page_viewed events.
    "First" and "last" order by (occurred_at, event_id). The first event's columns come from
    one min over a struct led by that order, not one min_by per column: the per-row work of
    this sort-based aggregation is what the job spends its time on.
    """
    first_event = sf.struct(
        "occurred_at", "event_id", "client_session_id", "anonymous_id", "channel",
        "device_type", "traffic_source",
    )  # fmt: skip
    paged_event = sf.when(
        sf.col("page_path").isNotNull(), sf.struct("occurred_at", "event_id", "page_path")
    )
    flags = [
        sf.max(sf.col("event_type") == event_type).alias(flag)
        for flag, event_type in FUNNEL_EVENT_FLAGS.items()
    ]
    columns = (
        "session_id", "session_source", "_first.client_session_id", "_first.anonymous_id",
        "user_id", "_first.channel", "_first.device_type", "_first.traffic_source",
        "started_at", "ended_at", "event_count", "page_count",
        sf.col("_entry.page_path").alias("entry_page"),
        sf.col("_exit.page_path").alias("exit_page"),
        *FUNNEL_EVENT_FLAGS, "order_count",
    )  # fmt: skip
    return (
        sessionized_events.groupBy("session_id")
        .agg(
            sf.first("session_source").alias("session_source"),
            sf.min(first_event).alias("_first"),
            sf.max("user_id").alias("user_id"),
            sf.min("occurred_at").alias("started_at"),
            sf.max("occurred_at").alias("ended_at"),
            sf.count(sf.lit(1)).alias("event_count"),
            sf.count(sf.when(sf.col("event_type") == "page_viewed", 1)).alias("page_count"),
            sf.min(paged_event).alias("_entry"),
            sf.max(paged_event).alias("_exit"),
            *flags,
            sf.count(sf.when(sf.col("event_type") == "order_completed", 1)).alias("order_count"),
        )
        .select(*columns)
        .withColumn(
            "duration_seconds",
            (sf.unix_micros("ended_at") - sf.unix_micros("started_at")) / 1_000_000,
        )
        .withColumn("session_date", sf.to_date("started_at"))
    )
