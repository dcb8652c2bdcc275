"""The `dashboards` section of the config: off by default, and when on it names two distinct
QuickSight groups (names or ARNs of this account) and a refresh schedule QuickSight accepts."""

from __future__ import annotations

import pytest

from cdk_app.config import ConfigError, DashboardsConfig, load_config, read_cdk_context

ANALYSTS_ARN = "arn:aws:quicksight:us-east-1:111122223333:group/default/analysts"


def _load(dashboards: dict, **env_values) -> object:
    environments = read_cdk_context()["environments"]
    dev = {**environments["dev"], **env_values, "dashboards": dashboards}
    return load_config("dev", {"environments": {"dev": dev}})


def test_defaults_keep_quicksight_off_and_the_definitions_refresh_times():
    config = DashboardsConfig()
    assert config.enabled is False
    assert (config.refresh.interval, config.refresh.time_of_day, config.refresh.time_zone) == (
        None,
        None,
        None,
    )
    assert config.namespace == "default"


def test_cdk_json_turns_prod_on_with_its_groups_and_leaves_dev_off():
    prod, dev = load_config("prod").dashboards, load_config("dev").dashboards
    assert (prod.enabled, dev.enabled) == (True, False)
    assert (prod.group("analysts"), prod.group("admins")) == (
        "ecommerce-analysts",
        "ecommerce-admins",
    )
    # prod's batch starts at 01:30 and scoring at 05:00; dev keeps the definitions' 07:00.
    assert (prod.refresh.time_of_day, dev.refresh.time_of_day) == ("06:00", None)


def test_group_names_and_arns_are_both_accepted():
    config = _load({"enabled": True, "analysts_group": ANALYSTS_ARN, "admins_group": "bi-admins"})
    assert config.dashboards.group("analysts") == ANALYSTS_ARN
    assert config.dashboards.group("admins") == "bi-admins"


@pytest.mark.parametrize(
    ("dashboards", "env_values", "message"),
    [
        ({"enabled": True}, {}, r"dashboards: .*enabled needs analysts_group and admins_group"),
        (
            {"enabled": True, "analysts_group": "bi"},
            {},
            r"dashboards: .*enabled needs admins_group \(QuickSight groups\)",
        ),
        (
            {"enabled": True, "analysts_group": "bi", "admins_group": "bi"},
            {},
            r"must be different groups",
        ),
        (
            {"analysts_group": "arn:aws:iam::111122223333:group/analysts"},
            {},
            r"dashboards\.analysts_group: .*QuickSight group name or a group ARN",
        ),
        (
            {"enabled": True, "analysts_group": ANALYSTS_ARN, "admins_group": "bi-admins"},
            {"account": "444455556666"},
            r"dashboards\.analysts_group: account 111122223333 is not this environment's"
            r" account 444455556666",
        ),
        ({"refresh": {"time_of_day": "24:00"}}, {}, r"dashboards\.refresh\.time_of_day"),
        ({"refresh": {"time_zone": "Mars/Olympus"}}, {}, r"dashboards\.refresh\.time_zone: .*IANA"),
        ({"refresh": {"interval": "WEEKLY"}}, {}, r"dashboards\.refresh\.interval"),
        ({"enabeld": True}, {}, r"dashboards\.enabeld: Extra inputs are not permitted"),
    ],
)
def test_bad_dashboards_config_names_the_key(dashboards: dict, env_values: dict, message: str):
    with pytest.raises(ConfigError, match=message):
        _load(dashboards, **env_values)


def test_group_of_a_disabled_section_without_groups_is_an_error_not_none():
    with pytest.raises(ConfigError, match=r"dashboards\.admins_group is not set"):
        DashboardsConfig().group("admins")
