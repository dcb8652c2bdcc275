"""cfn-lint over every synthesized template: no errors, and only the warnings triaged below."""

from __future__ import annotations

import pytest
from cfnlint.api import ManualArgs, lint_by_config
from synthesized import Assembly

pytestmark = pytest.mark.infra

# Warnings accepted, each with its reason (see docs/operations.md, "Template checks").
TRIAGED_WARNINGS = {
    # CDK writes an explicit DependsOn next to the Ref/GetAtt that already orders a Lambda
    # after its role (our functions, CDK's SDK-call provider and its VPC default-group
    # cleanup provider). Redundant, harmless, and not ours to remove.
    "W3005",
}


def test_templates_have_no_errors_and_only_triaged_warnings(assembly: Assembly):
    files = assembly.template_files()
    # 10 stacks x (dev, staging, prod, test env) + delivery, and Dashboards where enabled
    # (prod, test env).
    assert len(files) == 43
    matches = lint_by_config(ManualArgs(templates=[str(f) for f in files], regions=["us-east-1"]))
    problems = [
        f"{match.filename}:{match.linenumber} {match.rule.id} {match.message}"
        for match in matches
        if match.rule.id.startswith("E")
        or (match.rule.id.startswith("W") and match.rule.id not in TRIAGED_WARNINGS)
    ]
    assert problems == []
