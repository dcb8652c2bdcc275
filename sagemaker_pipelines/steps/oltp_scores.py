"""A day's scores into the OLTP table ml.customer_scores (contracts/oltp migration V005), for
the shop's own services: upserted per (user_id, as_of), so re-scoring a day replaces its rows
and leaves the other days. One statement for any DB-API driver in `format` style: psycopg
locally (local_platform/customer_scores.py), pg8000 in the scoring job on AWS, which reads the
RDS secret and connects over TLS (RDS enforces it).

pg8000 is pure Python and travels in the source tarball under vendor/ like awswrangler; the
stock image has no PostgreSQL driver.
"""

from __future__ import annotations

import ssl
from typing import Any

import pandas as pd

from contracts.database import PostgresEndpoint, read_secret
from sagemaker_pipelines.steps.lake_io import use_vendored

DATABASE_TABLE = "ml.customer_scores"
KEY = ("user_id", "as_of")
JSON_COLUMNS = ("top_drivers",)


def upsert_statement(columns: list[str]) -> str:
    """INSERT ... ON CONFLICT (user_id, as_of) DO UPDATE, `%s` parameters, JSON cast."""
    names = ", ".join(columns)
    values = ", ".join("%s::jsonb" if name in JSON_COLUMNS else "%s" for name in columns)
    updates = ", ".join(f"{name} = EXCLUDED.{name}" for name in columns if name not in KEY)
    return (
        f"INSERT INTO {DATABASE_TABLE} ({names}) VALUES ({values}) "  # noqa: S608 columns of the project's scores frame
        f"ON CONFLICT ({', '.join(KEY)}) DO UPDATE SET {updates}"
    )


def upsert_scores(connection: Any, scores: pd.DataFrame, as_of: str) -> int:
    """Insert or replace one day's scores through a DB-API connection, committed; rows."""
    columns = ["as_of", *scores.columns]
    rows = [(as_of, *row.values()) for row in scores.to_dict("records")]
    cursor = connection.cursor()
    cursor.executemany(upsert_statement(columns), rows)
    connection.commit()
    return len(rows)


def connect_with_secret(secret_id: str) -> Any:
    """A pg8000 connection to the database the RDS secret names, TLS without certificate
    verification (libpq's sslmode=require, as the platform's other clients connect)."""
    import boto3

    use_vendored()
    import pg8000.dbapi

    endpoint = PostgresEndpoint.from_rds_secret(
        read_secret(boto3.client("secretsmanager"), secret_id)
    )
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return pg8000.dbapi.connect(
        user=endpoint.user,
        password=endpoint.password,
        host=endpoint.host,
        port=endpoint.port,
        database=endpoint.dbname,
        ssl_context=context,
    )
