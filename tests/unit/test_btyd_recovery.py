"""Fitting customers simulated from known parameters gives those parameters back.

Tolerances are three standard deviations of the relative error measured over 20 seeds of the
same design (50,000 customers observed 26 to 104 weeks, CDNOW's parameters). Measured mean
and standard deviation of the relative errors:
  BG/NBD       r +0.1% sd 0.8%, alpha +0.2% sd 1.5%, a +1.0% sd 3.3%, b +2.0% sd 5.0%
  Gamma-Gamma  p +0.6% sd 3.1%, q -0.3% sd 1.2%,     v -0.8% sd 3.9%
"""

from __future__ import annotations

import numpy as np
import pytest

from sagemaker_pipelines.models.btyd import BgNbd, GammaGamma, fit_bgnbd, fit_gamma_gamma
from sagemaker_pipelines.models.simulation import simulate_bgnbd, simulate_mean_spend

CUSTOMERS = 50_000
TRUE_BGNBD = BgNbd(r=0.243, alpha=4.414, a=0.793, b=2.426)
TRUE_GAMMA_GAMMA = GammaGamma(p=6.25, q=3.74, v=15.44)


def test_bgnbd_and_gamma_gamma_recover_their_parameters() -> None:
    rng = np.random.default_rng(2005)
    age = rng.uniform(26, 104, CUSTOMERS)
    frequency, recency = simulate_bgnbd(TRUE_BGNBD, age, rng)
    bgnbd = fit_bgnbd(frequency, recency, age).params
    assert bgnbd.r == pytest.approx(TRUE_BGNBD.r, rel=0.03)
    assert bgnbd.alpha == pytest.approx(TRUE_BGNBD.alpha, rel=0.05)
    assert bgnbd.a == pytest.approx(TRUE_BGNBD.a, rel=0.10)
    assert bgnbd.b == pytest.approx(TRUE_BGNBD.b, rel=0.15)

    spend = fit_gamma_gamma(frequency, simulate_mean_spend(TRUE_GAMMA_GAMMA, frequency, rng))
    assert spend.params.p == pytest.approx(TRUE_GAMMA_GAMMA.p, rel=0.10)
    assert spend.params.q == pytest.approx(TRUE_GAMMA_GAMMA.q, rel=0.04)
    assert spend.params.v == pytest.approx(TRUE_GAMMA_GAMMA.v, rel=0.12)


def test_the_simulator_agrees_with_the_models_expectations() -> None:
    """Mean simulated purchases in 52 weeks against E[X(52)], and mean spend against E[Z],
    within four standard errors: checks the simulator and the formulas against each other."""
    rng = np.random.default_rng(7)
    age = np.full(200_000, 52.0)
    frequency, recency = simulate_bgnbd(TRUE_BGNBD, age, rng)
    assert ((recency > 0) == (frequency > 0)).all()
    assert (recency <= age).all()
    standard_error = frequency.std() / np.sqrt(frequency.size)
    assert abs(frequency.mean() - TRUE_BGNBD.expected_purchases(52.0)) < 4 * standard_error

    ones = np.ones(200_000)
    spend = simulate_mean_spend(TRUE_GAMMA_GAMMA, ones, rng)
    standard_error = spend.std() / np.sqrt(spend.size)
    assert abs(spend.mean() - TRUE_GAMMA_GAMMA.population_mean_spend) < 4 * standard_error
