"""Shapes of the synthetic store's distributions, measured on seeded draws.

Expected values come from the model as documented in docs/data_generation.md (exponents,
weekday factors, growth and channel mixes), worked out here by hand, not read back from
the generator.
"""

from __future__ import annotations

from collections import Counter
from datetime import date

import numpy as np
import pytest

from data_generators.catalog import DEPARTMENTS, Catalog
from data_generators.churn import ChurnState
from data_generators.personas import PERSONA_NAMES
from data_generators.population import SIGNUP_LOOKBACK_DAYS, Population, build_population
from data_generators.timeline import MS_PER_DAY, epoch_ms
from data_generators.traffic import TRAFFIC_SOURCES
from data_generators.visits import DayPlan, VisitKind, plan_day

START = date(2026, 7, 6)  # a Monday


def test_product_popularity_follows_a_zipf_law() -> None:
    catalog = Catalog(np.random.default_rng(1), 2000)
    draws = np.random.default_rng(2).random(300_000)
    counts = np.bincount([catalog.sample(u) for u in draws], minlength=catalog.size)
    by_rank = np.sort(counts)[::-1]

    slope = np.polyfit(np.log(np.arange(1, 101)), np.log(by_rank[:100]), 1)[0]
    ranks = np.arange(1, 2001, dtype=float)
    top_20_share = (ranks[:20] ** -1.1).sum() / (ranks**-1.1).sum()  # ~0.53 for s = 1.1

    assert slope == pytest.approx(-1.1, abs=0.1)
    assert by_rank[:20].sum() / by_rank.sum() == pytest.approx(top_20_share, abs=0.01)


def test_prices_follow_their_category() -> None:
    catalog = Catalog(np.random.default_rng(3), 8000)
    prices = catalog.price_cents / 100

    for leaf_id, spec in catalog.leaf_specs.items():
        in_leaf = prices[catalog.category_id == leaf_id]
        if len(in_leaf) >= 60:
            assert np.median(in_leaf) == pytest.approx(spec.price_median, rel=0.2), spec.name
    by_department = {
        dept.name: np.median(prices[catalog.department == i]) for i, dept in enumerate(DEPARTMENTS)
    }
    assert by_department["Electronics"] > 5 * by_department["Grocery"]
    assert set(np.round(prices * 100).astype(int) % 100) <= {49, 99}


def test_categories_form_a_two_level_tree_with_products_on_leaves() -> None:
    catalog = Catalog(np.random.default_rng(4), 500)
    parents = {c.id for c in catalog.categories if c.parent_id is None}
    leaves = {c.id for c in catalog.categories if c.parent_id is not None}

    assert len(parents) == len(DEPARTMENTS)
    assert all(c.parent_id in parents for c in catalog.categories if c.id in leaves)
    assert set(catalog.category_id.tolist()) == leaves  # every leaf stocked, no parent is


def _sessions_by_day(users: int, days: int, seed: int) -> tuple[list[DayPlan], Population]:
    rng = np.random.default_rng(seed)
    start_ms = epoch_ms(START)
    people = build_population(rng, users, days, start_ms, len(DEPARTMENTS))
    plans = [plan_day(rng, people, day, start_ms + day * MS_PER_DAY, []) for day in range(days)]
    return plans, people


def test_weekly_seasonality_lifts_weekends() -> None:
    plans, _ = _sessions_by_day(users=4000, days=56, seed=5)
    per_weekday = np.zeros(7)
    for day, plan in enumerate(plans):
        per_weekday[day % 7] += np.count_nonzero(plan.kinds == VisitKind.BROWSE)

    weekend = per_weekday[5:].mean()  # START is a Monday
    midweek = per_weekday[1:4].mean()
    # Documented weekday factors: Sat 1.10, Sun 1.25 against Tue-Thu 0.93, 0.93, 0.95.
    assert weekend / midweek == pytest.approx(
        ((1.10 + 1.25) / 2) / ((0.93 + 0.93 + 0.95) / 3), rel=0.05
    )
    assert per_weekday.argmax() == 6
    assert per_weekday.argmin() == 4  # the Friday dip


def test_personas_visit_at_their_own_rates() -> None:
    plans, people = _sessions_by_day(users=4000, days=28, seed=6)
    visits = Counter()
    for plan in plans:
        customers = plan.users[(plan.kinds == VisitKind.BROWSE) & (plan.users >= 0)]
        visits.update(people.persona[customers].tolist())
    existing = people.signup_day < 0
    members = Counter(people.persona[existing].tolist())
    per_week = {PERSONA_NAMES[p]: visits[p] / members[p] / 4 for p in members}

    assert per_week["loyal"] > per_week["window_shopper"] > per_week["regular"]
    assert per_week["regular"] > per_week["occasional"]
    # 2.8 vs 0.4 visits a week by design, less the engagement lost by customers in decline.
    assert per_week["loyal"] / per_week["occasional"] == pytest.approx(7.0, rel=0.3)


def test_acquisition_grows_and_shifts_towards_paid_and_social() -> None:
    days = 90
    people = build_population(np.random.default_rng(7), 40_000, days, epoch_ms(START), 8)
    early = people.signup_day < -SIGNUP_LOOKBACK_DAYS + 90
    late = people.signup_day >= 0
    social = TRAFFIC_SOURCES.index("social")

    # Sign-up intensity 1 + 2 * position: mid-window positions 45/455 and 410/455.
    growth = (1 + 2 * 410 / 455) / (1 + 2 * 45 / 455)
    assert late.sum() / early.sum() == pytest.approx(growth, rel=0.08)
    # Social's share drifts linearly from 8 % to 20 % of sign-ups across the timeline.
    assert np.mean(people.channel[early] == social) == pytest.approx(
        0.08 + 0.12 * 45 / 455, abs=0.02
    )
    assert np.mean(people.channel[late] == social) == pytest.approx(
        0.08 + 0.12 * 410 / 455, abs=0.02
    )


def test_engagement_falls_linearly_through_a_decline() -> None:
    state = ChurnState(np.random.default_rng(8), np.array([-100, -100]), np.array([0, 0]))
    state.onset_day[:] = [10, 2**31 - 1]
    state.churn_day[:] = [30, 2**31 - 1]

    engagement = state.engagement(20, np.array([0, 1]))

    assert engagement[0] == pytest.approx(1 - 0.88 * 0.5)  # halfway down to the 0.12 floor
    assert engagement[1] == 1.0
    assert state.alive(29).tolist() == [True, True]
    assert state.alive(30).tolist() == [False, True]


def test_a_bad_experience_brings_a_decline_forward_but_not_before_booked_visits() -> None:
    state = ChurnState(np.random.default_rng(10), np.array([-100]), np.array([0]))
    state.onset_day[:], state.churn_day[:] = [50], [70]
    state.book_visit(0, 30)

    state.start_decline(0, 20, 5)  # would end on day 25, but a visit is booked for day 30
    assert (state.onset_day[0], state.churn_day[0]) == (20, 31)
    state.start_decline(0, 24, 40)  # already declining: nothing changes
    assert (state.onset_day[0], state.churn_day[0]) == (20, 31)


def test_customers_who_churned_stop_visiting() -> None:
    plans, people = _sessions_by_day(users=3000, days=42, seed=9)
    for day, plan in enumerate(plans):
        visitors = plan.users[plan.users >= 0]
        assert (people.churn.churn_day[visitors] > day).all()
        assert (people.signup_day[visitors] <= day).all()
