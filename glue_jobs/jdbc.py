"""How the extract job reaches PostgreSQL over JDBC: the connection, and the two reads it makes
(the per-table bounds, then each table's changed rows, split into parallel reads)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, ClassVar, Self

from pydantic import model_validator
from pyspark.sql import DataFrame, SparkSession

from contracts.database import PostgresEndpoint, read_secret
from glue_jobs.job_runtime import JobArguments

POSTGRES_DRIVER = "org.postgresql.Driver"
# Rows per round trip: large enough for throughput, small enough for the executor's memory.
FETCH_SIZE = 10_000


@dataclass(frozen=True)
class JdbcSource:
    url: str
    user: str
    password: str | None = field(default=None, repr=False)

    def options(self) -> dict[str, str]:
        """Spark JDBC options for this connection."""
        options = {"url": self.url, "user": self.user, "driver": POSTGRES_DRIVER}
        if self.password is not None:
            options["password"] = self.password
        return options

    @classmethod
    def for_endpoint(cls, endpoint: PostgresEndpoint) -> JdbcSource:
        return cls(url=endpoint.jdbc_url(), user=endpoint.user, password=endpoint.password)


def jdbc_source_from_secrets_manager(secret_id: str, client: Any = None) -> JdbcSource:
    """From an RDS database secret (contracts.database); TLS required."""
    if client is None:
        import boto3  # on AWS only; local runs pass a URL

        client = boto3.client("secretsmanager")
    return JdbcSource.for_endpoint(PostgresEndpoint.from_rds_secret(read_secret(client, secret_id)))


def read_query(spark: SparkSession, source: JdbcSource, query: str) -> DataFrame:
    """A small query's result (PostgreSQL computes it; Spark only fetches the rows)."""
    return spark.read.format("jdbc").options(**source.options()).option("query", query).load()


@dataclass(frozen=True)
class SplitRead:
    """Spark's partitioned JDBC read: `partitions` range queries over `column`."""

    column: str
    low: str
    high: str
    partitions: int


def read_table(
    spark: SparkSession, source: JdbcSource, subquery: str, split: SplitRead | None
) -> DataFrame:
    """Rows of `subquery` (`(SELECT ...) AS alias`), in parallel reads when split. The split
    bounds only set the stride: rows outside them still land in the first or last read."""
    reader = (
        spark.read.format("jdbc")
        .options(**source.options())
        .option("dbtable", subquery)
        .option("fetchsize", str(FETCH_SIZE))
    )
    if split is not None and split.partitions > 1:
        reader = (
            reader.option("partitionColumn", split.column)
            .option("lowerBound", split.low)
            .option("upperBound", split.high)
            .option("numPartitions", str(split.partitions))
        )
    return reader.load()


class DatabaseArguments(JobArguments):
    """The OLTP database of a job: an RDS secret on AWS, or a JDBC URL and user locally (the
    password from PGPASSWORD)."""

    job_name: ClassVar[str]
    database_secret_id: str | None = None
    jdbc_url: str | None = None
    jdbc_user: str | None = None

    @model_validator(mode="after")
    def _names_a_database(self) -> Self:
        if not (self.database_secret_id or (self.jdbc_url and self.jdbc_user)):
            raise ValueError(
                f"{self.job_name} needs --database_secret_id, or --jdbc_url and --jdbc_user"
            )
        return self

    def source(self) -> JdbcSource:
        if self.database_secret_id:
            return jdbc_source_from_secrets_manager(self.database_secret_id)
        return JdbcSource(str(self.jdbc_url), str(self.jdbc_user), os.environ.get("PGPASSWORD"))
