"""During a broker outage the Kafka clients retry every second; their logs go through the
project's logging, once per kind of message and then at most once per interval, not once per
attempt. The outage is a bootstrap address nobody listens on."""

from __future__ import annotations

import io
import logging
import socket
import time
from collections.abc import Iterator

import pytest
from kafka import KafkaConsumer

from lambdas.shared.kafka_producer import (
    KafkaSettings,
    ProducerError,
    RepeatFilter,
    create_producer,
)
from local_platform.logs import configure_logging


@pytest.fixture
def dead_broker() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"127.0.0.1:{probe.getsockname()[1]}"


def record(message: str, *args: object, name: str = "kafka.conn") -> logging.LogRecord:
    return logging.LogRecord(name, logging.ERROR, __file__, 1, message, args, None)


def test_repeats_are_held_back_and_counted_in_the_next_line() -> None:
    now = [0.0]
    repeats = RepeatFilter(interval_s=30, clock=lambda: now[0])
    refused = "connect to 127.0.0.1:%d failed: Connection refused (after %dms)"

    passed = []
    for second in range(65):
        now[0] = float(second)
        line = record(refused, 40000 + second, second % 3)
        if repeats.filter(line):
            passed.append((second, line.getMessage()))
    other = record("Closing connection")

    assert [second for second, _ in passed] == [0, 30, 60]
    assert passed[1][1].endswith("(29 more like this in the last 30 s)")
    assert repeats.filter(other)  # another kind of message is a change of state: it shows


def test_librdkafka_logs_once_while_the_broker_is_away(
    dead_broker: str, caplog: pytest.LogCaptureFixture
) -> None:
    producer = create_producer(KafkaSettings(dead_broker), client_id="outage", max_block_ms=100)
    caplog.set_level(logging.DEBUG, logger="librdkafka")
    try:
        with pytest.raises(ProducerError):  # polls for 4 s, serving the client's log callbacks
            producer.deliver([("outage", b"k", b"v")], timeout_s=4)
    finally:
        producer.close(timeout_s=0.1)

    lines = [r.getMessage() for r in caplog.records if r.name == "librdkafka"]
    assert len(lines) == 1, lines
    assert "Connection refused" in lines[0]


@pytest.fixture
def ecom_log() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    handlers = configure_logging(stream)
    yield stream
    for logger_name, handler in handlers:
        logging.getLogger(logger_name).removeHandler(handler)


def test_kafka_python_logs_go_through_ecom_logging_once_per_kind(
    dead_broker: str, ecom_log: io.StringIO
) -> None:
    attempts: list[logging.LogRecord] = []
    counter = logging.Handler(logging.WARNING)
    counter.emit = attempts.append  # type: ignore[method-assign]
    logging.getLogger("kafka").addHandler(counter)
    consumer = KafkaConsumer(
        "outage",
        bootstrap_servers=dead_broker,
        group_id="outage",
        api_version=(3, 0, 0),  # no version probe: the consumer starts and keeps retrying
        reconnect_backoff_ms=50,
        reconnect_backoff_max_ms=100,
    )
    try:
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline:
            consumer.poll(timeout_ms=200)
    finally:
        consumer.close()
        logging.getLogger("kafka").removeHandler(counter)

    lines = ecom_log.getvalue().splitlines()
    kinds = {(r.name, r.levelno, r.msg) for r in attempts}
    assert len(attempts) >= 10  # the client did retry, many times
    assert len(lines) == len(kinds), lines
    assert all(line.startswith(("WARNING kafka", "ERROR kafka")) for line in lines), lines
