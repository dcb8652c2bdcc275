"""Customers drawn from known BG/NBD and Gamma-Gamma parameters.

The tests fit these to check that the likelihoods recover the parameters they came from, and
the benchmark scores them; nothing here is fitted to shop data.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from sagemaker_pipelines.models.btyd import BgNbd, FloatArray, GammaGamma


def simulate_bgnbd(
    params: BgNbd, age: ArrayLike, rng: np.random.Generator
) -> tuple[FloatArray, FloatArray]:
    """(frequency, recency) of customers observed for `age` (T) after their first purchase.

    Each customer gets a purchase rate from Gamma(r, alpha) and a dropout probability from
    Beta(a, b); they would make Poisson(rate * T) repeat purchases in (0, T] if they never left,
    and leave right after a Geometric(p)-th repeat purchase. Given n purchases in (0, T], the
    times are sorted uniforms, so the x-th falls at T * Beta(x, n - x + 1).
    """
    big_t = np.asarray(age, dtype=np.float64)
    rate = rng.gamma(params.r, 1 / params.alpha, big_t.shape)
    dropout = np.clip(rng.beta(params.a, params.b, big_t.shape), 1e-12, 1.0)
    opportunities = rng.poisson(rate * big_t)
    purchases_before_leaving = rng.geometric(dropout)
    frequency = np.minimum(opportunities, purchases_before_leaving)
    last = rng.beta(np.maximum(frequency, 1), opportunities - frequency + 1)
    recency = np.where(frequency > 0, big_t * last, 0.0)
    return frequency.astype(np.float64), recency


def simulate_mean_spend(
    params: GammaGamma, frequency: ArrayLike, rng: np.random.Generator
) -> FloatArray:
    """Each customer's mean value over `frequency` transactions (0 where frequency is 0).

    A customer's transactions are Gamma(p, nu) with nu from Gamma(q, v), so their total over
    x transactions is Gamma(p * x, nu).
    """
    x = np.asarray(frequency, dtype=np.float64)
    nu = rng.gamma(params.q, 1 / params.v, x.shape)
    total = rng.gamma(np.where(x > 0, params.p * x, 1.0), 1 / nu)
    return np.where(x > 0, total / np.maximum(x, 1), 0.0)
