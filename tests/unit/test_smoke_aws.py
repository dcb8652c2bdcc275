"""The smoke test's AWS side with botocore's Stubber: every request is checked against the
service model and answered with a response of the recorded shape, so the checks read real
field names. Reading the deployment's outputs, each hop's pass and failure, and the wiring
of the hops to the outputs."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.exceptions import NoCredentialsError
from botocore.stub import Stubber

from contracts.warehouse.data_api import DataApi
from local_platform.smoke.aws import (
    AwsClients,
    Deployment,
    DeploymentError,
    aws_hops,
    dashboards_exist,
    first_query_answers,
    pipeline_last_run,
    read_deployment,
    streaming_view_has,
    workflow_last_run,
)
from local_platform.smoke.hops import (
    FAILED,
    PASSED,
    SKIPPED,
    HopFailed,
    HopSkipped,
    run_hops,
    smoke_event,
)

REGION, ACCOUNT = "eu-west-1", "123456789012"
SECRET = (
    f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:"
    "redshift!ecommerce-staging-warehouse_admin-AbCdEf"
)
SERVERLESS_HOST = f"ecommerce-staging.{ACCOUNT}.{REGION}.redshift-serverless.amazonaws.com"
OUTPUTS = {
    "Ingest": {"CollectorApiUrl": "http://127.0.0.1:9", "CollectorFunctionName": "f"},
    "Realtime": {"StreamingViewName": "streaming.events"},
    "Warehouse": {
        "WarehouseEndpoint": SERVERLESS_HOST,
        "WarehouseAdminSecretArn": SECRET,
        "WarehouseDatabase": "analytics",
    },
    "Etl": {"BatchWorkflowName": "ecommerce-staging-batch"},
    "Ml": {"ScoringPipelineName": "ecommerce-staging-ml-scoring"},
}


def _client(service: str) -> Any:
    return boto3.client(
        service, region_name=REGION, aws_access_key_id="testing", aws_secret_access_key="testing"
    )


def _stack(concern: str, outputs: dict[str, str], status: str = "UPDATE_COMPLETE", **extra) -> dict:
    name = f"staging-{concern}"
    return {
        "Stacks": [
            {
                "StackName": name,
                "StackId": f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/{name}/0b1c2d3e",
                "CreationTime": datetime(2026, 12, 1, tzinfo=UTC),
                "StackStatus": status,
                "Outputs": [{"OutputKey": k, "OutputValue": v} for k, v in outputs.items()],
                **extra,
            }
        ]
    }


def _missing(stubber: Stubber, name: str) -> None:
    stubber.add_client_error(
        "describe_stacks",
        service_error_code="ValidationError",
        service_message=f"Stack with id {name} does not exist",
        http_status_code=400,
        expected_params={"StackName": name},
    )


def _deployment(
    outputs: dict[str, dict[str, str]], dashboards: dict[str, str] | None
) -> Deployment:
    cloudformation = _client("cloudformation")
    with Stubber(cloudformation) as stubber:
        for concern, values in outputs.items():
            stubber.add_response(
                "describe_stacks", _stack(concern, values), {"StackName": f"staging-{concern}"}
            )
        if dashboards is None:
            _missing(stubber, "staging-Dashboards")
        else:
            stubber.add_response(
                "describe_stacks",
                _stack("Dashboards", dashboards),
                {"StackName": "staging-Dashboards"},
            )
        deployment = read_deployment(cloudformation, "staging", REGION)
        stubber.assert_no_pending_responses()
    return deployment


def test_the_deployment_is_read_from_the_stacks_outputs():
    deployment = _deployment(OUTPUTS, None)
    assert (deployment.env, deployment.region, deployment.account) == ("staging", REGION, ACCOUNT)
    assert deployment.output("Etl", "BatchWorkflowName") == "ecommerce-staging-batch"
    assert deployment.dashboard_ids is None
    assert deployment.warehouse().connection() == {
        "WorkgroupName": "ecommerce-staging",
        "Database": "analytics",
        "SecretArn": SECRET,
    }


def test_dashboard_ids_are_the_outputs_that_name_one():
    deployment = _deployment(
        OUTPUTS,
        {
            "SalesDashboardId": "ecommerce-staging-sales",
            "DataSourceArn": "arn:x",
            "ExecutiveDashboardId": "ecommerce-staging-executive",
        },
    )
    assert deployment.dashboard_ids == ("ecommerce-staging-executive", "ecommerce-staging-sales")


def test_a_provisioned_warehouse_is_addressed_by_its_cluster():
    outputs = {
        **OUTPUTS,
        "Warehouse": {
            **OUTPUTS["Warehouse"],
            "WarehouseEndpoint": (f"ecommerce-staging.c1x2y3.{REGION}.redshift.amazonaws.com:5439"),
        },
    }
    warehouse = _deployment(outputs, None).warehouse()
    assert (warehouse.cluster_identifier, warehouse.workgroup_name) == ("ecommerce-staging", None)


def _read_failing(stack_responses: list[tuple[str, dict | None]]) -> str:
    cloudformation = _client("cloudformation")
    with Stubber(cloudformation) as stubber:
        for concern, response in stack_responses:
            if response is None:
                _missing(stubber, f"staging-{concern}")
            else:
                stubber.add_response(
                    "describe_stacks", response, {"StackName": f"staging-{concern}"}
                )
        with pytest.raises(DeploymentError) as raised:
            read_deployment(cloudformation, "staging", REGION)
    return str(raised.value)


def test_a_stack_missing_in_the_region_is_named():
    assert _read_failing([("Ingest", None)]) == (
        "stack staging-Ingest does not exist in eu-west-1: not deployed, or the wrong region"
        " (--region, AWS_REGION)"
    )


def test_a_stack_in_a_failed_state_is_named_with_its_reason():
    message = _read_failing(
        [
            ("Ingest", _stack("Ingest", OUTPUTS["Ingest"])),
            (
                "Realtime",
                _stack(
                    "Realtime",
                    OUTPUTS["Realtime"],
                    "UPDATE_ROLLBACK_COMPLETE",
                    StackStatusReason="Resource StreamProcessor failed",
                ),
            ),
        ]
    )
    assert message == (
        "stack staging-Realtime is UPDATE_ROLLBACK_COMPLETE (Resource StreamProcessor failed):"
        " fix the deployment first"
    )


def test_a_missing_output_is_named():
    warehouse = {k: v for k, v in OUTPUTS["Warehouse"].items() if k != "WarehouseAdminSecretArn"}
    message = _read_failing(
        [(c, _stack(c, OUTPUTS[c])) for c in ("Ingest", "Realtime")]
        + [("Warehouse", _stack("Warehouse", warehouse))]
    )
    assert message.startswith("stack staging-Warehouse has no output WarehouseAdminSecretArn:")


def test_refusals_and_missing_credentials_are_one_line():
    cloudformation = _client("cloudformation")
    with Stubber(cloudformation) as stubber:
        stubber.add_client_error("describe_stacks", "AccessDenied", "not authorized", 403)
        with pytest.raises(
            DeploymentError,
            match=r"^CloudFormation refused to describe staging-Ingest: AccessDenied: not auth",
        ):
            read_deployment(cloudformation, "staging", REGION)

    class NoCredentials:
        def describe_stacks(self, **_: str) -> dict:
            raise NoCredentialsError()

    with pytest.raises(DeploymentError, match=r"^no AWS credentials: "):
        read_deployment(NoCredentials(), "staging", REGION)


def _workflow(run: dict | None) -> dict:
    return {"Workflow": {"Name": "ecommerce-staging-batch", **({"LastRun": run} if run else {})}}


def test_the_batch_workflows_last_run():
    glue = _client("glue")
    params = {"Name": "ecommerce-staging-batch", "IncludeGraph": False}
    done = {
        "WorkflowRunId": "wr_7",
        "Status": "COMPLETED",
        "CompletedOn": datetime(2026, 12, 6, 3, 41, tzinfo=UTC),
        "Statistics": {"TotalActions": 4, "SucceededActions": 4, "FailedActions": 0},
    }
    failed = {
        **done,
        "WorkflowRunId": "wr_8",
        "Statistics": {
            "TotalActions": 4,
            "SucceededActions": 2,
            "FailedActions": 1,
            "StoppedActions": 1,
        },
    }
    with Stubber(glue) as stubber:
        stubber.add_response("get_workflow", _workflow(done), params)
        stubber.add_response("get_workflow", _workflow(failed), params)
        stubber.add_response(
            "get_workflow", _workflow({**done, "Status": "RUNNING", "Statistics": {}}), params
        )
        stubber.add_response("get_workflow", _workflow(None), params)
        stubber.add_client_error("get_workflow", "EntityNotFoundException", "Workflow not found")
        assert workflow_last_run(glue, "ecommerce-staging-batch") == (
            "run wr_7 completed 2026-12-06 03:41 UTC, 4 actions succeeded"
        )
        for message in (
            r"last run wr_8 is COMPLETED \(FailedActions 1, StoppedActions 1\)$",
            r"last run wr_7 is RUNNING$",
            r"has never run",
            r"^Glue workflow ecommerce-staging-batch: EntityNotFoundException: Workflow not found$",
        ):
            with pytest.raises(HopFailed, match=message):
                workflow_last_run(glue, "ecommerce-staging-batch")


def _executions(status: str | None, reason: str | None = None) -> dict:
    if status is None:
        return {"PipelineExecutionSummaries": []}
    summary = {
        "PipelineExecutionArn": "arn:aws:sagemaker:x",
        "PipelineExecutionStatus": status,
        "StartTime": datetime(2026, 12, 6, 6, 0, tzinfo=UTC),
    }
    if reason:
        summary["PipelineExecutionFailureReason"] = reason
    return {"PipelineExecutionSummaries": [summary]}


def test_the_scoring_pipelines_last_execution():
    sagemaker = _client("sagemaker")
    name = "ecommerce-staging-ml-scoring"
    listing = {
        "PipelineName": name,
        "SortBy": "CreationTime",
        "SortOrder": "Descending",
        "MaxResults": 1,
    }
    with Stubber(sagemaker) as stubber:
        for executions in (
            _executions("Succeeded"),
            _executions("Failed", "Step Score failed"),
            _executions(None),
        ):
            stubber.add_response(
                "describe_pipeline", {"PipelineName": name}, {"PipelineName": name}
            )
            stubber.add_response("list_pipeline_executions", executions, listing)
        stubber.add_client_error("describe_pipeline", "ResourceNotFound", "Pipeline does not exist")
        assert pipeline_last_run(sagemaker, name) == "execution of 2026-12-06 06:00 UTC succeeded"
        for message in (
            r"last execution is Failed: Step Score failed$",
            r"has never run$",
            r": ResourceNotFound: Pipeline does not exist$",
        ):
            with pytest.raises(HopFailed, match=message):
                pipeline_last_run(sagemaker, name)


def _statement(stubber: Stubber, sql: str, records: list, parameters: list | None = None) -> None:
    request = {
        "WorkgroupName": "ecommerce-staging",
        "Database": "analytics",
        "SecretArn": SECRET,
        "Sql": sql,
    }
    if parameters:
        request["Parameters"] = parameters
    stubber.add_response("execute_statement", {"Id": "st-1"}, request)
    stubber.add_response("describe_statement", {"Id": "st-1", "Status": "STARTED"}, {"Id": "st-1"})
    stubber.add_response(
        "describe_statement",
        {"Id": "st-1", "Status": "FINISHED", "HasResultSet": True},
        {"Id": "st-1"},
    )
    stubber.add_response(
        "get_statement_result", {"Records": records, "TotalNumRows": len(records)}, {"Id": "st-1"}
    )


def _data_api(client: Any) -> DataApi:
    return DataApi(client, _deployment(OUTPUTS, None).warehouse(), sleep=lambda s: None)


def test_the_event_is_looked_for_in_the_streaming_view_until_it_appears():
    redshift = _client("redshift-data")
    event = smoke_event()
    sql = "SELECT kafka_partition, kafka_offset FROM streaming.events WHERE event_id = :event_id"
    parameters = [{"name": "event_id", "value": event.event_id}]
    sleeps: list[float] = []
    with Stubber(redshift) as stubber:
        _statement(stubber, sql, [], parameters)
        _statement(stubber, sql, [[{"longValue": 2}, {"longValue": 41}]], parameters)
        detail = streaming_view_has(
            _data_api(redshift), "streaming.events", event, 60, sleep=sleeps.append
        )
        stubber.assert_no_pending_responses()
    assert detail == "in streaming.events from partition 2, offset 41"
    assert sleeps == [5.0]  # one wait between the two looks
    with pytest.raises(HopFailed, match=r"is not a schema\.view name"):
        streaming_view_has(_data_api(redshift), "events; drop table x", event, 60)


def test_the_warehouse_answers_the_first_query_or_says_why_not():
    redshift = _client("redshift-data")
    from contracts.warehouse.queries import load_queries

    sql = load_queries()[0].sql
    with Stubber(redshift) as stubber:
        _statement(stubber, sql, [[{"stringValue": "2026-11-30"}], [{"stringValue": "2026-11-23"}]])
        _statement(stubber, sql, [])
        stubber.add_response("execute_statement", {"Id": "st-2"})
        stubber.add_response(
            "describe_statement",
            {
                "Id": "st-2",
                "Status": "FAILED",
                "Error": 'relation "mart_sales_daily" does not exist',
            },
        )
        data_api = _data_api(redshift)
        assert first_query_answers(data_api) == "revenue_by_week: 2 rows"
        with pytest.raises(HopFailed, match="answered with no rows"):
            first_query_answers(data_api)
        with pytest.raises(
            HopFailed, match=r'^the warehouse: relation "mart_sales_daily" does not exist$'
        ):
            first_query_answers(data_api)


def _dashboard(dashboard_id: str, status: str) -> dict:
    return {
        "Dashboard": {"DashboardId": dashboard_id, "Version": {"Status": status}},
        "Status": 200,
    }


def test_dashboards_are_published_or_skipped_when_the_environment_has_none():
    quicksight = _client("quicksight")
    deployment = _deployment(OUTPUTS, {"SalesDashboardId": "s", "ExecutiveDashboardId": "e"})
    with Stubber(quicksight) as stubber:
        for dashboard_id, status in (("e", "CREATION_SUCCESSFUL"), ("s", "UPDATE_SUCCESSFUL")):
            stubber.add_response(
                "describe_dashboard",
                _dashboard(dashboard_id, status),
                {"AwsAccountId": ACCOUNT, "DashboardId": dashboard_id},
            )
        stubber.add_response("describe_dashboard", _dashboard("e", "CREATION_FAILED"))
        assert dashboards_exist(quicksight, deployment) == "2 dashboards published"
        with pytest.raises(HopFailed, match=r"^dashboard e is CREATION_FAILED$"):
            dashboards_exist(quicksight, deployment)
    with pytest.raises(HopSkipped, match=r"^staging has no Dashboards stack$"):
        dashboards_exist(quicksight, _deployment(OUTPUTS, None))


def test_the_hops_read_their_own_outputs():
    """A full run: the collector (nobody listens at its URL) fails and the streaming-view hop
    is skipped; every other hop passes on the resources its output names."""
    deployment = _deployment(OUTPUTS, None)
    clients = AwsClients(
        *(_client(s) for s in ("glue", "sagemaker", "redshift-data", "quicksight"))
    )
    done = {
        "WorkflowRunId": "wr_7",
        "Status": "COMPLETED",
        "CompletedOn": datetime(2026, 12, 6, tzinfo=UTC),
        "Statistics": {"SucceededActions": 4},
    }
    from contracts.warehouse.queries import load_queries

    with (
        Stubber(clients.glue) as glue,
        Stubber(clients.sagemaker) as sagemaker,
        Stubber(clients.redshift_data) as redshift,
    ):
        glue.add_response(
            "get_workflow",
            _workflow(done),
            {"Name": "ecommerce-staging-batch", "IncludeGraph": False},
        )
        name = "ecommerce-staging-ml-scoring"
        sagemaker.add_response("describe_pipeline", {"PipelineName": name}, {"PipelineName": name})
        sagemaker.add_response("list_pipeline_executions", _executions("Succeeded"))
        _statement(redshift, load_queries()[0].sql, [[{"stringValue": "2026-11-30"}]])
        results = run_hops(aws_hops(deployment, clients, smoke_event(), sleep=lambda s: None))
    assert [(r.name, r.status) for r in results] == [
        ("collector accepts the event", FAILED),
        ("event reaches the real-time tables", SKIPPED),
        ("batch workflow: last run succeeded", PASSED),
        ("scoring pipeline: last run succeeded", PASSED),
        ("warehouse answers the first query", PASSED),
        ("dashboards exist", SKIPPED),
    ]
    assert results[0].detail.startswith("the collector at http://127.0.0.1:9 is unreachable")


def test_the_command_without_credentials_says_so_in_one_line(tmp_path):
    from typer.testing import CliRunner

    from local_platform.cli import app

    env = {
        "AWS_ACCESS_KEY_ID": None,
        "AWS_SECRET_ACCESS_KEY": None,
        "AWS_SESSION_TOKEN": None,
        "AWS_PROFILE": None,
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"),
        "AWS_CONFIG_FILE": str(tmp_path / "none"),
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    result = CliRunner().invoke(app, ["smoke", "--env", "staging", "--region", REGION], env=env)
    assert result.exit_code == 1
    assert result.output.strip() == (
        "error: no AWS credentials: configure a profile or assume the smoke-test role"
    )


def test_a_region_other_than_the_pinned_one_is_refused(monkeypatch):
    from typer.testing import CliRunner

    from cdk_app.config import load_config, read_cdk_context
    from local_platform.cli import app
    from local_platform.commands import smoke as command

    context = read_cdk_context()
    pinned = {**context["environments"]["staging"], "region": "eu-central-1"}
    context = {**context, "environments": {**context["environments"], "staging": pinned}}
    monkeypatch.setattr(command, "load_config", lambda env: load_config(env, context))
    result = CliRunner().invoke(app, ["smoke", "--env", "staging", "--region", REGION])
    assert result.exit_code == 1
    assert result.output.strip() == (
        "error: wrong region: staging is deployed to eu-central-1 (cdk.json), not eu-west-1"
    )
