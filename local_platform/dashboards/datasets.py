"""Run every dataset's SQL where QuickSight would: warehouse datasets on the local DuckDB
warehouse (Redshift's stand-in), live ones on the PostgreSQL that holds the realtime tables.

A table that is not there yet (no batch run, no scores, no stream) gives an empty dataset with
the reason, so the page shows "no data" instead of breaking; any other SQL error is a defect
of the definition and is raised.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import psycopg
from psycopg import errors as pg_errors

from quicksight_templates.loader import Definitions
from quicksight_templates.model import Dataset

NOT_LOADED = "No data: the warehouse has no {table} table yet (run `ecom batch run`)."
NO_WAREHOUSE = "No data: there is no local warehouse at {path} (run `ecom batch run`)."
NO_LIVE_DATABASE = "No data: the live tables were not read (no database URL given)."
NO_LIVE_TABLES = "No data: the database has no realtime tables (run `ecom db migrate`)."


@dataclass(frozen=True)
class DatasetRows:
    """A dataset's rows as JSON-ready lists in the declared column order. DATETIME values are
    milliseconds since the epoch (UTC), DECIMAL ones floats. `note` says why it is empty when
    the reason is known (missing table, no database)."""

    dataset_id: str
    columns: list[str]
    rows: list[list[Any]]
    note: str | None = None

    def column_values(self, column: str) -> list[Any]:
        index = self.columns.index(column)
        return [row[index] for row in self.rows]


def run_datasets(
    definitions: Definitions,
    dataset_ids: list[str],
    warehouse: Path,
    database_url: str | None,
    on_done: Callable[[str, DatasetRows], None] | None = None,
) -> dict[str, DatasetRows]:
    """The rows of each named dataset; on_done(dataset_id, rows) after each one."""
    results = {}
    ids = list(dict.fromkeys(dataset_ids))
    warehouse_ids = [i for i in ids if definitions.datasets[i].source == "warehouse"]
    live_ids = [i for i in ids if definitions.datasets[i].source == "live"]
    if warehouse_ids:
        results |= _run_on_warehouse(definitions, warehouse_ids, warehouse, on_done)
    if live_ids:
        results |= _run_on_database(definitions, live_ids, database_url, on_done)
    return {dataset_id: results[dataset_id] for dataset_id in ids}


def _run_on_warehouse(
    definitions: Definitions,
    ids: list[str],
    warehouse: Path,
    on_done: Callable[[str, DatasetRows], None] | None,
) -> dict[str, DatasetRows]:
    results = {}
    if not warehouse.exists():
        for dataset_id in ids:
            results[dataset_id] = _unread(definitions.datasets[dataset_id], NO_WAREHOUSE, warehouse)
            _notify(on_done, results[dataset_id])
        return results
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        connection.execute("SET TimeZone = 'UTC'")
        for dataset_id in ids:
            dataset = definitions.datasets[dataset_id]
            try:
                rows = connection.execute(definitions.sql[dataset_id]).fetchall()
            except duckdb.CatalogException as error:
                results[dataset_id] = _empty(dataset, NOT_LOADED, _missing_table(str(error)))
            else:
                results[dataset_id] = _rows(dataset, rows)
            _notify(on_done, results[dataset_id])
    return results


def _run_on_database(
    definitions: Definitions,
    ids: list[str],
    database_url: str | None,
    on_done: Callable[[str, DatasetRows], None] | None,
) -> dict[str, DatasetRows]:
    results = {}
    if database_url is None:
        for dataset_id in ids:
            results[dataset_id] = _unread(definitions.datasets[dataset_id], NO_LIVE_DATABASE)
            _notify(on_done, results[dataset_id])
        return results
    with psycopg.connect(database_url, autocommit=True) as connection:
        connection.execute("SET TIME ZONE 'UTC'")
        for dataset_id in ids:
            dataset = definitions.datasets[dataset_id]
            try:
                rows = connection.execute(definitions.sql[dataset_id]).fetchall()
            except pg_errors.UndefinedTable:
                results[dataset_id] = _empty(dataset, NO_LIVE_TABLES)
            else:
                results[dataset_id] = _rows(dataset, rows)
            _notify(on_done, results[dataset_id])
    return results


def _notify(on_done: Callable[[str, DatasetRows], None] | None, rows: DatasetRows) -> None:
    if on_done is not None:
        on_done(rows.dataset_id, rows)


def _missing_table(message: str) -> str:
    # DuckDB: 'Catalog Error: Table with name customer_scores does not exist!'
    marker = "Table with name "
    if marker in message:
        return message.split(marker, 1)[1].split(" ", 1)[0]
    return "a table the dataset reads"


def _unread(dataset: Dataset, reason: str, subject: object = "") -> DatasetRows:
    """Not run at all (no warehouse, no database): the reason is that."""
    note = reason.format(table=subject, path=subject)
    return DatasetRows(dataset.id, [column.name for column in dataset.columns], [], note)


def _empty(dataset: Dataset, reason: str, subject: object = "") -> DatasetRows:
    """Run, but a table is not there yet: the dataset's own words for an empty result (no
    scores yet) say it best; else which table is missing."""
    note = dataset.empty_message or reason.format(table=subject, path=subject)
    return DatasetRows(dataset.id, [column.name for column in dataset.columns], [], note)


def _rows(dataset: Dataset, rows: list[tuple]) -> DatasetRows:
    names = [column.name for column in dataset.columns]
    converted = [[_json_value(value) for value in row] for row in rows]
    return DatasetRows(dataset.id, names, converted, dataset.empty_message if not rows else None)


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
        return int(moment.timestamp() * 1000)
    if isinstance(value, date):
        return int(datetime(value.year, value.month, value.day, tzinfo=UTC).timestamp() * 1000)
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, float) and value != value:  # NaN has no JSON form
        return None
    return value
