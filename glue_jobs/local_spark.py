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
a small batch costs by a quarter to a third (docs/batch.md, "The local batch on a small
store"), with a code cache that holds all of C1's code and a larger young generation (fewer
minor collections); it also turns off whole-stage code generation, whose compiled query code
pays back only over many rows. A large input gets the JVM's and Spark's defaults.

JVM jars that Glue ships but pyspark does not (e.g. the Kafka source) are listed in
glue_jobs/jars/pom.xml and copied by `mvn` into a git-ignored folder on first use.

Local files go through glue_jobs/local_files/ForklessLocalFileSystem.java, compiled by javac
on first use: Hadoop's own local file system, without its native library, starts a `chmod`
process for every folder and file it writes (about 1,300 in the demo's batch stage). Without
a JDK the sessions use Hadoop's class as it is.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import pyspark
from pyspark.sql import SparkSession

from glue_jobs.maven_jars import copy_pom_jars

# Standard Parquet timestamps (not Spark's legacy INT96), read as such by DuckDB and Redshift.
PARQUET_TIMESTAMP_TYPE = "TIMESTAMP_MICROS"
# C1's code outgrows the 48 MB cache a C1-only JVM reserves during the demo's batch, after
# which the JVM stops compiling and runs new code interpreted (a fifth more CPU for the
# recommendations job).
SHORT_RUN_JVM_OPTIONS = (
    "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC -XX:ReservedCodeCacheSize=256m -Xmn768m"
)
SPARK_JARS_POM = Path(__file__).resolve().parent / "jars" / "pom.xml"
SPARK_JARS_DIR = Path(__file__).resolve().parent.parent / ".local" / "spark" / "jars"
LOCAL_FILE_SYSTEM_SOURCE = (
    Path(__file__).resolve().parent / "local_files" / "ForklessLocalFileSystem.java"
)
LOCAL_FILE_SYSTEM_CLASS = "ecommerce_analytics.local.ForklessLocalFileSystem"
LOCAL_FILE_SYSTEM_CLASSES = SPARK_JARS_DIR.parent / "local-files"
HADOOP_LOCAL_FILE_SYSTEM = "org.apache.hadoop.fs.RawLocalFileSystem"


class LocalFileSystemBuildError(RuntimeError):
    """javac rejected glue_jobs/local_files; the message holds its output."""


@contextmanager
def _one_process_at_a_time(folder: Path) -> Iterator[None]:
    """Parallel test workers share .local/spark: one of them fills it at a time."""
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / ".jars.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def ensure_spark_jars(jars_dir: Path = SPARK_JARS_DIR, pom: Path = SPARK_JARS_POM) -> list[Path]:
    """The jars of `pom`, copied by mvn into `jars_dir` unless the pom is unchanged since the
    last copy."""
    with _one_process_at_a_time(jars_dir.parent):
        copy_pom_jars(pom, jars_dir, f"the Spark jars of {pom.name}")
    return sorted(jars_dir.glob("*.jar"))


def compiled_local_file_system(
    classes_dir: Path = LOCAL_FILE_SYSTEM_CLASSES, source: Path = LOCAL_FILE_SYSTEM_SOURCE
) -> Path | None:
    """The folder of ForklessLocalFileSystem's classes, compiled unless the source and
    pyspark's Hadoop jar are those of the last compile; None when the machine has a Java
    runtime but no javac."""
    javac = shutil.which("javac")
    if javac is None:
        print("javac not found: local Spark writes files with Hadoop's chmod", file=sys.stderr)
        return None
    hadoop = sorted((Path(pyspark.__file__).parent / "jars").glob("hadoop-client-api-*.jar"))
    inputs = source.read_bytes() + "".join(jar.name for jar in hadoop).encode()
    digest = hashlib.sha256(inputs).hexdigest()
    stamp = classes_dir / ".source.sha256"
    with _one_process_at_a_time(classes_dir.parent):
        if stamp.exists() and stamp.read_text() == digest:
            return classes_dir
        staging = classes_dir.with_name(classes_dir.name + ".partial")
        shutil.rmtree(staging, ignore_errors=True)
        result = subprocess.run(  # noqa: S603 javac found on PATH, the project's own source
            # Java 17 bytecode whichever javac is first on PATH: Spark's JVM may be older.
            [javac, "--release", "17", "-nowarn", "-cp", os.pathsep.join(map(str, hadoop)),
             "-d", str(staging), str(source)],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        if result.returncode != 0:
            raise LocalFileSystemBuildError(f"javac {source}:\n{result.stdout}{result.stderr}")
        (staging / ".source.sha256").write_text(digest)
        shutil.rmtree(classes_dir, ignore_errors=True)
        staging.rename(classes_dir)
    return classes_dir


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
    local_files = compiled_local_file_system()
    if local_files is not None:
        builder = builder.config("spark.driver.extraClassPath", str(local_files))
    if jars:
        builder = builder.config("spark.jars", ",".join(str(jar) for jar in jars))
    if short_run:
        builder = builder.config("spark.driver.extraJavaOptions", SHORT_RUN_JVM_OPTIONS)
        builder = builder.config("spark.sql.codegen.wholeStage", "false")
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
        .config(
            "spark.hadoop.fs.file.impl",
            HADOOP_LOCAL_FILE_SYSTEM if local_files is None else LOCAL_FILE_SYSTEM_CLASS,
        )
        .config("spark.hadoop.mapreduce.fileoutputcommitter.marksuccessfuljobs", "false")
        .config("spark.default.parallelism", str(cores))
        .config("spark.sql.sources.partitionOverwriteMode", "dynamic")
        .config("spark.sql.parquet.outputTimestampType", PARQUET_TIMESTAMP_TYPE)
        .getOrCreate()
    )
