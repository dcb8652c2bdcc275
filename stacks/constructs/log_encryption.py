"""Every CloudWatch log group of a stack encrypted with the stack's own customer managed key.

An aspect rather than a helper each stack must remember: it also reaches the log groups CDK
creates for its own provider functions, and those of stacks added later. The key is made on
the first log group a stack has, so stacks without logs pay for no key.
"""

from __future__ import annotations

from typing import cast

import jsii
from aws_cdk import Aws, IAspect, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from constructs import IConstruct

from cdk_app.config import PlatformConfig
from stacks.constructs.keys import data_key

LOGS_KEY_ID = "LogsKey"
# CloudWatch Logs may use the key only for log groups of this account and region.
_LOG_GROUPS = f"arn:{Aws.PARTITION}:logs:{Aws.REGION}:{Aws.ACCOUNT_ID}:log-group:*"


def logs_key(stack: Stack, config: PlatformConfig) -> kms.Key:
    """The stack's key for its log groups (construct id LogsKey), made on first use."""
    existing = stack.node.try_find_child(LOGS_KEY_ID)
    if existing is not None:
        return cast(kms.Key, existing)
    key = data_key(stack, LOGS_KEY_ID, config, f"CloudWatch Logs of stack {stack.node.id}")
    key.add_to_resource_policy(
        iam.PolicyStatement(
            principals=[iam.ServicePrincipal(f"logs.{Aws.REGION}.amazonaws.com")],
            # The actions CloudWatch Logs' guide grants the service ("Encrypt log data in
            # CloudWatch Logs using AWS KMS").
            actions=[
                "kms:Encrypt*",
                "kms:Decrypt*",
                "kms:ReEncrypt*",
                "kms:GenerateDataKey*",
                "kms:Describe*",
            ],
            resources=["*"],
            conditions={"ArnLike": {"kms:EncryptionContext:aws:logs:arn": _LOG_GROUPS}},
        )
    )
    return key


@jsii.implements(IAspect)
class EncryptLogGroups:
    """Sets the stack's logs key on each log group that names no key of its own."""

    def __init__(self, config: PlatformConfig) -> None:
        self._config = config

    def visit(self, node: IConstruct) -> None:
        if isinstance(node, logs.CfnLogGroup) and node.kms_key_id is None:
            node.kms_key_id = logs_key(Stack.of(node), self._config).key_arn
