"""The recommendations API's one database connection: opened on first use, opened again after
it broke, read-only and with a statement timeout, so a slow or lost database costs a request
a clear 503 instead of a hung function."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import psycopg

CONNECT_TIMEOUT_S = 5
STATEMENT_TIMEOUT_MS = 2_000
_SESSION_OPTIONS = (
    f"-c default_transaction_read_only=on -c statement_timeout={STATEMENT_TIMEOUT_MS}"
)

_Result = TypeVar("_Result")


class DatabaseUnavailableError(RuntimeError):
    """The database could not be reached or did not answer in time; retrying may work."""


class ReadOnlyDatabase:
    """`conninfo` is called for each new connection (an IAM token lasts 15 minutes)."""

    def __init__(self, conninfo: Callable[[], str]) -> None:
        self._conninfo = conninfo
        self._connection: psycopg.Connection | None = None

    def read(self, work: Callable[[psycopg.Connection], _Result]) -> _Result:
        """`work` on the connection; a connection failure or timeout closes it (the next call
        opens a new one) and raises DatabaseUnavailableError."""
        try:
            return work(self._connected())
        except psycopg.OperationalError as error:
            self.close()
            raise DatabaseUnavailableError(str(error).strip().splitlines()[0]) from error

    def _connected(self) -> psycopg.Connection:
        if self._connection is None or self._connection.closed or self._connection.broken:
            self._connection = psycopg.connect(
                self._conninfo(),
                autocommit=True,
                connect_timeout=CONNECT_TIMEOUT_S,
                options=_SESSION_OPTIONS,
                application_name="recommendations_api",
            )
        return self._connection

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None
