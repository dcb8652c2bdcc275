"""Simulated shops whose customers behave like CDNOW's (the published BG/NBD and Gamma-Gamma
parameters, per week), starting 2024-01-01: the dated order logs the ML tests train on."""

from __future__ import annotations

import numpy as np

from sagemaker_pipelines.models.btyd import BgNbd, GammaGamma
from sagemaker_pipelines.models.simulated_log import SimulatedLog, simulate_log

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
