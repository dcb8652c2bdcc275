"""Glue job load_warehouse: the lake's Parquet in S3 -> Redshift, through the Redshift Data API:
every table of contracts/warehouse/loads.py, the marts (marts zone) and the ML customer scores
(curated zone). Thin: arguments and the AWS calls here; the SQL is built by `load_batches`
from the tables' DDL in contracts/warehouse.

Idempotent: each table is loaded through a temporary staging table and replaced partition by
partition (delete the partition, insert it from staging) inside a transaction, so a re-run
gives the same rows and a failed run leaves the previous ones. A table without a partition
column is replaced as a whole the same way. COPY maps Parquet columns by position and the
partition value lives in the S3 path, not in the files, so each partition is copied on its
own and its value added on insert. Only `part-` files are copied (Spark's and the scoring
step's, never `_SUCCESS`). A table whose contract names `latest_partitions` (the scores: one
new day each day) copies only its newest days; older days stay as loaded.

A table created by an earlier release first gets the columns its contract has added since
(`ALTER TABLE ... ADD COLUMN`) and the VARCHARs it has widened. One holding a column the
contract no longer has, or another type change, stops the run before any table is touched,
with the way out in the error.

The Data API (contracts/warehouse/data_api.py) runs a batch of statements as one transaction,
at most 40 statements a batch; a table with many partitions is loaded in several transactions
of whole partitions.

Arguments (Glue style): --marts_uri (marts zone root, s3://...), optional --curated_uri
(curated zone root; without it the curated tables are not loaded), --database, one of
--workgroup_name / --cluster_identifier, --secret_arn (or --db_user on a cluster), optional
--copy_role (an IAM role ARN; default: the warehouse's default role) and --tables (comma
separated; default every table whose zone is given).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any
from urllib.parse import urlparse

from pydantic import BeforeValidator

from contracts.lake import table_path
from contracts.warehouse.data_api import DataApi, Warehouse
from contracts.warehouse.loads import warehouse_loads
from contracts.warehouse.tables import WarehouseTable
from glue_jobs.job_runtime import JobArguments, job_arguments, report

MAX_STATEMENTS_PER_BATCH = 40
# Each batch: the table's DDL, the staging table, one DELETE; then per partition a COPY,
# an INSERT and emptying the staging table.
_BATCH_OVERHEAD = 3
_PER_PARTITION = 3
PARTITIONS_PER_BATCH = (MAX_STATEMENTS_PER_BATCH - _BATCH_OVERHEAD) // _PER_PARTITION
SPARK_DATA_FILES = "part-"
# A table's columns and their types as the warehouse holds them (none before it exists).
LIVE_COLUMNS_SQL = (
    "SELECT column_name, data_type, character_maximum_length, numeric_precision, numeric_scale"
    " FROM information_schema.columns"
    " WHERE table_schema = current_schema() AND table_name = :table_name"
    " ORDER BY ordinal_position"
)
# information_schema's names of the types, as the contract's DDL writes them.
_TYPE_NAMES = {
    "bigint": "BIGINT",
    "integer": "INTEGER",
    "smallint": "SMALLINT",
    "boolean": "BOOLEAN",
    "date": "DATE",
    "real": "REAL",
    "double precision": "DOUBLE PRECISION",
    "timestamp without time zone": "TIMESTAMP",
    "timestamp with time zone": "TIMESTAMPTZ",
    "numeric": "DECIMAL",
    "character varying": "VARCHAR",
    "character": "CHAR",
}
_VARCHAR = re.compile(r"VARCHAR\((\d+)\)")
# A load batch may copy many partitions: allow it far longer than a single DDL statement.
BATCH_TIMEOUT_S = 3600.0
POLL_INTERVAL_S = 2.0


@dataclass(frozen=True)
class RedshiftTarget(Warehouse):
    """Where the marts go (see Warehouse), and the role COPY assumes there (default: the
    warehouse's default role)."""

    copy_role: str | None = None

    @property
    def iam_role(self) -> str:
        return f"'{self.copy_role}'" if self.copy_role else "default"


class SchemaDriftError(RuntimeError):
    """A warehouse table differs from its contract in a way no load should repair: a column
    the contract dropped, or a type other than a wider VARCHAR. Nothing is loaded."""


def live_column_types(rows: Sequence[Sequence[Any]]) -> dict[str, str]:
    """{column: its type as the contract's DDL writes it} from LIVE_COLUMNS_SQL's rows."""
    types = {}
    for name, data_type, length, precision, scale in rows:
        written = _TYPE_NAMES.get(data_type, data_type.upper())
        if written in ("VARCHAR", "CHAR"):
            written = f"{written}({length})"
        elif written == "DECIMAL":
            written = f"DECIMAL({precision},{scale})"
        types[name] = written
    return types


@dataclass(frozen=True)
class SchemaChanges:
    """What brings a table an earlier release created to its contract: columns to add (one
    transaction) and VARCHAR columns to widen (Redshift alters a type only outside one)."""

    added: list[str]
    widened: list[str]


def schema_changes(table: WarehouseTable, live: Mapping[str, str]) -> SchemaChanges:
    """The statements for a table whose live columns and types are `live` (empty: it does not
    exist yet, and the load's DDL creates it). Added columns are nullable: rows already there
    get their values when their partitions are loaded again."""
    if not live:
        return SchemaChanges([], [])
    problems = [
        f"{name} is not in the contract any more" for name in live if name not in table.column_names
    ]
    added, widened = [], []
    for column in table.columns:
        have = live.get(column.name)
        if have == column.type:
            continue
        if have is None:
            added.append(f"ALTER TABLE {table.name} ADD COLUMN {column.name} {column.type}")
            continue
        wanted, held = _VARCHAR.fullmatch(column.type), _VARCHAR.fullmatch(have)
        if wanted and held:
            if int(wanted[1]) > int(held[1]):
                widened.append(
                    f"ALTER TABLE {table.name} ALTER COLUMN {column.name} TYPE {column.type}"
                )
            continue  # a wider column than the contract's holds every value
        problems.append(f"{column.name} is {have} there and {column.type} in the contract")
    if problems:
        raise SchemaDriftError(
            f"{table.name} in the warehouse differs from its contract ({'; '.join(problems)});"
            f" nothing was loaded. Change the table by hand (ALTER TABLE {table.name} ...) or"
            " drop it: the next load recreates it from the lake."
        )
    return SchemaChanges(added, widened)


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _ddl(table: WarehouseTable) -> str:
    code = "\n".join(line.split("--", 1)[0].rstrip() for line in table.ddl.splitlines())
    return "\n".join(line for line in code.splitlines() if line).rstrip().rstrip(";")


def _copy(staging: str, files: str, iam_role: str) -> str:
    return f"COPY {staging} FROM {_literal(files)} IAM_ROLE {iam_role} FORMAT AS PARQUET"


def load_batches(
    table: WarehouseTable,
    table_uri: str,
    partition_column: str | None,
    partition_values: Sequence[str],
    iam_role: str = "default",
) -> list[list[str]]:
    """The SQL of a load, as batches of statements each run as one transaction."""
    staging = f"stage_{table.name}"
    prefix = table_path(table_uri, "")
    data_columns = [column for column in table.columns if column.name != partition_column]
    if partition_column is not None and len(data_columns) != len(table.columns) - 1:
        raise ValueError(f"{table.name} has no column {partition_column}")
    # Staging has the contract's columns in the files' order, and every insert names its
    # columns: a table an earlier release created holds the columns added since at its end.
    staged_columns = ", ".join(f"{column.name} {column.type}" for column in data_columns)
    names = ", ".join(column.name for column in data_columns)
    if partition_column is None:
        return [
            [
                _ddl(table),
                f"CREATE TEMP TABLE {staging} ({staged_columns})",
                _copy(staging, prefix + SPARK_DATA_FILES, iam_role),
                f"DELETE FROM {table.name}",  # noqa: S608 identifiers from the warehouse contract
                f"INSERT INTO {table.name} ({names}) SELECT {names} FROM {staging}",  # noqa: S608 identifiers from the warehouse contract
            ]
        ]
    # Partition values come from S3 key names: only well-formed dates reach the SQL.
    values = [date.fromisoformat(value).isoformat() for value in partition_values]
    batches = []
    for start in range(0, len(values), PARTITIONS_PER_BATCH):
        chunk = values[start : start + PARTITIONS_PER_BATCH]
        listed = ", ".join(f"DATE {_literal(value)}" for value in chunk)
        statements = [
            _ddl(table),
            f"CREATE TEMP TABLE {staging} ({staged_columns})",
            f"DELETE FROM {table.name} WHERE {partition_column} IN ({listed})",  # noqa: S608 identifiers from the contract, dates quoted
        ]
        for value in chunk:
            files = f"{prefix}{partition_column}={value}/{SPARK_DATA_FILES}"
            statements += [
                _copy(staging, files, iam_role),
                f"INSERT INTO {table.name} ({names}, {partition_column}) "  # noqa: S608 identifiers from the contract, dates quoted
                f"SELECT {names}, DATE {_literal(value)} FROM {staging}",
                f"DELETE FROM {staging}",  # noqa: S608 identifiers from the warehouse contract
            ]
        batches.append(statements)
    return batches


def partition_values(s3_client: Any, table_uri: str, partition_column: str) -> list[str]:
    """The values of the partition folders under an S3 table folder, in key order."""
    location = urlparse(table_uri)
    prefix = location.path.lstrip("/").rstrip("/") + "/"
    marker = f"{partition_column}="
    values = []
    pages = s3_client.get_paginator("list_objects_v2").paginate(
        Bucket=location.netloc, Prefix=prefix, Delimiter="/"
    )
    for page in pages:
        for common in page.get("CommonPrefixes", []):
            folder = common["Prefix"][len(prefix) :].rstrip("/")
            if folder.startswith(marker):
                values.append(folder[len(marker) :])
    return values


def load_tables(
    s3_client: Any,
    data_api: DataApi,
    zone_uris: Mapping[str, str],
    tables: Sequence[str],
    iam_role: str = "default",
) -> dict[str, int]:
    """Load each table from its zone's root in `zone_uris`, COPY assuming `iam_role`, after
    the schema changes its contract made since the table was created; returns the partitions
    loaded per table (1 for a whole table). Every table is compared with its contract before
    any is changed, so a drifted one stops the run before it loads anything."""
    loads = warehouse_loads()
    unknown = [name for name in tables if name not in loads]
    if unknown:
        raise ValueError(f"not warehouse tables: {', '.join(unknown)}")
    outside = [name for name in tables if loads[name].zone not in zone_uris]
    if outside:
        name = outside[0]
        raise ValueError(f"{name} is loaded from the {loads[name].zone} zone: give its root")
    changes = {
        name: schema_changes(
            loads[name].table,
            live_column_types(data_api.rows(LIVE_COLUMNS_SQL, [("table_name", name)])),
        )
        for name in tables
    }
    loaded = {}
    for name in tables:
        load = loads[name]
        table_uri = load.location(zone_uris[load.zone])
        values = (
            load.chosen_partitions(partition_values(s3_client, table_uri, load.partition))
            if load.partition
            else []
        )
        if changes[name].added:
            data_api.run_batch(changes[name].added, f"add_columns_{name}")
        for statement in changes[name].widened:
            data_api.run(statement)
        batches = load_batches(load.table, table_uri, load.partition, values, iam_role)
        for number, statements in enumerate(batches, start=1):
            data_api.run_batch(statements, f"load_{name}_{number}_of_{len(batches)}")
        loaded[name] = len(values) if load.partition else 1
    return loaded


def _comma_separated(value: object) -> object:
    return tuple(value.split(",")) if isinstance(value, str) else value


class LoadArguments(JobArguments):
    marts_uri: str
    curated_uri: str | None = None
    database: str
    workgroup_name: str | None = None
    cluster_identifier: str | None = None
    secret_arn: str | None = None
    db_user: str | None = None
    copy_role: str | None = None
    # Comma separated on the command line; empty: every table whose zone root is given.
    tables: Annotated[tuple[str, ...], BeforeValidator(_comma_separated)] = ()

    @property
    def zone_uris(self) -> dict[str, str]:
        zones = {"marts": self.marts_uri, "curated": self.curated_uri}
        return {zone: uri for zone, uri in zones.items() if uri}

    @property
    def chosen_tables(self) -> tuple[str, ...]:
        if self.tables:
            return self.tables
        return tuple(n for n, load in warehouse_loads().items() if load.zone in self.zone_uris)

    @property
    def target(self) -> RedshiftTarget:
        """The warehouse arguments are RedshiftTarget's fields, by the same names."""
        return RedshiftTarget(**self.model_dump(exclude={"marts_uri", "curated_uri", "tables"}))


def main(argv: Sequence[str] = sys.argv) -> None:
    import boto3  # the job runs on AWS; the module's SQL is usable without the SDK

    args = job_arguments(argv, LoadArguments)
    target = args.target
    data_api = DataApi(
        boto3.client("redshift-data"),
        target,
        timeout_s=BATCH_TIMEOUT_S,
        poll_interval_s=POLL_INTERVAL_S,
    )
    loaded = load_tables(
        boto3.client("s3"), data_api, args.zone_uris, args.chosen_tables, target.iam_role
    )
    report("load_warehouse", loaded)


if __name__ == "__main__":
    main()
