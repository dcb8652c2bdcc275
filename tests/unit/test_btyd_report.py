"""fit_btyd_report's own rules: which horizon the expected purchases cover."""

from __future__ import annotations

import pandas as pd
import pytest

from sagemaker_pipelines.models import cdnow
from sagemaker_pipelines.models.btyd_report import fit_btyd_report


@pytest.fixture(scope="module")
def log() -> pd.DataFrame:
    return cdnow.read_cdnow("sample")


OPTIONS = {"unit_days": cdnow.UNIT_DAYS, "duplicates": "keep", "date_format": cdnow.DATE_FORMAT}


def test_the_horizon_is_the_holdout_or_the_days_given(log: pd.DataFrame) -> None:
    with_holdout = fit_btyd_report(log, cdnow.CALIBRATION_END, cdnow.HOLDOUT_END, **OPTIONS)
    without = fit_btyd_report(log, cdnow.CALIBRATION_END, horizon_days=91, **OPTIONS)

    assert with_holdout.horizon == 39.0
    assert without.horizon == 13.0
    assert without.holdout is None
    assert "holdout_frequency" not in without.predictions.columns


def test_the_horizon_must_be_one_or_the_other(log: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match="horizon_days applies only without a holdout"):
        fit_btyd_report(log, cdnow.CALIBRATION_END, cdnow.HOLDOUT_END, horizon_days=91, **OPTIONS)
    with pytest.raises(ValueError, match="without a holdout, horizon_days must be > 0"):
        fit_btyd_report(log, cdnow.CALIBRATION_END, **OPTIONS)
