"""IAM across every stack: no wildcard action on a data store, and no Allow on every action."""

from __future__ import annotations

from typing import Any

import pytest
from synthesized import Assembly, allow_statements, as_list

pytestmark = pytest.mark.infra

DATA_STORE_SERVICES = {
    "s3",
    "kafka",
    "kafka-cluster",
    "rds",
    "rds-db",
    "redshift",
    "redshift-serverless",
    "redshift-data",
    "secretsmanager",
    "glue",
    "kms",
    "dynamodb",
}


def wildcard_actions(template: dict[str, Any]) -> tuple[int, list[str]]:
    """(actions checked, offending `path: action`): `*` anywhere, or a wildcard on a data store."""
    checked, offending = 0, []
    for path, statement in allow_statements(template):
        for action in as_list(statement["Action"]):
            checked += 1
            service, _, name = action.partition(":")
            if action == "*" or (service in DATA_STORE_SERVICES and "*" in name):
                offending.append(f"{path}: {action}")
    return checked, offending


def test_no_wildcard_action_on_any_data_store(assembly: Assembly):
    total = 0
    for template in assembly.templates().values():
        checked, offending = wildcard_actions(template)
        assert offending == []
        total += checked
    assert total > 50  # the scan really read the platform's policies


def _policy(*actions: str) -> dict[str, Any]:
    statement = {"Effect": "Allow", "Action": list(actions), "Resource": "*"}
    return {
        "Resources": {
            "P": {
                "Type": "AWS::IAM::Policy",
                "Metadata": {"aws:cdk:path": "x/P"},
                "Properties": {"PolicyDocument": {"Statement": [statement]}},
            }
        }
    }


def test_the_scan_flags_wildcards_on_data_stores_only():
    assert wildcard_actions(_policy("s3:Get*", "*", "kms:Decrypt", "logs:Put*")) == (
        4,
        ["x/P: s3:Get*", "x/P: *"],
    )
