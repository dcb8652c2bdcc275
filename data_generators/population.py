"""Customers: when and through which channel they signed up, who they are, what they use.

Sign-ups span the window and SIGNUP_LOOKBACK_DAYS before it, at a rate that grows over time
and dips mid-week. The channel mix drifts (paid and social grow, organic shrinks), and each
channel brings a different persona mix (affiliates bring deal seekers, referrals and direct
bring loyal customers), so acquisition channel predicts value, as it does in a real shop.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from data_generators.churn import ChurnState
from data_generators.personas import PERSONA_SHARES, VISITS_PER_DAY
from data_generators.timeline import (
    MS_PER_DAY,
    WEEKDAY_VISIT_FACTORS,
    iso_utc,
    times_of_day,
    weekday_of,
)
from data_generators.traffic import DEVICE_SHARES, TRAFFIC_SOURCES

SIGNUP_LOOKBACK_DAYS = 365
SIGNUP_GROWTH = 2.0  # sign-ups per day triple from the start of history to the window's end
ACQUISITION_MIX_START = np.array([0.34, 0.16, 0.08, 0.04, 0.14, 0.16, 0.08])
ACQUISITION_MIX_END = np.array([0.24, 0.24, 0.20, 0.04, 0.09, 0.11, 0.08])
# Persona tilt per acquisition channel (rows: TRAFFIC_SOURCES; columns: PERSONAS).
CHANNEL_PERSONA_TILT = np.array(
    [
        [1.0, 1.1, 0.9, 1.0, 1.0],
        [0.7, 0.9, 1.3, 1.1, 1.2],
        [0.6, 0.8, 1.2, 1.5, 1.3],
        [1.3, 1.2, 1.0, 0.8, 0.8],
        [1.4, 1.2, 0.8, 0.9, 0.8],
        [1.5, 1.2, 0.8, 0.8, 0.8],
        [0.6, 0.8, 1.8, 0.9, 1.1],
    ]
)
VISIT_RATE_SHAPE = 2.5  # gamma heterogeneity of visit rates within a persona (mean 1)
EMAIL_OPT_IN = 0.55
_CHUNK = 100_000

FIRST_NAMES = (
    "Olivia", "Liam", "Emma", "Noah", "Amelia", "Oliver", "Sophia", "Elijah", "Mia", "James",
    "Isabella", "Lucas", "Ava", "Mateo", "Charlotte", "Leo", "Luna", "Ethan", "Chloe", "Arjun",
    "Hana", "Kenji", "Fatima", "Omar", "Ingrid", "Lars", "Zoe", "Diego", "Priya", "Samuel",
    "Nora", "Felix", "Aisha", "Tomas", "Elena", "Marco", "Yara", "Jonas", "Maya", "Daniel",
)  # fmt: skip
LAST_NAMES = (
    "Smith", "Johnson", "Garcia", "Brown", "Miller", "Davis", "Martinez", "Lopez", "Wilson",
    "Anderson", "Taylor", "Thomas", "Moore", "Jackson", "Martin", "Lee", "Thompson", "White",
    "Harris", "Clark", "Lewis", "Walker", "Hall", "Young", "King", "Wright", "Scott", "Green",
    "Baker", "Nguyen", "Patel", "Kim", "Muller", "Rossi", "Silva", "Novak", "Berg", "Tanaka",
)  # fmt: skip
LOCATIONS = (
    ("US", ("New York", "Los Angeles", "Chicago", "Houston", "Seattle", "Austin"), 0.55),
    ("CA", ("Toronto", "Vancouver", "Montreal"), 0.10),
    ("GB", ("London", "Manchester", "Bristol"), 0.12),
    ("DE", ("Berlin", "Munich", "Hamburg"), 0.08),
    ("FR", ("Paris", "Lyon"), 0.06),
    ("AU", ("Sydney", "Melbourne"), 0.05),
    ("IE", ("Dublin", "Cork"), 0.04),
)
EMAIL_DOMAINS = ("example.com", "example.org", "example.net", "mail.example.com")


@dataclass
class Population:
    """Every customer's latent and observable attributes, as arrays indexed by id - 1."""

    signup_ms: np.ndarray
    signup_day: np.ndarray
    channel: np.ndarray
    persona: np.ndarray
    visit_rate: np.ndarray
    buy_factor: np.ndarray
    preferred_department: np.ndarray
    devices: np.ndarray  # (n, 2): primary and secondary device index
    email_opt_in: np.ndarray
    churn: ChurnState
    last_order_id: np.ndarray

    @property
    def size(self) -> int:
        return len(self.signup_ms)


def signup_day_weights(days: int, first_weekday: int) -> np.ndarray:
    """Relative sign-ups per timeline day (SIGNUP_LOOKBACK_DAYS before the window, then it).

    `first_weekday` is the weekday (Monday = 0) of the window's first day.
    """
    timeline = np.arange(-SIGNUP_LOOKBACK_DAYS, days)
    position = (timeline + SIGNUP_LOOKBACK_DAYS) / (SIGNUP_LOOKBACK_DAYS + days)
    return (1.0 + SIGNUP_GROWTH * position) * WEEKDAY_VISIT_FACTORS[(timeline + first_weekday) % 7]


def acquisition_mix(position: np.ndarray) -> np.ndarray:
    """Channel probabilities at timeline position(s) in [0, 1]: a linear drift."""
    position = np.asarray(position, dtype=float)[..., None]
    return (1 - position) * ACQUISITION_MIX_START + position * ACQUISITION_MIX_END


def build_population(
    rng: np.random.Generator,
    users: int,
    days: int,
    start_ms: int,
    n_departments: int,
    history_days: int = 0,
) -> Population:
    """Draw every customer; ids are assigned in sign-up order. `history_days` is how many
    days before the window are simulated (churn starts there)."""
    weights = signup_day_weights(days, weekday_of(start_ms))
    timeline = np.arange(-SIGNUP_LOOKBACK_DAYS, days)
    per_day = rng.multinomial(users, weights / weights.sum())
    signup_day = np.repeat(timeline, per_day).astype(np.int32)
    signup_ms = start_ms + signup_day.astype(np.int64) * MS_PER_DAY + times_of_day(rng, users)
    order = np.argsort(signup_ms, kind="stable")
    signup_ms, signup_day = signup_ms[order], signup_day[order]

    channel = np.empty(users, dtype=np.int8)
    position = (signup_day + SIGNUP_LOOKBACK_DAYS) / (SIGNUP_LOOKBACK_DAYS + days)
    for lo in range(0, users, _CHUNK):
        mix = acquisition_mix(position[lo : lo + _CHUNK])
        cumulative = np.cumsum(mix, axis=1)
        draws = rng.random(len(mix))[:, None] * cumulative[:, -1:]
        channel[lo : lo + _CHUNK] = (draws > cumulative).sum(axis=1)

    persona = np.empty(users, dtype=np.int8)
    for c in range(len(TRAFFIC_SOURCES)):
        members = np.flatnonzero(channel == c)
        probs = PERSONA_SHARES * CHANNEL_PERSONA_TILT[c]
        persona[members] = rng.choice(len(PERSONA_SHARES), size=len(members), p=probs / probs.sum())

    visit_rate = VISITS_PER_DAY[persona] * rng.gamma(VISIT_RATE_SHAPE, 1 / VISIT_RATE_SHAPE, users)
    buy_factor = np.exp(0.35 * rng.standard_normal(users) - 0.35**2 / 2)
    devices = rng.choice(len(DEVICE_SHARES), size=(users, 2), p=np.array(DEVICE_SHARES))
    return Population(
        signup_ms=signup_ms,
        signup_day=signup_day,
        channel=channel,
        persona=persona,
        visit_rate=visit_rate,
        buy_factor=buy_factor.astype(np.float32),
        preferred_department=rng.integers(0, n_departments, users).astype(np.int8),
        devices=devices.astype(np.int8),
        email_opt_in=rng.random(users) < EMAIL_OPT_IN,
        churn=ChurnState(rng, signup_day, persona, first_day=-history_days),
        last_order_id=np.zeros(users, dtype=np.int64),
    )


def user_rows(rng: np.random.Generator, population: Population) -> Iterator[tuple]:
    """Rows for the users table, drawn chunk by chunk so memory stays flat."""
    country_shares = np.array([share for _, _, share in LOCATIONS])
    for lo in range(0, population.size, _CHUNK):
        hi = min(lo + _CHUNK, population.size)
        count = hi - lo
        first = rng.integers(0, len(FIRST_NAMES), count)
        last = rng.integers(0, len(LAST_NAMES), count)
        country = rng.choice(len(LOCATIONS), size=count, p=country_shares)
        city_draw = rng.random(count)
        domain = rng.integers(0, len(EMAIL_DOMAINS), count)
        for i in range(count):
            user_id = lo + i + 1
            first_name, last_name = FIRST_NAMES[first[i]], LAST_NAMES[last[i]]
            code, cities, _ = LOCATIONS[country[i]]
            signed_up = iso_utc(int(population.signup_ms[lo + i]))
            yield (
                user_id,
                f"{first_name}.{last_name}.{user_id}@{EMAIL_DOMAINS[domain[i]]}".lower(),
                first_name,
                last_name,
                code,
                cities[int(city_draw[i] * len(cities))],
                TRAFFIC_SOURCES[population.channel[lo + i]],
                bool(population.email_opt_in[lo + i]),
                "active",
                signed_up,
                signed_up,
                signed_up,
            )
