"""The live path end to end on the real broker and PostgreSQL: events posted to the local
API's collector route reach Kafka, the stream processor records the visitor's session, and
the next GET /v1/recommendations from the same server changes accordingly."""

from __future__ import annotations

import json
import threading
import urllib.request
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest
from kafka_test_topics import StreamTopics
from reco_catalogue import ANONYMOUS_ID, load_batch_run, load_catalogue
from stream_events import Visitor, make_event

from lambdas.collector.api import KafkaRecordPublisher
from lambdas.collector.api import create_app as create_collector
from lambdas.collector.batch import Topics
from lambdas.recommendations.api import RECOMMENDATIONS_PATH
from lambdas.recommendations.api import create_app as create_recommendations
from lambdas.recommendations.database import ReadOnlyDatabase
from lambdas.shared.kafka_producer import KafkaSettings, create_producer
from lambdas.stream_processor.processor import ProcessorSettings
from local_platform.collector_server import CollectorServer, by_path
from local_platform.stream_consumer import events_consumer, run_stream_loop

pytestmark = pytest.mark.integration

VISITOR = Visitor(str(uuid.uuid4()), ANONYMOUS_ID, None)
CART = str(uuid.uuid4())


@pytest.fixture
def shop(migrated_database: str) -> str:
    with psycopg.connect(migrated_database, autocommit=True) as conn:
        load_catalogue(conn)
        load_batch_run(conn)
    return migrated_database


@pytest.fixture
def api_server(shop: str, stream_topics: StreamTopics) -> Iterator[str]:
    """The local API (collector on this test's topics, recommendations on the shop)."""
    producer = create_producer(KafkaSettings(stream_topics.bootstrap_servers), client_id="test")
    collector = create_collector(
        KafkaRecordPublisher(producer), Topics(stream_topics.events, stream_topics.dead_letters)
    )
    database = ReadOnlyDatabase(lambda: shop)
    handler = by_path(
        {RECOMMENDATIONS_PATH: create_recommendations(database).resolve}, collector.resolve
    )
    server = CollectorServer("127.0.0.1", 0, handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.url
    server.shutdown()
    server.server_close()
    producer.close()
    database.close()


def recommended(url: str) -> dict[str, Any]:
    query = f"?anonymous_id={ANONYMOUS_ID}&limit=5"
    with urllib.request.urlopen(f"{url}{RECOMMENDATIONS_PATH}{query}", timeout=10) as response:
        return json.loads(response.read())


def post_events(url: str, events: list[dict[str, Any]]) -> None:
    request = urllib.request.Request(
        f"{url}/v1/events",
        data=json.dumps(events).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert all(r["status"] == "accepted" for r in json.loads(response.read())["results"])


def test_a_streamed_view_and_cart_add_change_the_next_answer(
    api_server: str, stream_topics: StreamTopics, shop: str
) -> None:
    before = recommended(api_server)
    now = datetime.now(UTC).replace(microsecond=0)
    events = [
        make_event(
            "product_added_to_cart",
            now - timedelta(minutes=2),
            VISITOR,
            {
                "cart_id": CART,
                "product_id": 101,
                "quantity": 1,
                "unit_price": 10.0,
                "currency": "USD",
            },
        ),
        make_event(
            "product_viewed",
            now,
            VISITOR,
            {"product_id": 301, "category_id": 3, "price": 10.0, "currency": "USD"},
        ),
    ]

    post_events(api_server, events)
    consumer = events_consumer(stream_topics.bootstrap_servers, stream_topics.events, "reco-live")
    try:
        with psycopg.connect(shop, autocommit=True) as conn:
            totals = run_stream_loop(
                consumer,
                conn,
                ProcessorSettings(cart_abandonment_minutes=30, dedupe_window_hours=72),
                max_events=len(events),
                idle_timeout_s=30,
            )
    finally:
        consumer.close()
    after = recommended(api_server)

    assert totals.counted == 2
    # Before: nothing known of the device, popularity only.
    assert [i["product_id"] for i in before["items"]] == [303, 102, 202, 302, 101]
    assert before["degraded"] == ["no_history"]
    # After: seeds 301 (viewed last: 1.0) and 101 (carted before: 0.7 * 1.5 = 1.05). 201:
    # 1.05, 302: 1.0, 203: 1.05 * 5/6, 102: 1.05 * 0.6, 303: 0.6.
    assert [(i["product_id"], i["reason"]["text"]) for i in after["items"]] == [
        (201, "bought together with Phone X"),
        (302, "bought together with Beans"),
        (203, "bought together with Phone X"),
        (102, "viewed together with Phone X"),
        (303, "viewed together with Beans"),
    ]
    assert after["degraded"] == []
