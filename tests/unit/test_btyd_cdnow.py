"""BG/NBD and Gamma-Gamma on CDNOW, against the published figures and against lifetimes.

The published values are Fader, Hardie and Lee (2005) for BG/NBD (r, alpha, a, b and the
log-likelihood -9582.4) and Fader, Hardie and Lee (2005b) for Gamma-Gamma (p, q, v), both
fitted on the 1/10th sample calibrated to 1997-09-30 in weeks. lifetimes (a test-only
dependency) is the oracle for every per-customer quantity, given the same parameters.
"""

from __future__ import annotations

from importlib import resources

import numpy as np
import pandas as pd
import pytest
from lifetimes import BetaGeoFitter, GammaGammaFitter

from sagemaker_pipelines.models import cdnow
from sagemaker_pipelines.models.btyd import (
    DAYS_PER_MONTH,
    BgNbdFit,
    GammaGammaFit,
    discounted_clv,
    fit_bgnbd,
    fit_gamma_gamma,
)
from sagemaker_pipelines.models.transactions import RfmSummary, clean_transactions, rfm_summary


@pytest.fixture(scope="module")
def sample() -> RfmSummary:
    log, _ = clean_transactions(
        cdnow.read_cdnow("sample"), duplicates="keep", date_format=cdnow.DATE_FORMAT
    )
    return rfm_summary(log, cdnow.CALIBRATION_END, cdnow.HOLDOUT_END, unit_days=cdnow.UNIT_DAYS)


@pytest.fixture(scope="module")
def customers(sample: RfmSummary) -> pd.DataFrame:
    return sample.customers


@pytest.fixture(scope="module")
def bgnbd(customers: pd.DataFrame) -> BgNbdFit:
    return fit_bgnbd(customers["frequency"], customers["recency"], customers["T"])


@pytest.fixture(scope="module")
def gamma_gamma(customers: pd.DataFrame) -> GammaGammaFit:
    return fit_gamma_gamma(customers["frequency"], customers["monetary_value"])


@pytest.fixture(scope="module")
def oracle_bgnbd(bgnbd: BgNbdFit) -> BetaGeoFitter:
    """lifetimes' BG/NBD set to our parameters, so differences are formulas, not optimizers."""
    model = BetaGeoFitter()
    params = bgnbd.params
    model.params_ = pd.Series({"r": params.r, "alpha": params.alpha, "a": params.a, "b": params.b})
    model.predict = model.conditional_expected_number_of_purchases_up_to_time  # fit() sets it
    return model


@pytest.fixture(scope="module")
def oracle_gamma_gamma(gamma_gamma: GammaGammaFit) -> GammaGammaFitter:
    model = GammaGammaFitter()
    params = gamma_gamma.params
    model.params_ = pd.Series({"p": params.p, "q": params.q, "v": params.v})
    return model


def test_the_sample_summary_has_the_papers_counts(sample: RfmSummary) -> None:
    customers = sample.customers
    assert len(customers) == 2357
    assert (customers["frequency"] > 0).sum() == 946
    assert customers["T"].max() == pytest.approx(272 / 7)
    assert sample.holdout_length == 39.0
    assert sample.new_in_holdout == 0


def test_the_summary_matches_the_papers_data(customers: pd.DataFrame) -> None:
    """Hardie's summary of the sample (x, t_x, T, mean repeat spend, two decimals), shipped
    in the lifetimes wheel beside the raw file."""
    path = (
        resources.files("lifetimes") / "datasets" / "cdnow_customers_summary_with_transactions.csv"
    )
    with path.open() as file:
        published = pd.read_csv(file, index_col="ID")
    assert (customers["frequency"] == published["x"]).all()
    np.testing.assert_allclose(customers["recency"], published["t_x"], atol=0.005)
    np.testing.assert_allclose(customers["T"], published["T"], atol=0.005)
    np.testing.assert_allclose(customers["monetary_value"], published["zbar"], atol=0.005 + 1e-9)


def test_bgnbd_reproduces_the_published_parameters(bgnbd: BgNbdFit) -> None:
    params = bgnbd.params
    assert (round(params.r, 3), round(params.alpha, 3)) == (0.243, 4.414)
    assert (round(params.a, 3), round(params.b, 3)) == (0.793, 2.426)
    assert bgnbd.log_likelihood == pytest.approx(-9582.43, abs=0.01)
    assert (bgnbd.n_customers, bgnbd.n_repeat_customers) == (2357, 946)


def test_gamma_gamma_reproduces_the_published_parameters(gamma_gamma: GammaGammaFit) -> None:
    params = gamma_gamma.params
    assert (round(params.p, 2), round(params.q, 2), round(params.v, 2)) == (6.25, 3.74, 15.44)
    assert gamma_gamma.n_customers == 946


def test_the_papers_worked_example(bgnbd: BgNbdFit) -> None:
    """E[Y(39) | x=2, t_x=30.43, T=38.86] = 1.226 in the paper (its customer 1516)."""
    expected = bgnbd.params.conditional_expected_purchases(39, 2, 30.43, 38.86)
    assert expected == pytest.approx(1.2259, abs=5e-4)


def test_log_likelihood_matches_lifetimes(bgnbd: BgNbdFit, customers: pd.DataFrame) -> None:
    params = bgnbd.params
    ours = params.log_likelihood(customers["frequency"], customers["recency"], customers["T"])
    theirs = -BetaGeoFitter._negative_log_likelihood(
        np.log([params.r, params.alpha, params.a, params.b]),
        customers["frequency"].to_numpy(),
        customers["recency"].to_numpy(),
        customers["T"].to_numpy(),
        np.ones(len(customers)),
        0.0,
    )
    assert ours.mean() == pytest.approx(theirs, rel=1e-12)
    assert ours.sum() == pytest.approx(bgnbd.log_likelihood, rel=1e-12)


def test_lifetimes_own_fit_lands_on_the_same_maximum(
    bgnbd: BgNbdFit, gamma_gamma: GammaGammaFit, customers: pd.DataFrame
) -> None:
    theirs = BetaGeoFitter().fit(customers["frequency"], customers["recency"], customers["T"])
    ours = bgnbd.params
    assert [ours.r, ours.alpha, ours.a, ours.b] == pytest.approx(list(theirs.params_), rel=1e-4)
    repeat = customers[customers["frequency"] > 0]
    spend = GammaGammaFitter().fit(repeat["frequency"], repeat["monetary_value"])
    params = gamma_gamma.params
    assert [params.p, params.q, params.v] == pytest.approx(list(spend.params_), rel=1e-4)


@pytest.mark.parametrize("t", [1.0, 13.0, 39.0, 104.0])
def test_per_customer_quantities_match_lifetimes(
    t: float, bgnbd: BgNbdFit, oracle_bgnbd: BetaGeoFitter, customers: pd.DataFrame
) -> None:
    rfm = customers["frequency"], customers["recency"], customers["T"]
    ours = bgnbd.params.conditional_expected_purchases(t, *rfm)
    theirs = oracle_bgnbd.conditional_expected_number_of_purchases_up_to_time(t, *rfm)
    np.testing.assert_allclose(ours, theirs, rtol=1e-9)
    np.testing.assert_allclose(
        bgnbd.params.p_alive(*rfm), oracle_bgnbd.conditional_probability_alive(*rfm), rtol=1e-12
    )
    assert bgnbd.params.expected_purchases(t) == pytest.approx(
        oracle_bgnbd.expected_number_of_purchases_up_to_time(t), rel=1e-9
    )


def test_heavy_buyers_stay_finite_and_match_lifetimes(
    bgnbd: BgNbdFit, oracle_bgnbd: BetaGeoFitter
) -> None:
    """Large x is where the textbook hypergeometric form overflows; ours is transformed."""
    frequency = np.array([50.0, 200.0, 500.0, 500.0])
    recency = np.array([38.0, 38.5, 38.8, 10.0])
    age = np.full(4, 38.86)
    ours = bgnbd.params.conditional_expected_purchases(39, frequency, recency, age)
    theirs = oracle_bgnbd.conditional_expected_number_of_purchases_up_to_time(
        39, frequency, recency, age
    )
    assert np.isfinite(ours).all()
    np.testing.assert_allclose(ours, theirs, rtol=1e-6)


def test_expected_spend_matches_lifetimes(
    gamma_gamma: GammaGammaFit, oracle_gamma_gamma: GammaGammaFitter, customers: pd.DataFrame
) -> None:
    frequency, value = customers["frequency"], customers["monetary_value"]
    ours = gamma_gamma.params.expected_average_spend(frequency, value)
    theirs = oracle_gamma_gamma.conditional_expected_average_profit(frequency, value)
    np.testing.assert_allclose(ours, theirs, rtol=1e-12)
    assert ours[frequency.to_numpy() == 0] == pytest.approx(
        gamma_gamma.params.population_mean_spend
    )


def test_discounted_clv_matches_lifetimes(
    bgnbd: BgNbdFit,
    gamma_gamma: GammaGammaFit,
    oracle_bgnbd: BetaGeoFitter,
    oracle_gamma_gamma: GammaGammaFitter,
    customers: pd.DataFrame,
) -> None:
    """lifetimes takes a month as 4.345 weeks and a monthly rate: we give it the same month
    (through unit_days) and the monthly rate equivalent to our annual one."""
    annual_rate = 0.12
    rfm = customers["frequency"], customers["recency"], customers["T"]
    ours = discounted_clv(
        bgnbd.params,
        gamma_gamma.params,
        *rfm,
        customers["monetary_value"],
        unit_days=DAYS_PER_MONTH / 4.345,
        horizon_months=12,
        annual_discount_rate=annual_rate,
    )
    theirs = oracle_gamma_gamma.customer_lifetime_value(
        oracle_bgnbd,
        *rfm,
        customers["monetary_value"],
        time=12,
        discount_rate=(1 + annual_rate) ** (1 / 12) - 1,
        freq="W",
    )
    np.testing.assert_allclose(ours, theirs, rtol=1e-9)
