"""GET /v1/recommendations on a real PostgreSQL, signed in as the read-only reco_api role, over
the hand-built shop of tests/reco_catalogue.py. Each expected list is worked out by hand there
and in the comments (weights: lambdas/recommendations/blend.py)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import psycopg
import pytest
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
from psycopg.conninfo import make_conninfo
from reco_catalogue import ANONYMOUS_ID, AS_OF, RUN_ID, add_session, load_batch_run, load_catalogue

from lambdas.recommendations.api import create_app
from lambdas.recommendations.database import ReadOnlyDatabase
from local_platform.collector_server import api_gateway_event

pytestmark = pytest.mark.integration

ANONYMOUS_KEY = f"a:{ANONYMOUS_ID}"


def as_reader(url: str) -> str:
    return make_conninfo(url, user="reco_api")


@pytest.fixture
def shop(migrated_database: str) -> str:
    """The catalogue and a loaded batch run; yields the database URL (as its owner)."""
    with psycopg.connect(migrated_database, autocommit=True) as conn:
        load_catalogue(conn)
        load_batch_run(conn)
    return migrated_database


@pytest.fixture
def api(shop: str) -> Iterator[APIGatewayHttpResolver]:
    database = ReadOnlyDatabase(lambda: as_reader(shop))
    yield create_app(database)
    database.close()


def call(
    app: APIGatewayHttpResolver,
    method: str = "GET",
    path: str = "/v1/recommendations",
    **params: Any,
) -> tuple[int, dict[str, str], dict[str, Any]]:
    target = f"{path}?{urlencode(params)}" if params else path
    event = api_gateway_event(method, target, [], b"", "127.0.0.1", "req", 0)
    result = app.resolve(event, None)
    return result["statusCode"], result["headers"], json.loads(result["body"])


def get(app: APIGatewayHttpResolver, **params: Any) -> dict[str, Any]:
    status, _, body = call(app, **params)
    assert status == 200, body
    return body


def items(body: dict[str, Any]) -> list[tuple[int, str, str, str]]:
    return [
        (item["product_id"], item["source"], item["reason"]["kind"], item["reason"]["text"])
        for item in body["items"]
    ]


def session(url: str, visitor_key: str, rows: list[tuple[int, str, str]]) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        add_session(conn, visitor_key, rows)


# ---- each reason, from the batch list --------------------------------------------------------


def test_customer_batch_list_with_every_batch_reason(api: APIGatewayHttpResolver) -> None:
    body = get(api, user_id=7, limit=4)

    assert items(body) == [
        (301, "batch", "bought_again", "you bought it before"),
        (202, "batch", "viewed_together", "viewed together with Phone Y"),
        (303, "batch", "popular_in_category", "popular in Coffee"),
        (101, "batch", "bought_together", "bought together with Case A"),
    ]
    reasons = [(i["reason"]["product_id"], i["reason"]["category_id"]) for i in body["items"]]
    assert reasons == [(301, None), (102, None), (None, 3), (201, None)]
    assert body["degraded"] == []
    assert body["batch_run"] == {"run_id": RUN_ID, "as_of": AS_OF}
    assert body["visitor"] == {"user_id": 7, "anonymous_id": None}
    first = body["items"][0]
    assert (first["rank"], first["name"], first["category_id"], first["category_name"]) == (
        1,
        "Beans",
        3,
        "Coffee",
    )


def test_default_limit_fills_with_popularity_after_the_batch_list(
    api: APIGatewayHttpResolver,
) -> None:
    body = get(api, user_id=7)

    # 4 batch items, then popularity without repeats: 102, 302, 203, 201 (303, 202, 101 and
    # 301 are listed already). The shop has only 8 active products, fewer than the limit 10.
    assert [i["product_id"] for i in body["items"]] == [301, 202, 303, 101, 102, 302, 203, 201]
    assert [i["source"] for i in body["items"][4:]] == ["popularity"] * 4
    assert {i["reason"]["text"] for i in body["items"][4:]} == {"popular"}
    assert body["limit"] == 10


# ---- the live blend ----------------------------------------------------------------------------


def test_session_blends_with_the_batch_list_by_recency(
    shop: str, api: APIGatewayHttpResolver
) -> None:
    session(shop, "u:7", [(101, "view", "12:00"), (301, "view", "12:05")])

    body = get(api, user_id=7, limit=6)

    # Seeds: 301 (newest, 1.0), 101 (0.7). 303: 0.6 viewed with Beans + 0.8*5/7 batch = 1.17;
    # 302: 1.0; 202: 0.7*0.6*5/7 + 0.8*5/6 (batch, larger) = 0.97; 201: 0.7; 203: 0.7*5/6 =
    # 0.58; 102: 0.7*0.6 = 0.42. 301 and 101 are the session's own products: excluded.
    assert items(body) == [
        (303, "session", "viewed_together", "viewed together with Beans"),
        (302, "session", "bought_together", "bought together with Beans"),
        (202, "batch", "viewed_together", "viewed together with Phone Y"),
        (201, "session", "bought_together", "bought together with Phone X"),
        (203, "session", "bought_together", "bought together with Phone X"),
        (102, "session", "viewed_together", "viewed together with Phone X"),
    ]
    assert body["degraded"] == []


def test_a_carted_product_weighs_more_than_a_viewed_one(
    shop: str, api: APIGatewayHttpResolver
) -> None:
    session(shop, "u:8", [(101, "cart", "12:00"), (301, "view", "12:05")])

    body = get(api, user_id=8, limit=6)

    # 101 carted: 0.7 * 1.5 = 1.05, above the newer view of 301 (1.0); user 8 has no list.
    # 201: 1.05, 302: 1.0, 203: 1.05*5/6 = 0.875, 102: 0.63, 303: 0.6, 202: 0.45.
    assert [i["product_id"] for i in body["items"]] == [201, 302, 203, 102, 303, 202]
    assert body["degraded"] == []


def test_page_product_seeds_an_anonymous_visitor_then_popularity(
    api: APIGatewayHttpResolver,
) -> None:
    body = get(api, anonymous_id=ANONYMOUS_ID, product_id=101, limit=5)

    # 201: 1.0, 203: 5/6, 102: 0.6, 202: 0.6*5/7; 103 is discontinued. Phones has nothing
    # trending left (101 is the page, 102 listed, 103 discontinued): popularity's first, 303.
    assert items(body) == [
        (201, "session", "bought_together", "bought together with Phone X"),
        (203, "session", "bought_together", "bought together with Phone X"),
        (102, "session", "viewed_together", "viewed together with Phone X"),
        (202, "session", "viewed_together", "viewed together with Phone X"),
        (303, "popularity", "popular", "popular"),
    ]
    assert body["visitor"] == {"user_id": None, "anonymous_id": ANONYMOUS_ID}
    assert body["degraded"] == ["no_history"]


def test_page_product_is_never_recommended_and_leads_the_seeds(
    api: APIGatewayHttpResolver,
) -> None:
    body = get(api, user_id=7, product_id=301, limit=4)

    # 303: 0.6 + 0.8*5/7 = 1.17, 302: 1.0, then the batch's 202 (0.67) and 101 (0.5).
    assert [(i["product_id"], i["source"]) for i in body["items"]] == [
        (303, "session"),
        (302, "session"),
        (202, "batch"),
        (101, "batch"),
    ]


def test_trending_in_the_session_category_then_popularity(
    shop: str, api: APIGatewayHttpResolver
) -> None:
    session(shop, ANONYMOUS_KEY, [(203, "view", "09:30")])

    body = get(api, anonymous_id=ANONYMOUS_ID, limit=5)

    # 203 has no similar products. Cases by live activity: 201 (28), 202 (19); then
    # popularity: 303, 102, (202), 302.
    assert items(body) == [
        (201, "trending", "popular_in_category", "popular in Cases"),
        (202, "trending", "popular_in_category", "popular in Cases"),
        (303, "popularity", "popular", "popular"),
        (102, "popularity", "popular", "popular"),
        (302, "popularity", "popular", "popular"),
    ]
    assert body["items"][0]["reason"]["category_id"] == 2
    assert body["degraded"] == []


def test_only_the_five_newest_session_products_are_seeds(
    shop: str, api: APIGatewayHttpResolver
) -> None:
    session(
        shop,
        ANONYMOUS_KEY,
        [
            (301, "view", "08:00"),
            (201, "view", "08:01"),
            (202, "view", "08:02"),
            (203, "cart", "08:03"),
            (102, "view", "08:04"),
            (303, "view", "08:05"),
        ],
    )

    body = get(api, anonymous_id=ANONYMOUS_ID, limit=5)

    # Seeds 303, 102, 203, 202, 201 have no similar products; Beans (301), sixth, is no seed,
    # so its Filter (302) comes only as trending in Coffee (the newest seed's category), then
    # Phones' 101; everything else is in the session or discontinued.
    assert items(body) == [
        (302, "trending", "popular_in_category", "popular in Coffee"),
        (101, "trending", "popular_in_category", "popular in Phones"),
    ]


# ---- degraded answers ------------------------------------------------------------------------


def test_no_batch_run_falls_back_to_live_counters_and_says_so(migrated_database: str) -> None:
    with psycopg.connect(migrated_database, autocommit=True) as conn:
        load_catalogue(conn)
        add_session(conn, ANONYMOUS_KEY, [(101, "view", "10:00")])
    database = ReadOnlyDatabase(lambda: as_reader(migrated_database))
    try:
        body = get(create_app(database), anonymous_id=ANONYMOUS_ID, limit=4)
    finally:
        database.close()

    # No similar products: Phones by live activity, 102 (101 viewed, 103 discontinued); then
    # the live counters overall: (102), (101), 201, 202, 303.
    assert items(body) == [
        (102, "trending", "popular_in_category", "popular in Phones"),
        (201, "trending", "popular", "popular"),
        (202, "trending", "popular", "popular"),
        (303, "trending", "popular", "popular"),
    ]
    assert body["batch_run"] is None
    assert body["degraded"] == ["no_batch_run"]


def test_unknown_user_gets_popularity_marked_as_such(api: APIGatewayHttpResolver) -> None:
    body = get(api, user_id=999, limit=3)

    assert items(body) == [
        (303, "popularity", "popular", "popular"),
        (102, "popularity", "popular", "popular"),
        (202, "popularity", "popular", "popular"),
    ]
    assert body["degraded"] == ["unknown_user", "no_history"]


def test_unknown_product_is_ignored_and_marked(api: APIGatewayHttpResolver) -> None:
    body = get(api, user_id=7, product_id=999_999, limit=4)

    assert [i["product_id"] for i in body["items"]] == [301, 202, 303, 101]
    assert body["degraded"] == ["unknown_product"]
    assert body["product_id"] == 999_999


# ---- bad input -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (
            {"user_id": 7, "anonymous_id": ANONYMOUS_ID},
            "give exactly one of user_id and anonymous_id",
        ),
        ({"limit": 5}, "give exactly one of user_id and anonymous_id"),
        ({"user_id": 7, "limit": 0}, "limit must be a whole number from 1 to 50, got '0'"),
        ({"user_id": 7, "limit": 51}, "limit must be a whole number from 1 to 50, got '51'"),
        ({"user_id": 7, "limit": "ten"}, "limit must be a whole number from 1 to 50, got 'ten'"),
        ({"user_id": "-3"}, "user_id must be a whole number from 1 to 9223372036854775807"),
        ({"user_id": 2**63}, "user_id must be a whole number from 1 to 9223372036854775807"),
        ({"user_id": 7, "product_id": "1.5"}, "product_id must be a whole number"),
        ({"anonymous_id": "not-a-uuid"}, "anonymous_id must be a UUID"),
        ({"user_id": 7, "userid": 7}, "unknown parameter 'userid'"),
    ],
)
def test_bad_parameters_answer_400_naming_them(
    api: APIGatewayHttpResolver, params: dict[str, Any], message: str
) -> None:
    status, headers, body = call(api, **params)

    assert status == 400
    assert body["error"] == "bad_request"
    assert message in body["message"]
    assert headers["Cache-Control"] == "no-store"


def test_repeated_parameter_is_refused(api: APIGatewayHttpResolver) -> None:
    event = api_gateway_event(
        "GET", "/v1/recommendations?user_id=7&user_id=8", [], b"", "::1", "r", 0
    )
    result = api.resolve(event, None)

    assert result["statusCode"] == 400
    assert "got '7,8'" in json.loads(result["body"])["message"]


def test_other_methods_and_paths(api: APIGatewayHttpResolver) -> None:
    status, headers, body = call(api, method="POST", user_id=7)
    assert (status, headers["Allow"], body["error"]) == (405, "GET", "method_not_allowed")
    status, _, body = call(api, path="/v1/recommendation", user_id=7)
    assert (status, body["error"]) == (404, "not_found")


def test_unreachable_database_answers_503_and_recovers(shop: str) -> None:
    urls = iter([make_conninfo(shop, port="1"), as_reader(shop)])
    database = ReadOnlyDatabase(lambda: next(urls))
    app = create_app(database)
    try:
        status, headers, body = call(app, user_id=7)
        assert (status, headers["Retry-After"], body["error"]) == (503, "5", "unavailable")
        assert [i["product_id"] for i in get(app, user_id=7, limit=2)["items"]] == [301, 202]
    finally:
        database.close()


def test_reader_role_cannot_write_or_read_personal_columns(shop: str) -> None:
    with psycopg.connect(as_reader(shop), autocommit=True) as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("DELETE FROM reco.customer_recommendations")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("SELECT email FROM users")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("SELECT cost FROM products")
        assert conn.execute("SELECT count(*) FROM reco.similar_products").fetchone() == (7,)
