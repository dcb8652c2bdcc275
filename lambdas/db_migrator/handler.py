"""db_migrator: applies contracts/oltp migrations whenever CloudFormation creates or updates it.

Thin on purpose: read the request, fetch the master credentials from Secrets Manager, call
`apply_migrations` (the code behind `ecom db migrate`), answer CloudFormation. Re-running is
safe: applied files are skipped and a failing file rolls the whole run back.
"""

from __future__ import annotations

import json
from typing import Any

import boto3
from psycopg.conninfo import make_conninfo

from contracts.oltp.migrator import apply_migrations
from lambdas.custom_resource import Outcome, respond


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return respond(event, context, migrate)


def migrate(event: dict[str, Any]) -> Outcome:
    """Create/Update apply pending migrations; Delete keeps the schema (it holds the data)."""
    properties = event["ResourceProperties"]
    physical_id = f"oltp-migrations:{properties['DatabaseName']}"
    if event["RequestType"] == "Delete":
        return Outcome(event.get("PhysicalResourceId", physical_id))
    secret = json.loads(
        boto3.client("secretsmanager").get_secret_value(SecretId=properties["SecretArn"])[
            "SecretString"
        ]
    )
    applied = apply_migrations(
        connection_string(secret, properties["DatabaseName"], properties.get("SslMode", "require"))
    )
    return Outcome(physical_id, {"AppliedCount": str(len(applied)), "Applied": ",".join(applied)})


def connection_string(secret: dict[str, Any], database_name: str, ssl_mode: str) -> str:
    """libpq conninfo from an RDS-generated secret (host, port, username, password)."""
    return make_conninfo(
        host=secret["host"],
        port=str(secret["port"]),
        user=secret["username"],
        password=secret["password"],
        dbname=database_name,
        sslmode=ssl_mode,
        connect_timeout="10",
        application_name="db_migrator",
    )
