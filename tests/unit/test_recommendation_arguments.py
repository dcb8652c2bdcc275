"""build_recommendations' arguments: typed, mapped onto the model settings, refused when the
database is missing or a number is out of range."""

from __future__ import annotations

from datetime import date

import pytest

from glue_jobs.build_recommendations import RecommendationArguments
from glue_jobs.job_runtime import job_arguments
from glue_jobs.transforms.recommendations import RecommendationSettings

LAKE = ["job.py", "--raw_uri", "r", "--curated_uri", "c", "--marts_uri", "m"]


def test_defaults_and_overrides_reach_the_model_settings() -> None:
    plain = job_arguments([*LAKE, "--database_secret_id", "arn:secret"], RecommendationArguments)
    tuned = job_arguments(
        [*LAKE, "--jdbc_url", "jdbc:postgresql://h/db", "--jdbc_user", "etl",
         "--as_of", "2026-10-01", "--holdout_days", "7", "--similar_per_product", "5",
         "--recommendations_per_customer", "12", "--min_support", "3"],
        RecommendationArguments,
    )  # fmt: skip

    assert plain.settings == RecommendationSettings()
    assert (plain.as_of, plain.run_id, plain.holdout_days) == (None, None, 0)
    assert (tuned.as_of, tuned.holdout_days) == (date(2026, 10, 1), 7)
    assert (
        tuned.settings.similar_per_product,
        tuned.settings.recommendations_per_customer,
        tuned.settings.min_support,
        tuned.settings.view_days,
    ) == (5, 12, 3, RecommendationSettings().view_days)
    assert (tuned.lake.raw, tuned.lake.curated, tuned.lake.marts) == ("r", "c", "m")


@pytest.mark.parametrize(
    ("extra", "mentions"),
    [
        ([], "needs --database_secret_id, or --jdbc_url and --jdbc_user"),
        (["--jdbc_url", "jdbc:postgresql://h/db"], "--jdbc_url and --jdbc_user"),
        (["--database_secret_id", "s", "--holdout_days", "91"], "--holdout_days"),
        (["--database_secret_id", "s", "--recommendations_per_customer", "0"], "--recommend"),
    ],
)
def test_bad_arguments_stop_the_job_with_one_line(extra: list[str], mentions: str) -> None:
    with pytest.raises(SystemExit) as stopped:
        job_arguments([*LAKE, *extra], RecommendationArguments)
    assert mentions in str(stopped.value)
    assert "\n" not in str(stopped.value)
