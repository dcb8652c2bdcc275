"""The day's scores into the OLTP table ml.customer_scores on a real PostgreSQL (migration
V005), through both drivers that send the one statement: pg8000 (the scoring job on AWS) and
psycopg (the local run). A re-run of a day replaces its rows and leaves the other days; the
JSON drivers land as jsonb."""

from __future__ import annotations

import json
import ssl
from datetime import UTC, datetime

import boto3
import pandas as pd
import pg8000.dbapi
import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict

from local_platform.customer_scores import upsert_scores as upsert_locally
from sagemaker_pipelines.models.scoring import SCORE_COLUMNS
from sagemaker_pipelines.steps import oltp_scores

pytestmark = pytest.mark.integration


def _scores(users: list[int], probabilities: list[float], version: str) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "user_id": users,
            "churn_probability": probabilities,
            "churn_band": ["high" if p >= 0.5 else "low" for p in probabilities],
            "p_alive": [round(1 - p / 2, 4) for p in probabilities],
            "expected_orders_90d": [0.5] * len(users),
            "expected_orders_365d": [2.0] * len(users),
            "expected_revenue_365d": [80.0] * len(users),
            "clv_365d": [70.0 + user for user in users],
            "action_segment": ["loyal"] * len(users),
            "top_drivers": [
                json.dumps([{"feature": "recency", "effect": round(p, 2)}]) for p in probabilities
            ],
            "new_customer": [user > 100 for user in users],
            "churn_model_version": version,
            "clv_model_version": version,
            "scored_at": pd.Timestamp(datetime(2026, 12, 1, 5, 0, tzinfo=UTC)),
        }
    )
    assert tuple(frame.columns) == SCORE_COLUMNS
    return frame


def _pg8000(url: str) -> pg8000.dbapi.Connection:
    parts = conninfo_to_dict(url)
    return pg8000.dbapi.connect(
        user=parts["user"],
        host=parts.get("host", "127.0.0.1"),
        port=int(parts.get("port", 5432)),
        database=parts["dbname"],
        password=parts.get("password"),
    )


def test_both_drivers_upsert_a_day_and_leave_the_others(migrated_database: str) -> None:
    connection = _pg8000(migrated_database)
    try:
        written = oltp_scores.upsert_scores(
            connection, _scores([7, 42, 101], [0.75, 0.125, 0.5], "3"), "2026-11-30"
        )
        oltp_scores.upsert_scores(connection, _scores([7], [0.25], "3"), "2026-12-01")
    finally:
        connection.close()
    assert written == 3
    # The local run re-scores 2026-11-30 for two users with model 4.
    assert (
        upsert_locally(migrated_database, _scores([7, 42], [0.625, 0.375], "4"), "2026-11-30") == 2
    )

    with psycopg.connect(migrated_database) as check:
        rows = check.execute(
            "SELECT as_of::text, user_id, churn_probability, churn_band, churn_model_version,"
            " new_customer, top_drivers, scored_at FROM ml.customer_scores"
            " ORDER BY as_of, user_id"
        ).fetchall()
    assert [row[:6] for row in rows] == [
        ("2026-11-30", 7, 0.625, "high", "4", False),
        ("2026-11-30", 42, 0.375, "low", "4", False),
        ("2026-11-30", 101, 0.5, "high", "3", True),
        ("2026-12-01", 7, 0.25, "low", "3", False),
    ]
    assert [row[6] for row in rows] == [
        [{"feature": "recency", "effect": effect}] for effect in (0.62, 0.38, 0.5, 0.25)
    ]
    assert {row[7] for row in rows} == {datetime(2026, 12, 1, 5, 0, tzinfo=UTC)}


def test_the_job_connects_with_the_rds_secret_over_tls(monkeypatch: pytest.MonkeyPatch) -> None:
    moto = pytest.importorskip("moto")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    calls: list[dict[str, object]] = []
    monkeypatch.setattr(pg8000.dbapi, "connect", lambda **kwargs: calls.append(kwargs) or "conn")
    document = {
        "username": "postgres",
        "password": "s3cret-Value",
        "host": "db.internal",
        "port": 5433,
        "dbname": "ecommerce",
    }
    with moto.mock_aws():
        arn = boto3.client("secretsmanager").create_secret(
            Name="oltp", SecretString=json.dumps(document)
        )["ARN"]
        assert oltp_scores.connect_with_secret(arn) == "conn"
    (call,) = calls
    context = call.pop("ssl_context")
    assert isinstance(context, ssl.SSLContext)
    assert call == {
        "user": "postgres",
        "password": "s3cret-Value",
        "host": "db.internal",
        "port": 5433,
        "database": "ecommerce",
    }
