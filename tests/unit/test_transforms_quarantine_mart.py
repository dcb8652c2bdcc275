"""mart_quarantine_daily: the stages' quarantines counted per day, stage and reason, read
from a lake where one stage has rejected lines and the other has no folder yet."""

from __future__ import annotations

from spark_fixtures import day, table

from contracts.lake import QUARANTINE, RAW_STREAM_QUARANTINE, Lake, table_path
from contracts.marts import marts
from glue_jobs.build_marts import read_quarantines
from glue_jobs.lake import write_table
from glue_jobs.transforms.marts.quarantine import quarantine_daily

CURATED_QUARANTINE = "raw_event string, reason string, detail string, received_date date"
STREAM_QUARANTINE = "raw_event string, reason string, received_date date, received_hour int"


def test_counts_per_day_stage_and_reason(spark) -> None:
    curated = table(spark, CURATED_QUARANTINE, [
        ("{", "bad_json", "not JSON", "2026-10-01"),
        ("{}", "schema_violation", "event_id", "2026-10-01"),
        ("{}", "schema_violation", "occurred_at", "2026-10-01"),
        ("{}", "schema_violation", "occurred_at", "2026-10-02"),
        ("{}", "too_late", "3 days late", "2026-10-02"),
    ])  # fmt: skip
    stream = table(spark, STREAM_QUARANTINE, [
        ("x", "bad_json", "2026-10-01", 9),
        ("y", "bad_json", "2026-10-01", 17),
        ("z", "bad_json", "2026-10-01", 17),
    ])  # fmt: skip
    rows = quarantine_daily({"curate_events": curated, "stream_events_to_raw": stream})
    counts = {(r["received_date"], r["stage"], r["reason"]): r["lines"] for r in rows.collect()}
    assert counts == {
        (day("2026-10-01"), "curate_events", "bad_json"): 1,
        (day("2026-10-01"), "curate_events", "schema_violation"): 2,
        (day("2026-10-02"), "curate_events", "schema_violation"): 1,
        (day("2026-10-02"), "curate_events", "too_late"): 1,
        # Two hour partitions of one day add up.
        (day("2026-10-01"), "stream_events_to_raw", "bad_json"): 3,
    }


def test_reads_the_lake_quarantines_and_an_empty_one_as_empty(spark, tmp_path) -> None:
    lake = Lake.in_folder(str(tmp_path))
    stream = table(spark, STREAM_QUARANTINE, [
        ("x", "schema_violation", "2026-10-03", 8),
        ("y", "bad_json", "2026-10-03", 8),
        ("z", "schema_violation", "2026-10-04", 0),
    ])  # fmt: skip
    stream.write.partitionBy("received_date", "received_hour").parquet(
        table_path(lake.raw, RAW_STREAM_QUARANTINE)
    )
    # curate_events ran and rejected nothing: its folder holds no data file.
    nothing = table(spark, CURATED_QUARANTINE, [])
    write_table(nothing, table_path(lake.curated, QUARANTINE), "received_date")
    quarantines = read_quarantines(spark, lake)
    assert quarantines["curate_events"].count() == 0
    counts = {
        (r["received_date"], r["stage"], r["reason"]): r["lines"]
        for r in quarantine_daily(quarantines).collect()
    }
    assert counts == {
        (day("2026-10-03"), "stream_events_to_raw", "schema_violation"): 1,
        (day("2026-10-03"), "stream_events_to_raw", "bad_json"): 1,
        (day("2026-10-04"), "stream_events_to_raw", "schema_violation"): 1,
    }


def test_with_nothing_quarantined_the_mart_is_written_empty_with_its_columns(
    spark, tmp_path
) -> None:
    """The loaders create the table from the mart's files: an empty mart still writes one
    Parquet file with the DDL's columns, so the warehouse holds an empty table."""
    mart = marts()["mart_quarantine_daily"]
    empty = quarantine_daily(read_quarantines(spark, Lake.in_folder(str(tmp_path))))
    folder = str(tmp_path / mart.name)
    write_table(empty, folder, mart.partition)
    written = spark.read.parquet(folder)
    assert written.count() == 0
    assert written.columns == [column.name for column in mart.columns]
