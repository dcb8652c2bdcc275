"""cdk-nag AwsSolutions gate: zero unacknowledged findings, and every acknowledgement matches a
real finding on its construct with a specific reason (stacks/nag_acknowledgements.py)."""

from __future__ import annotations

import pytest
from synthesized import DELIVERY_ENV, REAL_ENVS, TEST_ENV, Assembly, synth_context

from cdk_app.config import load_config, load_delivery_config
from stacks.nag_acknowledgements import delivery_acknowledgements, platform_acknowledgements

pytestmark = pytest.mark.infra


def _aws_solutions_report(assembly: Assembly) -> dict:
    (report,) = [
        r
        for r in assembly.validation_report()["pluginReports"]
        if r["pluginName"] == "AwsSolutions"
    ]
    return report


def test_synth_passes_the_aws_solutions_pack(assembly: Assembly):
    assert assembly.synth_error is None
    report = _aws_solutions_report(assembly)
    assert report["conclusion"] == "success"
    assert report["violations"] == []


@pytest.mark.parametrize("env", [*REAL_ENVS, TEST_ENV])
def test_each_acknowledgement_silences_a_real_finding_on_its_construct(assembly: Assembly, env):
    suppressed = {
        (s["acknowledgedAt"], s["acknowledgedId"], s["reason"])
        for s in _aws_solutions_report(assembly)["suppressedViolations"]
        if s["acknowledgedAt"].startswith(f"{env}/")
    }
    config = load_config(env, synth_context())
    expected = {
        (f"{env}/{ack.path}", f"AwsSolutions::{ack.rule}", ack.reason)
        for ack in platform_acknowledgements(config)
        if not ack.is_checkov
    }
    assert suppressed == expected


def test_each_delivery_acknowledgement_silences_a_real_finding(assembly: Assembly):
    suppressed = {
        (s["acknowledgedAt"], s["acknowledgedId"], s["reason"])
        for s in _aws_solutions_report(assembly)["suppressedViolations"]
        if s["acknowledgedAt"].startswith(f"{DELIVERY_ENV}/")
    }
    acks = delivery_acknowledgements(load_delivery_config(synth_context()))
    expected = {
        (f"{DELIVERY_ENV}/{ack.path}", f"AwsSolutions::{ack.rule}", ack.reason) for ack in acks
    }
    assert suppressed == expected
    assert len(acks) == 4 + 5 * 2  # four shared, five name patterns per deploy environment
    assert all(len(ack.reason) >= 60 for ack in acks)


def test_acknowledgement_reasons_are_specific():
    acks = [
        ack
        for env in (*REAL_ENVS, TEST_ENV)
        for ack in platform_acknowledgements(load_config(env, synth_context()))
    ]
    for ack in acks:
        assert len(ack.reason) >= 60, ack
    # One reason is never pasted over unrelated rules.
    rules_by_reason: dict[str, set[str]] = {}
    for ack in acks:
        rules_by_reason.setdefault(ack.reason, set()).add(ack.rule.split("[")[0])
    assert all(len(rules) == 1 for rules in rules_by_reason.values())
