"""The db_migrator custom-resource handler against a real PostgreSQL.

Secrets Manager is moto; CloudFormation's pre-signed response URL is a local HTTP server that
records what the handler PUTs, so the full protocol runs without any network beyond loopback.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace
from typing import Any

import boto3
import psycopg
import pytest
from moto import mock_aws
from psycopg.conninfo import conninfo_to_dict

from contracts.oltp.migrator import MIGRATIONS_DIR
from lambdas.db_migrator.handler import handler

pytestmark = pytest.mark.integration

MIGRATION_FILES = sorted(path.name for path in MIGRATIONS_DIR.glob("V*.sql"))
CONTEXT = SimpleNamespace(log_stream_name="2026/01/01/[$LATEST]test")


@dataclass
class CloudFormationEndpoint:
    """What CloudFormation would have received on its pre-signed URL."""

    url: str
    requests: list[dict[str, Any]] = field(default_factory=list)

    def last_response(self) -> dict[str, Any]:
        return json.loads(self.requests[-1]["body"])


@pytest.fixture
def cloudformation() -> Iterator[CloudFormationEndpoint]:
    received: list[dict[str, Any]] = []

    class Recorder(BaseHTTPRequestHandler):
        def do_PUT(self) -> None:
            length = int(self.headers["Content-Length"])
            received.append(
                {
                    "path": self.path,
                    "content_type": self.headers.get("Content-Type"),
                    "body": self.rfile.read(length).decode(),
                }
            )
            self.send_response(200)
            self.end_headers()

        def log_message(self, *_args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    endpoint = CloudFormationEndpoint(f"http://127.0.0.1:{server.server_port}/cfn-response?sig=x")
    endpoint.requests = received
    yield endpoint
    server.shutdown()
    server.server_close()


@dataclass(frozen=True)
class Database:
    url: str
    name: str
    secret_arn: str


@pytest.fixture
def database(empty_database: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Database]:
    """The test database, its master credentials stored the way RDS stores them."""
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    parts = conninfo_to_dict(empty_database)
    secret = {
        "engine": "postgres",
        "host": parts.get("host", "127.0.0.1"),
        "port": int(parts.get("port", 5432)),
        "username": parts["user"],
        "password": parts.get("password", ""),
        "dbInstanceIdentifier": "ecommerce-test",
    }
    with mock_aws():
        arn = boto3.client("secretsmanager").create_secret(
            Name="oltp-master", SecretString=json.dumps(secret)
        )["ARN"]
        yield Database(empty_database, parts["dbname"], arn)


def request(
    request_type: str,
    cloudformation: CloudFormationEndpoint,
    database: Database,
    physical_id: str | None = None,
    secret_arn: str | None = None,
) -> dict[str, Any]:
    event: dict[str, Any] = {
        "RequestType": request_type,
        "ResponseURL": cloudformation.url,
        "StackId": "arn:aws:cloudformation:eu-west-1:123456789012:stack/dev-Oltp/1a2b",
        "RequestId": str(uuid.uuid4()),
        "LogicalResourceId": "Migrations",
        "ResourceType": "Custom::OltpMigrations",
        "ResourceProperties": {
            "ServiceToken": "arn:aws:lambda:eu-west-1:123456789012:function:migrator",
            "SecretArn": secret_arn or database.secret_arn,
            "DatabaseName": database.name,
            "SslMode": "disable",  # the local server speaks plain TCP; RDS gets "require"
            "MigrationsChecksum": "0" * 64,
        },
    }
    if physical_id:
        event["PhysicalResourceId"] = physical_id
    return event


def _applied_versions(url: str) -> list[int]:
    with psycopg.connect(url) as conn:
        return [row[0] for row in conn.execute("SELECT version FROM schema_migrations ORDER BY 1")]


def _tables(url: str) -> set[str]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT table_schema || '.' || table_name FROM information_schema.tables"
            " WHERE table_schema IN ('public', 'synthetic')"
        ).fetchall()
    return {row[0] for row in rows}


def test_create_applies_every_migration_and_reports_success(cloudformation, database):
    event = request("Create", cloudformation, database)
    handler(event, CONTEXT)

    (sent,) = cloudformation.requests
    assert sent["path"] == "/cfn-response?sig=x"
    assert sent["content_type"] == ""
    response = json.loads(sent["body"])
    assert response["Status"] == "SUCCESS"
    assert response["PhysicalResourceId"] == f"oltp-migrations:{database.name}"
    assert (response["StackId"], response["RequestId"], response["LogicalResourceId"]) == (
        event["StackId"],
        event["RequestId"],
        "Migrations",
    )
    assert response["Data"] == {
        "AppliedCount": str(len(MIGRATION_FILES)),
        "Applied": ",".join(MIGRATION_FILES),
    }
    assert _applied_versions(database.url) == [int(name[1:4]) for name in MIGRATION_FILES]
    assert {"public.users", "public.orders", "synthetic.customer_profiles"} <= _tables(database.url)


def test_update_is_idempotent_and_keeps_data(cloudformation, database):
    handler(request("Create", cloudformation, database), CONTEXT)
    physical_id = cloudformation.last_response()["PhysicalResourceId"]
    with psycopg.connect(database.url) as conn:
        conn.execute("INSERT INTO categories (id, name, slug) VALUES (1, 'Books', 'books')")

    handler(request("Update", cloudformation, database, physical_id), CONTEXT)

    response = cloudformation.last_response()
    assert response["Status"] == "SUCCESS"
    assert response["PhysicalResourceId"] == physical_id  # no replacement
    assert response["Data"] == {"AppliedCount": "0", "Applied": ""}
    with psycopg.connect(database.url) as conn:
        assert conn.execute("SELECT name FROM categories").fetchall() == [("Books",)]


def test_delete_keeps_the_schema_and_its_data(cloudformation, database):
    handler(request("Create", cloudformation, database), CONTEXT)
    physical_id = cloudformation.last_response()["PhysicalResourceId"]
    tables_before = _tables(database.url)

    handler(request("Delete", cloudformation, database, physical_id), CONTEXT)

    response = cloudformation.last_response()
    assert (response["Status"], response["PhysicalResourceId"]) == ("SUCCESS", physical_id)
    assert _tables(database.url) == tables_before
    assert len(_applied_versions(database.url)) == len(MIGRATION_FILES)


def test_a_failing_migration_is_reported_with_its_file_and_nothing_is_kept(
    cloudformation, database
):
    with psycopg.connect(database.url) as conn:
        conn.execute("CREATE TABLE users (legacy_id integer)")

    handler(request("Create", cloudformation, database), CONTEXT)

    response = cloudformation.last_response()
    assert response["Status"] == "FAILED"
    assert response["Reason"].startswith("MigrationError: migration V001__core_tables.sql failed")
    assert 'relation "users" already exists' in response["Reason"]
    assert CONTEXT.log_stream_name in response["Reason"]
    assert response["PhysicalResourceId"] == "Migrations"  # a failed create has no resource
    # The whole run rolled back, bookkeeping table included.
    assert _tables(database.url) == {"public.users"}


def test_an_unreadable_secret_is_reported_not_left_hanging(cloudformation, database):
    missing = database.secret_arn.replace("oltp-master", "no-such-secret")
    handler(request("Update", cloudformation, database, "oltp-migrations:x", missing), CONTEXT)

    response = cloudformation.last_response()
    assert response["Status"] == "FAILED"
    assert "ResourceNotFoundException" in response["Reason"]
    assert response["PhysicalResourceId"] == "oltp-migrations:x"
