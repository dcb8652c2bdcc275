"""Apply the versioned OLTP migrations in contracts/oltp/migrations to a PostgreSQL database.

One code path for every caller: `ecom db migrate` / scripts/init_database.py locally, and
the db_migrator Lambda custom resource on every deploy. All pending files run in a single
transaction, so a failing file leaves the database exactly as it was, and the error names
that file. An advisory lock serialises concurrent runs; a checksum catches edited files
that were already applied.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import psycopg

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
_FILE_PATTERN = re.compile(r"^V(?P<version>\d{3,})__(?P<name>[a-z0-9_]+)\.sql$")
# Any constant works; it only has to be the same for every runner of this project.
_ADVISORY_LOCK_KEY = 715_031_001


class MigrationError(RuntimeError):
    """A migration could not be applied; nothing from the run was kept."""

    def __init__(self, filename: str, reason: str) -> None:
        super().__init__(f"migration {filename} failed: {reason}")
        self.filename = filename
        self.reason = reason


@dataclass(frozen=True)
class Migration:
    version: int
    filename: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def discover_migrations(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    """Every migration file in version order; a bad name or a reused version is an error."""
    migrations: dict[int, Migration] = {}
    for path in sorted(directory.glob("*.sql")):
        match = _FILE_PATTERN.match(path.name)
        if not match:
            raise MigrationError(path.name, "name must look like V001__snake_case_name.sql")
        version = int(match["version"])
        if version in migrations:
            raise MigrationError(path.name, f"version {version} is used twice")
        migrations[version] = Migration(version, path.name, path.read_text())
    return [migrations[v] for v in sorted(migrations)]


def apply_migrations(
    database_url: str,
    directory: Path = MIGRATIONS_DIR,
    on_apply: Callable[[Migration], None] | None = None,
) -> list[str]:
    """Apply pending migrations atomically; returns the filenames applied (empty when current)."""
    migrations = discover_migrations(directory)
    with psycopg.connect(database_url) as conn:
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (_ADVISORY_LOCK_KEY,))
        conn.execute(
            """
            CREATE TABLE IF NOT EXISTS schema_migrations (
                version    integer PRIMARY KEY,
                filename   text        NOT NULL,
                checksum   text        NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now()
            )
            """
        )
        applied = dict(conn.execute("SELECT version, checksum FROM schema_migrations").fetchall())
        pending = []
        for migration in migrations:
            if migration.version not in applied:
                pending.append(migration)
            elif applied[migration.version] != migration.checksum:
                raise MigrationError(
                    migration.filename, "file changed after it was applied; add a new migration"
                )
        for migration in pending:
            if on_apply:
                on_apply(migration)
            try:
                with conn.transaction():  # a savepoint, so the error names the file
                    conn.execute(migration.sql)
            except psycopg.Error as error:
                conn.rollback()
                raise MigrationError(migration.filename, str(error).strip()) from error
            conn.execute(
                "INSERT INTO schema_migrations (version, filename, checksum) VALUES (%s, %s, %s)",
                (migration.version, migration.filename, migration.checksum),
            )
    return [m.filename for m in pending]


def applied_versions(database_url: str) -> list[int]:
    with psycopg.connect(database_url) as conn:
        exists = conn.execute("SELECT to_regclass('schema_migrations') IS NOT NULL").fetchone()
        if not exists or not exists[0]:
            return []
        return [row[0] for row in conn.execute("SELECT version FROM schema_migrations ORDER BY 1")]
