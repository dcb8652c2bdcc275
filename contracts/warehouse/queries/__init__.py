"""The analysts' questions as SQL, one file each, in the order the docs show them.

A file `NNN_name.sql` opens with a comment block: `-- question: ...` (the question it helps
answer, a heading of docs/queries.md shared by consecutive files), then the lines that say
what the query shows. The SQL below runs unchanged on Redshift and on the local DuckDB
warehouse. docs/queries.md is generated from these files (`python -m
contracts.warehouse.queries.docs`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

QUERIES_DIR = Path(__file__).resolve().parent
_FILE_NAME = re.compile(r"^\d{3}_(?P<name>\w+)\.sql$")
_QUESTION = "-- question: "


class AnalystQueryError(ValueError):
    """A query file does not follow the layout above; the message names the file."""


@dataclass(frozen=True)
class AnalystQuery:
    name: str
    question: str
    description: str  # lines kept as written, for the docs
    sql: str


def load_queries(directory: Path = QUERIES_DIR) -> list[AnalystQuery]:
    """Every query file of the folder, in file-name order."""
    queries = [_read(path) for path in sorted(directory.glob("*.sql"))]
    names = [query.name for query in queries]
    duplicated = sorted({name for name in names if names.count(name) > 1})
    if duplicated:
        raise AnalystQueryError(f"query names used twice: {', '.join(duplicated)}")
    return queries


def analyst_queries(directory: Path = QUERIES_DIR) -> dict[str, str]:
    """The SQL of every query, by name, in order."""
    return {query.name: query.sql for query in load_queries(directory)}


def _read(path: Path) -> AnalystQuery:
    matched = _FILE_NAME.match(path.name)
    if matched is None:
        raise AnalystQueryError(f"{path.name}: query files are named NNN_name.sql")
    lines = path.read_text(encoding="utf-8").splitlines()
    if not lines or not lines[0].startswith(_QUESTION):
        raise AnalystQueryError(f"{path.name}: the first line must be `{_QUESTION}...`")
    header = 1
    while header < len(lines) and lines[header].startswith("--"):
        header += 1
    description = "\n".join(line.removeprefix("--").removeprefix(" ") for line in lines[1:header])
    sql = "\n".join(lines[header:]).strip()
    if not description.strip() or not sql:
        raise AnalystQueryError(f"{path.name}: needs a description under the question and SQL")
    return AnalystQuery(
        name=matched["name"],
        question=lines[0].removeprefix(_QUESTION).strip(),
        description=description,
        sql=sql,
    )
