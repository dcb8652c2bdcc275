"""Run SQL on Redshift through the Data API and wait for its end.

One code path for every statement the platform sends to the warehouse: the streaming-ingestion
scripts (the redshift_sql custom resource) and the marts load (Glue job load_warehouse).

The Data API is asynchronous: execute_statement and batch_execute_statement return an id at
once, and describe_statement says when the work finished, failed or was aborted. Work still
running at the deadline is cancelled, so no caller leaves a statement behind it.
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
    """Where statements run: a serverless workgroup or a provisioned cluster, as the user whose
    credentials a secret holds, as a database user (cluster only), or else as the caller's own
    IAM identity."""

    database: str
    workgroup_name: str | None = None
    cluster_identifier: str | None = None
    secret_arn: str | None = None
    db_user: str | None = None

    def __post_init__(self) -> None:
        if (self.workgroup_name is None) == (self.cluster_identifier is None):
            raise ValueError("give exactly one of workgroup_name and cluster_identifier")

    def connection(self) -> dict[str, str]:
        """The Data API arguments that pick the warehouse and the credentials."""
        target = (
            {"WorkgroupName": self.workgroup_name}
            if self.workgroup_name
            else {"ClusterIdentifier": str(self.cluster_identifier)}
        )
        credentials = {"SecretArn": self.secret_arn} if self.secret_arn else {}
        if self.db_user:
            credentials["DbUser"] = self.db_user
        return {**target, "Database": self.database, **credentials}


@dataclass
class DataApi:
    client: Any  # boto3 "redshift-data" client
    warehouse: Warehouse
    timeout_s: float = 300.0
    poll_interval_s: float = 1.0
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic

    def run(self, sql: str, parameters: Sequence[tuple[str, str]] = ()) -> dict[str, Any]:
        """Execute one statement and wait; returns the final describe_statement answer."""
        request: dict[str, Any] = {**self.warehouse.connection(), "Sql": sql}
        if parameters:
            request["Parameters"] = [{"name": name, "value": value} for name, value in parameters]
        return self._wait(self.client.execute_statement(**request)["Id"])

    def run_batch(self, statements: Sequence[str], name: str) -> dict[str, Any]:
        """Execute the statements as one transaction and wait: when one fails, none of them
        took effect. The name labels the batch in Redshift and in the errors raised."""
        statement_id = self.client.batch_execute_statement(
            **self.warehouse.connection(), Sqls=list(statements), StatementName=name
        )["Id"]
        return self._wait(statement_id, f"{name}: ")

    def has_rows(self, sql: str, parameters: Sequence[tuple[str, str]] = ()) -> bool:
        """True when the query returns at least one row."""
        return self.run(sql, parameters).get("ResultRows", 0) > 0

    def rows(self, sql: str, parameters: Sequence[tuple[str, str]] = ()) -> list[list[Any]]:
        """Execute a query and wait; its rows (every page of the result), each a list of
        plain values, None for NULL."""
        statement_id = self.run(sql, parameters)["Id"]
        rows, token = [], None
        while True:
            page = self.client.get_statement_result(
                Id=statement_id, **({"NextToken": token} if token else {})
            )
            rows += [[_plain(field) for field in record] for record in page["Records"]]
            token = page.get("NextToken")
            if not token:
                return rows

    def _wait(self, statement_id: str, label: str = "") -> dict[str, Any]:
        deadline = self.clock() + self.timeout_s
        while True:
            described = self.client.describe_statement(Id=statement_id)
            status = described["Status"]
            if status == _DONE:
                return described
            if status in _FAILED:
                error = described.get("Error") or f"statement {status}"
                raise StatementFailedError(f"{label}{error}")
            if self.clock() >= deadline:
                self.client.cancel_statement(Id=statement_id)
                raise StatementTimeoutError(
                    f"{label}still {status} after {self.timeout_s:g} s;"
                    f" cancelled statement {statement_id}"
                )
            self.sleep(self.poll_interval_s)


def _plain(field: dict[str, Any]) -> Any:
    """A result field's value: the Data API sends each as {"<type>Value": value} or
    {"isNull": true}."""
    if field.get("isNull"):
        return None
    (value,) = field.values()
    return value
