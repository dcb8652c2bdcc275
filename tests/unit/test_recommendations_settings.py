"""The recommendations Lambda's environment: DATABASE_URL, or IAM sign-in to RDS."""

from __future__ import annotations

import pytest
from psycopg.conninfo import conninfo_to_dict

from lambdas.recommendations.handler import database_conninfo
from lambdas.recommendations.settings import RecommendationsSettings
from lambdas.shared.settings import SettingsError

IAM_ENVIRONMENT = {
    "DATABASE_HOST": "shop.abc.eu-west-1.rds.amazonaws.com",
    "DATABASE_PORT": "5433",
    "DATABASE_NAME": "ecommerce",
    "DATABASE_USER": "reco_api",
    "AWS_REGION": "eu-west-1",
}


def test_database_url_is_used_as_given() -> None:
    settings = RecommendationsSettings.from_environment({"DATABASE_URL": "postgresql://h/db"})

    assert database_conninfo(settings)() == "postgresql://h/db"


def test_missing_iam_variables_are_named_in_one_message() -> None:
    with pytest.raises(SettingsError) as missing:
        RecommendationsSettings.from_environment({"DATABASE_HOST": "h"})
    with pytest.raises(SettingsError) as invalid:
        RecommendationsSettings.from_environment({**IAM_ENVIRONMENT, "DATABASE_PORT": "0"})

    assert str(missing.value) == (
        "set DATABASE_URL, or DATABASE_NAME, DATABASE_USER, AWS_REGION"
        " for IAM sign-in to the database"
    )
    assert str(invalid.value) == "DATABASE_PORT must be a positive integer, got '0'"


def test_iam_sign_in_builds_a_tls_connection_with_a_signed_token(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The token is signed locally (no AWS call); any credentials sign.
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    settings = RecommendationsSettings.from_environment(IAM_ENVIRONMENT)

    parameters = conninfo_to_dict(database_conninfo(settings)())

    assert {k: parameters[k] for k in ("host", "port", "dbname", "user", "sslmode")} == {
        "host": IAM_ENVIRONMENT["DATABASE_HOST"],
        "port": "5433",
        "dbname": "ecommerce",
        "user": "reco_api",
        "sslmode": "require",
    }
    token = str(parameters["password"])
    assert token.startswith(f"{IAM_ENVIRONMENT['DATABASE_HOST']}:5433/?Action=connect")
    assert "DBUser=reco_api" in token
    assert "X-Amz-Signature=" in token
