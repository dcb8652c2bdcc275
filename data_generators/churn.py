"""The churn process: a customer starts to decline, shows it, then goes quiet.

A customer starts to decline either spontaneously (a daily hazard that depends on the
persona; the waiting time is drawn up front, so an order knows whether its customer will
be unhappy by the time it could come back) or because of a bad experience: an order that
arrived late or faulty starts a decline on the day the customer comes back about it, with
a probability by kind of problem (DECLINE_AFTER_ISSUE). A decline lasts DECLINE_DAYS;
during it the visit rate and buying intent fall linearly to ENGAGEMENT_FLOOR, the customer
files complaints, reports more order problems and sends recent purchases back. At its end
they stop visiting: that day is `churned_at` in the ground truth. Because the signs precede
the outcome by weeks, churn is learnable from behaviour and not noise.
"""

from __future__ import annotations

import numpy as np

from data_generators.personas import CHURN_ONSET_PER_DAY

DECLINE_DAYS = (10, 35)  # inclusive range of a decline's length
ENGAGEMENT_FLOOR = 0.12
DECLINE_AFTER_ISSUE = {"defect": 0.5, "late_delivery": 0.4, "return": 0.1}
COMPLAINTS_PER_DAY_DECLINING = 0.035
NEVER = np.iinfo(np.int32).max


class ChurnState:
    """Per-customer decline and churn days (window day numbers, 0 = first day) in arrays."""

    def __init__(
        self,
        rng: np.random.Generator,
        signup_day: np.ndarray,
        persona: np.ndarray,
        first_day: int = 0,
    ) -> None:
        """`first_day` is the first simulated day: 0, or negative when a history before the
        window is simulated (its churners then go quiet before the window)."""
        n = len(signup_day)
        self.signup_day = signup_day
        hazard = CHURN_ONSET_PER_DAY[persona]
        lengths = rng.integers(DECLINE_DAYS[0], DECLINE_DAYS[1] + 1, n)
        # Spontaneous onset: a geometric waiting time from sign-up (or from the first day).
        onset = np.maximum(signup_day, first_day).astype(np.int64) + rng.geometric(hazard)
        # The shop was running before the first simulated day: some existing customers are
        # already mid-decline then, in the share a steady state would have.
        mean_decline = sum(DECLINE_DAYS) / 2
        in_decline = (signup_day < first_day) & (
            rng.random(n) < hazard * mean_decline / (1 + hazard * mean_decline)
        )
        progress = np.floor(rng.random(n) * lengths).astype(np.int64)
        onset = np.where(in_decline, np.maximum(first_day - progress, signup_day), onset)
        self.onset_day = np.minimum(onset, NEVER).astype(np.int32)
        self.churn_day = np.minimum(onset + lengths, NEVER).astype(np.int32)
        self.last_visit_booked = np.full(n, -1, dtype=np.int32)

    def alive(self, day: int) -> np.ndarray:
        """Signed up before `day` and not yet gone quiet."""
        return (self.signup_day < day) & (self.churn_day > day)

    def engagement(self, day: int, users: np.ndarray) -> np.ndarray:
        """1 while healthy, falling linearly to ENGAGEMENT_FLOOR over a decline."""
        onset = self.onset_day[users].astype(np.int64)
        length = self.churn_day[users].astype(np.int64) - onset
        progress = np.where(onset <= day, (day - onset) / np.maximum(length, 1), 0.0)
        return 1.0 - (1.0 - ENGAGEMENT_FLOOR) * np.clip(progress, 0.0, 1.0)

    def declining(self, day: int) -> np.ndarray:
        return (self.onset_day <= day) & (self.churn_day > day) & (self.signup_day < day)

    def book_visit(self, user: int, day: int) -> None:
        """Remember a visit planned for `day`: a decline started later must outlast it."""
        self.last_visit_booked[user] = max(int(self.last_visit_booked[user]), day)

    def start_decline(self, user: int, day: int, length: int) -> None:
        """A bad experience on `day` starts a decline, unless one has already begun."""
        if day < self.onset_day[user]:
            self.onset_day[user] = day
            self.churn_day[user] = max(day + length, int(self.last_visit_booked[user]) + 1)
