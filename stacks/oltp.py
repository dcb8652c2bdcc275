"""OLTP: the shop's RDS PostgreSQL (stacks/constructs/database.py) and the db_migrator custom
resource that applies contracts/oltp migrations on every deploy that changes them
(stacks/constructs/migrator.py)."""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput
from constructs import Construct

from stacks.constructs.database import Database
from stacks.constructs.migrator import migrator
from stacks.network import NetworkStack
from stacks.platform_stack import PlatformStack

_MIGRATOR_GROUP = "DbMigratorSg"


class OltpStack(PlatformStack):
    def __init__(
        self, scope: Construct, construct_id: str, *, network: NetworkStack, **kwargs: Any
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.database = Database(
            self, network=network, clients={_MIGRATOR_GROUP: "db_migrator Lambda"}
        )
        self.migrator = migrator(
            self,
            network=network,
            database=self.database,
            security_group=self.database.client_groups[_MIGRATOR_GROUP],
        )
        self._outputs()

    def _outputs(self) -> None:
        instance, secret = self.database.instance, self.database.secret
        CfnOutput(
            self,
            "DatabaseEndpoint",
            value=instance.db_instance_endpoint_address,
            description="RDS PostgreSQL host name (private; TLS required)",
        )
        CfnOutput(
            self,
            "DatabasePort",
            value=instance.db_instance_endpoint_port,
            description="RDS PostgreSQL port",
        )
        CfnOutput(self, "DatabaseName", value=self.database.name, description="OLTP database name")
        CfnOutput(
            self,
            "DatabaseSecretArn",
            value=secret.secret_arn,
            description="Secrets Manager ARN of the master credentials (rotated)",
        )
        CfnOutput(
            self,
            "DbMigratorFunctionName",
            value=self.migrator.function_name,
            description="Lambda that applies the OLTP migrations; its logs show each run",
        )
