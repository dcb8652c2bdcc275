"""What differs between a job on Glue and the same job on one machine: how arguments arrive
and where the SparkSession comes from. Everything else is the same code.

Each job declares its `--name value` arguments as one `JobArguments` model (a field per
argument, required when it has no default) and gets them back typed from `job_arguments`.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, ConfigDict, PlainValidator, ValidationError
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


def _iso_datetime(value: object) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


def _iso_date(value: object) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _flag(value: object) -> bool:
    return value if isinstance(value, bool) else str(value).lower() == "true"


# Argument types as Glue passes them, as text: ISO 8601 (Python's reading of it), and a flag
# that is on for "true" in any case and off for anything else.
IsoDatetime = Annotated[datetime, PlainValidator(_iso_datetime)]
IsoDate = Annotated[date, PlainValidator(_iso_date)]
Flag = Annotated[bool, PlainValidator(_flag)]


def cutoff_of(as_of: date) -> datetime:
    """The start of `as_of` in UTC: what a job run as of that day may see ends there."""
    return datetime(as_of.year, as_of.month, as_of.day, tzinfo=UTC)


class JobArguments(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


Arguments = TypeVar("Arguments", bound=JobArguments)


def job_arguments(argv: Sequence[str], arguments: type[Arguments]) -> Arguments:
    """`--name value` arguments as `arguments`: Glue's resolver when available (it ignores
    the arguments Glue adds itself), else argparse with the same names. An empty value counts
    as not given; an invalid one stops the job with a message naming the argument."""
    required = {
        field.alias or name: field.is_required() for name, field in arguments.model_fields.items()
    }
    if getResolvedOptions is not None:
        wanted = [name for name, needed in required.items() if needed or f"--{name}" in argv]
        given = getResolvedOptions(list(argv), wanted)
    else:
        parser = argparse.ArgumentParser()
        for name, needed in required.items():
            parser.add_argument(f"--{name}", required=needed, default=argparse.SUPPRESS)
        given = vars(parser.parse_known_args(list(argv[1:]))[0])
    try:
        return arguments.model_validate({name: value for name, value in given.items() if value})
    except ValidationError as error:
        raise SystemExit(_describe(error)) from None


def _describe(error: ValidationError) -> str:
    problems = []
    for problem in error.errors(include_url=False):
        reason = problem.get("ctx", {}).get("error", problem["msg"])
        argument = ".".join(str(part) for part in problem["loc"])
        problems.append(f"--{argument}: {reason}" if argument else str(reason))
    return "; ".join(problems)


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
