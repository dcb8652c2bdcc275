"""Glue job arguments parsed into each job's typed arguments, on Glue and on one machine."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta

import pytest

from glue_jobs import job_runtime
from glue_jobs.build_marts import BuildArguments
from glue_jobs.curate_events import CurateArguments
from glue_jobs.extract_oltp import ExtractArguments, ReadSettings
from glue_jobs.job_runtime import job_arguments
from glue_jobs.load_warehouse import LoadArguments, RedshiftTarget
from glue_jobs.stream_events_to_raw import StreamSettings

# What Glue adds to every run's arguments; a job must ignore them.
GLUE_OWN = ["--JOB_ID", "j_1", "--JOB_RUN_ID", "jr_1", "--job-bookmark-option", "disable"]


def test_unset_arguments_take_the_documented_defaults() -> None:
    args = job_arguments(
        ["job.py", *GLUE_OWN, "--raw_uri", "s3://raw", "--state_uri", "s3://state",
         "--database_secret_id", "arn:secret"],
        ExtractArguments,
    )  # fmt: skip
    assert (args.raw_uri, args.state_uri, args.database_secret_id) == (
        "s3://raw",
        "s3://state",
        "arn:secret",
    )
    assert args.full is False
    assert args.read_settings == ReadSettings(timedelta(minutes=15), 200_000, 8)
    assert (args.run_id, args.reference_time, args.quality_results_uri) == (None, None, None)


def test_values_arrive_typed() -> None:
    args = job_arguments(
        ["job.py", "--raw_uri", "r", "--curated_uri", "c", "--marts_uri", "m",
         "--as_of", "2026-10-01", "--features_cutoff", "2026-09-30T12:00:00+00:00",
         "--reference_time", "2026-10-01T06:00:00+00:00"],
        BuildArguments,
    )  # fmt: skip
    assert args.as_of == date(2026, 10, 1)
    assert args.features_cutoff == datetime(2026, 9, 30, 12, tzinfo=UTC)
    assert args.reference_time == datetime(2026, 10, 1, 6, tzinfo=UTC)
    assert (args.lake.raw, args.lake.curated, args.lake.marts) == ("r", "c", "m")


@pytest.mark.parametrize(("given", "full"), [("true", True), ("TRUE", True), ("false", False)])
def test_full_is_on_only_for_true(given: str, full: bool) -> None:
    argv = ["job.py", "--raw_uri", "r", "--state_uri", "s", "--database_secret_id", "x"]
    assert job_arguments([*argv, "--full", given], ExtractArguments).full is full


def test_the_stream_job_settings_are_its_arguments() -> None:
    args = job_arguments(
        ["job.py", "--bootstrap_servers", "b-1:9098", "--topic", "events", "--raw_uri", "s3://raw",
         "--checkpoint_uri", "s3://cp", "--kafka_auth", "iam", "--trigger_seconds", "60"],
        StreamSettings,
    )  # fmt: skip
    assert (args.raw_root, args.checkpoint_root) == ("s3://raw", "s3://cp")
    assert (args.bootstrap_servers, args.topic, args.kafka_auth) == ("b-1:9098", "events", "iam")
    assert (args.trigger_seconds, args.max_offsets_per_trigger) == (60, None)
    assert args.consumer_group_prefix == "ecommerce-raw-stream"


@pytest.mark.parametrize(
    ("argv", "named"),
    [
        (["--curated_uri", "c"], "--events_path, --stream_events_path or both"),
        (["--curated_uri", "c", "--events_path", "e", "--watermark", "yesterday"], "--watermark"),
        (
            ["--curated_uri", "c", "--events_path", "e", "--reference_time", "2026-10-01T00:00"],
            "--reference_time: needs a time zone",
        ),
        (["--curated_uri", "c", "--events_path", "e", "--allowed_lateness_hours", "x"],
         "--allowed_lateness_hours"),
    ],
)  # fmt: skip
def test_a_bad_argument_stops_the_job_naming_it(argv: list[str], named: str) -> None:
    with pytest.raises(SystemExit, match=named):
        job_arguments(["job.py", *argv], CurateArguments)


def test_on_glue_the_resolver_is_asked_for_required_and_given_arguments_only(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    asked: list[str] = []

    def resolve(argv: Sequence[str], names: Sequence[str]) -> dict[str, str]:
        asked.extend(names)
        return {name: argv[argv.index(f"--{name}") + 1] for name in names}

    monkeypatch.setattr(job_runtime, "getResolvedOptions", resolve)
    args = job_arguments(
        ["job.py", *GLUE_OWN, "--curated_uri", "s3://curated", "--events_path", "s3://raw/e"],
        CurateArguments,
    )
    assert sorted(asked) == ["curated_uri", "events_path"]
    assert (args.curated_uri, args.events_path, args.allowed_lateness_hours) == (
        "s3://curated",
        "s3://raw/e",
        48.0,
    )


def test_the_load_job_targets_the_named_warehouse() -> None:
    args = job_arguments(
        ["job.py", "--marts_uri", "s3://marts", "--database", "analytics",
         "--workgroup_name", "ecommerce-dev", "--secret_arn", "arn:s", "--tables", "a,b"],
        LoadArguments,
    )  # fmt: skip
    assert args.target == RedshiftTarget(
        database="analytics", workgroup_name="ecommerce-dev", secret_arn="arn:s"
    )
    assert (args.target.iam_role, args.tables) == ("default", ("a", "b"))
