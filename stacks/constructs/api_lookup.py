"""Read one value CloudFormation does not expose, with a single least-privilege SDK call."""

from __future__ import annotations

from typing import Any

from aws_cdk import aws_iam as iam
from aws_cdk import custom_resources as cr
from constructs import Construct


def api_lookup(
    scope: Construct,
    construct_id: str,
    *,
    service: str,
    action: str,
    parameters: dict[str, Any],
    physical_id: str,
    output_path: str,
    iam_action: str,
    resource_arn: str,
) -> str:
    """The value at `output_path` of `service.action(parameters)`, read on create and update.

    The custom resource may call exactly `iam_action` on exactly `resource_arn`.
    """
    call = cr.AwsSdkCall(
        service=service,
        action=action,
        parameters=parameters,
        physical_resource_id=cr.PhysicalResourceId.of(physical_id),
        output_paths=[output_path],
    )
    lookup = cr.AwsCustomResource(
        scope,
        construct_id,
        on_create=call,
        on_update=call,
        policy=cr.AwsCustomResourcePolicy.from_statements(
            [iam.PolicyStatement(actions=[iam_action], resources=[resource_arn])]
        ),
        install_latest_aws_sdk=False,
    )
    return lookup.get_response_field(output_path)
