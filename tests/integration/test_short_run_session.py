"""A short run's session (the demo's batch): the JVM options and SQL settings it starts with,
read back from a JVM started for the purpose in a process of its own."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

pytestmark = pytest.mark.integration

PROBE = """
import json
from glue_jobs.local_spark import local_spark_session
spark = local_spark_session("short-run-probe", short_run=%s)
jvm = spark.sparkContext._jvm
diagnostics = jvm.com.sun.management.HotSpotDiagnosticMXBean._java_lang_class
hotspot = jvm.java.lang.management.ManagementFactory.getPlatformMXBean(diagnostics)
print(json.dumps({
    "code_cache_mb": int(hotspot.getVMOption("ReservedCodeCacheSize").getValue()) // 2**20,
    "tiered_stop": hotspot.getVMOption("TieredStopAtLevel").getValue(),
    "serial_gc": hotspot.getVMOption("UseSerialGC").getValue(),
    "young_mb": int(hotspot.getVMOption("MaxNewSize").getValue()) // 2**20,
    "whole_stage": spark.conf.get("spark.sql.codegen.wholeStage"),
}))
spark.stop()
"""


def _probe(short_run: bool) -> dict:
    run = subprocess.run(
        [sys.executable, "-c", PROBE % short_run], capture_output=True, text=True, check=True
    )
    return json.loads(run.stdout.strip().splitlines()[-1])


def test_a_short_run_keeps_to_c1_with_room_for_its_code_and_no_whole_stage_codegen():
    assert _probe(short_run=True) == {
        "code_cache_mb": 256,
        "tiered_stop": "1",
        "serial_gc": "true",
        "young_mb": 768,
        "whole_stage": "false",
    }


def test_a_long_run_keeps_the_jvm_and_spark_defaults():
    probed = _probe(short_run=False)
    assert probed["code_cache_mb"] == 240  # tiered compilation's default
    assert probed["tiered_stop"] == "4"
    assert probed["whole_stage"] == "true"
