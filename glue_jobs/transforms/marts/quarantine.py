"""mart_quarantine_daily: how many lines each stage of the pipeline rejected, and why, so the
quarantine the lake keeps verbatim can be watched from the warehouse."""

from __future__ import annotations

from collections.abc import Mapping
from functools import reduce

from pyspark.sql import DataFrame
from pyspark.sql import functions as sf


def quarantine_daily(quarantines: Mapping[str, DataFrame]) -> DataFrame:
    """One row per day received (UTC) x stage x reason: the lines quarantined.

    `quarantines` maps a stage (the job that rejected the lines) to its quarantine table,
    which holds at least `reason` and the partition column `received_date`.
    """
    frames = [
        quarantine.select("received_date", sf.lit(stage).alias("stage"), "reason")
        for stage, quarantine in quarantines.items()
    ]
    if not frames:
        raise ValueError("quarantine_daily needs at least one quarantine table")
    return (
        reduce(DataFrame.unionByName, frames)
        .groupBy("received_date", "stage", "reason")
        .agg(sf.count(sf.lit(1)).alias("lines"))
    )
