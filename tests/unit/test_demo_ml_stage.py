"""The demo's customer models stage on a lake without enough history: it says so in one line
and returns, so the demo goes on."""

from __future__ import annotations

from pathlib import Path

import pytest

from data_generators import GenerationSettings
from local_platform.demo import batch, ml
from local_platform.demo.pipeline import STAGES
from local_platform.demo.settings import DemoSettings


def test_the_stage_follows_the_batch_stage() -> None:
    assert STAGES[STAGES.index(ml.run) - 1] is batch.run


def test_too_little_history_is_reported_and_the_stage_returns(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = DemoSettings(
        database_url="postgresql://unused",
        owns_database=True,
        reset=False,
        workdir=tmp_path,
        generation=GenerationSettings(users=10, days=5),
    )
    ml.run(settings)
    output = " ".join(capsys.readouterr().err.split())
    assert "Stage 4: customer models" in output
    assert "Models not trained: no Parquet files under" in output
    assert not (tmp_path / "model_registry").exists()
