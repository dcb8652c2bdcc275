"""The local broker runs the Kafka release that MSK runs in every environment."""

from __future__ import annotations

import re

import pytest

from cdk_app.config import load_config, read_cdk_context
from local_platform.kafka_broker import pom_kafka_version


def _major_minor(version: str) -> str:
    match = re.match(r"^(\d+)\.(\d+)\.", version)
    assert match, version
    return f"{match[1]}.{match[2]}"


@pytest.mark.parametrize("env_name", sorted(read_cdk_context()["environments"]))
def test_pom_kafka_matches_the_msk_version_in_config(env_name: str) -> None:
    msk_version = load_config(env_name).streaming.kafka_version

    assert _major_minor(pom_kafka_version()) == _major_minor(msk_version)


def test_pom_pins_an_exact_release() -> None:
    assert re.fullmatch(r"\d+\.\d+\.\d+", pom_kafka_version())
