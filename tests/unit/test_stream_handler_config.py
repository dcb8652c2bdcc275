"""The stream processor Lambda's configuration from its environment."""

from __future__ import annotations

import json

import boto3
import pytest
from moto import mock_aws
from psycopg.conninfo import conninfo_to_dict

from lambdas.shared.kafka_producer import KafkaSettings, KafkaSettingsError
from lambdas.stream_processor import handler as handler_module
from lambdas.stream_processor.handler import database_url, dead_letter_topic
from lambdas.stream_processor.processor import BatchResult, ProcessorSettings
from lambdas.stream_processor.settings import StreamProcessorSettings

# The variables each test does not look at, so that the settings validate.
DATABASE = {"DATABASE_URL": "postgresql://app@db:5432/ecommerce"}
PROCESSOR = {"CART_ABANDONMENT_MINUTES": "30", "DEDUPE_WINDOW_HOURS": "72"}


def test_processor_settings_come_from_the_environment() -> None:
    settings = StreamProcessorSettings.from_environment(
        {**DATABASE, "CART_ABANDONMENT_MINUTES": "45", "DEDUPE_WINDOW_HOURS": "168"}
    ).processor
    assert (settings.cart_abandonment_minutes, settings.dedupe_window_hours) == (45, 168)


@pytest.mark.parametrize("name", ["CART_ABANDONMENT_MINUTES", "DEDUPE_WINDOW_HOURS"])
@pytest.mark.parametrize("value", [None, "", "0", "-5", "thirty", "1.5"])
def test_processor_settings_must_be_positive_integers(name: str, value: str | None) -> None:
    environ = {**DATABASE, **PROCESSOR}
    if value is None:
        del environ[name]
    else:
        environ[name] = value
    with pytest.raises(RuntimeError, match=name):
        StreamProcessorSettings.from_environment(environ)


def test_database_url_is_used_as_given() -> None:
    url = "postgresql://app@db:5432/ecommerce"
    settings = StreamProcessorSettings.from_environment(
        {**PROCESSOR, "DATABASE_URL": url, "DATABASE_SECRET_ARN": "x"}
    )
    assert database_url(settings) == url


def test_database_url_is_built_from_the_rds_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    with mock_aws():
        secret = boto3.client("secretsmanager").create_secret(
            Name="oltp",
            SecretString=json.dumps(
                {
                    "host": "db.internal",
                    "port": 5433,
                    "username": "app",
                    "password": "p@ss word'",
                    "dbname": "ecommerce",
                    "engine": "postgres",
                }
            ),
        )
        conninfo = database_url(
            StreamProcessorSettings.from_environment(
                {**PROCESSOR, "DATABASE_SECRET_ARN": secret["ARN"]}
            )
        )

    assert conninfo_to_dict(conninfo) == {
        "host": "db.internal",
        "port": "5433",
        "user": "app",
        "password": "p@ss word'",
        "dbname": "ecommerce",
        "sslmode": "require",
    }


def test_database_url_or_secret_is_required() -> None:
    with pytest.raises(RuntimeError, match="DATABASE_URL or DATABASE_SECRET_ARN"):
        StreamProcessorSettings.from_environment(PROCESSOR)


def test_dead_letter_topic_is_optional() -> None:
    settings = StreamProcessorSettings.from_environment(
        {**DATABASE, **PROCESSOR, "KAFKA_BOOTSTRAP_SERVERS": "b:9098"}
    )
    assert dead_letter_topic(settings) is None


def test_dead_letter_topic_uses_the_kafka_settings_of_the_environment() -> None:
    topic = dead_letter_topic(
        StreamProcessorSettings.from_environment(
            {
                **DATABASE,
                **PROCESSOR,
                "DEAD_LETTER_TOPIC": "ecommerce.events.dlq",
                "KAFKA_BOOTSTRAP_SERVERS": "b-1:9098,b-2:9098",
                "KAFKA_AUTH": "iam",
                "AWS_REGION": "eu-west-1",
            }
        )
    )

    assert topic is not None
    assert (topic.topic, topic.settings) == (
        "ecommerce.events.dlq",
        KafkaSettings("b-1:9098,b-2:9098", "iam", "eu-west-1"),
    )


def test_dead_letter_topic_without_a_broker_is_refused_before_any_batch() -> None:
    with pytest.raises(KafkaSettingsError, match="KAFKA_BOOTSTRAP_SERVERS"):
        StreamProcessorSettings.from_environment(
            {**DATABASE, **PROCESSOR, "DEAD_LETTER_TOPIC": "ecommerce.events.dlq"}
        )


def test_the_environment_is_read_once_per_execution_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    batches: list[ProcessorSettings] = []

    def process(event: object, connection: object, settings: ProcessorSettings, letters: object):
        batches.append(settings)
        return BatchResult(received=0, counted=0, duplicates=0, dead_lettered=0, abandoned_carts=0)

    monkeypatch.setattr(handler_module, "_configuration", None)
    monkeypatch.setattr(handler_module, "_database", lambda settings: None)
    monkeypatch.setattr(handler_module, "process_msk_event", process)
    for name, value in {**DATABASE, **PROCESSOR}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("DEAD_LETTER_TOPIC", raising=False)

    handler_module.handler({}, None)
    monkeypatch.setenv("CART_ABANDONMENT_MINUTES", "45")
    handler_module.handler({}, None)

    assert [batch.cart_abandonment_minutes for batch in batches] == [30, 30]
