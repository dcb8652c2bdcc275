"""The shared weights and visitor keys that the stream processor, the recommendations job and
the recommendations API must agree on."""

from __future__ import annotations

import duckdb
import pytest

from contracts.shopper_signals import counters_trend_sql, visitor_key


@pytest.mark.parametrize(
    ("user_id", "anonymous_id", "key"),
    [
        (7, None, "u:7"),
        (7, "81d58e19-4556-489f-95f7-0c4b6a086b19", "u:7"),  # signed in: the user, not the device
        (None, "81d58e19-4556-489f-95f7-0c4b6a086b19", "a:81d58e19-4556-489f-95f7-0c4b6a086b19"),
    ],
)
def test_visitor_key_prefers_the_user_over_the_device(
    user_id: int | None, anonymous_id: str | None, key: str
) -> None:
    assert visitor_key(user_id, anonymous_id) == key


def test_a_visitor_without_user_or_device_is_refused() -> None:
    with pytest.raises(ValueError, match="user_id or an anonymous_id"):
        visitor_key(None, None)


@pytest.mark.parametrize(
    ("views", "cart_adds", "units_sold", "trend"),
    [(10, 2, 1, 10 + 3 * 2 + 10 * 1), (0, 1, 0, 3), (0, 0, 4, 40), (7, 0, 0, 7)],
)
def test_counters_trend_weighs_a_cart_add_3_views_and_a_unit_sold_10(
    views: int, cart_adds: int, units_sold: int, trend: int
) -> None:
    rows = duckdb.sql(
        f"SELECT {counters_trend_sql('pc')} FROM"
        f" (SELECT {views} AS views, {cart_adds} AS cart_adds, {units_sold} AS units_sold) AS pc"
    ).fetchall()
    assert rows == [(pytest.approx(trend),)]
