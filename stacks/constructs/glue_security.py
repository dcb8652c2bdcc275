"""How every Glue job of the platform is secured: its own key for logs and bookmarks, a security
configuration that encrypts logs, bookmarks and S3 writes, the role permissions that go with
them, and the network placement of a job that runs inside the VPC through a Glue connection.
The batch jobs (stack Etl) and the streaming job (stack Realtime) share these, so both are
encrypted and placed the same way."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from aws_cdk import Aws, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_glue as glue
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from cdk_app.config import PlatformConfig
from stacks.constructs.keys import ENCRYPT_DECRYPT, data_key

if TYPE_CHECKING:
    from stacks.network import NetworkStack

# Glue names a job's log groups at run time, all under /aws-glue/.
GLUE_LOG_GROUPS = f"arn:{Aws.PARTITION}:logs:{Aws.REGION}:{Aws.ACCOUNT_ID}:log-group:/aws-glue/*"


@dataclass(frozen=True)
class GlueEncryption:
    """A job's key and the security configuration that uses it (and the lake key for S3)."""

    key: kms.Key
    security_configuration: glue.CfnSecurityConfiguration
    lake_key: kms.IKey

    def role_statements(self) -> list[iam.PolicyStatement]:
        """What the job role needs to run under the configuration: both keys, and writing the
        job's log groups (Glue creates them and associates the key)."""
        return [
            iam.PolicyStatement(
                actions=ENCRYPT_DECRYPT, resources=[self.key.key_arn, self.lake_key.key_arn]
            ),
            iam.PolicyStatement(
                actions=[
                    "logs:CreateLogGroup",
                    "logs:CreateLogStream",
                    "logs:PutLogEvents",
                    "logs:AssociateKmsKey",
                ],
                resources=[GLUE_LOG_GROUPS],
            ),
        ]


def glue_encryption(
    scope: Construct,
    config: PlatformConfig,
    *,
    key_id: str,
    key_purpose: str,
    configuration_id: str,
    configuration_name: str,
    lake_key: kms.IKey,
) -> GlueEncryption:
    """A data key for the jobs' logs and bookmarks, and the security configuration that
    encrypts logs and bookmarks with it and S3 writes with the lake key."""
    key = data_key(scope, key_id, config, key_purpose)
    # CloudWatch Logs encrypts the jobs' log groups with this key.
    key.add_to_resource_policy(
        iam.PolicyStatement(
            principals=[iam.ServicePrincipal(f"logs.{Aws.REGION}.amazonaws.com")],
            actions=[*ENCRYPT_DECRYPT, "kms:DescribeKey"],
            resources=["*"],
            conditions={"ArnLike": {"kms:EncryptionContext:aws:logs:arn": GLUE_LOG_GROUPS}},
        )
    )
    configuration = glue.CfnSecurityConfiguration
    security_configuration = configuration(
        scope,
        configuration_id,
        name=configuration_name,
        encryption_configuration=configuration.EncryptionConfigurationProperty(
            cloud_watch_encryption=configuration.CloudWatchEncryptionProperty(
                cloud_watch_encryption_mode="SSE-KMS", kms_key_arn=key.key_arn
            ),
            job_bookmarks_encryption=configuration.JobBookmarksEncryptionProperty(
                job_bookmarks_encryption_mode="CSE-KMS", kms_key_arn=key.key_arn
            ),
            s3_encryptions=[
                configuration.S3EncryptionProperty(
                    s3_encryption_mode="SSE-KMS", kms_key_arn=lake_key.key_arn
                )
            ],
        ),
    )
    return GlueEncryption(key, security_configuration, lake_key)


def glue_vpc_connection(
    scope: Construct,
    construct_id: str,
    *,
    network: NetworkStack,
    workers_group_id: str,
    workers_description: str,
    name: str,
    description: str,
    connection_type: str,
    properties: dict[str, str],
) -> tuple[glue.CfnConnection, ec2.SecurityGroup]:
    """A Glue connection (`name`, of `connection_type` with `properties`) that runs the
    workers of the jobs using it in a private subnet, and their security group. The group
    admits itself (Glue's workers talk to each other, and Glue requires a self-referencing
    rule, all TCP) and reaches the VPC endpoints; the caller admits it wherever the job
    connects to."""
    group = ec2.SecurityGroup(
        scope, workers_group_id, vpc=network.vpc, description=workers_description
    )
    group.add_ingress_rule(group, ec2.Port.all_tcp(), "Glue workers")
    network.admit_to_endpoints(group)
    subnet = network.vpc.select_subnets(subnet_type=network.private_subnets.subnet_type)
    connection = glue.CfnConnection(
        scope,
        construct_id,
        catalog_id=Stack.of(scope).account,
        connection_input=glue.CfnConnection.ConnectionInputProperty(
            name=name,
            description=description,
            connection_type=connection_type,
            connection_properties=properties,
            physical_connection_requirements=glue.CfnConnection.PhysicalConnectionRequirementsProperty(
                subnet_id=subnet.subnet_ids[0],
                availability_zone=subnet.availability_zones[0],
                security_group_id_list=[group.security_group_id],
            ),
        ),
    )
    return connection, group
