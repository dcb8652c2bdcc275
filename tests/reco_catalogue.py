"""A small hand-built shop and batch run for the recommendations API tests: every expected
answer in those tests is worked out by hand from these rows.

Categories: 1 Phones, 2 Cases, 3 Coffee. Product 103 is discontinued. User 7 has a batch list,
user 8 is known but has none. Similar products (rank: product):
    101 Phone X  bought together: 1: 201 Case A, 2: 203 Charger
                 viewed together: 1: 102 Phone Y, 2: 103 (discontinued), 3: 202 Case B
    301 Beans    bought together: 1: 302 Filter; viewed together: 1: 303 Mug
User 7's list: 1: 301 bought again, 2: 202 viewed together with 102, 3: 303 popular in
Coffee, 4: 101 bought together with 201.
Popularity: 303, 102, 202, 302, 101, 203, 201, 301.
Live activity (views + 3 cart adds + 10 units sold, contracts/shopper_signals.py): 202:
10+9+0 = 19, 201: 5+3+20 = 28, 102: 40, 101: 30, 303: 9, 302: 3 (103 discontinued: 100,
never served). With equal weights 202 (13) would lead 201 (8): the order pins the weights.
"""

from __future__ import annotations

from datetime import UTC, datetime

import psycopg

CATEGORIES = [(1, "Phones", "phones"), (2, "Cases", "cases"), (3, "Coffee", "coffee")]
PRODUCTS = [
    (101, "Phone X", 1, "active"),
    (102, "Phone Y", 1, "active"),
    (103, "Phone Z", 1, "discontinued"),
    (201, "Case A", 2, "active"),
    (202, "Case B", 2, "active"),
    (203, "Charger", 2, "active"),
    (301, "Beans", 3, "active"),
    (302, "Filter", 3, "active"),
    (303, "Mug", 3, "active"),
]
USERS = [7, 8]
SIMILAR = [
    (101, "bought_together", 1, 201, 0.9, 40),
    (101, "bought_together", 2, 203, 0.5, 12),
    (101, "viewed_together", 1, 102, 0.8, 300),
    (101, "viewed_together", 2, 103, 0.7, 250),
    (101, "viewed_together", 3, 202, 0.4, 90),
    (301, "bought_together", 1, 302, 0.6, 25),
    (301, "viewed_together", 1, 303, 0.3, 60),
]
CUSTOMER = [
    (7, 1, 301, 3.5, "bought_again", 301, None),
    (7, 2, 202, 2.0, "viewed_together", 102, None),
    (7, 3, 303, 1.1, "popular_in_category", None, 3),
    (7, 4, 101, 0.7, "bought_together", 201, None),
]
POPULAR = [(303, 3), (102, 1), (202, 2), (302, 3), (101, 1), (203, 2), (201, 2), (301, 3)]
# product_id: (views, cart_adds, units_sold)
COUNTERS = {
    202: (10, 3, 0),
    201: (5, 1, 2),
    102: (40, 0, 0),
    101: (30, 0, 0),
    303: (9, 0, 0),
    302: (3, 0, 0),
    103: (100, 0, 0),
}
RUN_ID = "reco-2026-12-05"
AS_OF = "2026-12-05"
ANONYMOUS_ID = "81d58e19-4556-489f-95f7-0c4b6a086b19"


def load_catalogue(conn: psycopg.Connection) -> None:
    """The shop's own rows and the live counters (no batch tables)."""
    with conn.cursor() as cursor:
        cursor.executemany(
            "INSERT INTO categories (id, name, slug) VALUES (%s, %s, %s)", CATEGORIES
        )
        cursor.executemany(
            "INSERT INTO products (id, sku, name, category_id, brand, price, cost, status)"
            " VALUES (%s, 'SKU-' || %s, %s, %s, 'Acme', 10, 6, %s)",
            [(pid, pid, name, category, status) for pid, name, category, status in PRODUCTS],
        )
        cursor.executemany(
            "INSERT INTO users (id, email, first_name, last_name, country_code, city,"
            " acquisition_channel, signed_up_at)"
            " VALUES (%s, 'u' || %s || '@example.com', 'A', 'B', 'DE', 'Berlin', 'direct',"
            " '2026-01-01T00:00:00Z')",
            [(uid, uid) for uid in USERS],
        )
        cursor.executemany(
            "INSERT INTO realtime.product_counters (product_id, views, cart_adds, units_added,"
            " units_removed, units_sold, revenue, last_event_at)"
            " VALUES (%s, %s, %s, %s, 0, %s, 0, %s)",
            [
                (pid, views, adds, adds, sold, datetime(2026, 12, 5, tzinfo=UTC))
                for pid, (views, adds, sold) in COUNTERS.items()
            ],
        )


def load_batch_run(conn: psycopg.Connection) -> None:
    """The batch tables as the loader leaves them: three tables and their run row."""
    with conn.cursor() as cursor:
        cursor.executemany(
            "INSERT INTO reco.similar_products VALUES (%s, %s, %s, %s, %s, %s)", SIMILAR
        )
        cursor.executemany(
            "INSERT INTO reco.customer_recommendations VALUES (%s, %s, %s, %s, %s, %s, %s)",
            CUSTOMER,
        )
        in_category: dict[int, int] = {}
        rows = []
        for rank, (pid, category) in enumerate(POPULAR, start=1):
            in_category[category] = in_category.get(category, 0) + 1
            rows.append((pid, category, 1.0 / rank, rank, in_category[category]))
        cursor.executemany("INSERT INTO reco.popular_products VALUES (%s, %s, %s, %s, %s)", rows)
        cursor.execute(
            "INSERT INTO reco.batch_runs (run_id, as_of, similar_products,"
            " customer_recommendations, popular_products) VALUES (%s, %s, %s, %s, %s)",
            (RUN_ID, AS_OF, len(SIMILAR), len(CUSTOMER), len(POPULAR)),
        )


def add_session(
    conn: psycopg.Connection, visitor_key: str, rows: list[tuple[int, str, str]]
) -> None:
    """(product_id, 'view' | 'cart', 'HH:MM' on 2026-12-06 UTC) rows of a live session."""
    conn.cursor().executemany(
        "INSERT INTO realtime.visitor_recent_products VALUES (%s, %s, %s, %s)",
        [
            (visitor_key, pid, action, datetime.fromisoformat(f"2026-12-06T{clock}:00+00:00"))
            for pid, action, clock in rows
        ],
    )
