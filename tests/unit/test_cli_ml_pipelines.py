"""`ecom ml train|approve|score` refuse what they cannot do with one line and nothing
registered; the end-to-end runs are in tests/integration/test_ml_pipelines.py."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from local_platform.cli import app

runner = CliRunner()


def _ecom(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["ml", *args])
    return result.exit_code, " ".join(result.output.split())


def test_train_on_a_lake_without_orders_is_refused(tmp_path: Path) -> None:
    code, output = _ecom("train", "--lake", str(tmp_path / "lake"))
    assert code == 2
    orders = tmp_path / "lake" / "raw" / "oltp" / "orders"
    # Rich wraps long paths: compare without whitespace.
    assert f"noParquetfilesunder{orders}" in output.replace(" ", "")
    assert not (tmp_path / "model_registry").exists()


def test_approve_without_a_pending_version_names_the_group(tmp_path: Path) -> None:
    code, output = _ecom("approve", "--lake", str(tmp_path / "lake"), "--env", "qa")
    assert code == 1
    assert "ecommerce-qa-churn has no version with status PendingManualApproval" in output


def test_score_without_an_approved_version_says_what_to_do(tmp_path: Path) -> None:
    code, output = _ecom(
        "score", "--lake", str(tmp_path / "lake"), "--database-url", "postgresql://unused/db"
    )
    assert code == 1
    assert "ecommerce-dev-churn has no version with status Approved" in output
    assert "`ecom ml train`, `ecom ml approve`" in output
