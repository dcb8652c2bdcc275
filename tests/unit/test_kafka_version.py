"""The local broker: the Kafka release MSK runs in every environment, and a valid cluster id."""

from __future__ import annotations

import re

import pytest

from cdk_app.config import load_config, read_cdk_context
from local_platform.kafka_broker import new_cluster_id, pom_kafka_version


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


def test_cluster_ids_are_22_url_safe_characters_never_starting_with_a_dash() -> None:
    # 2,000 draws: a leading "-" (1 in 64 for raw base64) would show up about 31 times.
    ids = [new_cluster_id() for _ in range(2000)]

    assert all(len(cluster_id) == 22 for cluster_id in ids)
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{22}", cluster_id) for cluster_id in ids)
    assert not any(cluster_id.startswith("-") for cluster_id in ids)
    assert len(set(ids)) == len(ids)
