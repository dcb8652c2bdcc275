"""How `ecom batch run` reaches the database over JDBC, from the URLs the rest of `ecom` uses."""

from __future__ import annotations

import pytest

from contracts.database import PostgresEndpoint
from glue_jobs.jdbc import JdbcSource
from local_platform.batch_pipeline import jdbc_source


@pytest.mark.parametrize(
    ("database_url", "expected"),
    [
        (
            "postgresql://postgres@127.0.0.1:37321/ecommerce",
            JdbcSource("jdbc:postgresql://127.0.0.1:37321/ecommerce", "postgres"),
        ),
        (
            "user=shop password=s3cret host=db.internal dbname=shop sslmode=require",
            JdbcSource("jdbc:postgresql://db.internal:5432/shop?sslmode=require", "shop", "s3cret"),
        ),
    ],
)
def test_urls_and_key_value_strings_become_jdbc_sources(database_url, expected):
    assert jdbc_source(database_url) == expected


def test_a_unix_socket_is_refused_because_jdbc_needs_tcp():
    with pytest.raises(ValueError, match="over TCP"):
        jdbc_source("host=/var/run/postgresql dbname=shop")


def test_an_rds_secret_becomes_a_tls_source_whose_password_is_not_printed():
    source = JdbcSource.for_endpoint(
        PostgresEndpoint.from_rds_secret(
            {
                "host": "shop.rds",
                "port": 5432,
                "dbname": "shop",
                "username": "etl",
                "password": "pw",
            }
        )
    )
    assert source.url == "jdbc:postgresql://shop.rds:5432/shop?sslmode=require"
    assert source.options()["password"] == "pw"
    assert "pw" not in repr(source)
