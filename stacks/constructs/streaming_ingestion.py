"""Redshift streaming ingestion: the external schema over MSK and the events view, applied on
every deploy that changes contracts/warehouse/streaming by the redshift_sql custom resource
through the Data API.
"""

from __future__ import annotations

from aws_cdk import CustomResource, Duration

from contracts.events.topics import EVENTS_TOPIC
from contracts.warehouse import scripts_checksum
from stacks.constructs.python_lambda import LambdaSource, python_function
from stacks.platform_stack import PlatformStack
from stacks.streaming import StreamingStack
from stacks.warehouse import WarehouseStack

REDSHIFT_SQL_SOURCE = LambdaSource(
    paths=(
        "lambdas/redshift_sql",
        "lambdas/__init__.py",
        "lambdas/shared/__init__.py",
        "lambdas/shared/custom_resource.py",
        "contracts/__init__.py",
        "contracts/warehouse",
    ),
    requirements="lambdas/redshift_sql/requirements.txt",
)
# The materialized view the scripts create over the events topic.
STREAMING_VIEW = "streaming.events"


def streaming_ingestion(
    scope: PlatformStack, *, streaming: StreamingStack, warehouse: WarehouseStack
) -> CustomResource:
    """The RedshiftSql function and the StreamingIngestion custom resource it serves."""
    config = scope.config
    function = python_function(
        scope,
        "RedshiftSql",
        source=REDSHIFT_SQL_SOURCE,
        handler="lambdas.redshift_sql.handler.handler",
        description="Applies contracts/warehouse/streaming to Redshift (custom resource)",
        # Each statement may take redshift_statement_timeout_seconds; leave a margin.
        timeout=Duration.minutes(15),
        memory_size=256,
    )
    warehouse.grant_data_api(function, "redshift-data:ExecuteStatement")
    target = (
        {"WorkgroupName": warehouse.name}
        if config.warehouse.mode == "serverless"
        else {"ClusterIdentifier": warehouse.name}
    )
    return CustomResource(
        scope,
        "StreamingIngestion",
        service_token=function.function_arn,
        resource_type="Custom::RedshiftStreamingIngestion",
        properties={
            **target,
            "Database": config.warehouse.database_name,
            "SecretArn": warehouse.admin_secret_arn,
            "Values": {
                "StreamingRoleArn": warehouse.streaming_role.role_arn,
                "ClusterArn": streaming.cluster_arn,
                "EventsTopic": EVENTS_TOPIC,
            },
            "StatementTimeoutSeconds": str(config.realtime.redshift_statement_timeout_seconds),
            "ScriptsChecksum": scripts_checksum(),
        },
    )
