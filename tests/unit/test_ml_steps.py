"""The step scripts run as SageMaker runs them: `python sagemaker_pipelines/steps/<name>.py`
in a fresh process, on a simulated shop written as the lake's raw orders extract. Each output
is recomputed here through the library functions."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import boto3
import numpy as np
import pandas as pd
import pytest
from cdnow_like_shops import REFUND_AFTER, cdnow_like_shop, write_raw_orders
from threadpoolctl import threadpool_limits

from contracts.lake import CUSTOMER_SCORES
from contracts.marts import marts
from contracts.warehouse.loads import warehouse_loads
from contracts.warehouse.tables import glue_type
from sagemaker_pipelines.models.bundle import load_bundle
from sagemaker_pipelines.models.datasets import LABEL, split_examples
from sagemaker_pipelines.models.evaluation import (
    brier_score,
    btyd_holdout_prediction,
    roc_auc,
    spearman,
)
from sagemaker_pipelines.models.scoring import SCORE_COLUMNS
from sagemaker_pipelines.models.simulated_log import SimulatedLog
from sagemaker_pipelines.models.transactions import CUSTOMER, DATE, rfm_summary
from sagemaker_pipelines.steps import REFUSED, STEPS_DIR
from sagemaker_pipelines.steps import prepare as prepare_step
from sagemaker_pipelines.steps import score as score_step
from sagemaker_pipelines.steps.common import FEATURES_PARTITION
from sagemaker_pipelines.steps.lake_io import read_dataset

HORIZON = 90
NEW_USER = 99_999


def run_step(name: str, *args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    """The script as a plain file in a fresh process, outside the repository, with no
    PYTHONPATH: the script must find its package itself."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"} | {"OMP_NUM_THREADS": "1"}
    return subprocess.run(
        [sys.executable, str(STEPS_DIR / f"{name}.py"), *map(str, args)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def run_ok(name: str, *args: str | Path, cwd: Path) -> None:
    result = run_step(name, *args, cwd=cwd)
    assert result.returncode == 0, result.stderr


@pytest.fixture(autouse=True)
def _one_thread() -> Iterator[None]:
    with threadpool_limits(1):
        yield


@pytest.fixture(scope="module")
def simulated() -> SimulatedLog:
    return cdnow_like_shop(1_200, 365, "2025-07-01", seed=11)


@pytest.fixture(scope="module")
def shop(simulated: SimulatedLog) -> pd.DataFrame:
    return simulated.log


@pytest.fixture(scope="module")
def run(simulated: SimulatedLog, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """prepare -> train -> evaluate -> score, in pipeline order."""
    root = tmp_path_factory.mktemp("steps")
    write_raw_orders(simulated, root / "orders")
    _write_features_mart(simulated.log, root / "features")
    run_ok(
        "prepare", "--orders", "orders", "--features", "features", "--output", "prepared", cwd=root
    )
    run_ok(
        "train",
        "--train", "prepared/train",
        "--transactions", "prepared/transactions",
        "--model-dir", "model",
        cwd=root,
    )  # fmt: skip
    run_ok(
        "evaluate",
        "--model", "model",
        "--test", "prepared/test",
        "--transactions", "prepared/transactions",
        "--output", "evaluation",
        cwd=root,
    )  # fmt: skip
    run_ok(
        "score",
        "--model", "model",
        "--model-version", "7",
        "--orders", "orders",
        "--features", "features",
        "--as-of", "2025-06-30",
        "--output", "scores",
        cwd=root,
    )  # fmt: skip
    return root


def _write_features_mart(log: pd.DataFrame, folder: Path) -> None:
    """A customer_features mart at one cutoff only (so training leaves its columns out),
    listing every buyer and NEW_USER, who never ordered."""
    users = [*sorted(log["customer_id"].unique()), NEW_USER]
    part = folder / "cutoff_date=2025-06-30" / "part-00000.parquet"
    part.parent.mkdir(parents=True)
    pd.DataFrame({"user_id": users, "tickets": 0}).to_parquet(part, index=False)


def _placed(shop: pd.DataFrame) -> pd.DataFrame:
    """The log the extract encodes: the simulated orders, totals rounded to cents."""
    return shop.assign(amount=shop["amount"].round(2))


def test_prepare_writes_the_temporal_split_and_the_clean_log(shop: pd.DataFrame, run: Path) -> None:
    expected = split_examples(_placed(shop), horizon_days=HORIZON)
    train = pd.read_parquet(run / "prepared" / "train" / "examples.parquet")
    test = pd.read_parquet(run / "prepared" / "test" / "examples.parquet")
    pd.testing.assert_frame_equal(train, expected.train, check_dtype=False)
    pd.testing.assert_frame_equal(test, expected.test, check_dtype=False)
    transactions = pd.read_parquet(run / "prepared" / "transactions" / "transactions.parquet")
    assert len(transactions) == len(shop)
    counts = json.loads((run / "prepared" / "prepare.json").read_text())
    assert counts["cutoff"] == "2025-04-01"
    assert counts["train_examples"] == len(train)
    assert counts["test_examples"] == len(test)
    assert counts["uses_customer_features"] is False
    split = json.loads((run / "prepared" / "train" / "_split.json").read_text())
    assert split == {"evaluation_cutoff": "2025-04-01"}


def test_train_saves_the_bundle_and_its_description(run: Path) -> None:
    bundle = load_bundle(run / "model")
    described = json.loads((run / "model" / "model.json").read_text())
    assert described == json.loads(json.dumps(bundle.describe()))
    assert described["cutoff"] == "2025-04-01"
    assert described["horizon_days"] == HORIZON


def test_evaluation_json_holds_the_contract_keys_with_recomputed_values(
    shop: pd.DataFrame, run: Path
) -> None:
    report = json.loads((run / "evaluation" / "evaluation.json").read_text())
    assert set(report["churn"]) == {"auc", "brier", "lift_top_decile"}
    assert {"btyd_expected_purchases", "recency"} <= set(report["churn_baselines"])
    assert set(report["clv"]) >= {"abs_revenue_error", "spearman"}
    assert set(report["clv_baseline"]) == {"abs_revenue_error", "spearman"}

    bundle = load_bundle(run / "model")
    test = pd.read_parquet(run / "prepared" / "test" / "examples.parquet")
    probability = bundle.churn.predict_proba(test)
    assert report["churn"]["auc"]["value"] == pytest.approx(roc_auc(test[LABEL], probability))
    assert report["churn"]["brier"]["value"] == pytest.approx(brier_score(test[LABEL], probability))
    assert report["churn_baselines"]["recency"]["auc"] == pytest.approx(
        roc_auc(test[LABEL], test["days_since_last_order"])
    )
    summary = rfm_summary(_placed(shop), "2025-04-01", "2025-06-30")
    _, revenue = btyd_holdout_prediction(summary, bundle.bgnbd, bundle.gamma_gamma)
    actual = summary.customers["holdout_revenue"]
    assert report["clv"]["abs_revenue_error"]["value"] == pytest.approx(
        abs(revenue.sum() / actual.sum() - 1)
    )
    assert report["clv"]["spearman"]["value"] == pytest.approx(spearman(revenue, actual))


def test_score_writes_one_row_per_customer_under_its_day(shop: pd.DataFrame, run: Path) -> None:
    files = list((run / "scores").rglob("*.parquet"))
    assert [path.relative_to(run / "scores").as_posix() for path in files] == [
        "as_of=2025-06-30/part-00000.parquet"
    ]
    scores = pd.read_parquet(files[0])
    assert tuple(scores.columns) == SCORE_COLUMNS
    assert len(scores) == shop["customer_id"].nunique() + 1
    assert not scores.isna().any().any()
    assert scores.loc[scores["new_customer"], "user_id"].tolist() == [NEW_USER]
    assert (scores["churn_model_version"] == "7").all()
    assert scores["churn_probability"].between(0, 1).all()
    drivers = json.loads(scores["top_drivers"].iloc[0])
    assert [set(driver) for driver in drivers] == [{"feature", "effect"}] * 3
    assert np.isfinite(scores["clv_365d"]).all()


def test_too_little_history_fails_clearly_and_writes_nothing(tmp_path: Path) -> None:
    short = cdnow_like_shop(300, 60, "2024-04-15", seed=2)
    write_raw_orders(short, tmp_path / "orders")
    result = run_step("prepare", "--orders", "orders", "--output", "prepared", cwd=tmp_path)
    assert result.returncode == REFUSED
    assert result.stderr.startswith("refused: too little history: ")
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "prepared").exists()


def test_with_the_tickets_extract_the_model_counts_the_service_history(
    simulated: SimulatedLog, tmp_path: Path
) -> None:
    """Prepare counts each customer's tickets and refunds up to the cutoff; a model trained
    on them refuses to score without the tickets extract."""
    write_raw_orders(simulated, tmp_path / "orders")
    log = simulated.log
    # Every seventh customer opened a ticket 20 days after each of their first two orders.
    firsts = log.sort_values(DATE).groupby(CUSTOMER).head(2)
    firsts = firsts[firsts[CUSTOMER] % 7 == 0]
    opened_at = firsts[DATE] + pd.Timedelta(days=20, hours=9)
    tickets = pd.DataFrame(
        {
            "id": np.arange(1, len(firsts) + 1),
            "user_id": firsts[CUSTOMER].to_numpy(),
            "opened_at": opened_at.to_numpy(),
            "updated_at": opened_at.to_numpy(),
        }
    )
    (tmp_path / "tickets").mkdir()
    tickets.to_parquet(tmp_path / "tickets" / "part-00000.parquet", index=False)
    run_ok(
        "prepare", "--orders", "orders", "--tickets", "tickets", "--output", "prepared",
        cwd=tmp_path,
    )  # fmt: skip
    assert json.loads((tmp_path / "prepared" / "prepare.json").read_text())["uses_service_history"]

    test = pd.read_parquet(tmp_path / "prepared" / "test" / "examples.parquet")
    cutoff = test["cutoff"].iloc[0]
    end_of_cutoff_day = cutoff + pd.Timedelta(days=1)
    refunds_at = log[DATE].iloc[::40] + pd.Timedelta(hours=12) + REFUND_AFTER
    refund_owners = log[CUSTOMER].iloc[::40]
    expected = pd.DataFrame(
        {
            "tickets": tickets[tickets["opened_at"] < end_of_cutoff_day].groupby("user_id").size(),
            "refunds": refund_owners[refunds_at < end_of_cutoff_day].value_counts(),
        }
    )
    counted = test.set_index(CUSTOMER)[["tickets", "refunds"]]
    expected = expected.reindex(counted.index).fillna(0)
    assert counted["tickets"].sum() > 0
    assert counted["refunds"].sum() > 0
    pd.testing.assert_frame_equal(counted, expected, check_dtype=False, check_names=False)

    run_ok(
        "train",
        "--train", "prepared/train",
        "--transactions", "prepared/transactions",
        "--model-dir", "model",
        cwd=tmp_path,
    )  # fmt: skip
    assert {"tickets", "refunds"} <= set(load_bundle(tmp_path / "model").feature_names)
    refused = run_step(
        "score",
        "--model", "model",
        "--orders", "orders",
        "--tickets", "no_tickets",
        "--as-of", "2025-06-30",
        "--output", "scores",
        cwd=tmp_path,
    )  # fmt: skip
    assert refused.returncode == REFUSED
    assert refused.stderr.strip() == (
        "refused: the model needs the support_tickets extract; none under no_tickets"
    )
    assert not (tmp_path / "scores").exists()


def test_the_steps_read_customer_features_by_the_registry_s_partition() -> None:
    """The step scripts ship without contracts/marts.yaml, so they name the partition again."""
    assert marts()["customer_features"].partition == FEATURES_PARTITION


LAKE_BUCKET = "lake-steps"
CURATED_DATABASE = "lake_curated"


@pytest.fixture
def s3_lake(run: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The run's orders extract and features mart copied to (moto's) S3, and the curated
    zone's customer_scores table declared in (moto's) Glue catalog from the warehouse
    contract, as the ML stack declares it."""
    moto = pytest.importorskip("moto")
    pytest.importorskip("awswrangler")
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with moto.mock_aws():
        s3 = boto3.client("s3")
        s3.create_bucket(Bucket=LAKE_BUCKET)
        for folder in ("orders", "features"):
            for path in (run / folder).rglob("*.parquet"):
                s3.upload_file(str(path), LAKE_BUCKET, path.relative_to(run).as_posix())
        load = warehouse_loads()[CUSTOMER_SCORES]
        columns = [
            {"Name": c.name, "Type": glue_type(c.type)}
            for c in load.table.columns
            if c.name != load.partition
        ]
        glue = boto3.client("glue")
        glue.create_database(DatabaseInput={"Name": CURATED_DATABASE})
        glue.create_table(
            DatabaseName=CURATED_DATABASE,
            TableInput={
                "Name": CUSTOMER_SCORES,
                "TableType": "EXTERNAL_TABLE",
                "PartitionKeys": [{"Name": load.partition, "Type": "date"}],
                "StorageDescriptor": {
                    "Columns": columns,
                    "Location": f"s3://{LAKE_BUCKET}/{CUSTOMER_SCORES}/",
                },
            },
        )
        yield f"s3://{LAKE_BUCKET}"


def test_on_s3_prepare_reads_the_same_examples_as_from_the_lake_folder(
    run: Path, s3_lake: str, tmp_path: Path
) -> None:
    prepare_step.main([
        "--orders", f"{s3_lake}/orders",
        "--features", f"{s3_lake}/features/",
        "--output", str(tmp_path),
    ])  # fmt: skip
    for split in ("train", "test"):
        from_s3 = pd.read_parquet(tmp_path / split / "examples.parquet")
        local = pd.read_parquet(run / "prepared" / split / "examples.parquet")
        pd.testing.assert_frame_equal(from_s3, local)
    assert (tmp_path / "train" / "_split.json").read_text() == (
        run / "prepared" / "train" / "_split.json"
    ).read_text()


def test_on_s3_score_writes_the_day_and_registers_its_catalog_partition(
    run: Path, s3_lake: str, capsys: pytest.CaptureFixture[str]
) -> None:
    output = f"{s3_lake}/{CUSTOMER_SCORES}/"
    arguments = ["--model", str(run / "model"), "--model-version", "7"]
    arguments += ["--orders", f"{s3_lake}/orders", "--features", f"{s3_lake}/features"]
    arguments += ["--as-of", "2025-06-30", "--output", output]
    arguments += ["--catalog-database", CURATED_DATABASE, "--catalog-table", CUSTOMER_SCORES]
    score_step.main(arguments)
    score_step.main(arguments)  # a re-run replaces the day
    keys = [
        item["Key"]
        for item in boto3.client("s3").list_objects_v2(
            Bucket=LAKE_BUCKET, Prefix=f"{CUSTOMER_SCORES}/"
        )["Contents"]
    ]
    assert len(keys) == 1
    assert keys[0].startswith(f"{CUSTOMER_SCORES}/as_of=2025-06-30/part-")
    partitions = boto3.client("glue").get_partitions(
        DatabaseName=CURATED_DATABASE, TableName=CUSTOMER_SCORES
    )["Partitions"]
    assert [p["Values"] for p in partitions] == [["2025-06-30"]]
    assert f"registered in {CURATED_DATABASE}.{CUSTOMER_SCORES}" in capsys.readouterr().out
    # The same scores as the local run's, in the files' column order (COPY maps by position).
    from_s3 = read_dataset(output).drop(columns="as_of")
    local = pd.read_parquet(run / "scores" / "as_of=2025-06-30" / "part-00000.parquet")
    assert tuple(from_s3.columns) == SCORE_COLUMNS
    pd.testing.assert_frame_equal(
        from_s3.drop(columns="scored_at"), local.drop(columns="scored_at"), check_dtype=False
    )


def test_a_catalog_needs_an_s3_output(run: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        score_step.main([
            "--model", str(run / "model"),
            "--orders", str(run / "orders"),
            "--output", str(run / "elsewhere"),
            "--catalog-database", "d",
            "--catalog-table", "t",
        ])  # fmt: skip
    assert "a catalog table needs an s3:// --output" in capsys.readouterr().err
    assert not (run / "elsewhere").exists()
