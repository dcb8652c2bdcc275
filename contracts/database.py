"""How a runtime reaches the shop's PostgreSQL: the RDS secret's fields, in the forms each
driver takes (libpq keywords for psycopg in the Lambdas, a JDBC URL for Spark in Glue).

Pure on purpose: no driver and no AWS SDK here, so the Lambda assets and the Glue jobs ship
the same rules; each runtime passes in its own Secrets Manager client.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

DEFAULT_PORT = 5432
# TLS is required on AWS: RDS enforces it (rds.force_ssl) and the secret says nothing about it.
RDS_SSL_MODE = "require"


@dataclass(frozen=True)
class PostgresEndpoint:
    """A database and the user to log in as; sslmode None leaves it to the driver."""

    host: str
    dbname: str
    user: str
    password: str | None = field(default=None, repr=False)
    port: int = DEFAULT_PORT
    sslmode: str | None = None

    @classmethod
    def from_rds_secret(
        cls, secret: Mapping[str, Any], *, dbname: str | None = None, sslmode: str = RDS_SSL_MODE
    ) -> PostgresEndpoint:
        """From the JSON RDS keeps in Secrets Manager (host, port, username, password and,
        for a secret attached to an instance with a database, dbname). `dbname` names the
        database when the secret does not, or picks another one on the same server."""
        database = dbname or secret.get("dbname")
        if not database:
            raise ValueError("the database secret names no dbname; give the database name")
        return cls(
            host=secret["host"],
            dbname=database,
            user=secret["username"],
            password=secret["password"],
            port=int(secret.get("port", DEFAULT_PORT)),
            sslmode=sslmode,
        )

    def libpq_parameters(self) -> dict[str, str]:
        """Keyword parameters for libpq (psycopg.connect, psycopg's make_conninfo)."""
        parameters = {"host": self.host, "port": str(self.port), "user": self.user}
        if self.password is not None:
            parameters["password"] = self.password
        parameters["dbname"] = self.dbname
        if self.sslmode:
            parameters["sslmode"] = self.sslmode
        return parameters

    def jdbc_url(self) -> str:
        """The PostgreSQL JDBC driver's URL; user and password travel as separate options."""
        query = f"?sslmode={self.sslmode}" if self.sslmode else ""
        return f"jdbc:postgresql://{self.host}:{self.port}/{self.dbname}{query}"


def read_secret(client: Any, secret_id: str) -> dict[str, Any]:
    """The JSON document a Secrets Manager secret holds (`client`: a boto3 secretsmanager
    client, created by the runtime that calls)."""
    document: dict[str, Any] = json.loads(
        client.get_secret_value(SecretId=secret_id)["SecretString"]
    )
    return document
