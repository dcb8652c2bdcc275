"""The recommendations API's environment, read and checked in one place.

- DATABASE_URL (local runs and tests), or on AWS
- DATABASE_HOST, DATABASE_PORT (default 5432), DATABASE_NAME and DATABASE_USER: the function
  signs in as that read-only user with an IAM database token (no password is stored; see
  contracts/oltp/migrations/V007__recommendations.sql), over TLS; AWS_REGION (set by Lambda)
  says where to sign.
"""

from __future__ import annotations

from typing import Self

from pydantic import model_validator

from lambdas.shared.settings import FunctionSettings, PositiveInteger


class RecommendationsSettings(FunctionSettings):
    database_url: str | None = None
    database_host: str | None = None
    database_port: PositiveInteger = 5432
    database_name: str | None = None
    database_user: str | None = None
    aws_region: str | None = None

    @model_validator(mode="after")
    def _names_a_database(self) -> Self:
        if self.database_url:
            return self
        missing = [
            name.upper()
            for name in ("database_host", "database_name", "database_user", "aws_region")
            if not getattr(self, name)
        ]
        if missing:
            raise ValueError(
                f"set DATABASE_URL, or {', '.join(missing)} for IAM sign-in to the database"
            )
        return self
