"""Every resource keeps its logical id and type, so a refactoring of the stacks never makes
CloudFormation replace (delete and recreate) a deployed resource.

resource_ids.json is the recorded set. A change that adds, removes or renames a resource on
purpose regenerates it with `python tests/infra/test_resource_ids.py CDK_OUT_DIR` and says
why in its commit.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from synthesized import Assembly

pytestmark = pytest.mark.infra

RECORDED = Path(__file__).with_name("resource_ids.json")


def resource_ids(assembly: Assembly) -> dict[str, dict[str, str]]:
    """`env/Stack` -> logical id -> resource type, for every template of the assembly."""
    return {
        f"{env}/{stack}": {logical_id: r["Type"] for logical_id, r in template["Resources"].items()}
        for (env, stack), template in assembly.templates().items()
    }


def test_every_stack_keeps_its_resources_logical_ids_and_types(assembly: Assembly):
    recorded = json.loads(RECORDED.read_text())
    synthesized = resource_ids(assembly)
    assert sorted(synthesized) == sorted(recorded)
    for stack, ids in recorded.items():
        now = synthesized[stack]
        assert {i: t for i, t in ids.items() if now.get(i) != t} == {}, f"{stack}: lost or retyped"
        assert sorted(set(now) - set(ids)) == [], f"{stack}: new logical ids"


if __name__ == "__main__":
    ids = resource_ids(Assembly(Path(sys.argv[1]), None))
    RECORDED.write_text(json.dumps(ids, indent=1, sort_keys=True) + "\n")
