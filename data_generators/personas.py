"""Latent customer types. They drive behaviour but are stored only as ground truth
(synthetic.customer_profiles): analytics has to rediscover them from what customers do.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Persona:
    """How one type of shopper visits, browses, buys and leaves.

    Funnel rates are per step: `add_to_cart` per product view, `checkout` per session that
    ends with a non-empty cart, `payment` per checkout started, `complete` per payment entered.
    """

    name: str
    share: float
    visits_per_week: float
    product_views: float
    add_to_cart: float
    checkout: float
    payment: float
    complete: float
    extra_quantity: float
    coupon_use: float
    churn_onset_per_day: float


PERSONAS: tuple[Persona, ...] = (
    Persona("loyal", 0.12, 2.8, 4.5, 0.065, 0.58, 0.90, 0.92, 0.35, 0.15, 0.0015),
    Persona("regular", 0.33, 1.2, 3.5, 0.045, 0.48, 0.85, 0.88, 0.20, 0.15, 0.0040),
    Persona("deal_seeker", 0.20, 1.6, 5.0, 0.034, 0.42, 0.82, 0.85, 0.15, 0.60, 0.0060),
    Persona("window_shopper", 0.15, 1.9, 6.0, 0.015, 0.32, 0.75, 0.80, 0.10, 0.20, 0.0060),
    Persona("occasional", 0.20, 0.4, 3.0, 0.052, 0.50, 0.85, 0.88, 0.15, 0.20, 0.0100),
)
# Visitors who are not signed in: they browse and fill carts but cannot place orders.
ANONYMOUS_SHOPPER = Persona("anonymous", 0.0, 0.0, 3.0, 0.020, 0.30, 0.60, 0.0, 0.10, 0.0, 0.0)

PERSONA_NAMES = tuple(p.name for p in PERSONAS)
PERSONA_SHARES = np.array([p.share for p in PERSONAS])
VISITS_PER_DAY = np.array([p.visits_per_week / 7 for p in PERSONAS])
CHURN_ONSET_PER_DAY = np.array([p.churn_onset_per_day for p in PERSONAS])
