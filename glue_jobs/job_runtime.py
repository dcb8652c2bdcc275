"""What differs between a job on Glue and the same job on one machine: how arguments arrive
and where the SparkSession comes from. Everything else is the same code."""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping, Sequence
from typing import Any

from pyspark.sql import SparkSession

from glue_jobs.local_spark import (
    PARQUET_TIMESTAMP_TYPE,
    ensure_spark_jars,
    local_spark_session,
)

try:  # present on Glue (and wherever AWSGlueDataplanePython is installed)
    from awsglue.utils import getResolvedOptions
except ImportError:
    getResolvedOptions = None  # noqa: N816 - the name awsglue gives it


def job_arguments(
    argv: Sequence[str], required: Sequence[str], optional: Mapping[str, str | None]
) -> dict[str, str | None]:
    """`--name value` arguments: Glue's resolver when available (it ignores the arguments
    Glue adds itself), else argparse with the same names."""
    if getResolvedOptions is not None:
        given = [name for name in optional if f"--{name}" in argv]
        resolved = getResolvedOptions(list(argv), [*required, *given])
        return {**optional, **{name: resolved[name] for name in [*required, *given]}}
    parser = argparse.ArgumentParser()
    for name in required:
        parser.add_argument(f"--{name}", required=True)
    for name, default in optional.items():
        parser.add_argument(f"--{name}", default=default)
    known, _ = parser.parse_known_args(list(argv[1:]))
    return vars(known)


def job_spark_session(app_name: str, *, needs_extra_jars: bool = False) -> SparkSession:
    """Glue's session when running on Glue, else a local one; UTC either way, so day
    boundaries in the outputs never depend on where the job ran. `needs_extra_jars`: the job
    uses a connector that Glue ships and pyspark lacks (glue_jobs/jars/pom.xml)."""
    if getResolvedOptions is None:
        return local_spark_session(app_name, jars=ensure_spark_jars() if needs_extra_jars else ())
    spark = SparkSession.builder.appName(app_name).getOrCreate()
    spark.conf.set("spark.sql.session.timeZone", "UTC")
    spark.conf.set("spark.sql.sources.partitionOverwriteMode", "dynamic")
    spark.conf.set("spark.sql.parquet.outputTimestampType", PARQUET_TIMESTAMP_TYPE)
    return spark


def report(job: str, figures: Mapping[str, Any]) -> None:
    """One JSON line per run with the counts in and out (read by logs and metric filters)."""
    print(json.dumps({"job": job, **figures}, default=str, sort_keys=True))
