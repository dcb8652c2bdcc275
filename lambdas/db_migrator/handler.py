"""db_migrator: applies contracts/oltp migrations whenever CloudFormation creates or updates it.

Thin on purpose: read the request, fetch the master credentials from Secrets Manager, call
`apply_migrations` (the code behind `ecom db migrate`), answer CloudFormation. Re-running is
safe: applied files are skipped and a failing file rolls the whole run back.
"""

from __future__ import annotations

from typing import Any

import boto3
from psycopg.conninfo import make_conninfo

from contracts.database import RDS_SSL_MODE, PostgresEndpoint, read_secret
from contracts.oltp.migrator import apply_migrations
from lambdas.shared.custom_resource import Outcome, respond


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return respond(event, context, migrate)


def migrate(event: dict[str, Any]) -> Outcome:
    """Create/Update apply pending migrations; Delete keeps the schema (it holds the data)."""
    properties = event["ResourceProperties"]
    physical_id = f"oltp-migrations:{properties['DatabaseName']}"
    if event["RequestType"] == "Delete":
        return Outcome(event.get("PhysicalResourceId", physical_id))
    secret = read_secret(boto3.client("secretsmanager"), properties["SecretArn"])
    endpoint = PostgresEndpoint.from_rds_secret(
        secret,
        dbname=properties["DatabaseName"],
        sslmode=properties.get("SslMode", RDS_SSL_MODE),
    )
    applied = apply_migrations(
        make_conninfo(
            **endpoint.libpq_parameters(), connect_timeout="10", application_name="db_migrator"
        )
    )
    return Outcome(physical_id, {"AppliedCount": str(len(applied)), "Applied": ",".join(applied)})
