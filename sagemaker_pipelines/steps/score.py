"""Score step: every customer with the approved bundle -> customer_scores/as_of=YYYY-MM-DD/,
replacing that day only; on S3 the day's partition is registered in the Glue catalog table,
and with --database-secret the day is upserted into the OLTP table ml.customer_scores.

Given a model folder (--model), the step scores with it; given the churn and CLV groups
(--churn-group, --clv-group, as the scoring pipeline runs it), it finds their latest Approved
packages itself: in the SageMaker Model Registry, or, run by the local pipeline interpreter,
in the LocalRegistry folder named by LOCAL_MODEL_REGISTRY.
"""

from __future__ import annotations

import sys
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import argparse
import os
import tempfile
from dataclasses import replace
from datetime import datetime, timezone

import pandas as pd

from contracts.lake import CUSTOMER_SCORES_PARTITION
from sagemaker_pipelines.models.btyd import FitError, InsufficientDataError
from sagemaker_pipelines.models.bundle import ARCHIVE_FILE, ModelBundle, load_bundle
from sagemaker_pipelines.models.scoring import (
    score_customers,
    scoring_day,
    uses_extra,
    uses_service,
)
from sagemaker_pipelines.models.transactions import PeriodError
from sagemaker_pipelines.registry import LocalRegistry, ModelVersion, SageMakerRegistry
from sagemaker_pipelines.steps import LOCAL_REGISTRY_VARIABLE
from sagemaker_pipelines.steps.common import (
    read_features,
    read_folder,
    read_order_history,
    refuse,
)
from sagemaker_pipelines.steps.lake_io import CatalogTable, has_parquet, is_s3, write_partition
from sagemaker_pipelines.steps.oltp_scores import (
    DATABASE_TABLE,
    connect_with_secret,
    upsert_scores,
)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", type=Path, help="folder with model.tar.gz or model.joblib")
    parser.add_argument("--churn-group", help="model package group of the churn model")
    parser.add_argument("--clv-group", help="model package group of the CLV model")
    parser.add_argument("--model-version", default="", help="version recorded with --model")
    parser.add_argument("--orders", required=True, help="the raw orders extract (folder or s3://)")
    parser.add_argument("--tickets", default="", help="the raw support_tickets extract")
    parser.add_argument("--features", default="", help="the customer_features mart")
    parser.add_argument(
        "--rfm-segments",
        default="",
        help="the mart_rfm_segments mart (optional; its latest as_of is used)",
    )
    parser.add_argument("--as-of", default="", help="YYYY-MM-DD; empty: today (UTC)")
    parser.add_argument("--output", required=True, help="the customer_scores dataset folder")
    parser.add_argument(
        "--catalog-database", default="", help="Glue database of the scores table (s3:// only)"
    )
    parser.add_argument("--catalog-table", default="", help="its customer_scores table")
    parser.add_argument(
        "--database-secret",
        default="",
        help="RDS secret of the OLTP database: the day is upserted into ml.customer_scores",
    )
    args = parser.parse_args(argv)
    if (args.model is None) == (args.churn_group is None or args.clv_group is None):
        parser.error("give either --model or both --churn-group and --clv-group")
    if bool(args.catalog_database) != bool(args.catalog_table):
        parser.error("give both --catalog-database and --catalog-table, or neither")
    if args.catalog_database and not is_s3(args.output):
        parser.error("a catalog table needs an s3:// --output")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.model is not None:
        bundle = load_bundle(args.model)
        versions = (args.model_version or bundle.trained_at.isoformat(),) * 2
    else:
        bundle, versions = _approved_bundle(args.churn_group, args.clv_group)
    as_of = pd.Timestamp(args.as_of or datetime.now(timezone.utc).date()).normalize()
    log, service = read_order_history(args.orders, args.tickets if uses_service(bundle) else None)
    features = read_features(args.features)
    day = scoring_day(log, as_of)
    extra = features.get(day)
    if uses_extra(bundle) and extra is None:
        refuse(f"the model needs customer_features at {day.date()}")
    if uses_service(bundle) and service is None:
        refuse(f"the model needs the support_tickets extract; none under {args.tickets}")
    # Every customer the latest mart lists is scored, those without an order as new ones.
    customers = features[max(features)]["user_id"] if features else []
    try:
        scores = score_customers(
            bundle,
            log,
            as_of,
            churn_model_version=versions[0],
            clv_model_version=versions[1],
            scored_at=datetime.now(timezone.utc),
            service=service,
            extra=extra,
            rfm_segments=_rfm_segments(args.rfm_segments),
            customers=customers,
        )
    except (InsufficientDataError, FitError, PeriodError) as error:
        refuse(f"cannot score: {error}")
    catalog = (
        CatalogTable(args.catalog_database, args.catalog_table) if args.catalog_database else None
    )
    written = write_partition(
        scores, args.output, CUSTOMER_SCORES_PARTITION, as_of.date().isoformat(), catalog
    )
    registered = f", partition registered in {catalog.database}.{catalog.table}" if catalog else ""
    print(f"scored {len(scores)} customers as of {as_of.date()} into {written}{registered}")
    if args.database_secret:
        connection = connect_with_secret(args.database_secret)
        try:
            rows = upsert_scores(connection, scores, as_of.date().isoformat())
        finally:
            connection.close()
        print(f"upserted {rows} rows into {DATABASE_TABLE}")


def _rfm_segments(folder: str) -> pd.Series | None:
    """segment per user_id from the mart's latest as_of, or None without the mart."""
    if not has_parquet(folder):
        return None
    mart = read_folder(folder, ["user_id", "segment", "as_of"])
    latest = mart[mart["as_of"].astype(str) == mart["as_of"].astype(str).max()]
    return latest.set_index("user_id")["segment"]


def _approved_bundle(churn_group: str, clv_group: str) -> tuple[ModelBundle, tuple[str, str]]:
    """The churn model of the churn group's latest Approved package and the CLV models of
    the CLV group's (the same artifact unless one group was approved on its own)."""
    registry = _registry()
    churn, clv = registry.latest_approved(churn_group), registry.latest_approved(clv_group)
    churn_bundle, clv_bundle = _download(churn), _download(clv)
    bundle = replace(churn_bundle, bgnbd=clv_bundle.bgnbd, gamma_gamma=clv_bundle.gamma_gamma)
    return bundle, (churn.version, clv.version)


def _registry() -> LocalRegistry | SageMakerRegistry:
    local = os.environ.get(LOCAL_REGISTRY_VARIABLE)
    if local:
        return LocalRegistry(Path(local))
    import boto3

    return SageMakerRegistry(boto3.client("sagemaker"))


def _download(version: ModelVersion) -> ModelBundle:
    if not is_s3(version.artifact):
        return load_bundle(Path(version.artifact).parent)
    import boto3

    bucket, _, key = version.artifact.removeprefix("s3://").partition("/")
    with tempfile.TemporaryDirectory() as folder:
        boto3.client("s3").download_file(bucket, key, str(Path(folder) / ARCHIVE_FILE))
        return load_bundle(Path(folder))


if __name__ == "__main__":
    main()
