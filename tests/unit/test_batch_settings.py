"""How `ecom batch run` reaches the database over JDBC, from the URLs the rest of `ecom` uses."""

from __future__ import annotations

import pytest

from contracts.database import PostgresEndpoint
from glue_jobs.jdbc import JdbcSource
from local_platform.batch_pipeline import (
    SHORT_RUN_CLICKSTREAM_BYTES,
    clickstream_bytes,
    is_short_run,
    jdbc_source,
)


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


def test_the_clickstream_size_is_the_file_or_everything_under_the_folder(tmp_path):
    landed = tmp_path / "events.jsonl.gz"
    landed.write_bytes(b"x" * 1234)
    streamed = tmp_path / "events_stream"
    (streamed / "received_date=2026-09-30").mkdir(parents=True)
    (streamed / "received_date=2026-09-30" / "part-0.parquet").write_bytes(b"p" * 700)
    (streamed / "received_date=2026-10-01").mkdir()
    (streamed / "received_date=2026-10-01" / "part-0.parquet").write_bytes(b"q" * 45)
    assert clickstream_bytes(landed) == 1234
    assert clickstream_bytes(streamed) == 745


def test_only_a_clickstream_up_to_the_threshold_gets_the_short_run_jvm(tmp_path):
    at_threshold, above = tmp_path / "small.jsonl.gz", tmp_path / "large.jsonl.gz"
    with at_threshold.open("wb") as small, above.open("wb") as large:
        small.truncate(32 * 2**20)  # sparse files: the size without writing the bytes
        large.truncate(32 * 2**20 + 1)
    assert SHORT_RUN_CLICKSTREAM_BYTES == 32 * 2**20
    assert is_short_run(at_threshold)
    assert not is_short_run(above)
