"""The RDS secret in the forms the runtimes' drivers take (contracts.database)."""

from __future__ import annotations

import pytest

from contracts.database import PostgresEndpoint

SECRET = {"host": "shop.rds", "username": "admin", "password": "p w'", "engine": "postgres"}


def test_the_database_name_may_come_from_the_caller_and_the_port_defaults() -> None:
    endpoint = PostgresEndpoint.from_rds_secret(SECRET, dbname="ecommerce", sslmode="disable")
    assert endpoint.libpq_parameters() == {
        "host": "shop.rds",
        "port": "5432",
        "user": "admin",
        "password": "p w'",
        "dbname": "ecommerce",
        "sslmode": "disable",
    }
    assert endpoint.jdbc_url() == "jdbc:postgresql://shop.rds:5432/ecommerce?sslmode=disable"
    assert "p w'" not in repr(endpoint)


def test_a_secret_without_a_database_name_needs_one_from_the_caller() -> None:
    with pytest.raises(ValueError, match="dbname"):
        PostgresEndpoint.from_rds_secret(SECRET)
