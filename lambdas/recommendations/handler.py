"""Lambda entry point of GET /v1/recommendations, behind the API Gateway HTTP API (payload v2.0).

The environment is read by lambdas.recommendations.settings (which names the variables). The
app and its database connection are built on the first request and kept for the life of the
execution environment; a connection lost later is opened again, with a fresh IAM token.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
from psycopg.conninfo import make_conninfo

from contracts.database import RDS_SSL_MODE
from lambdas.recommendations.api import create_app
from lambdas.recommendations.database import ReadOnlyDatabase
from lambdas.recommendations.settings import RecommendationsSettings

_app: APIGatewayHttpResolver | None = None


def database_conninfo(settings: RecommendationsSettings) -> Callable[[], str]:
    """DATABASE_URL as given, else a connection string signed in with an IAM token."""
    if settings.database_url:
        url = settings.database_url
        return lambda: url
    import boto3  # only on this path: boto3 is part of the Lambda runtime, not of local runs

    rds = boto3.client("rds", region_name=settings.aws_region)

    def signed_in() -> str:
        token = rds.generate_db_auth_token(
            DBHostname=settings.database_host,
            Port=settings.database_port,
            DBUsername=settings.database_user,
        )
        return make_conninfo(
            host=settings.database_host,
            port=str(settings.database_port),
            dbname=settings.database_name,
            user=settings.database_user,
            password=token,
            sslmode=RDS_SSL_MODE,
        )

    return signed_in


def _recommendations() -> APIGatewayHttpResolver:
    global _app
    if _app is None:
        settings = RecommendationsSettings.from_environment(os.environ)
        _app = create_app(ReadOnlyDatabase(database_conninfo(settings)))
    return _app


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return _recommendations().resolve(event, context)
