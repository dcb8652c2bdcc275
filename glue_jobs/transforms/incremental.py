"""Incremental curation: fold newly curated lines into the published curated tables so that
they come out as a full re-curation of every line would have made them.

What a new line can change, and so what is recomputed:

- **Copies.** Among all copies of an event, the earliest received is accepted. The winner
  among the new lines (`classify_raw_lines` already settled those) therefore only has to
  beat the copy already curated, if any: it is accepted when it was received strictly
  earlier, and that copy is then displaced; otherwise it is a duplicate.
- **Sessions.** Sessionization partitions events by owner (the client session id, else the
  visitor) and looks at nothing else, so the owners of the accepted and displaced events are
  re-sessionized with all their curated events; every other event keeps its session.
- **Partitions.** Only the day partitions in which some row differs are replaced, with the
  published rows of the unaffected owners plus the recomputed rows.
"""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as sf

from glue_jobs.transforms.sessions import assign_sessions, session_owner

# The client's session id: `session_id` before sessionization, `client_session_id` after.
UNCURATED_CLIENT_SESSION = "session_id"
CURATED_CLIENT_SESSION = "client_session_id"
SESSION_COLUMNS = ("session_id", "session_source")


def settle_copies(candidates: DataFrame, published_events: DataFrame) -> DataFrame:
    """The new winning copies (curated_events rows) with the published copy of the same
    event, if any: `_prior_received_at`, `_prior_owner`, and `_wins` (no published copy, or
    received strictly earlier than it; on a tie the published copy stays)."""
    published = published_events.select(
        "event_id",
        sf.col("received_at").alias("_prior_received_at"),
        session_owner(CURATED_CLIENT_SESSION).alias("_prior_owner"),
    )
    ids = candidates.select("event_id")
    prior = published.join(sf.broadcast(ids), "event_id")
    return candidates.join(prior, "event_id", "left").withColumn(
        "_wins",
        sf.col("_prior_received_at").isNull()
        | (sf.col("received_at") < sf.col("_prior_received_at")),
    )


def affected_owners(settled: DataFrame) -> DataFrame:
    """Owners (`_owner`) whose sessions a settled batch changes: those of the winners and of
    the published copies they displace."""
    winners = settled.filter("_wins")
    return (
        winners.select(session_owner(UNCURATED_CLIENT_SESSION).alias("_owner"))
        .union(winners.filter(sf.col("_prior_owner").isNotNull()).select("_prior_owner"))
        .distinct()
    )


def owned_by(published_events: DataFrame, owners: DataFrame) -> DataFrame:
    """The published events of `owners` (a frame with `_owner`)."""
    return published_events.join(
        sf.broadcast(owners),
        session_owner(CURATED_CLIENT_SESSION) == sf.col("_owner"),
        "left_semi",
    )


def resessionized(owners_events: DataFrame, settled: DataFrame) -> DataFrame:
    """The affected owners' published events, less the displaced copies, plus the winners,
    sessionized again; in the column order of `owners_events`."""
    winners = settled.filter("_wins").drop("_prior_received_at", "_prior_owner", "_wins")
    kept = owners_events.join(winners.select("event_id"), "event_id", "left_anti")
    uncurated = kept.drop(*SESSION_COLUMNS).withColumnRenamed(
        CURATED_CLIENT_SESSION, UNCURATED_CLIENT_SESSION
    )
    return assign_sessions(uncurated.unionByName(winners)).select(*owners_events.columns)


def changed_event_days(before: DataFrame, after: DataFrame) -> DataFrame:
    """`changed_partitions` of events, comparing only what folding can change: a kept event
    keeps its content, and a copy that replaces another differs from it in receive time."""
    columns = ("event_id", "event_date", "received_at", *SESSION_COLUMNS)
    return changed_partitions(before.select(*columns), after.select(*columns), "event_date")


def changed_partitions(before: DataFrame, after: DataFrame, partition_column: str) -> DataFrame:
    """Partition values holding a row that is in one frame and not in the other."""
    return (
        after.exceptAll(before)
        .unionByName(before.exceptAll(after))
        .select(partition_column)
        .distinct()
    )


def replaced_rows(
    published: DataFrame, recomputed: DataFrame, replaced_keys: DataFrame, key: str
) -> DataFrame:
    """`published` without the rows whose `key` is in `replaced_keys`, plus `recomputed`
    (the caller restricts both to the partitions it replaces)."""
    kept = published.join(replaced_keys.select(key), key, "left_anti")
    return kept.unionByName(recomputed).select(*published.columns)
