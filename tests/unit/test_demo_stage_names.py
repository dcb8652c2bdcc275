"""The names the demo prints its stages' seconds under."""

from __future__ import annotations

from local_platform.demo.pipeline import STAGES, stage_name


def test_each_stage_is_named_after_its_module_in_run_order():
    names = [stage_name(stage) for stage in STAGES]
    assert names == ["shop", "realtime", "batch", "ml", "recommendations", "dashboards"]
