"""`ecom stream run` and `ecom kafka topics` against the real broker and PostgreSQL."""

from __future__ import annotations

import psycopg
import pytest
from kafka_test_topics import StreamTopics
from stream_events import encode, shopping_sessions
from typer.testing import CliRunner

from cdk_app.config import load_config
from lambdas.shared.kafka_producer import EventProducer
from local_platform.cli import app

pytestmark = pytest.mark.integration
runner = CliRunner()


def test_stream_run_counts_the_topic_and_stops_after_max_events(
    stream_topics: StreamTopics, idempotent_producer: EventProducer, migrated_database: str
) -> None:
    events = shopping_sessions(20, seed=17)
    for event in events:
        idempotent_producer.send(stream_topics.events, value=encode(event))
    idempotent_producer.send(stream_topics.events, value=b"[1, 2]")
    idempotent_producer.flush()
    options = [
        "--bootstrap-servers", stream_topics.bootstrap_servers,
        "--database-url", migrated_database,
        "--topic", stream_topics.events,
        "--dead-letter-topic", stream_topics.dead_letters,
        "--group-id", f"cli-{stream_topics.events}",
        "--idle-timeout", "30",
    ]  # fmt: skip

    result = runner.invoke(app, ["stream", "run", *options, "--max-events", str(len(events) + 1)])

    assert result.exit_code == 0, result.output
    assert f"counted {len(events):,}" in result.output
    assert "dead letters 1" in result.output
    with psycopg.connect(migrated_database) as conn:
        (counted,) = conn.execute("SELECT sum(events) FROM realtime.minute_metrics").fetchone()
    assert counted == len(events)


def test_kafka_topics_lists_the_topics_from_config(kafka_bootstrap: str) -> None:
    result = runner.invoke(app, ["kafka", "topics", "--bootstrap-servers", kafka_bootstrap])

    assert result.exit_code == 0, result.output
    listed = dict(line.split("\t") for line in result.output.splitlines())
    for topic in load_config("dev").streaming.topics:
        assert listed[topic.name].startswith(f"{topic.partitions} partitions")
