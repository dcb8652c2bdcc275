"""The SparkSession the jobs use outside Glue (local runs, tests, benchmarks).

Settings mirror what matters on Glue for results: UTC session time zone, so day boundaries
do not depend on the machine, and a small shuffle partition count, because the default
of 200 makes tiny local jobs spend most of their time scheduling empty tasks.
"""

from __future__ import annotations

import os
import sys

from pyspark.sql import SparkSession

# Standard Parquet timestamps (not Spark's legacy INT96), read as such by DuckDB and Redshift.
PARQUET_TIMESTAMP_TYPE = "TIMESTAMP_MICROS"


def local_spark_session(
    app_name: str,
    *,
    cores: int = 2,
    shuffle_partitions: int = 4,
    driver_memory: str = "2g",
) -> SparkSession:
    """Start (or reuse) a local SparkSession bound to 127.0.0.1, with the web UI off."""
    # Python workers must run the interpreter that runs the driver (the project venv).
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    # Bind to loopback without first resolving the host name (and warning about it).
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    return (
        SparkSession.builder.master(f"local[{cores}]")
        .appName(app_name)
        .config("spark.driver.memory", driver_memory)
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", str(shuffle_partitions))
        .config("spark.default.parallelism", str(cores))
        .config("spark.sql.sources.partitionOverwriteMode", "dynamic")
        .config("spark.sql.parquet.outputTimestampType", PARQUET_TIMESTAMP_TYPE)
        .getOrCreate()
    )
