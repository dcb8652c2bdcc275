"""Synthesizing twice gives byte-identical templates: the session synth (in-process) against
the entry point run as the CDK CLI runs it (a fresh process, context in CDK_CONTEXT_JSON)."""

from __future__ import annotations

from pathlib import Path

import pytest
from synthesized import TEST_ENV, Assembly, run_app, synth_context

pytestmark = pytest.mark.infra


def test_a_second_synth_in_a_new_process_is_byte_identical(assembly: Assembly, tmp_path: Path):
    # A different hash seed must not change anything.
    result = run_app(synth_context(), tmp_path, PYTHONHASHSEED="12345")
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
