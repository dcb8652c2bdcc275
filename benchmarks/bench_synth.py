"""Synth time of the whole app (dev and prod, cdk-nag included), cold and warm.

cold: a new Python process until the first synth is written (interpreter, aws_cdk import, jsii
      kernel start, construct tree, synth, validation).
warm: further synths in that same process (what `cdk watch`-style loops and test sessions pay).

Each is measured with CDK's built-in template validation on (what `make synth` runs) and off
(what the test suite runs, since it lints every template with cfn-lint). Lambda bundling is
skipped in both, so the figures do not depend on PyPI; `make synth` adds a pip install per
function on top (seconds, cached by pip).

    python benchmarks/bench_synth.py [--warm-runs 3]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]

_CHILD = """
import json, sys, tempfile, time
started = time.perf_counter()
from cdk_app.app import build_app
context = {"aws:cdk:bundling-stacks": []}
def synth():
    with tempfile.TemporaryDirectory() as outdir:
        build_app(context, outdir=outdir).synth()
synth()
cold = time.perf_counter() - started
warm = []
for _ in range(int(sys.argv[1])):
    started = time.perf_counter()
    synth()
    warm.append(time.perf_counter() - started)
print(json.dumps({"cold_in_process": cold, "warm": warm}))
"""


def measure(validation: bool, warm_runs: int) -> dict[str, float]:
    env = {
        **os.environ,
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
        "CDK_VALIDATION": "true" if validation else "false",
    }
    result = subprocess.run(
        [sys.executable, "-c", _CHILD, str(warm_runs)],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    return {"cold": figures["cold_in_process"], "warm": statistics.median(figures["warm"])}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warm-runs", type=int, default=3)
    args = parser.parse_args()
    print(f"{'CDK built-in validation':<26}{'cold (s)':>10}{'warm median (s)':>18}")
    for validation in (True, False):
        figures = measure(validation, args.warm_runs)
        label = "on (make synth)" if validation else "off (tests)"
        print(f"{label:<26}{figures['cold']:>10.1f}{figures['warm']:>18.1f}")


if __name__ == "__main__":
    main()
