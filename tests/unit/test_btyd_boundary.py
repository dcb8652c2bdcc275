"""BG/NBD fits whose maximum lies at the parameters' boundary are accepted, and predict the limit.

Customers who never drop out (dropout probability 0) drive the fit to a -> 0: the model
becomes the Poisson-gamma (NBD) model, whose rate parameters and expectations are computed
here independently of btyd.py. A small sample of them may instead drive a and b to infinity
together, every customer sharing one small dropout probability p = a / (a + b): there the
expectations are those of a fixed p, also written out here. Both designs raised FitError
before boundary fits were accepted (the optimizer stopped on the flat ridge with a gradient
just above its interior tolerance).
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import optimize, special

from sagemaker_pipelines.models.btyd import fit_bgnbd

HORIZON = 90.0


def _never_dropping_out(seed: int, customers: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(frequency, recency, T) in whole days of customers buying at Gamma(0.5, 30) rates for
    30 to 365 days without ever leaving: the last of n purchases in (0, T] is at T * Beta(n, 1)."""
    rng = np.random.default_rng(seed)
    age = rng.integers(30, 366, customers).astype(np.float64)
    purchases = rng.poisson(rng.gamma(0.5, 1 / 30, customers) * age).astype(np.float64)
    last = np.ceil(age * rng.beta(np.maximum(purchases, 1), 1))
    recency = np.where(purchases > 0, np.minimum(last, age), 0.0)
    return purchases, recency, age


def _nbd_fit(frequency: np.ndarray, age: np.ndarray) -> tuple[float, float]:
    """Maximum-likelihood (r, alpha) of the Poisson-gamma model of counts over each age."""

    def negative_log_likelihood(log_params: np.ndarray) -> float:
        r, alpha = np.exp(log_params)
        return -float(
            np.sum(
                special.gammaln(r + frequency)
                - special.gammaln(r)
                + r * np.log(alpha)
                - (r + frequency) * np.log(alpha + age)
            )
        )

    result = optimize.minimize(
        negative_log_likelihood,
        np.zeros(2),
        method="Nelder-Mead",
        options={"xatol": 1e-10, "fatol": 1e-12, "maxiter": 5000},
    )
    r, alpha = np.exp(result.x)
    return float(r), float(alpha)


def test_customers_who_never_drop_out_fit_the_nbd_limit() -> None:
    frequency, recency, age = _never_dropping_out(seed=4, customers=300)
    fit = fit_bgnbd(frequency, recency, age)
    model = fit.params
    assert model.a / (model.a + model.b) < 1e-12

    r, alpha = _nbd_fit(frequency, age)
    assert model.r == pytest.approx(r, rel=1e-4)
    assert model.alpha == pytest.approx(alpha, rel=1e-4)
    assert model.p_alive(frequency, recency, age) == pytest.approx(1.0, abs=1e-6)
    nbd_expectation = (r + frequency) / (alpha + age) * HORIZON
    expected = model.conditional_expected_purchases(HORIZON, frequency, recency, age)
    np.testing.assert_allclose(expected, nbd_expectation, rtol=1e-4)


def test_a_shared_dropout_probability_fits_with_finite_predictions() -> None:
    frequency, recency, age = _never_dropping_out(seed=8, customers=150)
    model = fit_bgnbd(frequency, recency, age).params
    assert model.a > 1e3
    assert model.b > 1e5

    p = model.a / (model.a + model.b)
    alive = model.p_alive(frequency, recency, age)
    shrink = ((model.alpha + age) / (model.alpha + age + p * HORIZON)) ** (model.r + frequency)
    fixed_p_expectation = alive * (1 - shrink) / p
    expected = model.conditional_expected_purchases(HORIZON, frequency, recency, age)
    assert np.isfinite(expected).all()
    np.testing.assert_allclose(expected, fixed_p_expectation, rtol=1e-4)
