"""The redshift_sql custom resource against a stubbed Redshift Data API (botocore Stubber): the
calls it makes, in order, and what CloudFormation is told on success, failure and timeout."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from contracts.warehouse import STREAMING_DIR
from lambdas.redshift_sql.handler import apply_scripts
from lambdas.shared.custom_resource import respond

WORKGROUP = "ecommerce-dev"
DATABASE = "analytics"
SECRET = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:redshift!ecommerce-dev-admin-AbCd"
VALUES = {
    "StreamingRoleArn": "arn:aws:iam::123456789012:role/dev-Warehouse-StreamingIngestionRole",
    "ClusterArn": "arn:aws:kafka:eu-west-1:123456789012:cluster/ecommerce-dev/0a1b-2c3d-4",
    "EventsTopic": "ecommerce.events.v1",
}
CONNECTION = {"WorkgroupName": WORKGROUP, "Database": DATABASE, "SecretArn": SECRET}
MV_PROBE = "SELECT 1 FROM svv_mv_info WHERE schema_name = :schema AND name = :name"
MV_PARAMETERS = [{"name": "schema", "value": "streaming"}, {"name": "name", "value": "events"}]


def _sql(file_name: str) -> str:
    """A script with its placeholders filled in by plain text replacement."""
    text = (STREAMING_DIR / file_name).read_text()
    for key, value in VALUES.items():
        text = text.replace("${" + key + "}", value)
    return text


def _request(request_type: str = "Create", **properties: Any) -> dict[str, Any]:
    return {
        "RequestType": request_type,
        "ResponseURL": "https://cloudformation.example/response",
        "StackId": "arn:aws:cloudformation:eu-west-1:123456789012:stack/dev-Realtime/1",
        "RequestId": "request-1",
        "LogicalResourceId": "StreamingIngestion",
        "ResourceProperties": {
            "Database": DATABASE,
            "SecretArn": SECRET,
            "WorkgroupName": WORKGROUP,
            "Values": VALUES,
            "StatementTimeoutSeconds": "30",
            **properties,
        },
    }


class FakeClock:
    """Monotonic time that advances only when the code sleeps."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def data_api() -> Iterator[tuple[Any, Stubber]]:
    client = boto3.client(
        "redshift-data",
        region_name="eu-west-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def _expect_statement(
    stubber: Stubber, statement_id: str, sql: str, *statuses: str, **described: Any
) -> None:
    """execute_statement of `sql`, then one describe_statement per status given."""
    request: dict[str, Any] = {**CONNECTION, "Sql": sql}
    if sql == MV_PROBE:
        request["Parameters"] = MV_PARAMETERS
    stubber.add_response("execute_statement", {"Id": statement_id}, request)
    for status in statuses:
        stubber.add_response(
            "describe_statement",
            {"Id": statement_id, "Status": status, **described},
            {"Id": statement_id},
        )


def _run(client: Any, request: dict[str, Any], clock: FakeClock) -> dict[str, Any]:
    """The handler's path: apply the scripts, report to CloudFormation; returns the report."""
    sent: list[dict[str, Any]] = []
    respond(
        request,
        None,
        lambda req: apply_scripts(req, client, sleep=clock.sleep, clock=clock),
        send=lambda _url, body: sent.append(body),
    )
    (body,) = sent
    return body


def test_create_runs_each_script_once_and_reports_success(data_api):
    client, stubber = data_api
    clock = FakeClock()
    _expect_statement(stubber, "s1", _sql("001_schema.sql"), "FINISHED")
    _expect_statement(
        stubber, "s2", _sql("002_msk_external_schema.sql"), "SUBMITTED", "STARTED", "FINISHED"
    )
    _expect_statement(stubber, "s3", MV_PROBE, "FINISHED", ResultRows=0)
    _expect_statement(stubber, "s4", _sql("003_events_view.sql"), "PICKED", "FINISHED")

    body = _run(client, _request(), clock)

    assert body["Status"] == "SUCCESS"
    assert body["PhysicalResourceId"] == "redshift-sql:ecommerce-dev/analytics/streaming"
    assert body["Data"] == {
        "Applied": "001_schema.sql,002_msk_external_schema.sql,003_events_view.sql",
        "Skipped": "",
    }
    assert clock.sleeps == [1.0, 1.0, 1.0]  # one poll interval per unfinished answer


def test_update_skips_the_view_that_already_exists(data_api):
    client, stubber = data_api
    _expect_statement(stubber, "s1", _sql("001_schema.sql"), "FINISHED")
    _expect_statement(stubber, "s2", _sql("002_msk_external_schema.sql"), "FINISHED")
    _expect_statement(stubber, "s3", MV_PROBE, "FINISHED", ResultRows=1)

    body = _run(client, _request("Update"), FakeClock())

    assert body["Status"] == "SUCCESS"
    assert body["Data"]["Skipped"] == "003_events_view.sql"


def test_a_failing_statement_fails_the_deploy_with_the_script_and_redshift_error(data_api):
    client, stubber = data_api
    error = "ERROR: Not authorized to get credentials of role arn:aws:iam::123456789012:role/x"
    _expect_statement(stubber, "s1", _sql("001_schema.sql"), "FINISHED")
    _expect_statement(
        stubber, "s2", _sql("002_msk_external_schema.sql"), "STARTED", "FAILED", Error=error
    )

    body = _run(client, _request(), FakeClock())

    assert body["Status"] == "FAILED"
    assert body["Reason"].startswith(f"ScriptFailedError: 002_msk_external_schema.sql: {error}")
    assert body["PhysicalResourceId"] == "StreamingIngestion"  # nothing was created


def test_a_statement_past_its_deadline_is_cancelled_and_fails_the_deploy(data_api):
    client, stubber = data_api
    clock = FakeClock()
    # Timeout 3 s, polled every second: answers at t = 0, 1, 2 and 3, then cancelled.
    _expect_statement(stubber, "s1", _sql("001_schema.sql"), *["STARTED"] * 4)
    stubber.add_response("cancel_statement", {"Status": True}, {"Id": "s1"})

    body = _run(client, _request(StatementTimeoutSeconds="3"), clock)

    assert body["Status"] == "FAILED"
    assert "001_schema.sql: still STARTED after 3 s; cancelled statement s1" in body["Reason"]
    assert clock.now == 3.0


def test_provisioned_clusters_are_addressed_by_identifier(data_api):
    client, stubber = data_api
    request = _request()
    del request["ResourceProperties"]["WorkgroupName"]
    request["ResourceProperties"]["ClusterIdentifier"] = "ecommerce-ephemeral"
    cluster = {
        "ClusterIdentifier": "ecommerce-ephemeral",
        "Database": DATABASE,
        "SecretArn": SECRET,
    }
    stubber.add_response(
        "execute_statement", {"Id": "s1"}, {**cluster, "Sql": _sql("001_schema.sql")}
    )
    stubber.add_response("describe_statement", {"Id": "s1", "Status": "ABORTED"}, {"Id": "s1"})

    body = _run(client, request, FakeClock())

    assert body["Status"] == "FAILED"
    assert "001_schema.sql: statement ABORTED" in body["Reason"]


def test_delete_keeps_the_objects_and_calls_nothing(data_api):
    client, _ = data_api
    request = _request("Delete")
    request["PhysicalResourceId"] = "redshift-sql:ecommerce-dev/analytics/streaming"

    body = _run(client, request, FakeClock())

    assert (body["Status"], body["PhysicalResourceId"]) == (
        "SUCCESS",
        "redshift-sql:ecommerce-dev/analytics/streaming",
    )
