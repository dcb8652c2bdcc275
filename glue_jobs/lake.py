"""Spark I/O over the lake whose layout contracts/lake.py declares: the jobs only ever see
URIs, and write and read tables through these two functions."""

from __future__ import annotations

from pyspark.sql import DataFrame, SparkSession

from contracts.lake import Lake
from glue_jobs.transforms.oltp import SOURCE_TABLE_BY_NAME, latest_versions


def write_table(frame: DataFrame, path: str, partition_column: str | None) -> None:
    """Write Parquet, replacing only the partitions present in `frame` (dynamic partition
    overwrite), or the whole table when it has no partition column: re-runs are idempotent."""
    writer = frame.write.mode("overwrite").option("partitionOverwriteMode", "dynamic")
    if partition_column is not None:
        writer = writer.partitionBy(partition_column)
    writer.parquet(path)


def read_oltp_table(spark: SparkSession, lake: Lake, table: str) -> DataFrame:
    """The current state of a raw OLTP table (latest version per key over its extract
    batches), as the marts read it."""
    batches = spark.read.parquet(lake.raw_table(table))
    return latest_versions(batches, SOURCE_TABLE_BY_NAME[table].keys)
