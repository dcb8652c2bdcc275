"""Who visits on a given day, when, and why: the day's plan, drawn in bulk with numpy.

Signed-in customers visit as a Poisson process whose rate is their own visit rate times
the weekday factor times their engagement (which falls during a decline). Visitors who
never sign in come in proportion to customer traffic. New customers come on the minute
they sign up; customers in decline write in; after-sales visits come when their orders
scheduled them. The session behaviour model then plays each visit.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

import numpy as np

from data_generators.churn import COMPLAINTS_PER_DAY_DECLINING
from data_generators.population import Population
from data_generators.timeline import WEEKDAY_VISIT_FACTORS, times_of_day, weekday_of

# Sessions of visitors who never sign in, per expected signed-in session.
ANONYMOUS_SESSION_RATIO = 0.45
ANONYMOUS = -1  # the user index of a visitor who is not signed in


class VisitKind(IntEnum):
    """Why a visit happens; the day plan stores it per visit and the generator plays it."""

    BROWSE = 0
    SIGNUP = 1
    AFTERCARE = 2
    COMPLAINT = 3


@dataclass(frozen=True)
class DayPlan:
    """One row per visit: start time, user index (ANONYMOUS if none), kind, and for
    after-sales visits the index into that day's list of plans (else -1)."""

    starts: np.ndarray
    users: np.ndarray
    kinds: np.ndarray
    refs: np.ndarray

    def in_start_order(self) -> list[int]:
        return np.argsort(self.starts, kind="stable").tolist()


def plan_day(
    rng: np.random.Generator,
    people: Population,
    day: int,
    day_ms: int,
    aftercare_visits: list[tuple[int, int]],
) -> DayPlan:
    """The visits of window day `day` (starting at `day_ms`); `aftercare_visits` holds
    (user index, start ms) of after-sales visits due that day."""
    churn = people.churn
    alive = np.flatnonzero(churn.alive(day))
    rates = (
        people.visit_rate[alive]
        * WEEKDAY_VISIT_FACTORS[weekday_of(day_ms)]
        * churn.engagement(day, alive)
    )
    browsing = np.repeat(alive, rng.poisson(rates))
    anonymous = int(rng.poisson(ANONYMOUS_SESSION_RATIO * rates.sum()))
    lo, hi = np.searchsorted(people.signup_day, [day, day + 1])
    signing_up = np.arange(lo, hi)
    declining = np.flatnonzero(churn.declining(day))
    complaining = declining[rng.random(len(declining)) < COMPLAINTS_PER_DAY_DECLINING]
    walk_ins = len(browsing) + anonymous
    aftercare = np.array(aftercare_visits, dtype=np.int64).reshape(-1, 2)
    return DayPlan(
        starts=np.concatenate(
            [
                day_ms + times_of_day(rng, walk_ins),
                people.signup_ms[signing_up],
                day_ms + times_of_day(rng, len(complaining)),
                aftercare[:, 1],
            ]
        ).astype(np.int64),
        users=np.concatenate(
            [browsing, np.full(anonymous, ANONYMOUS), signing_up, complaining, aftercare[:, 0]]
        ).astype(np.int64),
        kinds=np.concatenate(
            [
                np.full(walk_ins, VisitKind.BROWSE),
                np.full(len(signing_up), VisitKind.SIGNUP),
                np.full(len(complaining), VisitKind.COMPLAINT),
                np.full(len(aftercare), VisitKind.AFTERCARE),
            ]
        ).astype(np.int8),
        refs=np.concatenate(
            [np.full(walk_ins + len(signing_up) + len(complaining), -1), np.arange(len(aftercare))]
        ).astype(np.int64),
    )
