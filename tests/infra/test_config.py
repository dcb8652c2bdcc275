"""Config: per-environment values from cdk.json, and clear errors naming the key."""

from __future__ import annotations

import subprocess
import sys

import pytest
from synthesized import REPO_ROOT, run_app

from cdk_app.config import LOG_RETENTION_DAYS, ConfigError, load_config, read_cdk_context
from contracts.events.topics import DEAD_LETTER_TOPIC, EVENTS_TOPIC


def _context(**dev_overrides) -> dict:
    environments = read_cdk_context()["environments"]
    return {"environments": {"dev": {**environments["dev"], **dev_overrides}}}


def test_dev_and_prod_defaults():
    dev, prod = load_config("dev"), load_config("prod")
    assert (dev.streaming.mode, prod.streaming.mode) == ("serverless", "provisioned")
    assert dev.streaming.kafka_version == prod.streaming.kafka_version == "3.9.x"
    assert [t.name for t in dev.streaming.topics] == [EVENTS_TOPIC, DEAD_LETTER_TOPIC]
    assert dev.realtime.cart_abandonment_minutes == 30
    assert (dev.oltp.multi_az, prod.oltp.multi_az) == (False, True)
    assert (dev.oltp.deletion_protection, prod.oltp.deletion_protection) == (False, True)
    assert (dev.warehouse.base_rpu, prod.warehouse.base_rpu) == (8, 32)
    assert (dev.destroy_data, prod.destroy_data) == (False, False)
    assert (
        dev.realtime.processor_reserved_concurrency,
        prod.realtime.processor_reserved_concurrency,
    ) == (3, 12)
    assert (
        dev.ingest.collector_reserved_concurrency,
        prod.ingest.collector_reserved_concurrency,
    ) == (10, 100)
    assert dev.functions.default_reserved_concurrency == 5


def test_staging_is_sized_between_dev_and_prod():
    dev, staging, prod = (load_config(env) for env in ("dev", "staging", "prod"))
    # Prod's shapes (provisioned MSK, multi-AZ database), at sizes between the two.
    assert staging.streaming.mode == prod.streaming.mode == "provisioned"
    assert staging.oltp.multi_az is True
    assert staging.oltp.deletion_protection is False  # staging is rebuilt, prod never
    assert staging.network.vpc_cidr == "10.45.0.0/16"  # apart from dev's and prod's
    for section, key in [
        ("warehouse", "base_rpu"),
        ("oltp", "allocated_storage_gib"),
        ("oltp", "backup_retention_days"),
        ("etl", "workers"),
        ("ingest", "throttle_rate_per_second"),
        ("network", "flow_log_retention_days"),
        ("streaming", "broker_volume_gib"),
    ]:
        low, middle, high = (getattr(getattr(c, section), key) for c in (dev, staging, prod))
        assert low <= middle <= high, f"{section}.{key}: {low}, {middle}, {high}"
        assert low < high or low == middle == high, f"{section}.{key}"
    partitions = [c.streaming.topic(EVENTS_TOPIC).partitions for c in (dev, staging, prod)]
    assert partitions == [3, 6, 12]


def test_unknown_environment_names_the_key_and_the_known_ones():
    with pytest.raises(
        ConfigError, match=r"unknown environment 'qa' \(key 'env'\); known: dev, prod, staging"
    ):
        load_config("qa")


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"streaming": {"mode": "dedicated"}},
            r"streaming\.mode: Input should be 'serverless' or 'provisioned' \(got 'dedicated'\)",
        ),
        ({"warehouse": {"base_rpu": 12}}, r"warehouse\.base_rpu: .*multiple of 8"),
        ({"network": {"vpc_cidr": "8.8.0.0/16"}}, r"network\.vpc_cidr: .*private IPv4 block"),
        (
            {"network": {"flow_log_retention_days": 10}},
            r"network\.flow_log_retention_days: .*one of 1, 3",
        ),
        ({"monitoring": {"alarm_email": "nobody"}}, r"monitoring\.alarm_email: .*e-mail"),
        (
            {"oltp": {"instance_clas": "t4g.micro"}},
            r"oltp\.instance_clas: Extra inputs are not permitted",
        ),
        (
            {
                "streaming": {
                    "topics": [{"name": EVENTS_TOPIC, "partitions": 3, "retention_hours": 1}]
                }
            },
            r"streaming\.topics: .*needs topics \['ecommerce\.events\.dlq'\]",
        ),
        (
            {"network": {"max_azs": 2}},
            r"network\.max_azs: Redshift Serverless needs subnets in 3 AZs",
        ),
        (
            {"streaming": {"mode": "provisioned", "broker_count": 4}},
            r"streaming\.broker_count: must be a multiple of network\.max_azs",
        ),
        (
            # dev's events topic has 3 partitions: 2 concurrent invocations leave one waiting.
            {
                "realtime": {
                    **read_cdk_context()["environments"]["dev"]["realtime"],
                    "processor_reserved_concurrency": 2,
                }
            },
            r"realtime\.processor_reserved_concurrency: must be at least the partitions of"
            r" ecommerce\.events\.v1 \(3\)",
        ),
        (
            {"oltp": {"monitoring_interval_seconds": 45}},
            r"oltp\.monitoring_interval_seconds: Input should be 1, 5, 10, 15, 30 or 60",
        ),
        ({"functions": {"default_reserved_concurrency": 0}}, r"functions\.default_reserved_"),
    ],
)
def test_bad_values_name_the_key(overrides: dict, message: str):
    with pytest.raises(ConfigError, match=message):
        load_config("dev", _context(**overrides))


def test_destroy_data_from_the_command_line_overrides_and_is_guarded():
    context = {**read_cdk_context(), "destroy_data": "true"}
    assert load_config("dev", context).destroy_data is True
    # prod keeps deletion protection, so destroying its data is refused outright.
    with pytest.raises(ConfigError, match=r"oltp\.deletion_protection: must be false"):
        load_config("prod", context)


def test_log_retention_days_match_what_the_stacks_can_render():
    from stacks.retention import LOG_RETENTION

    assert set(LOG_RETENTION) == set(LOG_RETENTION_DAYS)


@pytest.mark.infra
def test_synth_with_an_unknown_environment_fails_with_the_config_error():
    result = run_app({"env": "qa"}, "/nonexistent")
    assert result.returncode == 1
    assert "config error: unknown environment 'qa'" in result.stderr


def test_config_is_importable_without_aws_cdk():
    code = "import sys, cdk_app.config as c; c.load_config('dev'); print('aws_cdk' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"
