"""Customer managed KMS keys of the platform's data stores, and the key permissions several
stacks grant: one place decides that a data key rotates and lives as long as its data."""

from __future__ import annotations

from aws_cdk import Aws
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from cdk_app.config import PlatformConfig
from stacks.retention import data_removal_policy

# What a writer needs of a key: envelope encryption of new data and reading it back.
ENCRYPT_DECRYPT = ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey"]


def data_key(scope: Construct, construct_id: str, config: PlatformConfig, purpose: str) -> kms.Key:
    """A key with automatic rotation, retained with the data it encrypts unless destroy_data:
    deleting it first would leave that data unreadable."""
    return kms.Key(
        scope,
        construct_id,
        description=f"{purpose} ({config.env_name})",
        enable_key_rotation=True,
        removal_policy=data_removal_policy(config),
    )


def decrypt_through_secrets_manager(key_arn: str) -> iam.PolicyStatement:
    """Decrypting with the key only as Secrets Manager does to return a secret."""
    return iam.PolicyStatement(
        actions=["kms:Decrypt"],
        resources=[key_arn],
        conditions={
            "StringEquals": {"kms:ViaService": f"secretsmanager.{Aws.REGION}.amazonaws.com"}
        },
    )
