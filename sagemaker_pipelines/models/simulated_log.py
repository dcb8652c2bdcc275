"""Whole transaction logs drawn from known BG/NBD and Gamma-Gamma parameters.

simulation.py draws each customer's RFM summary at one age; churn needs dated orders on both
sides of a cutoff and the truth about who has left, so this draws every purchase's day and
amount and each customer's (unobservable) day of leaving. The churn tests and the evidence
in docs/ml.md use it; nothing here is fitted to shop data.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from sagemaker_pipelines.models.btyd import BgNbd, GammaGamma
from sagemaker_pipelines.models.transactions import AMOUNT, CUSTOMER, DATE


@dataclass(frozen=True)
class SimulatedLog:
    """log: customer_id, date, amount (one row per purchase, first purchases included);
    truth: per customer, acquired (first purchase day), rate (purchases per unit_days while
    active) and left (the day of the last purchase before leaving, NaT for customers still
    active at the end)."""

    log: pd.DataFrame
    truth: pd.DataFrame


def simulate_log(
    bgnbd: BgNbd,
    gamma_gamma: GammaGamma,
    customers: int,
    start: str | pd.Timestamp,
    acquisition_days: int,
    end: str | pd.Timestamp,
    rng: np.random.Generator,
    *,
    unit_days: float = 1.0,
) -> SimulatedLog:
    """Customers acquired uniformly over acquisition_days from start, observed until the day
    before end.

    Parameters are per unit_days days. While active a customer buys at a Poisson rate from
    Gamma(r, alpha) and, right after each repeat purchase, leaves with a probability from
    Beta(a, b); each purchase is worth Gamma(p, nu) with nu from Gamma(q, v). Purchase
    times fall on whole days; a customer's purchases on one day stay separate rows.
    """
    start, end = pd.Timestamp(start).normalize(), pd.Timestamp(end).normalize()
    acquired = rng.integers(0, acquisition_days, customers)
    observed = ((end - start).days - acquired) / unit_days
    if (observed <= 0).any():
        raise ValueError("every customer must be acquired before the end")
    rate = rng.gamma(bgnbd.r, 1 / bgnbd.alpha, customers)
    dropout = np.clip(rng.beta(bgnbd.a, bgnbd.b, customers), 1e-12, 1.0)
    nu = rng.gamma(gamma_gamma.q, 1 / gamma_gamma.v, customers)

    # Repeat purchases if the customer never left: Poisson(rate * observed), at sorted
    # uniform times; the customer makes the first Geometric(dropout) of them, then leaves.
    opportunities = rng.poisson(rate * observed)
    repeats_before_leaving = rng.geometric(dropout)
    made = np.minimum(opportunities, repeats_before_leaving)
    owner = np.repeat(np.arange(customers), opportunities)
    times = rng.random(owner.size) * observed[owner]
    order = np.lexsort((times, owner))
    owner, times = owner[order], times[order]
    position = np.arange(owner.size) - np.repeat(
        np.cumsum(opportunities) - opportunities, opportunities
    )
    kept = position < made[owner]
    owner, times = owner[kept], times[kept]

    days_after_acquisition = np.concatenate([np.zeros(customers), np.floor(times * unit_days)])
    who = np.concatenate([np.arange(customers), owner])
    amounts = rng.gamma(gamma_gamma.p, 1 / nu[who])
    log = pd.DataFrame(
        {
            CUSTOMER: who + 1,
            DATE: start + pd.to_timedelta(acquired[who] + days_after_acquisition, unit="D"),
            AMOUNT: amounts,
        }
    ).sort_values([DATE, CUSTOMER], kind="stable", ignore_index=True)

    left = made == repeats_before_leaving
    last_day = log.groupby(CUSTOMER)[DATE].max().to_numpy()
    truth = pd.DataFrame(
        {
            "acquired": start + pd.to_timedelta(acquired, unit="D"),
            "rate": rate,
            "left": np.where(left, last_day, np.datetime64("NaT")),
        },
        index=pd.Index(np.arange(1, customers + 1), name=CUSTOMER),
    )
    return SimulatedLog(log, truth)


def true_churn_probability(
    truth: pd.DataFrame, cutoff: str | pd.Timestamp, horizon_days: int, unit_days: float = 1.0
) -> pd.Series:
    """The best possible churn score, known only to the simulator: P(no purchase in the
    horizon_days after cutoff) given each customer's true rate and whether they have left."""
    day = pd.Timestamp(cutoff).normalize()
    gone = truth["left"].notna() & (truth["left"] <= day)
    stays_quiet = np.exp(-truth["rate"] * horizon_days / unit_days)
    return stays_quiet.where(~gone, 1.0).rename("true_churn_probability")
