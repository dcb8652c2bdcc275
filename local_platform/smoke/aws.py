"""The smoke test's hops against a deployed environment, over boto3 clients it is given: the
environment's CloudFormation outputs say where everything is; the event goes to the collector
API, and is looked for in Redshift's streaming view of the events topic; the Glue workflow's
and the scoring pipeline's last runs, the warehouse (Redshift Data API, as its admin) and the
QuickSight dashboards (when the environment has a Dashboards stack) are checked.

On AWS nothing is removed afterwards: the topic and the streaming view are append-only. The
event is a page view of `/smoke/<tag>` by a fresh anonymous visitor, easy to leave out.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

from contracts.warehouse.data_api import (
    DataApi,
    StatementFailedError,
    StatementTimeoutError,
    Warehouse,
)
from contracts.warehouse.queries import load_queries
from local_platform.smoke.hops import (
    BATCH,
    COLLECTOR,
    DASHBOARDS,
    REALTIME,
    SCORING,
    WAREHOUSE,
    Hop,
    HopFailed,
    HopSkipped,
    SmokeEvent,
    poll,
    post_event,
)

# The outputs each hop reads, by stack (`<env>-<Concern>`); docs/operations.md lists them.
REQUIRED_OUTPUTS: dict[str, tuple[str, ...]] = {
    "Ingest": ("CollectorApiUrl",),
    "Realtime": ("StreamingViewName",),
    "Warehouse": ("WarehouseEndpoint", "WarehouseAdminSecretArn", "WarehouseDatabase"),
    "Etl": ("BatchWorkflowName",),
    "Ml": ("ScoringPipelineName",),
}
# Optional: an environment with dashboards has this stack; its outputs ending in
# `DashboardId` name them.
DASHBOARDS_STACK = "Dashboards"
DASHBOARD_ID_SUFFIX = "DashboardId"
_HEALTHY = {"CREATE_COMPLETE", "UPDATE_COMPLETE", "IMPORT_COMPLETE"}
_DASHBOARD_READY = {"CREATION_SUCCESSFUL", "UPDATE_SUCCESSFUL"}
_VIEW_NAME = re.compile(r"^[a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*$")


class DeploymentError(Exception):
    """The environment cannot be smoke-tested at all (no credentials, not deployed here, a
    stack in a failed state, an output missing); the message says which, in one line."""


@dataclass(frozen=True)
class Deployment:
    env: str
    region: str
    account: str
    outputs: Mapping[str, Mapping[str, str]]  # concern -> output name -> value
    dashboard_ids: tuple[str, ...] | None  # None: the environment has no dashboards

    def output(self, concern: str, name: str) -> str:
        return self.outputs[concern][name]

    def warehouse(self) -> Warehouse:
        """The workgroup or cluster is the first label of the endpoint's host name."""
        host = self.output("Warehouse", "WarehouseEndpoint").split(":")[0]
        name = host.split(".")[0]
        target = (
            {"workgroup_name": name}
            if ".redshift-serverless." in host
            else {"cluster_identifier": name}
        )
        return Warehouse(
            database=self.output("Warehouse", "WarehouseDatabase"),
            secret_arn=self.output("Warehouse", "WarehouseAdminSecretArn"),
            **target,
        )


def read_deployment(cloudformation: Any, env: str, region: str) -> Deployment:
    """Every stack the hops need, healthy, with its outputs; DeploymentError otherwise."""
    outputs, account = {}, ""
    for concern, names in REQUIRED_OUTPUTS.items():
        stack = _describe_stack(cloudformation, f"{env}-{concern}", region)
        if stack is None:
            raise DeploymentError(
                f"stack {env}-{concern} does not exist in {region}:"
                " not deployed, or the wrong region (--region, AWS_REGION)"
            )
        values = _healthy_outputs(stack)
        missing = [name for name in names if name not in values]
        if missing:
            raise DeploymentError(
                f"stack {env}-{concern} has no output {', '.join(missing)}:"
                " deployed from an older version of the app? (make deploy ENV={env})"
            )
        outputs[concern] = values
        account = stack["StackId"].split(":")[4]
    dashboards = _describe_stack(cloudformation, f"{env}-{DASHBOARDS_STACK}", region)
    dashboard_ids = None
    if dashboards is not None:
        dashboard_ids = tuple(
            value
            for name, value in sorted(_healthy_outputs(dashboards).items())
            if name.endswith(DASHBOARD_ID_SUFFIX)
        )
    return Deployment(env, region, account, outputs, dashboard_ids)


def _describe_stack(cloudformation: Any, name: str, region: str) -> dict[str, Any] | None:
    try:
        return cloudformation.describe_stacks(StackName=name)["Stacks"][0]
    except NoCredentialsError:
        raise DeploymentError(
            "no AWS credentials: configure a profile or assume the smoke-test role"
        ) from None
    except ClientError as error:
        code, message = error.response["Error"]["Code"], error.response["Error"]["Message"]
        if code == "ValidationError" and "does not exist" in message:
            return None
        raise DeploymentError(
            f"CloudFormation refused to describe {name}: {code}: {message}"
        ) from None
    except BotoCoreError as error:
        raise DeploymentError(f"cannot reach CloudFormation in {region}: {error}") from None


def _healthy_outputs(stack: dict[str, Any]) -> dict[str, str]:
    status = stack["StackStatus"]
    if status not in _HEALTHY:
        reason = stack.get("StackStatusReason")
        raise DeploymentError(
            f"stack {stack['StackName']} is {status}{f' ({reason})' if reason else ''}:"
            " fix the deployment first"
        )
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


@dataclass(frozen=True)
class AwsClients:
    glue: Any
    sagemaker: Any
    redshift_data: Any
    quicksight: Any


def aws_hops(
    deployment: Deployment,
    clients: AwsClients,
    event: SmokeEvent,
    realtime_timeout_s: float = 300.0,
    sleep: Callable[[float], None] | None = None,
) -> list[Hop]:
    waits = {} if sleep is None else {"sleep": sleep}
    data_api = DataApi(clients.redshift_data, deployment.warehouse(), **waits)
    return [
        Hop(COLLECTOR, lambda: post_event(deployment.output("Ingest", "CollectorApiUrl"), event)),
        Hop(
            REALTIME,
            lambda: streaming_view_has(
                data_api,
                deployment.output("Realtime", "StreamingViewName"),
                event,
                realtime_timeout_s,
                **waits,
            ),
            needs=COLLECTOR,
        ),
        Hop(
            BATCH,
            lambda: workflow_last_run(clients.glue, deployment.output("Etl", "BatchWorkflowName")),
        ),
        Hop(
            SCORING,
            lambda: pipeline_last_run(
                clients.sagemaker, deployment.output("Ml", "ScoringPipelineName")
            ),
        ),
        Hop(WAREHOUSE, lambda: first_query_answers(data_api)),
        Hop(DASHBOARDS, lambda: dashboards_exist(clients.quicksight, deployment)),
    ]


def streaming_view_has(
    data_api: DataApi,
    view: str,
    event: SmokeEvent,
    timeout_s: float,
    sleep: Callable[[float], None] | None = None,
) -> str:
    """Redshift's streaming view of the events topic (refreshed on its own) holds the event."""
    if not _VIEW_NAME.match(view):
        raise HopFailed(f"output StreamingViewName is not a schema.view name: {view!r}")
    sql = f"SELECT kafka_partition, kafka_offset FROM {view} WHERE event_id = :event_id"  # noqa: S608 checked identifier

    def found() -> list[Any] | None:
        records = _query(data_api, sql, [("event_id", event.event_id)])
        return records[0] if records else None

    waits = {} if sleep is None else {"sleep": sleep}
    partition, offset = poll(
        found, timeout_s, f"the event did not appear in {view}", interval_s=5.0, **waits
    )
    return f"in {view} from partition {_value(partition)}, offset {_value(offset)}"


def workflow_last_run(glue: Any, name: str) -> str:
    try:
        workflow = glue.get_workflow(Name=name, IncludeGraph=False)["Workflow"]
    except ClientError as error:
        raise HopFailed(f"Glue workflow {name}: {_client_error(error)}") from None
    run = workflow.get("LastRun")
    if not run:
        raise HopFailed(f"Glue workflow {name} has never run (aws glue start-workflow-run)")
    stats = run.get("Statistics", {})
    broken = {
        key: stats.get(key, 0)
        for key in ("FailedActions", "TimeoutActions", "StoppedActions", "ErroredActions")
        if stats.get(key, 0)
    }
    if run["Status"] != "COMPLETED" or broken:
        counts = ", ".join(f"{key} {value}" for key, value in broken.items())
        raise HopFailed(
            f"Glue workflow {name} last run {run['WorkflowRunId']} is {run['Status']}"
            + (f" ({counts})" if counts else "")
        )
    ended = run.get("CompletedOn")
    return (
        f"run {run['WorkflowRunId']} completed {ended:%Y-%m-%d %H:%M} UTC,"
        f" {stats.get('SucceededActions', 0)} actions succeeded"
    )


def pipeline_last_run(sagemaker: Any, name: str) -> str:
    try:
        sagemaker.describe_pipeline(PipelineName=name)
        executions = sagemaker.list_pipeline_executions(
            PipelineName=name, SortBy="CreationTime", SortOrder="Descending", MaxResults=1
        )["PipelineExecutionSummaries"]
    except ClientError as error:
        raise HopFailed(f"SageMaker pipeline {name}: {_client_error(error)}") from None
    if not executions:
        raise HopFailed(f"SageMaker pipeline {name} has never run")
    last = executions[0]
    status = last["PipelineExecutionStatus"]
    if status != "Succeeded":
        reason = last.get("PipelineExecutionFailureReason")
        raise HopFailed(
            f"SageMaker pipeline {name} last execution is {status}"
            + (f": {reason}" if reason else "")
        )
    return f"execution of {last['StartTime']:%Y-%m-%d %H:%M} UTC succeeded"


def first_query_answers(data_api: DataApi) -> str:
    first = load_queries()[0]
    records = _query(data_api, first.sql)
    if not records:
        raise HopFailed(f"{first.name} answered with no rows: the marts are empty")
    return f"{first.name}: {len(records)} rows"


def dashboards_exist(quicksight: Any, deployment: Deployment) -> str:
    if deployment.dashboard_ids is None:
        raise HopSkipped(f"{deployment.env} has no {DASHBOARDS_STACK} stack")
    if not deployment.dashboard_ids:
        raise HopFailed(f"{deployment.env}-{DASHBOARDS_STACK} outputs no dashboard id")
    for dashboard_id in deployment.dashboard_ids:
        try:
            dashboard = quicksight.describe_dashboard(
                AwsAccountId=deployment.account, DashboardId=dashboard_id
            )["Dashboard"]
        except ClientError as error:
            raise HopFailed(f"dashboard {dashboard_id}: {_client_error(error)}") from None
        status = dashboard["Version"]["Status"]
        if status not in _DASHBOARD_READY:
            raise HopFailed(f"dashboard {dashboard_id} is {status}")
    return f"{len(deployment.dashboard_ids)} dashboards published"


def _query(data_api: DataApi, sql: str, parameters: list[tuple[str, str]] = ()) -> list[list]:
    """The records of one statement's result."""
    try:
        finished = data_api.run(sql, parameters)
        if not finished.get("HasResultSet"):
            return []
        return data_api.client.get_statement_result(Id=finished["Id"])["Records"]
    except (StatementFailedError, StatementTimeoutError) as error:
        raise HopFailed(f"the warehouse: {error}") from None
    except ClientError as error:
        raise HopFailed(f"the Redshift Data API: {_client_error(error)}") from None


def _value(field: dict[str, Any]) -> Any:
    """The one value of a Data API field ({"longValue": 3}, {"stringValue": ...})."""
    return next(iter(field.values()))


def _client_error(error: ClientError) -> str:
    return f"{error.response['Error']['Code']}: {error.response['Error']['Message']}"
