"""The shop's RDS PostgreSQL: private, encrypted with its own key, TLS only, IAM auth,
Performance Insights, backups, its logs exported to groups kept a month, and master
credentials in Secrets Manager, rotated by a Lambda in the VPC.
"""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import Duration
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_logs as logs
from aws_cdk import aws_rds as rds

from stacks.constructs.keys import data_key
from stacks.network import POSTGRES_PORT, NetworkStack
from stacks.platform_stack import PlatformStack
from stacks.retention import data_removal_policy

ADMIN_USERNAME = "ecommerce_admin"
_EXPORTED_LOGS = ("postgresql", "upgrade")


class Database:
    """`instance` (construct id Database), its `secret` and `security_group` (DatabaseSg).

    `clients` names the database's clients in the same stack (construct id -> description):
    their security groups are created with the database's, admitted to its port and to the VPC
    endpoints, and handed out in `client_groups`. Clients in other stacks call
    `admit_clients` with a group of their own.
    """

    def __init__(
        self, scope: PlatformStack, *, network: NetworkStack, clients: Mapping[str, str]
    ) -> None:
        config, oltp = scope.config, scope.config.oltp
        removal = data_removal_policy(config)
        key = data_key(scope, "DataKey", config, "OLTP storage, Performance Insights and secret")
        major = oltp.engine_version.split(".")[0]
        engine = rds.DatabaseInstanceEngine.postgres(
            version=rds.PostgresEngineVersion.of(oltp.engine_version, major)
        )
        parameters = rds.ParameterGroup(
            scope,
            "Parameters",
            engine=engine,
            description="TLS only; log slow statements and connections",
            parameters={
                "rds.force_ssl": "1",
                "log_min_duration_statement": "1000",
                "log_connections": "1",
            },
        )
        self.name = oltp.database_name
        self.security_group = ec2.SecurityGroup(
            scope,
            "DatabaseSg",
            vpc=network.vpc,
            description="RDS PostgreSQL (OLTP)",
            allow_all_outbound=False,
        )
        self.client_groups = {
            construct_id: ec2.SecurityGroup(
                scope, construct_id, vpc=network.vpc, description=description
            )
            for construct_id, description in clients.items()
        }
        rotation_group = ec2.SecurityGroup(
            scope, "DbRotationSg", vpc=network.vpc, description="RDS secret rotation Lambda"
        )
        for construct_id, client in self.client_groups.items():
            self.security_group.add_ingress_rule(
                client, ec2.Port.tcp(POSTGRES_PORT), f"from {construct_id}"
            )
        for client in (*self.client_groups.values(), rotation_group):
            network.admit_to_endpoints(client)
        # Created here rather than through cloudwatch_logs_retention, which adds a Lambda.
        log_groups = [
            logs.LogGroup(
                scope,
                f"{log.title()}Logs",
                log_group_name=f"/aws/rds/instance/{scope.prefix}/{log}",
                retention=logs.RetentionDays.ONE_MONTH,
                removal_policy=removal,
            )
            for log in _EXPORTED_LOGS
        ]
        self.instance = rds.DatabaseInstance(
            scope,
            "Database",
            instance_identifier=scope.prefix,
            engine=engine,
            instance_type=ec2.InstanceType(oltp.instance_class),
            vpc=network.vpc,
            vpc_subnets=network.private_subnets,
            security_groups=[self.security_group],
            port=POSTGRES_PORT,
            publicly_accessible=False,
            database_name=oltp.database_name,
            credentials=rds.Credentials.from_generated_secret(ADMIN_USERNAME, encryption_key=key),
            parameter_group=parameters,
            storage_encrypted=True,
            storage_encryption_key=key,
            storage_type=rds.StorageType.GP3,
            allocated_storage=oltp.allocated_storage_gib,
            max_allocated_storage=oltp.max_allocated_storage_gib,
            multi_az=oltp.multi_az,
            iam_authentication=True,
            enable_performance_insights=True,
            monitoring_interval=Duration.seconds(oltp.monitoring_interval_seconds),
            performance_insight_encryption_key=key,
            backup_retention=Duration.days(oltp.backup_retention_days),
            delete_automated_backups=config.destroy_data,
            deletion_protection=oltp.deletion_protection,
            removal_policy=removal,
            auto_minor_version_upgrade=True,
            copy_tags_to_snapshot=True,
            cloudwatch_logs_exports=list(_EXPORTED_LOGS),
        )
        for log_group in log_groups:
            self.instance.node.default_child.node.add_dependency(log_group)
        if self.instance.secret is None:
            raise AssertionError("the instance was given generated credentials")
        self.secret = self.instance.secret
        # The master password must outlive a retained instance (the attachment wraps it).
        self.instance.node.find_child("Secret").apply_removal_policy(removal)
        # Rotation opens the database port to rotation_group itself.
        self.instance.add_rotation_single_user(
            automatically_after=Duration.days(oltp.secret_rotation_days),
            vpc_subnets=network.private_subnets,
            security_group=rotation_group,
        )

    def admit_clients(self, client: ec2.ISecurityGroup) -> None:
        """Let a client group of another stack reach the database port; the rule lives in the
        client's stack."""
        self.security_group.add_ingress_rule(
            client, ec2.Port.tcp(POSTGRES_PORT), f"from {client.node.id}", remote_rule=True
        )
