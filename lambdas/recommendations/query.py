"""The query string of GET /v1/recommendations, validated into one typed request.

Values arrive as text (API Gateway joins a repeated parameter's values with commas), so each
rule reads text: ids are digits only and fit PostgreSQL's bigint, `limit` is 1..MAX_LIMIT,
`anonymous_id` a UUID. Exactly one of user_id and anonymous_id names the visitor.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, PlainValidator, ValidationError, model_validator

from contracts.shopper_signals import visitor_key

DEFAULT_LIMIT = 10
MAX_LIMIT = 50
BIGINT_MAX = 2**63 - 1
PARAMETERS = ("user_id", "anonymous_id", "product_id", "limit")
_DIGITS = re.compile(r"[0-9]{1,19}")
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


class QueryError(ValueError):
    """The query string cannot be served; the message says what to change, in one line."""


def _whole_number(value: object, low: int, high: int) -> int:
    if not isinstance(value, str) or not _DIGITS.fullmatch(value) or not low <= int(value) <= high:
        raise ValueError(f"must be a whole number from {low} to {high}")
    return int(value)


def _entity_id(value: object) -> int:
    return _whole_number(value, 1, BIGINT_MAX)


def _limit(value: object) -> int:
    return _whole_number(value, 1, MAX_LIMIT)


def _anonymous_id(value: object) -> str:
    """The device id as the events carry it: a UUID in lower case (upper case is accepted)."""
    if not isinstance(value, str) or not _UUID.fullmatch(value):
        raise ValueError("must be a UUID such as 81d58e19-4556-489f-95f7-0c4b6a086b19")
    return value.lower()


EntityId = Annotated[int, PlainValidator(_entity_id)]
Limit = Annotated[int, PlainValidator(_limit)]
AnonymousId = Annotated[str, PlainValidator(_anonymous_id)]


class RecommendationQuery(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    user_id: EntityId | None = None
    anonymous_id: AnonymousId | None = None
    product_id: EntityId | None = None
    limit: Limit = DEFAULT_LIMIT

    @model_validator(mode="after")
    def _one_visitor(self) -> Self:
        if (self.user_id is None) == (self.anonymous_id is None):
            raise ValueError("give exactly one of user_id and anonymous_id")
        return self

    @property
    def visitor_key(self) -> str:
        """The visitor's key in realtime.visitor_recent_products."""
        return visitor_key(self.user_id, self.anonymous_id)

    @classmethod
    def parse(cls, parameters: Mapping[str, str] | None) -> Self:
        """The request from API Gateway's queryStringParameters; QueryError names every
        parameter that is wrong and why."""
        try:
            return cls.model_validate(dict(parameters or {}))
        except ValidationError as error:
            raise QueryError(_describe(error)) from None


def _describe(error: ValidationError) -> str:
    problems = []
    for problem in error.errors(include_url=False):
        name = ".".join(str(part) for part in problem["loc"])
        cause = problem.get("ctx", {}).get("error")
        if problem["type"] == "extra_forbidden":
            problems.append(f"unknown parameter {name!r} (known: {', '.join(PARAMETERS)})")
        elif not name:
            problems.append(str(cause or problem["msg"]))
        else:
            problems.append(f"{name} {cause or problem['msg']}, got {problem['input']!r}")
    return "; ".join(problems)
