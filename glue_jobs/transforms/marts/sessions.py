"""mart_sessions_daily: how visits start and whether they go anywhere, by device and entry
page type, beside the funnel mart's per-channel steps."""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as sf

from glue_jobs.transforms.marts.common import ratio

# A session counts as engaged when it did not bounce and lasted at least this long.
ENGAGED_MIN_SECONDS = 10
# Entry page type of a session without a page_viewed event.
NO_PAGE_VIEW = "none"
UNKNOWN_DEVICE = "unknown"


def entry_page_types(events: DataFrame) -> DataFrame:
    """session_id -> the page_type of the session's first page_viewed event, first by
    (occurred_at, event_id) as the curated sessions order their events."""
    first_view = sf.min(sf.struct("occurred_at", "event_id", "properties.page_type"))
    return (
        events.filter(sf.col("event_type") == "page_viewed")
        .groupBy("session_id")
        .agg(first_view.alias("_first_view"))
        .select("session_id", sf.col("_first_view.page_type").alias("entry_page_type"))
    )


def sessions_daily(sessions: DataFrame, events: DataFrame) -> DataFrame:
    """One row per session day (UTC, by start) x channel x device x entry page type.

    Bounced: at most one page view and no interaction beyond it (no cart add, checkout or
    order). Engaged: not bounced and at least ENGAGED_MIN_SECONDS from first to last event.
    Converted: at least one order_completed; `orders` counts them all. Rates are shares of
    the row's sessions (null never: a row has at least one session).
    """
    interacted = sf.col("reached_add_to_cart") | sf.col("reached_checkout") | sf.col("converted")
    bounced = (sf.col("page_count") <= 1) & ~interacted
    engaged = ~bounced & (sf.col("duration_seconds") >= ENGAGED_MIN_SECONDS)
    classified = sessions.join(entry_page_types(events), "session_id", "left").select(
        "session_date",
        "channel",
        sf.coalesce("device_type", sf.lit(UNKNOWN_DEVICE)).alias("device_type"),
        sf.coalesce("entry_page_type", sf.lit(NO_PAGE_VIEW)).alias("entry_page_type"),
        bounced.alias("bounced"),
        engaged.alias("engaged"),
        "converted",
        "order_count",
        "page_count",
    )
    return (
        classified.groupBy("session_date", "channel", "device_type", "entry_page_type")
        .agg(
            sf.count(sf.lit(1)).alias("sessions"),
            sf.count(sf.when(sf.col("bounced"), 1)).alias("bounced_sessions"),
            sf.count(sf.when(sf.col("engaged"), 1)).alias("engaged_sessions"),
            sf.count(sf.when(sf.col("converted"), 1)).alias("converted_sessions"),
            sf.sum("order_count").alias("orders"),
            sf.sum("page_count").alias("page_views"),
        )
        .withColumn("bounce_rate", ratio("bounced_sessions", "sessions"))
        .withColumn("conversion_rate", ratio("converted_sessions", "sessions"))
    )
