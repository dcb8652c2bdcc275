"""One local SparkSession for every Spark test in the run: JVM start-up is the slow part."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from pyspark.sql import DataFrame, SparkSession
from spark_fixtures import events_frame

from glue_jobs.local_spark import local_spark_session


@pytest.fixture(scope="session")
def spark() -> Iterator[SparkSession]:
    # PySpark converts naive datetimes with the process time zone; pin it to UTC so the
    # literals in the tests mean UTC, as the session time zone does inside Spark.
    os.environ["TZ"] = "UTC"
    time.tzset()
    session = local_spark_session("unit-tests", cores=2, shuffle_partitions=2, driver_memory="1g")
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


@pytest.fixture
def make_events(spark: SparkSession) -> Callable[[list[dict[str, Any]]], DataFrame]:
    return lambda rows: events_frame(spark, rows)
