"""The shared producer's pure parts: settings from the environment, keys, MSK tokens, and the
send path's handling of a full queue and of refused records (on a stand-in librdkafka)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from confluent_kafka import KafkaError

from lambdas.shared.kafka_producer import (
    EventProducer,
    KafkaSettings,
    KafkaSettingsError,
    ProducerError,
    connection_config,
    event_key,
    kafka_settings_from_environment,
    msk_iam_token_callback,
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
    config = connection_config(settings)
    assert config["bootstrap.servers"] == "b1:9092,b2:9092"
    assert "security.protocol" not in config
    assert "oauth_cb" not in config


def test_explicit_servers_win_over_the_environment() -> None:
    settings = kafka_settings_from_environment({"KAFKA_BOOTSTRAP_SERVERS": "env:1"}, "cli:2")
    assert settings.bootstrap_servers == "cli:2"


def test_iam_settings_use_sasl_oauthbearer_over_tls() -> None:
    settings = kafka_settings_from_environment(
        {"KAFKA_BOOTSTRAP_SERVERS": "b-1.msk:9098", "KAFKA_AUTH": "IAM", "AWS_REGION": "eu-west-1"}
    )
    assert settings == KafkaSettings("b-1.msk:9098", "iam", "eu-west-1")
    config = connection_config(settings)
    assert config["security.protocol"] == "SASL_SSL"
    assert config["sasl.mechanisms"] == "OAUTHBEARER"
    assert callable(config["oauth_cb"])


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


def test_msk_token_carries_its_expiry_in_epoch_seconds() -> None:
    signed: list[str] = []

    def sign(region: str) -> tuple[str, int]:
        signed.append(region)
        return f"token-{len(signed)}", 1_790_000_900_000  # the signer's expiry is in ms

    token = msk_iam_token_callback("us-east-1", sign)
    assert token("principal=ignored") == ("token-1", 1_790_000_900.0)
    assert token(None) == ("token-2", 1_790_000_900.0)  # librdkafka decides when to refresh
    assert signed == ["us-east-1", "us-east-1"]


class StandInLibrdkafka:
    """Refuses produce() with BufferError while `full`; reports deliveries on flush()."""

    def __init__(self, full: bool = False, refuse: set[bytes] | None = None) -> None:
        self.full = full
        self.refuse = refuse or set()
        self.polls = 0
        self.queued: list[tuple[bytes | None, Callable[[Any, Any], None] | None]] = []

    def produce(self, topic: str, value: bytes, key: bytes | None, on_delivery=None) -> None:
        if self.full:
            raise BufferError("Local: Queue full")
        self.queued.append((value, on_delivery))

    def poll(self, timeout: float) -> int:
        self.polls += 1
        return 0

    def flush(self, timeout: float) -> int:
        for value, report in self.queued:
            if report is not None:
                report(_REFUSAL if value in self.refuse else None, None)
        self.queued.clear()
        return 0


_REFUSAL = KafkaError(KafkaError.MSG_SIZE_TOO_LARGE, "Broker: Message size too large")


def test_a_queue_full_for_longer_than_max_block_is_an_error() -> None:
    librdkafka = StandInLibrdkafka(full=True)
    producer = EventProducer(librdkafka, max_block_s=0.2)  # type: ignore[arg-type]
    with pytest.raises(ProducerError, match=r"queue stayed full for 0\.2 s"):
        producer.send("t", b"v")
    assert librdkafka.polls >= 2  # it served callbacks while waiting for room


def test_deliver_counts_records_and_names_the_first_refusal() -> None:
    producer = EventProducer(StandInLibrdkafka(), max_block_s=1)  # type: ignore[arg-type]
    assert producer.deliver([("t", None, b"a"), ("t", b"k", b"b")], timeout_s=1) == 2

    refusing = EventProducer(StandInLibrdkafka(refuse={b"b", b"c"}), max_block_s=1)  # type: ignore[arg-type]
    records = [("t", None, b"a"), ("t", None, b"b"), ("t", None, b"c")]
    with pytest.raises(ProducerError, match="2 of 3 records failed: Broker: Message size"):
        refusing.deliver(records, timeout_s=1)
