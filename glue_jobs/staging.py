"""Write-check-swap: a job's outputs are written beside the published tables, checked, and
only then moved into place, so a failed check (or a crash before the swap) leaves the
previous outputs untouched.

Files move with Hadoop's FileSystem API, the same calls for a local folder and for S3 on
Glue. A partitioned table swaps partition by partition (only the partitions the run wrote are
replaced, as with dynamic partition overwrite); a whole-table swap replaces everything.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from pyspark.sql import DataFrame, SparkSession

from contracts.lake import table_path
from glue_jobs.lake import write_table

STAGING_FOLDER = "_staging"


def staging_root(zone_root: str, run_id: str) -> str:
    """Where one run stages its tables in a zone; Spark ignores folders starting with `_`."""
    return table_path(zone_root, f"{STAGING_FOLDER}/{run_id}")


def _filesystem(spark: SparkSession, path: str) -> tuple[Any, Any]:
    jvm = spark.sparkContext._jvm
    hadoop_path = jvm.org.apache.hadoop.fs.Path(path)
    return hadoop_path.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration()), hadoop_path


def exists(spark: SparkSession, path: str) -> bool:
    """Whether anything is at `path` (a file, a folder, or an S3 prefix with objects)."""
    filesystem, hadoop_path = _filesystem(spark, path)
    return bool(filesystem.exists(hadoop_path))


def remove(spark: SparkSession, path: str) -> None:
    """Delete a folder and everything under it (nothing happens if it is absent)."""
    filesystem, hadoop_path = _filesystem(spark, path)
    filesystem.delete(hadoop_path, True)


@dataclass(frozen=True)
class StagedTable:
    """One output of a run: where it is staged, where it is published, how it is swapped."""

    staging_path: str
    final_path: str
    partition_column: str | None
    replace_whole: bool = False

    def write(self, frame: DataFrame) -> DataFrame:
        """Stage `frame`; returns the staged data as written (with `frame`'s schema, so an
        empty output reads back as an empty table rather than as no table)."""
        write_table(frame, self.staging_path, self.partition_column)
        return frame.sparkSession.read.schema(frame.schema).parquet(self.staging_path)

    def promote(self, spark: SparkSession, replaced: Collection[object] = ()) -> None:
        """Move the staged data into place (partitions present in staging, or the whole).
        `replaced` names partition values the run recomputed: one that came out with no
        rows, so nothing was staged for it, is removed from the published table."""
        filesystem, staged = _filesystem(spark, self.staging_path)
        _, final = _filesystem(spark, self.final_path)
        if self.partition_column is None or self.replace_whole:
            filesystem.delete(final, True)
            filesystem.mkdirs(final.getParent())
            _rename(filesystem, staged, final)
            return
        filesystem.mkdirs(final)
        prefix = f"{self.partition_column}="
        moved = set()
        for status in filesystem.listStatus(staged):
            name = status.getPath().getName()
            if status.isDirectory() and name.startswith(prefix):
                target = final.suffix(f"/{name}")
                filesystem.delete(target, True)
                _rename(filesystem, status.getPath(), target)
                moved.add(name)
        for value in replaced:
            if f"{prefix}{value}" not in moved:
                filesystem.delete(final.suffix(f"/{prefix}{value}"), True)


def _rename(filesystem: Any, source: Any, target: Any) -> None:
    if not filesystem.rename(source, target):
        raise OSError(f"could not move {source.toString()} to {target.toString()}")
