"""The ML pipelines on one machine, end to end: a generated shop's orders as the lake's raw
extract, training with a failing condition (nothing registered), training, approval through
the local registry, and scoring into the lake, the DuckDB warehouse and PostgreSQL."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import duckdb
import pandas as pd
import psycopg
import pytest

from contracts.lake import CUSTOMER_SCORES, Lake
from data_generators import GenerationSettings, generate_store
from local_platform.demo.ml import demo_parameters
from local_platform.ml_runner import (
    ConditionFailedError,
    MlPaths,
    approve,
    configured_training,
    pipeline_names,
    score,
    train,
)
from sagemaker_pipelines.registry import APPROVED, PENDING, LocalRegistry, RegistryError

STORE = GenerationSettings(users=3_000, days=365, seed=7)
NAMES = pipeline_names("test")
GROUPS = (NAMES.churn_group, NAMES.clv_group)
DEFAULTS = configured_training("dev")
# The demo's thresholds, for generated shops (this one measures AUC 0.81: docs/ml.md,
# "Pipelines locally").
THRESHOLDS = demo_parameters(DEFAULTS)
AS_OF = pd.Timestamp("2026-10-01").date()


EXTRACTS = {
    "orders": "SELECT id, user_id, status, total, placed_at, refunded_at, updated_at FROM orders",
    "support_tickets": "SELECT id, user_id, opened_at, updated_at FROM support_tickets",
}


def write_extracts(database_url: str, lake: Lake) -> None:
    """The orders and tickets tables as one full batch each of the extract job's raw layout."""
    with psycopg.connect(database_url) as connection:
        for table, query in EXTRACTS.items():
            cursor = connection.execute(query)
            rows = pd.DataFrame(cursor.fetchall(), columns=[c.name for c in cursor.description])
            folder = Path(lake.raw_table(table)) / "extract_batch=full"
            folder.mkdir(parents=True)
            rows.to_parquet(folder / "part-00000.parquet", index=False)


@pytest.fixture
def shop(migrated_database: str, tmp_path: Path) -> tuple[str, MlPaths]:
    generate_store(STORE, migrated_database, events_out=tmp_path / "events.jsonl.gz")
    paths = MlPaths.beside(tmp_path / "lake")
    write_extracts(migrated_database, paths.lake)
    return migrated_database, paths


def _buyers(database_url: str) -> int:
    with psycopg.connect(database_url) as connection:
        return connection.execute(
            "SELECT count(DISTINCT user_id) FROM orders WHERE status <> 'cancelled'"
        ).fetchone()[0]


def _database_rows(database_url: str) -> list[tuple]:
    with psycopg.connect(database_url) as connection:
        return connection.execute(
            "SELECT as_of, count(*), count(DISTINCT churn_model_version), "
            "bool_and(jsonb_array_length(top_drivers) = 3) FROM ml.customer_scores GROUP BY as_of"
        ).fetchall()


def test_train_approve_score_end_to_end(shop: tuple[str, MlPaths], tmp_path: Path) -> None:
    database_url, paths = shop
    registry = LocalRegistry(paths.registry)
    warehouse = tmp_path / "warehouse.duckdb"

    with pytest.raises(ConditionFailedError) as failed:
        train(
            paths, NAMES, DEFAULTS,
            parameters=replace(THRESHOLDS, min_churn_auc=1.01, max_churn_brier=0.0),
        )  # fmt: skip
    # The Fail step's message, its Join resolved: the metrics and the parameters given.
    message = str(failed.value)
    assert message.startswith("Not registered, a metric misses its threshold: churn AUC 0.")
    assert " (min 1.01), churn Brier " in message
    assert " (max 0.0), CLV revenue error " in message
    assert message.endswith(" (max 0.8)")
    # The condition the interpreter evaluated: AUC and Brier missed, the CLV error held.
    conditions = failed.value.__cause__.execution.conditions
    assert [o.holds for outcomes in conditions.values() for o in outcomes] == [False, False, True]
    assert registry.versions(GROUPS[0]) == registry.versions(GROUPS[1]) == []
    with pytest.raises(RegistryError):
        score(paths, NAMES, database_url=database_url, warehouse=warehouse, as_of=AS_OF)

    trained = train(paths, NAMES, DEFAULTS, parameters=THRESHOLDS)
    prepare_job = trained.run / "jobs" / "Prepare" / "processing" / "output"
    prepared = json.loads((prepare_job / "prepare.json").read_text())
    assert prepared["uses_service_history"] is True
    # With the service history the model beats both baselines on this shop (measured 0.014
    # and 0.036 above them: docs/ml.md, "Churn"); the margins asserted are half of those.
    auc = trained.evaluation["churn"]["auc"]["value"]
    baselines = trained.evaluation["churn_baselines"]
    assert auc >= 0.81  # measured 0.8301
    assert auc >= baselines["btyd_expected_purchases"]["auc"] + 0.007  # measured 0.8163
    assert auc >= baselines["recency"]["auc"] + 0.018  # measured 0.7939
    assert [(v.group, v.version, v.status) for v in trained.versions] == [
        (GROUPS[0], "1", PENDING),
        (GROUPS[1], "1", PENDING),
    ]
    assert trained.versions[0].metrics == trained.evaluation
    assert [v.status for v in approve(paths, GROUPS)] == [APPROVED, APPROVED]

    scored = score(paths, NAMES, database_url=database_url, warehouse=warehouse, as_of=AS_OF)
    buyers = _buyers(database_url)
    assert scored.version.version == "1"
    assert scored.newer_pending is None
    assert scored.scores == Path(paths.lake.curated_table(CUSTOMER_SCORES)) / "as_of=2026-10-01"
    lake_scores = pd.read_parquet(scored.scores)
    assert len(lake_scores) == buyers
    assert not lake_scores.isna().any().any()
    assert scored.warehouse_rows == scored.database_rows == buyers
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        assert connection.execute(
            "SELECT count(*), min(as_of), sum(clv_365d) FROM customer_scores"
        ).fetchone() == (buyers, AS_OF, pytest.approx(lake_scores["clv_365d"].sum()))
    assert _database_rows(database_url) == [(AS_OF, buyers, 1, True)]

    # Re-scoring the day replaces its rows; a newer pending version is reported, not used.
    train(paths, NAMES, DEFAULTS, parameters=THRESHOLDS)
    again = score(paths, NAMES, database_url=database_url, warehouse=warehouse, as_of=AS_OF)
    assert again.version.version == "1"
    assert again.newer_pending is not None
    assert again.newer_pending.version == "2"
    assert _database_rows(database_url) == [(AS_OF, buyers, 1, True)]
