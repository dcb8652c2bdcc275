"""Run one SQL statement through the Redshift Data API and wait for its end.

The Data API is asynchronous: execute_statement returns an id at once, and describe_statement
says when the statement finished, failed or was aborted. A statement still running at the
deadline is cancelled, so a custom resource never leaves work behind it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

_DONE = "FINISHED"
_FAILED = ("FAILED", "ABORTED")


class StatementFailedError(RuntimeError):
    """Redshift refused or aborted the statement; the message carries its error."""


class StatementTimeoutError(RuntimeError):
    """The statement did not end before the deadline and was cancelled."""


@dataclass(frozen=True)
class Warehouse:
    """Where statements run: a serverless workgroup or a provisioned cluster, as the
    admin whose credentials the secret holds."""

    database: str
    secret_arn: str
    workgroup_name: str | None = None
    cluster_identifier: str | None = None

    def __post_init__(self) -> None:
        if (self.workgroup_name is None) == (self.cluster_identifier is None):
            raise ValueError("give exactly one of workgroup_name and cluster_identifier")

    def connection(self) -> dict[str, str]:
        """The execute_statement arguments that pick the warehouse and the credentials."""
        target = (
            {"WorkgroupName": self.workgroup_name}
            if self.workgroup_name
            else {"ClusterIdentifier": str(self.cluster_identifier)}
        )
        return {**target, "Database": self.database, "SecretArn": self.secret_arn}


@dataclass
class DataApi:
    client: Any  # boto3 "redshift-data" client
    warehouse: Warehouse
    timeout_s: float = 300.0
    poll_interval_s: float = 1.0
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic

    def run(self, sql: str, parameters: Sequence[tuple[str, str]] = ()) -> dict[str, Any]:
        """Execute and wait; returns the final describe_statement answer."""
        request: dict[str, Any] = {**self.warehouse.connection(), "Sql": sql}
        if parameters:
            request["Parameters"] = [{"name": name, "value": value} for name, value in parameters]
        statement_id = self.client.execute_statement(**request)["Id"]
        deadline = self.clock() + self.timeout_s
        while True:
            described = self.client.describe_statement(Id=statement_id)
            status = described["Status"]
            if status == _DONE:
                return described
            if status in _FAILED:
                raise StatementFailedError(described.get("Error") or f"statement {status}")
            if self.clock() >= deadline:
                self.client.cancel_statement(Id=statement_id)
                raise StatementTimeoutError(
                    f"still {status} after {self.timeout_s:g} s; cancelled statement {statement_id}"
                )
            self.sleep(self.poll_interval_s)

    def has_rows(self, sql: str, parameters: Sequence[tuple[str, str]] = ()) -> bool:
        """True when the query returns at least one row."""
        return self.run(sql, parameters).get("ResultRows", 0) > 0
