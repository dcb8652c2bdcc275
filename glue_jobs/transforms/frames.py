"""Helpers for DataFrames that several jobs reuse."""

from __future__ import annotations

from pyspark.sql import DataFrame


def materialized(frame: DataFrame) -> DataFrame:
    """`frame` computed once and kept on the executors, its plan replaced by the result.

    A job that reuses a frame in several later queries would, with `cache()`, still carry the
    frame's whole lineage into each of them: Spark analyzes and optimizes that lineage again
    for every DataFrame call, which on small inputs costs more than the data. The blocks stay
    (in memory, spilling to disk) until the frame is no longer referenced; dynamic allocation
    keeps the executors that hold them. Unlike a cache, a lost block cannot be recomputed:
    losing an executor fails the run, which alarms, and the next scheduled run does the work.
    """
    return frame.localCheckpoint(eager=True)
