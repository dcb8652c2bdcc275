"""Inventory health for four products as of 2026-10-29: the demand window is 2026-10-01 ..
2026-10-28 (28 days), the 7-day window 2026-10-22 .. 2026-10-28, z = 1.645."""

from __future__ import annotations

from datetime import timedelta

import pytest
from spark_fixtures import day, table

from glue_jobs.transforms.marts import prepared
from glue_jobs.transforms.marts.inventory import inventory_health

AS_OF = day("2026-10-29")
MOVEMENTS = [
    # P1: 14 units on 10-19 and 14 on 10-28; the rest is outside the window or not demand.
    (1, -14, "order", "2026-10-19 12:00"),
    (1, -14, "order", "2026-10-28 23:59"),
    (1, -5, "order", "2026-10-29 00:00"),  # the as-of day itself: not yet
    (1, -5, "order", "2026-09-30 23:59"),  # before the window
    (1, 50, "restock", "2026-10-20 08:00"),
    (1, 1, "return", "2026-10-21 08:00"),
    # P2: 2 units on 10-25.
    (2, -2, "order", "2026-10-25 10:00"),
    # P3: 1 unit on each of the 28 days (added below).
]
MOVEMENTS += [(3, -1, "order", f"{AS_OF - timedelta(days=n)} 09:00") for n in range(1, 29)]


def test_inventory_health(spark) -> None:
    inventory = table(
        spark, "product_id bigint, on_hand int, reorder_point int, lead_time_days int",
        [(1, 10, 5, 4), (2, 0, 5, 3), (3, 3, 5, 5), (4, 20, 5, 7)],
    )  # fmt: skip
    movements = table(
        spark, "product_id bigint, quantity int, reason string, occurred_at timestamp", MOVEMENTS
    )
    health = inventory_health(
        prepared.inventory(inventory), prepared.inventory_movements(movements), AS_OF
    )
    got = {r.product_id: r.asDict() for r in health.collect()}

    p1 = got[1]
    # daily demand: 14, 14 and 26 zeros -> mean 28/28 = 1;
    # sample variance = (2 * 13^2 + 26 * 1^2) / 27 = 364/27 = 13.48148 -> stddev 3.671714
    assert (p1["demand_7d"], p1["demand_28d"], p1["avg_daily_demand"]) == (14, 28, 1.0)
    assert p1["demand_stddev"] == pytest.approx(3.671714, abs=1e-6)
    # safety = 1.645 * 3.671714 * sqrt(4) = 12.0799 -> 13; reorder = ceil(1 * 4 + 12.0799) = 17
    assert (p1["safety_stock"], p1["reorder_point"], p1["configured_reorder_point"]) == (13, 17, 5)
    # 10 on hand / 1 a day = 10 days; 10 >= lead-time demand 4 but < 17 -> medium
    assert (p1["days_of_cover"], p1["stockout_risk"]) == (10.0, "medium")

    p2 = got[2]
    # one day of 2, 27 zeros: mean 2/28 = 0.0714286; variance ((2 - 1/14)^2 + 27/196) / 27
    # = (729/196 + 27/196) / 27 = 1/7 -> stddev 0.377964
    assert (p2["demand_7d"], p2["demand_28d"]) == (2, 2)
    assert p2["demand_stddev"] == pytest.approx(0.377964, abs=1e-6)
    # safety = 1.645 * 0.377964 * sqrt(3) = 1.0769 -> 2; reorder = ceil(0.2143 + 1.0769) = 2
    assert (p2["safety_stock"], p2["reorder_point"], p2["days_of_cover"]) == (2, 2, 0.0)
    assert p2["stockout_risk"] == "out_of_stock"

    p3 = got[3]
    # 1 a day every day: mean 1, stddev 0 -> safety 0, reorder = 1 * 5 = 5;
    # 3 on hand < 5 expected during the lead time -> high
    assert (p3["demand_7d"], p3["demand_28d"], p3["demand_stddev"]) == (7, 28, 0.0)
    assert (p3["safety_stock"], p3["reorder_point"], p3["days_of_cover"]) == (0, 5, 3.0)
    assert p3["stockout_risk"] == "high"

    p4 = got[4]
    # no demand at all: nothing to cover, never at risk
    assert (p4["demand_28d"], p4["safety_stock"], p4["reorder_point"]) == (0, 0, 0)
    assert (p4["days_of_cover"], p4["stockout_risk"]) == (None, "low")
