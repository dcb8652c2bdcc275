"""A Lambda function's environment as one typed, validated settings model.

Each function declares a `FunctionSettings` subclass whose fields are its variables (field
`events_topic` reads EVENTS_TOPIC) and reads it before it touches an event, so a deploy with a
missing or invalid variable fails at once with every such variable named, not halfway through
a batch. An empty variable counts as unset, as it does for the shell.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, PlainValidator, ValidationError


class SettingsError(RuntimeError):
    """The environment does not configure the function; the message names the variables."""


def _positive_integer(value: object) -> int:
    if not isinstance(value, str) or not value.isdigit() or int(value) < 1:
        raise ValueError("must be a positive integer")
    return int(value)


# Digits only, at least 1: "1.5", "-5" and "thirty" are refused, not rounded or clamped.
PositiveInteger = Annotated[int, PlainValidator(_positive_integer)]


class FunctionSettings(BaseModel):
    model_config = ConfigDict(alias_generator=str.upper, extra="ignore", frozen=True)

    @classmethod
    def from_environment(cls, environ: Mapping[str, str]) -> Self:
        return cls.validated(environ)

    @classmethod
    def validated(cls, environ: Mapping[str, str], **parsed: object) -> Self:
        """The settings from the variables in `environ`, plus the fields in `parsed` that a
        reader of their own took from it (Kafka's variables, shared with local commands)."""
        values: dict[str, object] = {name: value for name, value in environ.items() if value}
        values |= {cls.model_fields[name].alias or name: value for name, value in parsed.items()}
        try:
            return cls.model_validate(values)
        except ValidationError as error:
            raise SettingsError(_describe(error)) from None


def _describe(error: ValidationError) -> str:
    """One message naming every variable: "set A and B; C must be ..., got '0'"."""
    missing: list[str] = []
    invalid: list[str] = []
    for problem in error.errors(include_url=False):
        name = ".".join(str(part) for part in problem["loc"])
        cause = problem.get("ctx", {}).get("error")
        if problem["type"] == "missing":
            missing.append(name)
        elif not name:  # a rule over several variables states them itself
            invalid.append(str(cause or problem["msg"]))
        elif cause is not None:
            invalid.append(f"{name} {cause}, got {problem['input']!r}")
        else:
            invalid.append(f"{name}: {problem['msg']}, got {problem['input']!r}")
    parts = [f"set {' and '.join(missing)}"] if missing else []
    return "; ".join(parts + invalid)
