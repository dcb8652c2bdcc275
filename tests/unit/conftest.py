"""Spark frame builders for the transform tests (the `spark` fixture is in tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from pyspark.sql import DataFrame, SparkSession
from spark_fixtures import events_frame


@pytest.fixture
def make_events(spark: SparkSession) -> Callable[[list[dict[str, Any]]], DataFrame]:
    return lambda rows: events_frame(spark, rows)
