"""BG/NBD and Gamma-Gamma ("buy till you die") models, fitted by maximum likelihood.

The likelihoods are written out here over numpy and scipy rather than taken from a library:
lifetimes is archived and pymc-marketing pulls in pymc and pytensor, and the SageMaker image
these models run in cannot pip install anything. The tests cross-check every quantity against
lifetimes (a test-only dependency) and against the published CDNOW figures.

Time is in whatever unit the RFM summary used (weeks for CDNOW, days for the shop); only the
CLV needs to know how long that unit is. References: Fader, Hardie and Lee (2005), "Counting
your customers the easy way", Marketing Science 24(2), for BG/NBD; Fader, Hardie and Lee
(2005), "RFM and CLV: using iso-value curves", Journal of Marketing Research 42(4), and
Fader and Hardie (2013), "The Gamma-Gamma model of monetary value", for Gamma-Gamma.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy import optimize, special

FloatArray = NDArray[np.float64]

MIN_REPEAT_CUSTOMERS = 10
"""Fewer customers with a repeat purchase than this leave the dropout process unidentified."""

DAYS_PER_MONTH = 365.25 / 12


class InsufficientDataError(ValueError):
    """Too few customers (or repeat customers) to fit a model."""


class FitError(RuntimeError):
    """The optimizer did not converge to a finite maximum of the likelihood."""


def _rfm(
    frequency: ArrayLike, recency: ArrayLike, age: ArrayLike
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """The three arrays as floats of one shape, refusing values no RFM summary can produce."""
    x, t_x, big_t = np.broadcast_arrays(
        np.asarray(frequency, dtype=np.float64),
        np.asarray(recency, dtype=np.float64),
        np.asarray(age, dtype=np.float64),
    )
    checks = {
        "frequency is not a whole number >= 0": ~((x >= 0) & (np.floor(x) == x)),
        "recency is outside [0, T]": ~((t_x >= 0) & (t_x <= big_t)),
        "recency is not 0 where frequency is 0": (x == 0) & (t_x != 0),
    }
    for problem, bad in checks.items():
        if bad.any():
            raise ValueError(f"{problem} for {int(bad.sum())} customer(s)")
    return x, t_x, big_t


@dataclass(frozen=True, slots=True)
class BgNbd:
    """BG/NBD parameters: purchase rates ~ Gamma(r, alpha), dropout probabilities ~ Beta(a, b).

    Every method is vectorized over customers (numpy broadcasting).
    """

    r: float
    alpha: float
    a: float
    b: float

    def log_likelihood(
        self, frequency: ArrayLike, recency: ArrayLike, age: ArrayLike
    ) -> FloatArray:
        """Each customer's log-likelihood of (x, t_x, T): equation (6) of the 2005 paper."""
        return self._log_likelihood_and_gradient(*_rfm(frequency, recency, age))[0]

    def _log_likelihood_and_gradient(
        self, x: FloatArray, t_x: FloatArray, big_t: FloatArray
    ) -> tuple[FloatArray, FloatArray]:
        """Per-customer log-likelihood and its gradient in (log r, log alpha, log a, log b).

        The likelihood is common * (alive throughout + died after the last purchase); the
        gradient of the log of the sum weighs each term's gradient by its share.
        """
        r, alpha, a, b = self.r, self.alpha, self.a, self.b
        common = (
            special.gammaln(r + x)
            - special.gammaln(r)
            + r * np.log(alpha)
            + special.betaln(a, b + x)
            - special.betaln(a, b)
        )
        alive = -(r + x) * np.log(alpha + big_t)
        b_last = b + np.maximum(x, 1) - 1
        died = np.where(x > 0, np.log(a) - np.log(b_last) - (r + x) * np.log(alpha + t_x), -np.inf)
        log_likelihood = common + np.logaddexp(alive, died)
        died_share = special.expit(died - alive)
        alive_share = 1 - died_share

        psi_ab, psi_abx = special.digamma(a + b), special.digamma(a + b + x)
        d_r = (
            special.digamma(r + x)
            - special.digamma(r)
            + np.log(alpha)
            - alive_share * np.log(alpha + big_t)
            - died_share * np.log(alpha + t_x)
        )
        d_alpha = r / alpha - (r + x) * (alive_share / (alpha + big_t) + died_share / (alpha + t_x))
        d_a = psi_ab - psi_abx + died_share / a
        d_b = special.digamma(b + x) - special.digamma(b) + psi_ab - psi_abx - died_share / b_last
        gradient = np.column_stack([d_r * r, d_alpha * alpha, d_a * a, d_b * b])
        return log_likelihood, gradient

    def p_alive(self, frequency: ArrayLike, recency: ArrayLike, age: ArrayLike) -> FloatArray:
        """P(still active at T | x, t_x, T); 1 for customers who never repeated (the model's
        assumption that dropout happens only right after a repeat purchase)."""
        return self._p_alive(*_rfm(frequency, recency, age))

    def _p_alive(self, x: FloatArray, t_x: FloatArray, big_t: FloatArray) -> FloatArray:
        log_odds_dead = (
            np.log(self.a)
            - np.log(self.b + np.maximum(x, 1) - 1)
            + (self.r + x) * (np.log(self.alpha + big_t) - np.log(self.alpha + t_x))
        )
        return np.where(x > 0, special.expit(-log_odds_dead), 1.0)

    def expected_purchases(self, t: ArrayLike) -> FloatArray:
        """E[X(t)]: expected repeat purchases in t of a customer picked at random when acquired."""
        t = np.asarray(t, dtype=np.float64)
        zero = np.zeros_like(t)
        return self._expected_alive_purchases(t, zero, zero)

    def conditional_expected_purchases(
        self, t: ArrayLike, frequency: ArrayLike, recency: ArrayLike, age: ArrayLike
    ) -> FloatArray:
        """E[Y(t) | x, t_x, T]: expected purchases in the next t after T (equation (10))."""
        x, t_x, big_t = _rfm(frequency, recency, age)
        t = np.asarray(t, dtype=np.float64)
        return self._expected_alive_purchases(t, x, big_t) * self._p_alive(x, t_x, big_t)

    def _expected_alive_purchases(
        self, t: ArrayLike, x: FloatArray, big_t: FloatArray
    ) -> FloatArray:
        """Expected purchases in the next t given alive at T after x repeats.

        Equation (10)'s hypergeometric term times ((alpha+T)/(alpha+T+t))^(r+x) is rewritten
        with Euler's transformation, 2F1(A,B;C;z) = (1-z)^(C-A-B) 2F1(C-A,C-B;C;z): the power
        becomes (1-z)^(a-1) and the function's first two arguments no longer grow with x, so
        heavy buyers neither overflow nor lose precision. Near the boundary where a and b run to
        infinity together (a fit in which every customer has the same dropout probability) the
        transformed function overflows while its power underflows; there the untransformed
        product, whose arguments then stay tame, is used instead.
        """
        r, alpha, a, b = self.r, self.alpha, self.a, self.b
        z = t / (alpha + big_t + t)
        with np.errstate(invalid="ignore", over="ignore"):
            tail = (1 - z) ** (a - 1) * special.hyp2f1(a + b - 1 - r, a - 1, a + b + x - 1, z)
        if not np.isfinite(tail).all():
            direct = (1 - z) ** (r + x) * special.hyp2f1(r + x, b + x, a + b + x - 1, z)
            tail = np.where(np.isfinite(tail), tail, direct)
        return (a + b + x - 1) / (a - 1) * (1 - tail)


@dataclass(frozen=True, slots=True)
class BgNbdFit:
    """A BG/NBD fit: the parameters, the maximized total log-likelihood and the sample size."""

    params: BgNbd
    log_likelihood: float
    n_customers: int
    n_repeat_customers: int


@dataclass(frozen=True, slots=True)
class GammaGamma:
    """Gamma-Gamma spend parameters: a transaction's value ~ Gamma(p, nu), nu ~ Gamma(q, v).

    Assumes spend is independent of purchase frequency (check the correlation before use).
    """

    p: float
    q: float
    v: float

    def log_likelihood(self, frequency: ArrayLike, monetary_value: ArrayLike) -> FloatArray:
        """Each repeat customer's log-density of their mean spend over x transactions."""
        x = np.asarray(frequency, dtype=np.float64)
        m = np.asarray(monetary_value, dtype=np.float64)
        if ((x <= 0) | (m <= 0)).any():
            raise ValueError("the Gamma-Gamma likelihood needs frequency > 0 and spend > 0")
        return self._log_likelihood_and_gradient(x, m)[0]

    def _log_likelihood_and_gradient(
        self, x: FloatArray, m: FloatArray
    ) -> tuple[FloatArray, FloatArray]:
        """Per-customer log-likelihood and its gradient in (log p, log q, log v)."""
        p, q, v = self.p, self.q, self.v
        px = p * x
        log_total = np.log(x * m + v)
        log_likelihood = (
            special.gammaln(px + q)
            - special.gammaln(px)
            - special.gammaln(q)
            + q * np.log(v)
            + (px - 1) * np.log(m)
            + px * np.log(x)
            - (px + q) * log_total
        )
        psi_pxq = special.digamma(px + q)
        d_p = x * (psi_pxq - special.digamma(px) + np.log(m) + np.log(x) - log_total)
        d_q = psi_pxq - special.digamma(q) + np.log(v) - log_total
        d_v = q / v - (px + q) / (x * m + v)
        return log_likelihood, np.column_stack([d_p * p, d_q * q, d_v * v])

    @property
    def population_mean_spend(self) -> float:
        """E[Z]: the mean transaction value over all customers (needs q > 1)."""
        return self.p * self.v / (self.q - 1)

    def expected_average_spend(self, frequency: ArrayLike, monetary_value: ArrayLike) -> FloatArray:
        """E[Z | x, m_x]: the posterior mean transaction value, shrinking m_x towards the
        population mean; customers with no repeat purchase get the population mean."""
        x = np.asarray(frequency, dtype=np.float64)
        m = np.asarray(monetary_value, dtype=np.float64)
        m = np.where(x > 0, m, 0.0)
        return self.p * (self.v + x * m) / (self.p * x + self.q - 1)


@dataclass(frozen=True, slots=True)
class GammaGammaFit:
    """A Gamma-Gamma fit: the parameters, the maximized log-likelihood and the customers used."""

    params: GammaGamma
    log_likelihood: float
    n_customers: int


LogLikelihoodAndGradient = Callable[[FloatArray], tuple[FloatArray, FloatArray]]


GRADIENT_TOLERANCE = 1e-6
"""Largest gradient of the mean log-likelihood in the log-parameters accepted as a maximum;
for a fit at the boundary, relative to the likelihood's size."""

RELATIVE_TOLERANCE = 1e-8
"""Largest share of the likelihood a restart may still gain for a boundary fit to count as
converged (for 1,000 customers at a mean log-likelihood of -5, 5e-5 nats in total)."""


def _maximize(
    per_customer: LogLikelihoodAndGradient, weights: FloatArray, n_params: int
) -> tuple[FloatArray, float]:
    """Positive parameters maximizing the weighted mean log-likelihood, and that maximum.

    BFGS with the analytic gradient, on the parameters' logs so that no bound is needed:
    a few dozen likelihood evaluations instead of Nelder-Mead's several hundred.

    The supremum may lie at the boundary: when few customers seem to drop out, BG/NBD's
    likelihood keeps rising, by ever less, as a and b run to infinity together (every customer
    the same small dropout probability) or a runs to 0 (nobody drops out: the Poisson-gamma,
    NBD, limit). BFGS then stops on the flat ridge with precision loss and a gradient just
    above its tolerance. That is a legitimate maximum, not a failure: it is accepted once the
    likelihood has converged, a restart from that point gaining under RELATIVE_TOLERANCE of
    it with a gradient under GRADIENT_TOLERANCE relative to its size. The parameters are then
    a point far along the ridge whose predictions are the limit's to that precision; they stay
    finite, since the objective refuses any step whose arithmetic overflows.
    """

    def objective(log_params: FloatArray) -> tuple[float, FloatArray]:
        with np.errstate(all="ignore"):
            values, gradients = per_customer(np.exp(log_params))
        value, gradient = weights @ values, weights @ gradients
        if not (np.isfinite(value) and np.isfinite(gradient).all()):
            return np.inf, np.zeros(n_params)
        return -float(value), -gradient

    def run(start: FloatArray) -> optimize.OptimizeResult:
        result = optimize.minimize(
            objective, start, jac=True, method="BFGS", options={"gtol": 1e-9}
        )
        if not np.isfinite(result.fun):
            raise FitError(f"the likelihood maximization did not converge: {result.message}")
        return result

    result = run(np.zeros(n_params))
    if np.abs(result.jac).max() > GRADIENT_TOLERANCE:
        restarted = run(result.x)
        scale = max(1.0, abs(float(restarted.fun)))
        if not (
            result.fun - restarted.fun <= RELATIVE_TOLERANCE * scale
            and np.abs(restarted.jac).max() <= GRADIENT_TOLERANCE * scale
        ):
            raise FitError(f"the likelihood maximization did not converge: {restarted.message}")
        result = restarted
    return np.exp(result.x), -float(result.fun)


def fit_bgnbd(
    frequency: ArrayLike,
    recency: ArrayLike,
    age: ArrayLike,
    *,
    min_repeat_customers: int = MIN_REPEAT_CUSTOMERS,
) -> BgNbdFit:
    """Maximum-likelihood BG/NBD parameters for customers' (x, t_x, T)."""
    x, t_x, big_t = _rfm(frequency, recency, age)
    x, t_x, big_t = x.ravel(), t_x.ravel(), big_t.ravel()
    repeaters = int((x > 0).sum())
    if repeaters < min_repeat_customers:
        raise InsufficientDataError(
            f"{repeaters} of {x.size} customers bought again; "
            f"BG/NBD needs at least {min_repeat_customers}"
        )
    # Customers sharing (x, t_x, T) share a likelihood term: evaluate each distinct one once.
    counts = pd.DataFrame({"x": x, "t_x": t_x, "T": big_t}).value_counts(sort=False)
    distinct = counts.index.to_frame().to_numpy()
    weights = counts.to_numpy() / x.size

    params, mean_ll = _maximize(
        lambda params: BgNbd(*params)._log_likelihood_and_gradient(*distinct.T), weights, 4
    )
    return BgNbdFit(BgNbd(*map(float, params)), mean_ll * x.size, x.size, repeaters)


def fit_gamma_gamma(
    frequency: ArrayLike,
    monetary_value: ArrayLike,
    *,
    min_repeat_customers: int = MIN_REPEAT_CUSTOMERS,
) -> GammaGammaFit:
    """Maximum-likelihood Gamma-Gamma parameters from repeat customers' mean spend.

    Customers without a repeat purchase, or whose repeat purchases were all free, carry no
    information on spend and are left out (n_customers says how many were used).
    """
    x = np.asarray(frequency, dtype=np.float64).ravel()
    m = np.asarray(monetary_value, dtype=np.float64).ravel()
    if x.shape != m.shape:
        raise ValueError(f"frequency has {x.size} values, monetary_value {m.size}")
    used = (x > 0) & (m > 0)
    if used.sum() < min_repeat_customers:
        raise InsufficientDataError(
            f"{int(used.sum())} customers have repeat purchases with a positive value; "
            f"Gamma-Gamma needs at least {min_repeat_customers}"
        )
    x, m = x[used], m[used]
    params, mean_ll = _maximize(
        lambda params: GammaGamma(*params)._log_likelihood_and_gradient(x, m),
        np.full(x.size, 1 / x.size),
        3,
    )
    return GammaGammaFit(GammaGamma(*map(float, params)), mean_ll * x.size, x.size)


def discounted_clv(
    bgnbd: BgNbd,
    gamma_gamma: GammaGamma,
    frequency: ArrayLike,
    recency: ArrayLike,
    age: ArrayLike,
    monetary_value: ArrayLike,
    *,
    unit_days: float,
    horizon_months: int = 12,
    annual_discount_rate: float = 0.10,
) -> FloatArray:
    """Each customer's expected revenue over the next horizon_months, discounted monthly.

    Month i's expected purchases (the increase of E[Y(t) | x, t_x, T] over the month) are
    valued at the expected average spend and discounted by (1 + d)^-i, where d is the
    monthly rate equivalent to annual_discount_rate. unit_days is the length in days of the
    time unit the RFM summary used (7 for weeks).
    """
    if horizon_months < 1:
        raise ValueError(f"horizon_months must be >= 1, got {horizon_months}")
    if unit_days <= 0 or annual_discount_rate <= -1:
        raise ValueError("unit_days must be > 0 and annual_discount_rate > -1")
    x, t_x, big_t = _rfm(frequency, recency, age)
    alive = bgnbd._p_alive(x, t_x, big_t)
    month = DAYS_PER_MONTH / unit_days
    monthly_rate = (1 + annual_discount_rate) ** (1 / 12) - 1
    discounted_purchases = np.zeros(x.shape)
    purchases_so_far = np.zeros(x.shape)
    for i in range(1, horizon_months + 1):
        purchases = bgnbd._expected_alive_purchases(np.float64(i * month), x, big_t) * alive
        discounted_purchases += (purchases - purchases_so_far) / (1 + monthly_rate) ** i
        purchases_so_far = purchases
    return discounted_purchases * gamma_gamma.expected_average_spend(frequency, monetary_value)
