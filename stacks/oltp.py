"""OLTP: the shop's RDS PostgreSQL (private, encrypted, rotated credentials, IAM auth,
Performance Insights, backups) and the db_migrator custom resource that applies
contracts/oltp migrations on every deploy that changes them."""

from __future__ import annotations

import hashlib

from aws_cdk import CfnOutput, CustomResource, Duration, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_rds as rds
from constructs import Construct

from cdk_app.config import PlatformConfig
from contracts.oltp.migrator import discover_migrations
from stacks.constructs.keys import data_key
from stacks.constructs.python_lambda import LambdaSource, python_function
from stacks.network import POSTGRES_PORT, NetworkStack
from stacks.retention import data_removal_policy

DB_MIGRATOR_SOURCE = LambdaSource(
    paths=(
        "lambdas/db_migrator",
        "lambdas/__init__.py",
        "lambdas/shared/__init__.py",
        "lambdas/shared/custom_resource.py",
        "contracts/__init__.py",
        "contracts/database.py",
        "contracts/oltp",
    ),
    requirements="lambdas/db_migrator/requirements.txt",
)
ADMIN_USERNAME = "ecommerce_admin"
_EXPORTED_LOGS = ("postgresql", "upgrade")


def migrations_checksum() -> str:
    """Changes whenever a migration file is added or edited, so CloudFormation re-runs them."""
    digest = hashlib.sha256()
    for migration in discover_migrations():
        digest.update(f"{migration.filename}:{migration.checksum}\n".encode())
    return digest.hexdigest()


class OltpStack(Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: PlatformConfig,
        network: NetworkStack,
        **kwargs,
    ):
        super().__init__(scope, construct_id, **kwargs)
        oltp = config.oltp
        removal = data_removal_policy(config)
        key = data_key(self, "DataKey", config, "OLTP storage, Performance Insights and secret")
        major = oltp.engine_version.split(".")[0]
        engine = rds.DatabaseInstanceEngine.postgres(
            version=rds.PostgresEngineVersion.of(oltp.engine_version, major)
        )
        parameters = rds.ParameterGroup(
            self,
            "Parameters",
            engine=engine,
            description="TLS only; log slow statements and connections",
            parameters={
                "rds.force_ssl": "1",
                "log_min_duration_statement": "1000",
                "log_connections": "1",
            },
        )
        self.database_name = oltp.database_name
        self.security_group = ec2.SecurityGroup(
            self,
            "DatabaseSg",
            vpc=network.vpc,
            description="RDS PostgreSQL (OLTP)",
            allow_all_outbound=False,
        )
        migrator_group = ec2.SecurityGroup(
            self, "DbMigratorSg", vpc=network.vpc, description="db_migrator Lambda"
        )
        rotation_group = ec2.SecurityGroup(
            self, "DbRotationSg", vpc=network.vpc, description="RDS secret rotation Lambda"
        )
        self.security_group.add_ingress_rule(
            migrator_group, ec2.Port.tcp(POSTGRES_PORT), "from DbMigratorSg"
        )
        for client in (migrator_group, rotation_group):
            network.admit_to_endpoints(client)
        instance_identifier = f"ecommerce-{config.env_name}"
        # Created here rather than through cloudwatch_logs_retention, which adds a Lambda.
        log_groups = [
            logs.LogGroup(
                self,
                f"{log.title()}Logs",
                log_group_name=f"/aws/rds/instance/{instance_identifier}/{log}",
                retention=logs.RetentionDays.ONE_MONTH,
                removal_policy=removal,
            )
            for log in _EXPORTED_LOGS
        ]
        self.instance = rds.DatabaseInstance(
            self,
            "Database",
            instance_identifier=instance_identifier,
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
        self.migrator = self._migrator(network, migrator_group)
        self.secret.grant_read(self.migrator)
        CustomResource(
            self,
            "Migrations",
            service_token=self.migrator.function_arn,
            resource_type="Custom::OltpMigrations",
            properties={
                # The attached secret: it carries host and port, and exists once the instance does.
                "SecretArn": self.secret.secret_arn,
                "DatabaseName": oltp.database_name,
                "SslMode": "require",
                "MigrationsChecksum": migrations_checksum(),
            },
        )
        self._outputs()

    def _migrator(
        self, network: NetworkStack, security_group: ec2.SecurityGroup
    ) -> lambda_.Function:
        return python_function(
            self,
            "DbMigrator",
            source=DB_MIGRATOR_SOURCE,
            handler="lambdas.db_migrator.handler.handler",
            description="Applies contracts/oltp migrations (custom resource)",
            timeout=Duration.minutes(5),
            memory_size=256,
            vpc=network.vpc,
            vpc_subnets=network.private_subnets,
            security_groups=[security_group],
        )

    def admit_clients(self, client: ec2.ISecurityGroup) -> None:
        """Let a client group reach the database port; the rule lives in the client's stack."""
        self.security_group.add_ingress_rule(
            client, ec2.Port.tcp(POSTGRES_PORT), f"from {client.node.id}", remote_rule=True
        )

    def _outputs(self) -> None:
        CfnOutput(
            self,
            "DatabaseEndpoint",
            value=self.instance.db_instance_endpoint_address,
            description="RDS PostgreSQL host name (private; TLS required)",
        )
        CfnOutput(
            self,
            "DatabasePort",
            value=self.instance.db_instance_endpoint_port,
            description="RDS PostgreSQL port",
        )
        CfnOutput(self, "DatabaseName", value=self.database_name, description="OLTP database name")
        CfnOutput(
            self,
            "DatabaseSecretArn",
            value=self.secret.secret_arn,
            description="Secrets Manager ARN of the master credentials (rotated)",
        )
        CfnOutput(
            self,
            "DbMigratorFunctionName",
            value=self.migrator.function_name,
            description="Lambda that applies the OLTP migrations; its logs show each run",
        )
