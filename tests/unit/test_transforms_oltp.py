"""The extract job's SQL, batch names and read plan, and the current-state rule over extract
batches, on hand-written inputs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from spark_fixtures import table

from glue_jobs.transforms.oltp import (
    SOURCE_TABLE_BY_NAME,
    batch_name,
    bounds_query,
    changes_query,
    latest_versions,
    new_versions,
    parse_utc,
    read_after,
    read_partitions,
)

WATERMARK = datetime(2026, 9, 30, 22, 30, 27, 115000, tzinfo=UTC)
UTC_TEXT = '\'YYYY-MM-DD"T"HH24:MI:SS.US"Z"\''


def test_bounds_of_an_id_table_after_its_watermark():
    since = "updated_at > TIMESTAMPTZ '2026-09-30T22:30:27.115000+00:00'"
    assert bounds_query([SOURCE_TABLE_BY_NAME["orders"]], {"orders": WATERMARK}) == (
        "SELECT 'orders' AS table_name, "
        f"to_char(max(updated_at) AT TIME ZONE 'UTC', {UTC_TEXT}) AS through, "
        f"count(*) AS total, count(*) FILTER (WHERE {since}) AS changed, "
        f"(min(id) FILTER (WHERE {since}))::text AS split_low, "
        f"(max(id) FILTER (WHERE {since}))::text AS split_high FROM orders"
    )


def test_bounds_of_a_time_split_table_for_a_snapshot_and_union_of_tables():
    query = bounds_query(
        [SOURCE_TABLE_BY_NAME["users"], SOURCE_TABLE_BY_NAME["sessions"]], {"users": None}
    )
    first, second = query.split("\nUNION ALL\n")
    assert first.startswith("SELECT 'users' AS table_name")
    assert "count(*) FILTER (WHERE TRUE) AS changed" in second
    assert (
        "to_char((min(started_at) FILTER (WHERE TRUE)) AT TIME ZONE 'UTC', "
        "'YYYY-MM-DD HH24:MI:SS.US') AS split_low"
    ) in second


def test_changes_between_two_watermarks_and_a_first_snapshot():
    through = WATERMARK + timedelta(hours=1)
    assert changes_query(SOURCE_TABLE_BY_NAME["orders"], WATERMARK, through) == (
        "(SELECT * FROM orders WHERE updated_at > TIMESTAMPTZ '2026-09-30T22:30:27.115000+00:00' "
        "AND updated_at <= TIMESTAMPTZ '2026-09-30T23:30:27.115000+00:00') AS changes"
    )
    assert changes_query(SOURCE_TABLE_BY_NAME["orders"], None, None) == (
        "(SELECT * FROM orders WHERE TRUE AND TRUE) AS changes"
    )


def test_watermarks_must_carry_a_zone_and_are_written_in_utc():
    with pytest.raises(ValueError, match="timezone-aware"):
        changes_query(SOURCE_TABLE_BY_NAME["orders"], datetime(2026, 9, 30), None)
    two_hours_east = datetime(2026, 10, 1, 0, 30, 27, 115000, tzinfo=timezone(timedelta(hours=2)))
    assert batch_name(two_hours_east) == "after-20260930T223027115000Z"
    assert batch_name(None) == "full"
    assert parse_utc("2026-09-30T22:30:27.115000Z") == WATERMARK


@pytest.mark.parametrize(
    ("changed", "per_partition", "cap", "expected"),
    [(0, 100, 8, 1), (100, 100, 8, 1), (101, 100, 8, 2), (10_000, 100, 8, 8)],
)
def test_read_partitions_one_per_slice_of_rows_capped(changed, per_partition, cap, expected):
    assert read_partitions(changed, per_partition, cap) == expected


def test_current_state_is_the_latest_version_of_each_key(spark):
    batches = table(
        spark,
        "id bigint, status string, updated_at timestamp, extract_batch string",
        [
            (1, "placed", "2026-09-01 10:00", "full"),
            (2, "placed", "2026-09-01 11:00", "full"),
            (1, "shipped", "2026-09-02 09:00", "after-20260901T110000000000Z"),
            (3, "placed", "2026-09-02 10:00", "after-20260901T110000000000Z"),
            # a re-run that read the same version again
            (3, "placed", "2026-09-02 10:00", "after-20260901T110000000000Z"),
        ],
    )
    current = latest_versions(batches, ["id"])
    assert current.columns == ["id", "status", "updated_at"]
    assert sorted((row.id, row.status) for row in current.collect()) == [
        (1, "shipped"), (2, "placed"), (3, "placed"),
    ]  # fmt: skip


def test_incremental_reads_start_a_lookback_before_the_watermark():
    assert read_after(WATERMARK, timedelta(minutes=15)) == datetime(
        2026, 9, 30, 22, 15, 27, 115000, tzinfo=UTC
    )
    assert read_after(None, timedelta(minutes=15)) is None


def test_versions_already_copied_are_not_copied_again(spark):
    schema = "id bigint, status string, updated_at timestamp"
    published = table(
        spark, schema, [(1, "placed", "2026-09-01 10:00"), (2, "placed", "2026-09-01 11:00")]
    )
    reread = table(
        spark,
        schema,
        [
            (1, "placed", "2026-09-01 10:00"),  # the same version: already copied
            (2, "shipped", "2026-09-01 11:20"),  # a newer version of a copied key
            (3, "placed", "2026-09-01 10:50"),  # committed late, stamped before the watermark
        ],
    )
    fresh = new_versions(reread, published, ["id"])
    assert sorted((row.id, row.status) for row in fresh.collect()) == [
        (2, "shipped"),
        (3, "placed"),
    ]
