"""The QuickSight column type a dataset declares for each type DuckDB reports, so the tests
that run the dashboards' SQL on the local warehouse check the declared types one way."""

from __future__ import annotations

QUICKSIGHT_TYPES = {
    "BIGINT": "INTEGER",
    "INTEGER": "INTEGER",
    "HUGEINT": "INTEGER",
    "DOUBLE": "DECIMAL",
    "DATE": "DATETIME",
    "TIMESTAMP": "DATETIME",
    "TIMESTAMP WITH TIME ZONE": "DATETIME",
    "VARCHAR": "STRING",
    "BOOLEAN": "BOOLEAN",
}


def quicksight_type(duckdb_type: str) -> str:
    """DECIMAL(p, s) of any precision is DECIMAL; the rest by name."""
    return "DECIMAL" if duckdb_type.startswith("DECIMAL") else QUICKSIGHT_TYPES[duckdb_type]
