"""What the step scripts share: reading the lake's Parquet folders (local or s3://, see
lake_io), writing outputs, and refusing bad input with one clear line and a non-zero exit
(nothing written)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import NoReturn

import pandas as pd

from sagemaker_pipelines.models.orders import ORDER_COLUMNS, placed_transactions
from sagemaker_pipelines.models.service import REFUND_COLUMNS, TICKET_COLUMNS, service_events
from sagemaker_pipelines.steps import REFUSED
from sagemaker_pipelines.steps.lake_io import has_parquet, read_dataset

SPLIT_FILE = "_split.json"
"""Beside the training examples: the run's evaluation cutoff, which the train step fits the
CLV models at (the underscore keeps Parquet readers from taking it for data)."""
FEATURES_PARTITION = "cutoff_date"
"""The customer_features mart's partition column (contracts/marts.yaml)."""


def refuse(message: str) -> NoReturn:
    """Stop the step: the reason on stderr, exit code REFUSED."""
    print(f"refused: {message}", file=sys.stderr)
    raise SystemExit(REFUSED)


def read_folder(folder: str | Path, columns: list[str] | None = None) -> pd.DataFrame:
    """Every Parquet file under `folder` (hive partition folders become columns)."""
    if not has_parquet(folder):
        refuse(f"no Parquet files under {folder}")
    return read_dataset(folder, columns)


def read_order_history(
    orders: str | Path, tickets: str | Path | None
) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """The clean placed transaction log from the raw orders extract, and the service events
    (its refunds and the raw support_tickets extract's tickets), None when `tickets` is None
    or holds no Parquet. The orders extract is read once, for both."""
    with_service = tickets is not None and has_parquet(tickets)
    refunds = [name for name in REFUND_COLUMNS if name not in ORDER_COLUMNS] if with_service else []
    raw_orders = read_folder(orders, [*ORDER_COLUMNS, *refunds])
    log, _ = placed_transactions(raw_orders)
    if not with_service:
        return log, None
    return log, service_events(raw_orders, read_folder(tickets, list(TICKET_COLUMNS)))


def read_features(folder: str | Path) -> dict[pd.Timestamp, pd.DataFrame]:
    """The customer_features mart by cutoff day; empty when the folder holds no Parquet."""
    if not has_parquet(folder):
        return {}
    mart = read_dataset(folder)
    days = pd.to_datetime(mart[FEATURES_PARTITION].astype(str))
    return {
        day: part.drop(columns=FEATURES_PARTITION).reset_index(drop=True)
        for day, part in mart.groupby(days)
    }


def write_parquet(frame: pd.DataFrame, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_parquet(path, index=False)
