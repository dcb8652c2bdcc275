"""One BTYD fit of any transaction log, the way an analyst asks for it: clean the log, summarize
it at a calibration end, fit BG/NBD and Gamma-Gamma, predict per customer and, given a holdout,
set the predicted repeat purchases beside the actual ones.

It only composes transactions.py, btyd.py and evaluation.py, so the command line and any
pipeline step get the same figures from the same calls.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from sagemaker_pipelines.models.btyd import (
    BgNbdFit,
    GammaGammaFit,
    discounted_clv,
    fit_bgnbd,
    fit_gamma_gamma,
)
from sagemaker_pipelines.models.evaluation import btyd_holdout_prediction
from sagemaker_pipelines.models.transactions import (
    CleaningReport,
    DuplicatePolicy,
    PeriodError,
    RfmSummary,
    TransactionColumns,
    clean_transactions,
    rfm_summary,
)

FREQUENCY_CAP = 7
"""Calibration frequencies from this one up share the last row of the holdout check."""


@dataclass(frozen=True)
class HoldoutCheck:
    """Predicted against actual repeat purchases (purchase days) and revenue in the holdout,
    over the customers summarized at the calibration end.

    by_frequency has one row per calibration frequency, labelled "0", "1", ... and
    "7+" (FREQUENCY_CAP and above): customers, mean actual and mean expected holdout
    purchases.
    """

    length: float
    customers: int
    actual_purchases: int
    predicted_purchases: float
    actual_revenue: float
    predicted_revenue: float
    by_frequency: pd.DataFrame

    @property
    def purchases_error(self) -> float:
        """Predicted over actual total purchases, minus one."""
        return self.predicted_purchases / self.actual_purchases - 1

    @property
    def revenue_error(self) -> float | None:
        """Predicted over actual total revenue, minus one; None when the holdout earned 0."""
        if self.actual_revenue <= 0:
            return None
        return self.predicted_revenue / self.actual_revenue - 1


@dataclass(frozen=True)
class BtydReport:
    """The fit and what it predicts.

    predictions is indexed by customer id: frequency, recency, T, monetary_value,
    expected_purchases (over horizon model units), p_alive, expected_average_spend and clv
    (discounted, over clv_months), plus holdout_frequency and holdout_revenue with a holdout.
    """

    cleaning: CleaningReport
    summary: RfmSummary
    bgnbd: BgNbdFit
    gamma_gamma: GammaGammaFit
    horizon: float
    clv_months: int
    annual_discount_rate: float
    spend_frequency_correlation: float
    """Pearson correlation of repeat frequency and mean spend over repeat customers:
    Gamma-Gamma assumes it is near 0."""
    predictions: pd.DataFrame
    holdout: HoldoutCheck | None


def fit_btyd_report(
    frame: pd.DataFrame,
    calibration_end: str | pd.Timestamp,
    holdout_end: str | pd.Timestamp | None = None,
    *,
    columns: TransactionColumns | None = None,
    unit_days: float = 1.0,
    horizon_days: float | None = None,
    clv_months: int = 12,
    annual_discount_rate: float = 0.10,
    drop_invalid: bool = False,
    duplicates: DuplicatePolicy = "raise",
    date_format: str | None = None,
) -> BtydReport:
    """Clean, summarize, fit and predict; the errors are those of the modules composed
    (TransactionsError and its subclasses, InsufficientDataError, FitError).

    Expected purchases cover the holdout when there is one, else horizon_days (required
    then). A holdout in which the calibration customers made no repeat purchase raises
    PeriodError: there is nothing to compare the predictions with.
    """
    log, cleaning = clean_transactions(
        frame, columns, drop_invalid=drop_invalid, duplicates=duplicates, date_format=date_format
    )
    summary = rfm_summary(log, calibration_end, holdout_end, unit_days=unit_days)
    if summary.holdout_length is not None:
        if horizon_days is not None:
            raise ValueError("horizon_days applies only without a holdout")
        if summary.customers["holdout_frequency"].sum() == 0:
            raise PeriodError(
                f"the holdout to {summary.holdout_end.date()} holds no purchase by the "
                f"{len(summary.customers):,} customers of the calibration period: nothing to "
                "compare the predictions with"
            )
        horizon = summary.holdout_length
    elif horizon_days is None or horizon_days <= 0:
        raise ValueError(f"without a holdout, horizon_days must be > 0, got {horizon_days}")
    else:
        horizon = horizon_days / unit_days

    customers = summary.customers
    x, t_x, big_t = customers["frequency"], customers["recency"], customers["T"]
    spend = customers["monetary_value"]
    bgnbd = fit_bgnbd(x, t_x, big_t)
    gamma_gamma = fit_gamma_gamma(x, spend)

    predictions = customers[["frequency", "recency", "T", "monetary_value"]].assign(
        expected_purchases=bgnbd.params.conditional_expected_purchases(horizon, x, t_x, big_t),
        p_alive=bgnbd.params.p_alive(x, t_x, big_t),
        expected_average_spend=gamma_gamma.params.expected_average_spend(x, spend),
        clv=discounted_clv(
            bgnbd.params,
            gamma_gamma.params,
            x,
            t_x,
            big_t,
            spend,
            unit_days=unit_days,
            horizon_months=clv_months,
            annual_discount_rate=annual_discount_rate,
        ),
    )
    holdout = None
    if summary.holdout_length is not None:
        predictions = predictions.join(customers[["holdout_frequency", "holdout_revenue"]])
        holdout = _holdout_check(summary, bgnbd, gamma_gamma)

    repeaters = (x > 0) & (spend > 0)
    with np.errstate(invalid="ignore", divide="ignore"):  # NaN when spend never varies
        correlation = float(np.corrcoef(x[repeaters], spend[repeaters])[0, 1])
    return BtydReport(
        cleaning=cleaning,
        summary=summary,
        bgnbd=bgnbd,
        gamma_gamma=gamma_gamma,
        horizon=horizon,
        clv_months=clv_months,
        annual_discount_rate=annual_discount_rate,
        spend_frequency_correlation=correlation,
        predictions=predictions,
        holdout=holdout,
    )


def _holdout_check(
    summary: RfmSummary, bgnbd: BgNbdFit, gamma_gamma: GammaGammaFit
) -> HoldoutCheck:
    customers = summary.customers
    actual = customers["holdout_frequency"]
    purchases, revenue = btyd_holdout_prediction(summary, bgnbd.params, gamma_gamma.params)
    groups = customers["frequency"].clip(upper=FREQUENCY_CAP)
    by_frequency = (
        pd.DataFrame({"frequency": groups, "actual": actual, "expected": purchases})
        .groupby("frequency")
        .agg(customers=("actual", "size"), actual=("actual", "mean"), expected=("expected", "mean"))
    )
    by_frequency.index = [
        f"{value}+" if value == FREQUENCY_CAP else str(value) for value in by_frequency.index
    ]
    by_frequency.index.name = "frequency"
    return HoldoutCheck(
        length=float(summary.holdout_length),
        customers=len(customers),
        actual_purchases=int(actual.sum()),
        predicted_purchases=float(purchases.sum()),
        actual_revenue=float(customers["holdout_revenue"].sum()),
        predicted_revenue=float(revenue.sum()),
        by_frequency=by_frequency,
    )
