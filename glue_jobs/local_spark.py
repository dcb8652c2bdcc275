"""The SparkSession the jobs use outside Glue (local runs, tests, benchmarks).

Settings mirror what matters on Glue for results: UTC session time zone, so day boundaries
do not depend on the machine. The rest is for speed on one machine, where a local batch
spends more time per file and per task than per row: a small shuffle partition count
(the default of 200 makes tiny jobs schedule empty tasks), which adaptive execution then
merges to the data's size (one task per 64 MB), so a small day-partitioned table is written
as one file per day, not one per task and day; and plain local files, without Hadoop's
checksum file beside each file and the `_SUCCESS` marker in each folder (the jobs publish
by renaming staged folders and nothing reads the markers).

A run over a small input (the demo's shop, a test fixture) is over in a minute or two, most of
it spent by the JVM warming up rather than computing: compiling hot code twice (the quick
C1 compiler, then the optimizing C2 one, in background threads that compete with the tasks
on two cores). `short_run` keeps to C1 and the single-threaded collector, which cuts the CPU
a small batch costs by a quarter to a third (docs/batch.md, "Where `make demo`'s time
goes"); a large input gets the default JIT, whose C2 code pays back on long scans.

JVM jars that Glue ships but pyspark does not (e.g. the Kafka source) are listed in
glue_jobs/jars/pom.xml and copied by `mvn` into a git-ignored folder on first use.
"""

from __future__ import annotations

import fcntl
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from pyspark.sql import SparkSession

from glue_jobs.maven_jars import copy_pom_jars

# Standard Parquet timestamps (not Spark's legacy INT96), read as such by DuckDB and Redshift.
PARQUET_TIMESTAMP_TYPE = "TIMESTAMP_MICROS"
SHORT_RUN_JVM_OPTIONS = "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC"
SPARK_JARS_POM = Path(__file__).resolve().parent / "jars" / "pom.xml"
SPARK_JARS_DIR = Path(__file__).resolve().parent.parent / ".local" / "spark" / "jars"


def ensure_spark_jars(jars_dir: Path = SPARK_JARS_DIR, pom: Path = SPARK_JARS_POM) -> list[Path]:
    """The jars of `pom`, copied by mvn into `jars_dir` unless the pom is unchanged since the
    last copy. One process copies at a time: parallel test workers share the folder."""
    jars_dir.parent.mkdir(parents=True, exist_ok=True)
    with (jars_dir.parent / ".jars.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        copy_pom_jars(pom, jars_dir, f"the Spark jars of {pom.name}")
    return sorted(jars_dir.glob("*.jar"))


def local_spark_session(
    app_name: str,
    *,
    cores: int = 2,
    shuffle_partitions: int = 4,
    driver_memory: str = "2g",
    jars: Sequence[Path] = (),
    short_run: bool = False,
) -> SparkSession:
    """Start (or reuse) a local SparkSession bound to 127.0.0.1, with the web UI off.

    `jars` go on the driver's classpath; they only take effect when this call starts the JVM,
    so a process that needs them passes them to its first session; so does `short_run`
    (JVM options for a run of a minute or two, see the module's docstring).
    """
    # Python workers must run the interpreter that runs the driver (the project venv).
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    # Bind to loopback without first resolving the host name (and warning about it).
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    builder = SparkSession.builder
    if jars:
        builder = builder.config("spark.jars", ",".join(str(jar) for jar in jars))
    if short_run:
        builder = builder.config("spark.driver.extraJavaOptions", SHORT_RUN_JVM_OPTIONS)
    return (
        builder.master(f"local[{cores}]")
        .appName(app_name)
        .config("spark.driver.memory", driver_memory)
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", str(shuffle_partitions))
        .config("spark.sql.adaptive.coalescePartitions.parallelismFirst", "false")
        .config("spark.hadoop.fs.file.impl", "org.apache.hadoop.fs.RawLocalFileSystem")
        .config("spark.hadoop.mapreduce.fileoutputcommitter.marksuccessfuljobs", "false")
        .config("spark.default.parallelism", str(cores))
        .config("spark.sql.sources.partitionOverwriteMode", "dynamic")
        .config("spark.sql.parquet.outputTimestampType", PARQUET_TIMESTAMP_TYPE)
        .getOrCreate()
    )
