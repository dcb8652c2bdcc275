"""One synth of the whole app per test run, shared by every infra test module and xdist worker.

The first worker to get the lock synthesizes into a directory shared by the run; the others
read the same templates. cdk-nag runs inside that synth: a finding makes it raise after the
templates are written, and test_nag.py reports it.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

import pytest

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
# CDK's built-in template checks duplicate cfn-lint (test_cfn_lint.py) and cost ~12 s per synth.
os.environ.setdefault("CDK_VALIDATION", "false")

from synthesized import Assembly, synth_context


def _synthesize(outdir: Path) -> str | None:
    from cdk_app.app import build_app

    try:
        build_app(synth_context(), outdir=str(outdir)).synth()
    except RuntimeError as error:  # cdk-nag (or another validation) failed; templates exist
        return str(error)
    return None


@pytest.fixture(scope="session")
def assembly(tmp_path_factory: pytest.TempPathFactory) -> Assembly:
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    outdir = shared / "cdk-synth"
    error_file = shared / "cdk-synth.error"
    done_file = shared / "cdk-synth.done"
    with open(shared / "cdk-synth.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not done_file.exists():
            error = _synthesize(outdir)
            if error:
                error_file.write_text(error)
            done_file.touch()
        fcntl.flock(lock, fcntl.LOCK_UN)
    return Assembly(outdir, error_file.read_text() if error_file.exists() else None)
