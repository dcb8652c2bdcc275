"""Fixtures shared by every test tier.

Integration tests get a throw-away database on the real server named by DATABASE_URL (the
embedded PostgreSQL when unset), so tests never touch each other's data or the user's.
Spark tests of every tier share one local SparkSession per process (JVM start-up is the slow
part); it carries the extra jars (e.g. the Kafka source), since a JVM's classpath is fixed.
Every run counts its results against what it collected (the result_count plugin).
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from typing import TYPE_CHECKING

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from contracts.oltp.migrator import apply_migrations
from local_platform.embedded_postgres import resolve_database_url

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

# A run fails when a collected test gives no result of its own (tests/result_count.py).
pytest_plugins = ("result_count",)


@pytest.fixture(scope="session")
def postgres_server_url() -> str:
    return resolve_database_url(progress=False)


def _with_dbname(url: str, dbname: str) -> str:
    return make_conninfo(url, dbname=dbname)


@pytest.fixture
def empty_database(postgres_server_url: str) -> Iterator[str]:
    """A new, empty database on the test server; dropped afterwards."""
    name = f"test_{uuid.uuid4().hex[:12]}"
    admin = _with_dbname(
        postgres_server_url, conninfo_to_dict(postgres_server_url).get("dbname") or "postgres"
    )
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield _with_dbname(postgres_server_url, name)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def migrated_database(empty_database: str) -> str:
    """A new database with every OLTP migration applied."""
    apply_migrations(empty_database)
    return empty_database


@pytest.fixture(scope="session")
def spark() -> Iterator[SparkSession]:
    from glue_jobs.local_spark import ensure_spark_jars, local_spark_session

    # PySpark converts naive datetimes with the process time zone; pin it to UTC so the
    # literals in the tests mean UTC, as the session time zone does inside Spark.
    os.environ["TZ"] = "UTC"
    time.tzset()
    session = local_spark_session(
        "tests", cores=2, shuffle_partitions=2, driver_memory="1g", jars=ensure_spark_jars()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()
