"""Producer throughput of the simulator and collector paths beside Kafka's own perf test.

All three write the same events (live events from the simulator's traffic, ~0.5-0.7 KB of
JSON each) to the same broker, to a throw-away topic with the events topic's partition count,
with the same delivery settings (acks=all, idempotent) and batching:
- Java: org.apache.kafka.tools.ProducerPerformance (kafka-tools, the broker's own jars) with
  a payload file of those events;
- simulator: `EventSimulator.send` (generate, stamp, serialize, key, send) then a flush, as
  `ecom simulate` runs when the rate is not the limit;
- collector: the Lambda handler on API Gateway events of 500-event batches (decode, validate,
  serialize, send, wait for acks per request), in process, without HTTP.
Also printed, for context: the perf test with the Java client's default batching, and the
Python producer alone sending pre-serialized events (what the paths add on top of the client).
The inputs the harness prepares (100,000 events, the requests) are frozen out of Python's
garbage collector (gc.freeze): a collector instance or a simulator never holds them, and
scanning them on every full collection would slow the Python paths by ~20% for nothing.
Target: each Python path at >= 25% of the Java perf test (same settings). Run:
`python benchmarks/bench_producer.py [--events N] [--java-records N]`.
"""

from __future__ import annotations

import argparse
import gc
import json
import re
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import orjson
from kafka import KafkaAdminClient

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cdk_app.config import TopicConfig, load_config
from contracts.events.topics import EVENTS_TOPIC
from data_generators.timeline import iso_utc
from lambdas.collector.api import KafkaRecordPublisher, create_app
from lambdas.collector.batch import MAX_BATCH_EVENTS, Topics
from lambdas.shared.kafka_producer import KafkaSettings, create_producer, event_key
from local_platform.event_simulator import EventSimulator
from local_platform.kafka_broker import (
    KafkaBroker,
    ensure_topics,
    find_java,
    resolve_bootstrap_servers,
)
from local_platform.kafka_publishing import BATCH_BYTES, LINGER_MS
from local_platform.live_traffic import LiveTraffic

TARGET_SHARE = 0.25
FLUSH_TIMEOUT_S = 120.0
USERS = 10_000
CONCURRENT_VISITS = 2_000
_JAVA_RESULT = re.compile(r"(\d+) records sent, ([\d.]+) records/sec \(([\d.]+) MB/sec\)")


def live_events(count: int, seed: int) -> list[dict]:
    traffic = LiveTraffic(USERS, seed, CONCURRENT_VISITS)
    events = [traffic.next_event() for _ in range(count)]
    for event in events:
        event["occurred_at"] = iso_utc(time.time_ns() // 1_000_000)
    return events


def timed(run: Callable[[], int]) -> tuple[int, float]:
    started = time.perf_counter()
    sent = run()
    return sent, time.perf_counter() - started


def java_perf_test(
    servers: str, topic: str, payloads: Path, records: int, batching: bool = True
) -> float:
    """Records/s of Kafka's ProducerPerformance: with the Python producers' batching, or with
    the Java client's default batching (linger.ms=0, batch.size=16384) when batching=False."""
    broker = KafkaBroker()
    batch_props = [f"linger.ms={LINGER_MS}", f"batch.size={BATCH_BYTES}"] if batching else []
    command = [
        find_java(), "-Xmx512m", "-cp", str(broker.jars_dir / "*"),
        "org.apache.kafka.tools.ProducerPerformance",
        "--topic", topic, "--num-records", str(records), "--throughput", "-1",
        "--payload-file", str(payloads),
        "--producer-props", f"bootstrap.servers={servers}", "acks=all",
        "enable.idempotence=true", *batch_props,
    ]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, check=True)
    matches = _JAVA_RESULT.findall(result.stdout)
    if not matches:
        raise RuntimeError(f"no result in the perf test output:\n{result.stdout}\n{result.stderr}")
    return float(matches[-1][1])


def simulator_path(servers: str, topic: str, count: int) -> float:
    producer = create_producer(
        KafkaSettings(servers), client_id="bench-sim", linger_ms=LINGER_MS, batch_size=BATCH_BYTES
    )
    simulator = EventSimulator(LiveTraffic(USERS, 1, CONCURRENT_VISITS), producer, topic)
    simulator.send(1_000)  # connect, fetch metadata, warm up
    producer.flush()

    def run() -> int:
        simulator.send(count)
        producer.flush()
        return count

    _, seconds = timed(run)
    producer.close()
    if simulator.totals.acknowledged != simulator.totals.sent:
        raise RuntimeError(f"not every event was acknowledged: {simulator.totals}")
    return count / seconds


def producer_only(servers: str, topic: str, events: list[dict]) -> float:
    producer = create_producer(
        KafkaSettings(servers), client_id="bench-raw", linger_ms=LINGER_MS, batch_size=BATCH_BYTES
    )
    records = [(topic, event_key(event), orjson.dumps(event)) for event in events]
    producer.deliver(records[:1_000], FLUSH_TIMEOUT_S)  # connect, fetch metadata, warm up

    def run() -> int:
        return producer.deliver(records, FLUSH_TIMEOUT_S)  # raises unless every one is stored

    sent, seconds = timed(run)
    producer.close()
    return sent / seconds


def api_gateway_request(events: list[dict]) -> dict:
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": "/v1/events",
        "rawQueryString": "",
        "headers": {"content-type": "application/json"},
        "requestContext": {
            "http": {"method": "POST", "path": "/v1/events", "sourceIp": "127.0.0.1"},
            "requestId": str(uuid.uuid4()),
            "stage": "$default",
        },
        "body": json.dumps({"events": events}),
        "isBase64Encoded": False,
    }


def collector_path(servers: str, topic: str, events: list[dict]) -> float:
    producer = create_producer(KafkaSettings(servers), client_id="bench-collector")
    handler = create_app(KafkaRecordPublisher(producer), Topics(topic, topic))
    requests = [
        api_gateway_request(events[start : start + MAX_BATCH_EVENTS])
        for start in range(0, len(events), MAX_BATCH_EVENTS)
    ]
    gc.freeze()  # the prepared requests are the harness's, not the handler's working set
    handler.resolve(requests[0], None)  # connect, fetch metadata, warm up

    def run() -> int:
        accepted = 0
        for request in requests:
            response = handler.resolve(request, None)
            accepted += json.loads(response["body"])["accepted"]
        return accepted

    accepted, seconds = timed(run)
    producer.close()
    if accepted != len(events):
        raise RuntimeError(f"the collector accepted {accepted} of {len(events)} events")
    return accepted / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=100_000, help="events per Python path")
    parser.add_argument("--java-records", type=int, default=500_000)
    args = parser.parse_args()

    servers = resolve_bootstrap_servers()
    partitions = load_config("dev").streaming.topic(EVENTS_TOPIC).partitions
    topic = f"bench.producer.{uuid.uuid4().hex[:8]}"
    ensure_topics(servers, [TopicConfig(name=topic, partitions=partitions, retention_hours=1)])
    events = live_events(args.events, seed=2)
    gc.freeze()  # see the module docstring
    sizes = [len(orjson.dumps(event)) for event in events]
    mean_size = sum(sizes) / len(sizes)
    print(
        f"broker {servers}, topic {topic} ({partitions} partitions), acks=all, idempotent, "
        f"linger.ms={LINGER_MS}, batch.size={BATCH_BYTES}"
    )
    print(f"events: mean {mean_size:.0f} bytes (min {min(sizes)}, max {max(sizes)})")
    try:
        with tempfile.TemporaryDirectory() as folder:
            payloads = Path(folder) / "payloads.txt"
            payloads.write_bytes(b"\n".join(orjson.dumps(event) for event in events[:20_000]))
            java = java_perf_test(servers, topic, payloads, args.java_records)
            java_defaults = java_perf_test(
                servers, topic, payloads, args.java_records, batching=False
            )
        rows = [
            ("Java ProducerPerformance", java),
            ("Java ProducerPerformance, default batching", java_defaults),
            ("simulator path (EventSimulator.send)", simulator_path(servers, topic, args.events)),
            ("collector path (handler, 500/request)", collector_path(servers, topic, events)),
            ("producer only, pre-serialized", producer_only(servers, topic, events)),
        ]
    finally:
        admin = KafkaAdminClient(bootstrap_servers=servers)
        admin.delete_topics([topic])
        admin.close()
    print(f"\n{'path':<44} {'events/s':>10} {'MB/s':>7} {'vs Java':>8}")
    for label, rate in rows:
        share = rate / java
        verdict = ""
        if "path" in label:
            verdict = "  ok" if share >= TARGET_SHARE else f"  below the {TARGET_SHARE:.0%} target"
        print(f"{label:<44} {rate:>10,.0f} {rate * mean_size / 1e6:>7.1f} {share:>8.1%}{verdict}")


if __name__ == "__main__":
    main()
