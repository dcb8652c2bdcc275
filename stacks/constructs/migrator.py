"""The db_migrator custom resource: a Lambda in the VPC that applies contracts/oltp migrations,
run again by CloudFormation whenever a migration file is added or edited.
"""

from __future__ import annotations

import hashlib

from aws_cdk import CustomResource, Duration
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_lambda as lambda_

from contracts.oltp.migrator import discover_migrations
from stacks.constructs.database import Database
from stacks.constructs.python_lambda import LambdaSource, python_function
from stacks.network import NetworkStack
from stacks.platform_stack import PlatformStack

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


def migrations_checksum() -> str:
    """Changes whenever a migration file is added or edited, so CloudFormation re-runs them."""
    digest = hashlib.sha256()
    for migration in discover_migrations():
        digest.update(f"{migration.filename}:{migration.checksum}\n".encode())
    return digest.hexdigest()


def migrator(
    scope: PlatformStack,
    *,
    network: NetworkStack,
    database: Database,
    security_group: ec2.ISecurityGroup,
) -> lambda_.Function:
    """The DbMigrator function, placed with `security_group` (which the database admits), and
    the Migrations custom resource it serves."""
    function = python_function(
        scope,
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
    database.secret.grant_read(function)
    CustomResource(
        scope,
        "Migrations",
        service_token=function.function_arn,
        resource_type="Custom::OltpMigrations",
        properties={
            # The attached secret: it carries host and port, and exists once the instance does.
            "SecretArn": database.secret.secret_arn,
            "DatabaseName": database.name,
            "SslMode": "require",
            "MigrationsChecksum": migrations_checksum(),
        },
    )
    return function
