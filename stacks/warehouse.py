"""Warehouse: Redshift Serverless (a provisioned cluster as an option), private, encrypted,
enhanced VPC routing, admin password managed in Secrets Manager; one role to COPY from the
lake and one for streaming ingestion from MSK, each scoped to exactly those resources."""

from __future__ import annotations

from typing import Any

from aws_cdk import Aws, CfnOutput
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_redshift as redshift
from aws_cdk import aws_redshiftserverless as redshiftserverless
from constructs import Construct

from contracts.events.topics import EVENTS_TOPIC
from contracts.lake import ZONES
from stacks.constructs.api_lookup import api_lookup
from stacks.constructs.keys import data_key, decrypt_through_secrets_manager
from stacks.lake import LakeStack
from stacks.network import REDSHIFT_PORT, NetworkStack
from stacks.platform_stack import PlatformStack
from stacks.retention import data_removal_policy
from stacks.streaming import StreamingStack

ADMIN_USERNAME = "warehouse_admin"
# Redshift streaming ingestion names its own consumer groups.
STREAMING_CONSUMER_GROUPS = "*"
_AUDIT_LOGS = ["userlog", "connectionlog", "useractivitylog"]


class WarehouseStack(PlatformStack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        network: NetworkStack,
        lake: LakeStack,
        streaming: StreamingStack,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.name = self.prefix
        self.key = data_key(self, "WarehouseKey", self.config, "Redshift data and admin secret")
        self.copy_role = self._copy_role(lake)
        self.streaming_role = self._streaming_role(streaming)
        self.subnet_ids = network.vpc.select_subnets(
            subnet_type=network.private_subnets.subnet_type
        ).subnet_ids
        # Egress stays open: COPY reaches S3 and streaming ingestion reaches MSK from here.
        security_group = ec2.SecurityGroup(
            self, "WarehouseSg", vpc=network.vpc, description="Redshift warehouse"
        )
        streaming.admit_clients(security_group)
        network.admit_to_endpoints(security_group)
        self.security_group = security_group
        self.security_group_id = security_group.security_group_id
        if self.config.warehouse.mode == "serverless":
            self._serverless()
        else:
            self._provisioned()

    def _copy_role(self, lake: LakeStack) -> iam.Role:
        bucket_arns = [lake.bucket_arn(zone) for zone in ZONES]
        return self._redshift_role(
            "CopyRole",
            "Redshift COPY from the lake zones (read only)",
            iam.PolicyStatement(
                actions=["s3:ListBucket", "s3:GetBucketLocation"], resources=bucket_arns
            ),
            iam.PolicyStatement(
                actions=["s3:GetObject"], resources=[f"{arn}/*" for arn in bucket_arns]
            ),
            iam.PolicyStatement(actions=["kms:Decrypt"], resources=[lake.key.key_arn]),
        )

    def _streaming_role(self, streaming: StreamingStack) -> iam.Role:
        return self._redshift_role(
            "StreamingIngestionRole",
            "Redshift streaming ingestion from the MSK events topic",
            iam.PolicyStatement(
                actions=[
                    "kafka:GetBootstrapBrokers",
                    "kafka-cluster:Connect",
                    "kafka-cluster:DescribeCluster",
                ],
                resources=[streaming.cluster_arn],
            ),
            iam.PolicyStatement(
                actions=["kafka-cluster:DescribeTopic", "kafka-cluster:ReadData"],
                resources=[streaming.topic_arn(EVENTS_TOPIC)],
            ),
            iam.PolicyStatement(
                actions=["kafka-cluster:DescribeGroup", "kafka-cluster:AlterGroup"],
                resources=[streaming.consumer_group_arn(STREAMING_CONSUMER_GROUPS)],
            ),
        )

    def _redshift_role(
        self, construct_id: str, description: str, *statements: iam.PolicyStatement
    ) -> iam.Role:
        """A role the warehouse assumes, allowed exactly `statements`."""
        role = iam.Role(
            self,
            construct_id,
            assumed_by=iam.ServicePrincipal("redshift.amazonaws.com"),
            description=description,
        )
        for statement in statements:
            role.add_to_policy(statement)
        return role

    def grant_data_api(
        self, grantee: iam.IGrantable, *execute_actions: str, read_results: bool = False
    ) -> None:
        """Run SQL here as the admin through the Data API (contracts/warehouse/data_api.py):
        `execute_actions` (ExecuteStatement, BatchExecuteStatement) on this warehouse, following
        and cancelling one's own statements (and reading their results if `read_results`), and
        reading the admin secret. Granted on the grantee's own policy, so this stack never
        depends on the grantee's."""
        own_statements = ["redshift-data:DescribeStatement", "redshift-data:CancelStatement"]
        if read_results:
            own_statements.append("redshift-data:GetStatementResult")
        for statement in (
            iam.PolicyStatement(
                actions=list(execute_actions), resources=[self.data_api_resource_arn]
            ),
            # The Data API scopes these to the caller's own statements; they take no resource.
            iam.PolicyStatement(actions=own_statements, resources=["*"]),
            iam.PolicyStatement(
                actions=["secretsmanager:GetSecretValue"], resources=[self.admin_secret_arn]
            ),
            decrypt_through_secrets_manager(self.key.key_arn),
        ):
            grantee.grant_principal.add_to_principal_policy(statement)

    def admit_clients(self, client: ec2.ISecurityGroup) -> None:
        """Let a client group reach the warehouse's SQL port; the rule lives in its stack."""
        self.security_group.add_ingress_rule(
            client, ec2.Port.tcp(REDSHIFT_PORT), f"from {client.node.id}", remote_rule=True
        )

    @property
    def _role_arns(self) -> list[str]:
        return [self.copy_role.role_arn, self.streaming_role.role_arn]

    def _serverless(self) -> None:
        namespace = redshiftserverless.CfnNamespace(
            self,
            "Namespace",
            namespace_name=self.name,
            db_name=self.config.warehouse.database_name,
            admin_username=ADMIN_USERNAME,
            manage_admin_password=True,
            admin_password_secret_kms_key_id=self.key.key_arn,
            kms_key_id=self.key.key_arn,
            iam_roles=self._role_arns,
            default_iam_role_arn=self.copy_role.role_arn,
            log_exports=_AUDIT_LOGS,
        )
        namespace.apply_removal_policy(data_removal_policy(self.config))
        workgroup = redshiftserverless.CfnWorkgroup(
            self,
            "Workgroup",
            workgroup_name=self.name,
            namespace_name=namespace.ref,
            base_capacity=self.config.warehouse.base_rpu,
            enhanced_vpc_routing=True,
            publicly_accessible=False,
            subnet_ids=self.subnet_ids,
            security_group_ids=[self.security_group_id],
            port=REDSHIFT_PORT,
            config_parameters=[
                redshiftserverless.CfnWorkgroup.ConfigParameterProperty(
                    parameter_key="require_ssl", parameter_value="true"
                ),
                redshiftserverless.CfnWorkgroup.ConfigParameterProperty(
                    parameter_key="enable_user_activity_logging", parameter_value="true"
                ),
            ],
        )
        # What the Redshift Data API authorizes ExecuteStatement against.
        self.data_api_resource_arn: str = workgroup.attr_workgroup_workgroup_arn
        self._outputs(
            endpoint=workgroup.attr_workgroup_endpoint_address,
            secret_arn=self._admin_secret_arn(namespace),
            kind=f"Redshift Serverless workgroup {self.name}",
        )

    def _admin_secret_arn(self, namespace: redshiftserverless.CfnNamespace) -> str:
        """CloudFormation does not return the namespace's managed secret; ask the API once."""
        return api_lookup(
            self,
            "AdminSecretLookup",
            service="RedshiftServerless",
            action="getNamespace",
            parameters={"namespaceName": namespace.ref},
            physical_id=self.name,
            output_path="namespace.adminPasswordSecretArn",
            iam_action="redshift-serverless:GetNamespace",
            resource_arn=namespace.attr_namespace_namespace_arn,
        )

    def _provisioned(self) -> None:
        warehouse = self.config.warehouse
        subnet_group = redshift.CfnClusterSubnetGroup(
            self,
            "SubnetGroup",
            description="Private subnets of the warehouse",
            subnet_ids=self.subnet_ids,
        )
        parameters = redshift.CfnClusterParameterGroup(
            self,
            "Parameters",
            description="TLS only, user activity logging",
            parameter_group_family="redshift-1.0",
            parameters=[
                redshift.CfnClusterParameterGroup.ParameterProperty(
                    parameter_name="require_ssl", parameter_value="true"
                ),
                redshift.CfnClusterParameterGroup.ParameterProperty(
                    parameter_name="enable_user_activity_logging", parameter_value="true"
                ),
            ],
        )
        cluster = redshift.CfnCluster(
            self,
            "Cluster",
            cluster_identifier=self.name,
            cluster_type="multi-node" if warehouse.node_count > 1 else "single-node",
            node_type=warehouse.node_type,
            number_of_nodes=warehouse.node_count if warehouse.node_count > 1 else None,
            db_name=warehouse.database_name,
            master_username=ADMIN_USERNAME,
            manage_master_password=True,
            master_password_secret_kms_key_id=self.key.key_arn,
            encrypted=True,
            kms_key_id=self.key.key_arn,
            enhanced_vpc_routing=True,
            publicly_accessible=False,
            port=REDSHIFT_PORT,
            cluster_subnet_group_name=subnet_group.ref,
            cluster_parameter_group_name=parameters.ref,
            vpc_security_group_ids=[self.security_group_id],
            iam_roles=self._role_arns,
            automated_snapshot_retention_period=7,
            allow_version_upgrade=True,
            logging_properties=redshift.CfnCluster.LoggingPropertiesProperty(
                log_destination_type="cloudwatch", log_exports=_AUDIT_LOGS
            ),
        )
        cluster.apply_removal_policy(data_removal_policy(self.config))
        self.data_api_resource_arn = (
            f"arn:{Aws.PARTITION}:redshift:{Aws.REGION}:{Aws.ACCOUNT_ID}:cluster:{self.name}"
        )
        self._outputs(
            endpoint=cluster.attr_endpoint_address,
            secret_arn=cluster.attr_master_password_secret_arn,
            kind=f"Redshift provisioned cluster {self.name}",
        )

    def _outputs(self, *, endpoint: str, secret_arn: str, kind: str) -> None:
        self.admin_secret_arn = secret_arn
        self.endpoint_address = endpoint
        CfnOutput(self, "WarehouseEndpoint", value=endpoint, description=f"{kind} host name")
        CfnOutput(
            self,
            "WarehouseAdminSecretArn",
            value=secret_arn,
            description="Secrets Manager ARN of the Redshift admin password (managed by Redshift)",
        )
        CfnOutput(
            self,
            "WarehouseDatabase",
            value=self.config.warehouse.database_name,
            description="Redshift database name",
        )
        CfnOutput(
            self,
            "CopyRoleArn",
            value=self.copy_role.role_arn,
            description="IAM role for COPY from the lake (default role of the warehouse)",
        )
        CfnOutput(
            self,
            "StreamingIngestionRoleArn",
            value=self.streaming_role.role_arn,
            description="IAM role for the MSK streaming-ingestion external schema",
        )
