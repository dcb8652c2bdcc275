"""The collector's environment, read and checked in one place.

- KAFKA_BOOTSTRAP_SERVERS; KAFKA_AUTH=iam and AWS_REGION on MSK (lambdas.shared.kafka_producer);
- EVENTS_TOPIC and DEAD_LETTER_TOPIC (the streaming topics of the environment's config).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Self

from lambdas.collector.batch import Topics
from lambdas.shared.kafka_producer import KafkaSettings, kafka_settings_from_environment
from lambdas.shared.settings import FunctionSettings


class CollectorSettings(FunctionSettings):
    events_topic: str
    dead_letter_topic: str
    kafka: KafkaSettings

    @classmethod
    def from_environment(cls, environ: Mapping[str, str]) -> Self:
        """Raises KafkaSettingsError for Kafka's variables, else SettingsError naming the
        missing topics."""
        return cls.validated(environ, kafka=kafka_settings_from_environment(environ))

    @property
    def topics(self) -> Topics:
        return Topics(events=self.events_topic, dead_letters=self.dead_letter_topic)
