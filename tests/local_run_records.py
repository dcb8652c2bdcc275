"""What the local batch and ML runs leave behind, written directly for the smoke test's
checks: quality results in the lake's layout (job/run_id partitions, the gate's columns), a
mart's Parquet, customer scores for one day and a registered, approved model. The warehouse
is then built from the lake by the real loader (load_local_warehouse). Each writer checks its
columns against the contract the real writer follows, so the two cannot drift apart."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from contracts.lake import CUSTOMER_SCORES, CUSTOMER_SCORES_PARTITION, Lake
from contracts.marts import MART_PARTITIONS
from contracts.warehouse.tables import customer_scores_table, mart_tables
from glue_jobs.quality import RESULTS_PARTITIONS, RESULTS_SCHEMA
from local_platform.ml_runner import MlPaths
from sagemaker_pipelines.registry import LocalRegistry


def write_quality_results(
    lake_root: Path, run_id: str, evaluated_at: datetime, jobs: dict[str, int]
) -> None:
    """Per job, two passing warning rules and one critical rule per entry of `jobs` that
    failed (0: every rule passed)."""
    for job, critical_failures in jobs.items():
        rows = [("warning", True), ("warning", True)] + [("critical", False)] * critical_failures
        rows.append(("critical", True))
        folder = Path(Lake.in_folder(str(lake_root)).quality_results) / f"job={job}"
        folder = folder / f"run_id={run_id}"
        folder.mkdir(parents=True, exist_ok=True)
        table = pa.table(
            {
                "table_name": [f"{job}_table"] * len(rows),
                "rule": [f"Rule{i}" for i in range(len(rows))],
                "check_type": ["row_count"] * len(rows),
                "severity": [severity for severity, _ in rows],
                "passed": [passed for _, passed in rows],
                "observed": ["1"] * len(rows),
                "reference_time": [evaluated_at] * len(rows),
                "evaluated_at": [evaluated_at] * len(rows),
            }
        )
        _same_columns(table, RESULTS_SCHEMA, RESULTS_PARTITIONS)
        pq.write_table(table, folder / "part-0.parquet")


def _same_columns(table: pa.Table, contract: list[str] | str, partitions: tuple) -> None:
    """The written columns plus the partition folders are the contract's columns, in order."""
    names = (
        [part.split()[0] for part in contract.split(",")] if isinstance(contract, str) else contract
    )
    assert sorted([*table.column_names, *partitions]) == sorted(names)


def write_sales_mart(lake_root: Path, days: list[date]) -> None:
    """mart_sales_daily: one web row per day (category 1), revenue 100 + the day of month."""
    folder = Path(Lake.in_folder(str(lake_root)).mart("mart_sales_daily"))
    for day in days:
        partition = folder / f"order_date={day.isoformat()}"
        partition.mkdir(parents=True, exist_ok=True)
        money = pa.decimal128(18, 2)
        table = pa.table(
            {
                "category_id": pa.array([1], pa.int64()),
                "category_name": ["Shoes"],
                "channel": ["web"],
                "orders": pa.array([2], pa.int64()),
                "units": pa.array([3], pa.int64()),
                "revenue": pa.array([Decimal(100 + day.day)], money),
                "refunded_orders": pa.array([0], pa.int64()),
                "refunds": pa.array([Decimal(0)], money),
                "aov": pa.array([Decimal(50)], money),
            }
        )
        contract = mart_tables()["mart_sales_daily"].column_names
        _same_columns(table, contract, (MART_PARTITIONS["mart_sales_daily"],))
        pq.write_table(table, partition / "part-0.parquet")


def write_scores(lake_root: Path, day: date, customers: int, version: str) -> None:
    folder = Path(MlPaths.beside(lake_root).lake.curated_table(CUSTOMER_SCORES))
    partition = folder / f"{CUSTOMER_SCORES_PARTITION}={day.isoformat()}"
    partition.mkdir(parents=True, exist_ok=True)
    n = customers
    table = pa.table(
        {
            "user_id": pa.array(range(1, n + 1), pa.int64()),
            "churn_probability": [0.25] * n,
            "churn_band": ["low"] * n,
            "p_alive": [0.8] * n,
            "expected_orders_90d": [0.5] * n,
            "expected_orders_365d": [1.5] * n,
            "expected_revenue_365d": [90.0] * n,
            "clv_365d": [90.0] * n,
            "action_segment": ["nurture"] * n,
            "top_drivers": ["recency"] * n,
            "new_customer": [False] * n,
            "churn_model_version": [version] * n,
            "clv_model_version": [version] * n,
            "scored_at": [datetime(2026, 12, 1, 6, tzinfo=UTC)] * n,
        }
    )
    _same_columns(table, customer_scores_table().column_names, (CUSTOMER_SCORES_PARTITION,))
    pq.write_table(table, partition / "part-0.parquet")


def approve_model(lake_root: Path, group: str, tmp_path: Path, approve: bool = True) -> str:
    artifact = tmp_path / "model.tar.gz"
    artifact.write_bytes(b"not a real model; the smoke test reads only the registry")
    registry = LocalRegistry(MlPaths.beside(lake_root).registry)
    version = registry.register(group, artifact, {"churn_auc": 0.8})
    if approve:
        registry.approve(group, version.version)
    return version.version
