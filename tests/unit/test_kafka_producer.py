"""The shared producer factory's pure parts: settings from the environment, keys, MSK tokens."""

from __future__ import annotations

import pytest

from lambdas.shared.kafka_producer import (
    KafkaSettings,
    KafkaSettingsError,
    MskIamTokenProvider,
    connection_config,
    event_key,
    kafka_settings_from_environment,
)


@pytest.mark.parametrize(
    ("event", "key"),
    [
        ({"user_id": 42, "anonymous_id": "a-b"}, b"42"),
        ({"user_id": None, "anonymous_id": "81d58e19-4556-489f-95f7-0c4b6a086b19"},
         b"81d58e19-4556-489f-95f7-0c4b6a086b19"),
        ({"user_id": True, "anonymous_id": "dev"}, b"dev"),  # a boolean is not a user id
        ({"user_id": "42", "anonymous_id": ""}, None),
        ({"anonymous_id": "x" * 500}, b"x" * 200),
        ([1, 2], None),
        ("text", None),
    ],
)  # fmt: skip
def test_event_key_is_user_then_anonymous_id(event: object, key: bytes | None) -> None:
    assert event_key(event) == key


def test_plaintext_settings_by_default() -> None:
    settings = kafka_settings_from_environment({"KAFKA_BOOTSTRAP_SERVERS": "b1:9092,b2:9092"})
    assert settings == KafkaSettings("b1:9092,b2:9092", "plaintext", None)
    assert connection_config(settings) == {"bootstrap_servers": ["b1:9092", "b2:9092"]}


def test_explicit_servers_win_over_the_environment() -> None:
    settings = kafka_settings_from_environment({"KAFKA_BOOTSTRAP_SERVERS": "env:1"}, "cli:2")
    assert settings.bootstrap_servers == "cli:2"


def test_iam_settings_use_sasl_oauthbearer_over_tls() -> None:
    settings = kafka_settings_from_environment(
        {"KAFKA_BOOTSTRAP_SERVERS": "b-1.msk:9098", "KAFKA_AUTH": "IAM", "AWS_REGION": "eu-west-1"}
    )
    assert settings == KafkaSettings("b-1.msk:9098", "iam", "eu-west-1")
    config = connection_config(settings)
    assert config["security_protocol"] == "SASL_SSL"
    assert config["sasl_mechanism"] == "OAUTHBEARER"
    assert isinstance(config["sasl_oauth_token_provider"], MskIamTokenProvider)


@pytest.mark.parametrize(
    ("environ", "names"),
    [
        ({}, "KAFKA_BOOTSTRAP_SERVERS"),
        ({"KAFKA_BOOTSTRAP_SERVERS": "b:1", "KAFKA_AUTH": "iam"}, "AWS_REGION"),
        ({"KAFKA_BOOTSTRAP_SERVERS": "b:1", "KAFKA_AUTH": "scram"}, "KAFKA_AUTH"),
    ],
)
def test_incomplete_environment_names_the_variable(environ: dict, names: str) -> None:
    with pytest.raises(KafkaSettingsError, match=names):
        kafka_settings_from_environment(environ)


def test_msk_token_is_reused_until_a_minute_before_expiry() -> None:
    signed: list[str] = []
    now = [1_000_000.0]

    def sign(region: str) -> tuple[str, int]:
        signed.append(region)
        return f"token-{len(signed)}", int(now[0]) + 900_000  # valid for 15 minutes

    provider = MskIamTokenProvider("us-east-1", sign=sign, clock_ms=lambda: now[0])
    assert provider.token() == "token-1"
    now[0] += 839_999  # 60.001 s before expiry: still good
    assert provider.token() == "token-1"
    now[0] += 1  # exactly 60 s before expiry: sign again
    assert provider.token() == "token-2"
    assert signed == ["us-east-1", "us-east-1"]
