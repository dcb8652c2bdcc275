"""The stream processor's environment, read and checked in one place.

- DATABASE_URL, or DATABASE_SECRET_ARN naming a Secrets Manager secret in the RDS JSON shape
  (host, port, username, password, dbname; contracts.database);
- CART_ABANDONMENT_MINUTES (realtime.cart_abandonment_minutes of the environment's config);
- DEDUPE_WINDOW_HOURS (the events topic's retention in the config: how long ids are kept);
- DEAD_LETTER_TOPIC, optional: dead letters are then also published there (through
  KAFKA_BOOTSTRAP_SERVERS, KAFKA_AUTH=iam on MSK; see lambdas.shared.kafka_producer).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Self

from pydantic import model_validator

from lambdas.shared.kafka_producer import KafkaSettings, kafka_settings_from_environment
from lambdas.shared.settings import FunctionSettings, PositiveInteger
from lambdas.stream_processor.processor import ProcessorSettings


class StreamProcessorSettings(FunctionSettings):
    database_url: str | None = None
    database_secret_arn: str | None = None
    cart_abandonment_minutes: PositiveInteger
    dedupe_window_hours: PositiveInteger
    dead_letter_topic: str | None = None
    # How to reach the dead-letter topic's broker; read only when there is such a topic.
    kafka: KafkaSettings | None = None

    @classmethod
    def from_environment(cls, environ: Mapping[str, str]) -> Self:
        """Raises SettingsError naming every bad variable (KafkaSettingsError for Kafka's)."""
        publishes = bool(environ.get("DEAD_LETTER_TOPIC"))
        return cls.validated(
            environ, kafka=kafka_settings_from_environment(environ) if publishes else None
        )

    @model_validator(mode="after")
    def _names_a_database(self) -> Self:
        if not (self.database_url or self.database_secret_arn):
            raise ValueError("set DATABASE_URL or DATABASE_SECRET_ARN")
        return self

    @property
    def processor(self) -> ProcessorSettings:
        return ProcessorSettings(
            cart_abandonment_minutes=self.cart_abandonment_minutes,
            dedupe_window_hours=self.dedupe_window_hours,
        )
