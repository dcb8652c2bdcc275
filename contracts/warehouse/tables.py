"""The warehouse tables the marts load into, one DDL file each in contracts/warehouse/marts.

The files are Redshift DDL with the distribution and sort keys and the reason for them.
Loaders read the column list from the same files: Redshift's COPY from Parquet maps columns
by position, so the order written here is the order of the mart's Parquet files (with the
partition column, which lives in the S3 path, last); the local DuckDB warehouse is created
with the same names and types.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

MARTS_DIR = Path(__file__).resolve().parent / "marts"
CUSTOMER_SCORES_DDL = Path(__file__).resolve().parent / "scores" / "customer_scores.sql"
_CREATE = re.compile(r"CREATE\s+TABLE\s+IF\s+NOT\s+EXISTS\s+(\w+)\s*\(", re.IGNORECASE)
_COLUMN = re.compile(
    r"^(?P<name>[a-z_][a-z0-9_]*)\s+"
    r"(?P<type>DOUBLE PRECISION|[A-Z]+(?:\s*\(\s*\d+\s*(?:,\s*\d+\s*)?\))?)"
    r"(?P<not_null>\s+NOT NULL)?$"
)
_CONSTRAINT = re.compile(r"^(PRIMARY KEY|UNIQUE|FOREIGN KEY)\b", re.IGNORECASE)


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    not_null: bool


@dataclass(frozen=True)
class WarehouseTable:
    name: str
    columns: tuple[Column, ...]
    ddl: str

    @property
    def column_names(self) -> list[str]:
        return [column.name for column in self.columns]


def _split_top_level(body: str) -> list[str]:
    """Comma-separated items, ignoring commas inside parentheses (as in DECIMAL(18,2))."""
    items, depth, current = [], 0, []
    for char in body:
        if char == "," and depth == 0:
            items.append("".join(current).strip())
            current = []
            continue
        depth += {"(": 1, ")": -1}.get(char, 0)
        current.append(char)
    items.append("".join(current).strip())
    return [item for item in items if item]


def parse_table(ddl: str) -> WarehouseTable:
    """Name and columns of a `CREATE TABLE IF NOT EXISTS name (...)` statement."""
    code = "\n".join(line.split("--", 1)[0] for line in ddl.splitlines())
    match = _CREATE.search(code)
    if not match:
        raise ValueError("no CREATE TABLE IF NOT EXISTS statement")
    depth, end = 1, match.end()
    while depth:
        depth += {"(": 1, ")": -1}.get(code[end], 0)
        end += 1
    columns = []
    for item in _split_top_level(code[match.end() : end - 1]):
        item = " ".join(item.split())
        if _CONSTRAINT.match(item):
            continue
        column = _COLUMN.match(item)
        if not column:
            raise ValueError(f"{match[1]}: cannot read column definition {item!r}")
        columns.append(Column(column["name"], column["type"], bool(column["not_null"])))
    return WarehouseTable(match[1], tuple(columns), ddl)


@cache
def mart_tables() -> dict[str, WarehouseTable]:
    """Every warehouse table by name, from contracts/warehouse/marts/<name>.sql."""
    tables = {}
    for path in sorted(MARTS_DIR.glob("*.sql")):
        table = parse_table(path.read_text(encoding="utf-8"))
        if table.name != path.stem:
            raise ValueError(f"{path.name} creates {table.name}")
        tables[table.name] = table
    return tables


@cache
def customer_scores_table() -> WarehouseTable:
    """The ML scores' table (contracts/warehouse/scores), loaded beside the marts."""
    return parse_table(CUSTOMER_SCORES_DDL.read_text(encoding="utf-8"))


_GLUE_TYPES = {
    "BIGINT": "bigint",
    "INTEGER": "int",
    "SMALLINT": "smallint",
    "DOUBLE PRECISION": "double",
    "REAL": "float",
    "BOOLEAN": "boolean",
    "DATE": "date",
    "TIMESTAMP": "timestamp",
    "VARCHAR": "string",
    "CHAR": "string",
}
_DECIMAL = re.compile(r"^DECIMAL\s*\(\s*(\d+)\s*,\s*(\d+)\s*\)$")


def glue_type(sql_type: str) -> str:
    """The Glue Data Catalog (Hive) type of a warehouse column type, for a lake table with the
    same columns: text of any length is `string`, DECIMAL keeps its precision and scale."""
    decimal = _DECIMAL.match(sql_type)
    if decimal:
        return f"decimal({decimal[1]},{decimal[2]})"
    base = sql_type.split("(", 1)[0].strip()
    if base not in _GLUE_TYPES:
        raise ValueError(f"no Glue type for warehouse type {sql_type}")
    return _GLUE_TYPES[base]
