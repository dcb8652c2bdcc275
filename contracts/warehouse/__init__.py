"""Warehouse DDL as data. This module reads the scripts that a deploy applies to Redshift in
file-name order: contracts/warehouse/streaming, the streaming ingestion from MSK.

Each script file is one statement; `${Name}` placeholders take deploy-time values (ARNs,
topic names). Every script must be safe to run again: it says IF NOT EXISTS, or it creates a
materialized view, which the runner skips when a view of that name exists (Redshift has no
IF NOT EXISTS for them).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

STREAMING_DIR = Path(__file__).resolve().parent / "streaming"
# A value goes inside a quoted literal or identifier: nothing that could end it.
# Only the braced form is a placeholder: a bare `$` (e.g. ending a regex) is SQL.
_PLACEHOLDER = re.compile(r"\$\{(\w+)\}")
_SAFE_VALUE = re.compile(r"^[A-Za-z0-9._:/@+=,-]+$")
_MATERIALIZED_VIEW = re.compile(
    r"^\s*CREATE\s+MATERIALIZED\s+VIEW\s+(?P<schema>\w+)\.(?P<name>\w+)\b",
    re.IGNORECASE | re.MULTILINE,
)


class WarehouseScriptError(ValueError):
    """A script or a value for it cannot be used; the message names which."""


@dataclass(frozen=True)
class SqlScript:
    name: str
    template: str

    def render(self, values: Mapping[str, str]) -> str:
        """The statement with every `${Name}` replaced; a missing or unsafe value is an error."""
        for key, value in values.items():
            if not _SAFE_VALUE.match(value):
                raise WarehouseScriptError(f"{self.name}: value of {key} is not safe in SQL")

        def value_of(placeholder: re.Match[str]) -> str:
            if placeholder[1] not in values:
                raise WarehouseScriptError(f"{self.name}: no value for {placeholder[0]}")
            return values[placeholder[1]]

        return _PLACEHOLDER.sub(value_of, self.template)


@dataclass(frozen=True)
class ExistenceProbe:
    """A query whose result has a row when the object a script creates already exists."""

    sql: str
    parameters: tuple[tuple[str, str], ...]


def load_scripts(directory: Path = STREAMING_DIR) -> list[SqlScript]:
    return [
        SqlScript(path.name, path.read_text(encoding="utf-8"))
        for path in sorted(directory.glob("*.sql"))
    ]


def scripts_checksum(directory: Path = STREAMING_DIR) -> str:
    """Changes whenever a script is added or edited, so a deploy runs them again."""
    digest = hashlib.sha256()
    for script in load_scripts(directory):
        digest.update(f"{script.name}\0{script.template}\0".encode())
    return digest.hexdigest()


def existence_probe(statement: str) -> ExistenceProbe | None:
    """For a CREATE MATERIALIZED VIEW, the query that finds a view of that name."""
    match = _MATERIALIZED_VIEW.search(_without_comments(statement))
    if not match:
        return None
    return ExistenceProbe(
        "SELECT 1 FROM svv_mv_info WHERE schema_name = :schema AND name = :name",
        (("schema", match["schema"].lower()), ("name", match["name"].lower())),
    )


def _without_comments(statement: str) -> str:
    return "\n".join(line.split("--", 1)[0] for line in statement.splitlines())
