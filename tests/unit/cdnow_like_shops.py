"""Simulated shops whose customers behave like CDNOW's (the published BG/NBD and Gamma-Gamma
parameters, per week), starting 2024-01-01: the dated order logs the ML tests train on."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from sagemaker_pipelines.models.btyd import BgNbd, GammaGamma
from sagemaker_pipelines.models.simulated_log import SimulatedLog, simulate_log
from sagemaker_pipelines.models.transactions import AMOUNT, CUSTOMER, DATE

CDNOW_BGNBD = BgNbd(r=0.243, alpha=4.414, a=0.793, b=2.426)
CDNOW_GAMMA_GAMMA = GammaGamma(p=6.25, q=3.74, v=15.44)


def cdnow_like_shop(customers: int, acquisition_days: int, end: str, seed: int) -> SimulatedLog:
    """`customers` acquired uniformly over `acquisition_days`, observed until before `end`."""
    return simulate_log(
        CDNOW_BGNBD,
        CDNOW_GAMMA_GAMMA,
        customers,
        "2024-01-01",
        acquisition_days,
        end,
        np.random.default_rng(seed),
        unit_days=7,
    )


REFUND_AFTER = pd.Timedelta(days=3, hours=6)


def write_raw_orders(
    shop: SimulatedLog, folder: Path, cancelled_every: int = 25, refunded_every: int = 40
) -> None:
    """The shop's orders as the lake's raw OLTP extract of `orders`: a full batch in which
    every `cancelled_every`-th order is still 'placed', and a later batch cancelling them
    (so only the latest version per id counts), plus one cancelled order per such id. Every
    `refunded_every`-th order was refunded REFUND_AFTER its placement."""
    log = shop.log
    placed_at = log[DATE] + pd.Timedelta(hours=12)
    refunded = np.arange(len(log)) % refunded_every == 0
    orders = pd.DataFrame(
        {
            "id": np.arange(1, len(log) + 1, dtype=np.int64),
            "user_id": log[CUSTOMER].astype(np.int64),
            "status": "delivered",
            "total": log[AMOUNT].round(2),
            "placed_at": placed_at,
            "refunded_at": placed_at.where(refunded) + REFUND_AFTER,
            "updated_at": placed_at,
        }
    )
    placed = orders.iloc[::cancelled_every].assign(
        id=lambda frame: frame["id"] + len(log), refunded_at=pd.NaT
    )
    later = placed.assign(
        status="cancelled", updated_at=placed["updated_at"] + pd.Timedelta(days=1)
    )
    first_batch = pd.concat([orders, placed.assign(status="placed")], ignore_index=True)
    for batch, frame in (("full", first_batch), ("after-1", later)):
        path = folder / f"extract_batch={batch}" / "part-00000.parquet"
        path.parent.mkdir(parents=True, exist_ok=True)
        frame.to_parquet(path, index=False)
