"""Synthesizing twice gives byte-identical templates: the session synth (in-process) against
the entry point run as the CDK CLI runs it (a fresh process, context in CDK_CONTEXT_JSON)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from synthesized import TEST_ENV, Assembly, synth_context

pytestmark = pytest.mark.infra

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_a_second_synth_in_a_new_process_is_byte_identical(assembly: Assembly, tmp_path: Path):
    env = {
        **os.environ,
        "CDK_OUTDIR": str(tmp_path),
        "CDK_CONTEXT_JSON": json.dumps(synth_context()),
        "PYTHONHASHSEED": "12345",  # a different hash seed must not change anything
    }
    result = subprocess.run(
        [sys.executable, "-m", "cdk_app.app"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    first = {p.relative_to(assembly.outdir): p.read_bytes() for p in assembly.template_files()}
    second = {
        p.relative_to(tmp_path): p.read_bytes()
        for p in sorted(tmp_path.glob("assembly-*/*.template.json"))
    }
    assert sorted(second) == sorted(first)
    changed = [str(name) for name in first if first[name] != second[name]]
    assert changed == []
    # The data-retention guard speaks up whenever an environment may destroy data.
    assert f"WARNING: destroy_data is set for '{TEST_ENV}'" in result.stderr
