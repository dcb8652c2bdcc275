"""An embedded PostgreSQL 16 for one machine, from the binaries the `pgserver` wheel ships.

We drive the binaries ourselves instead of using pgserver's own server object because it
listens on a unix socket only, and Spark's JDBC reader (and any other tool) needs TCP. The
server listens on 127.0.0.1 only, keeps its data in a git-ignored folder and outlives the
command that started it, so the next command reuses it.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql

from local_platform.paths import LOCAL_HOME

DEFAULT_HOME = LOCAL_HOME / "postgres"
DATABASE_NAME = "ecommerce"
SUPERUSER = "postgres"
# When run as root, PostgreSQL refuses to start; it runs as this system user instead.
SYSTEM_USER = "ecompg"


class EmbeddedPostgresError(RuntimeError):
    """The embedded server could not be started or stopped."""


@dataclass(frozen=True)
class EmbeddedPostgres:
    home: Path = DEFAULT_HOME

    @property
    def data_dir(self) -> Path:
        return self.home / "data"

    @property
    def state_file(self) -> Path:
        return self.home / "server.json"

    @property
    def log_file(self) -> Path:
        return self.home / "server.log"

    def url(self, port: int | None = None, database: str = DATABASE_NAME) -> str:
        port = port or self._read_port()
        return f"postgresql://{SUPERUSER}@127.0.0.1:{port}/{database}"

    def is_running(self) -> bool:
        if not self.state_file.exists():
            return False
        try:
            with psycopg.connect(self._admin_url(self._read_port()), connect_timeout=2):
                return True
        except psycopg.OperationalError:
            return False

    def start(self, database: str = DATABASE_NAME) -> str:
        """Start the server (or find it running), create `database` if missing, return its URL."""
        if self.is_running():
            self._create_database(self._read_port(), database)
            return self.url(database=database)
        bin_dir = _binaries()
        run_as = _prepare_system_user(self.home)
        if not (self.data_dir / "PG_VERSION").exists():
            self._initdb(bin_dir, run_as)
        port = self._read_port() if self.state_file.exists() else _free_port()
        self.state_file.write_text(json.dumps({"port": port}))
        self._pg_ctl(
            bin_dir,
            run_as,
            "start",
            "-w",
            "-t",
            "60",
            "-l",
            str(self.log_file),
            "-o",
            f"-c listen_addresses=127.0.0.1 -p {port} -k {self.home}",
        )
        self._create_database(port, database)
        return self.url(port, database)

    def stop(self) -> bool:
        """Stop the server; returns False if it was not running."""
        if not (self.data_dir / "postmaster.pid").exists():
            return False
        run_as = _prepare_system_user(self.home)
        self._pg_ctl(_binaries(), run_as, "stop", "-w", "-m", "fast")
        return True

    def _initdb(self, bin_dir: Path, run_as: str | None) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if run_as:
            shutil.chown(self.data_dir, run_as, run_as)
        _run(
            [
                str(bin_dir / "initdb"),
                "-D",
                str(self.data_dir),
                "-U",
                SUPERUSER,
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C",
            ],
            run_as,
        )

    def _pg_ctl(self, bin_dir: Path, run_as: str | None, *args: str) -> None:
        try:
            _run([str(bin_dir / "pg_ctl"), "-D", str(self.data_dir), *args], run_as)
        except EmbeddedPostgresError as error:
            log = self.log_file.read_text()[-2000:] if self.log_file.exists() else ""
            raise EmbeddedPostgresError(f"{error}\nserver log ({self.log_file}):\n{log}") from None

    def _create_database(self, port: int, database: str) -> None:
        with psycopg.connect(self._admin_url(port), autocommit=True) as conn:
            exists = conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", (database,)
            ).fetchone()
            if not exists:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))

    def _read_port(self) -> int:
        return int(json.loads(self.state_file.read_text())["port"])

    @staticmethod
    def _admin_url(port: int) -> str:
        return f"postgresql://{SUPERUSER}@127.0.0.1:{port}/postgres"


def _binaries() -> Path:
    with warnings.catch_warnings():  # pgserver warns about XDG_RUNTIME_DIR on import
        warnings.simplefilter("ignore")
        import pgserver._commands

    return pgserver._commands.POSTGRES_BIN_PATH


def _prepare_system_user(home: Path) -> str | None:
    """As root, make a system user that owns the server files; otherwise run as ourselves."""
    home.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0:
        return None
    _binaries()
    from pgserver.utils import ensure_prefix_permissions, ensure_user_exists

    ensure_user_exists(SYSTEM_USER)
    ensure_prefix_permissions(home)
    ensure_prefix_permissions(_binaries())
    shutil.chown(home, SYSTEM_USER, SYSTEM_USER)
    return SYSTEM_USER


def _run(command: list[str], run_as: str | None) -> None:
    result = subprocess.run(command, user=run_as, capture_output=True, text=True, check=False)  # noqa: S603 pgserver's own PostgreSQL binaries
    if result.returncode != 0:
        raise EmbeddedPostgresError(
            f"{Path(command[0]).name} failed ({result.returncode}): {result.stderr.strip()}"
        )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def resolve_database_url(explicit: str | None = None, *, progress: bool = True) -> str:
    """The database to use: an explicit URL, else DATABASE_URL, else the embedded server."""
    url = explicit or os.environ.get("DATABASE_URL")
    if url:
        return url
    server = EmbeddedPostgres()
    if progress and not server.is_running():
        print(f"Starting embedded PostgreSQL in {server.home} ...", file=sys.stderr)
    started = time.monotonic()
    url = server.start()
    if progress and time.monotonic() - started > 0.5:
        print(f"Embedded PostgreSQL ready at {url}", file=sys.stderr)
    return url
