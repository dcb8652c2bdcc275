"""The collector over real HTTP on a real broker: what lands on which topic, keyed how.

Requests go through the local server (the Lambda handler behind http.server); the topics are
read back with a plain consumer and compared with the events that were posted.
"""

from __future__ import annotations

import base64
import copy
import json
import urllib.error
import urllib.request
from collections import defaultdict

import pytest
from kafka_harness import collector_fixture, read_topic  # noqa: F401 (a fixture)
from kafka_test_topics import StreamTopics
from stream_events import shopping_sessions

pytestmark = pytest.mark.integration


def post(url: str, payload: bytes, content_type: str = "application/json") -> tuple[int, dict]:
    request = urllib.request.Request(
        f"{url}/v1/events", data=payload, method="POST", headers={"Content-Type": content_type}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_valid_events_reach_the_events_topic_and_invalid_ones_the_dlq(
    collector: str, stream_topics: StreamTopics
) -> None:
    valid = shopping_sessions(3, seed=21)[:6]
    broken = copy.deepcopy(valid[0])
    broken["event_id"] = "0b5d8a3e-6c1f-4e2a-9d7b-3f0a1c2b4d5e"
    broken["occurred_at"] = "yesterday"
    batch = [valid[0], broken, *valid[1:], [1, 2]]

    status, answer = post(collector, json.dumps({"events": batch}).encode())

    assert status == 200
    assert (answer["accepted"], answer["rejected"]) == (len(valid), 2)
    assert [r["index"] for r in answer["results"] if r["status"] == "rejected"] == [1, 7]
    stored = read_topic(stream_topics.bootstrap_servers, stream_topics.events)
    assert sorted(json.dumps(v, sort_keys=True) for _, _, v in stored) == sorted(
        json.dumps(v, sort_keys=True) for v in valid
    )
    for _, key, event in stored:
        expected = event["user_id"] if event["user_id"] is not None else event["anonymous_id"]
        assert key == str(expected).encode()
    letters = read_topic(stream_topics.bootstrap_servers, stream_topics.dead_letters)
    assert len(letters) == 2
    by_index = {letter["source"]["index"]: (key, letter) for _, key, letter in letters}
    key, letter = by_index[1]
    assert letter["event_id"] == broken["event_id"]
    assert any(reason.startswith("occurred_at:") for reason in letter["reasons"])
    assert json.loads(base64.b64decode(letter["payload_base64"])) == broken
    assert json.loads(base64.b64decode(by_index[7][1]["payload_base64"])) == [1, 2]


def test_refused_requests_store_nothing(collector: str, stream_topics: StreamTopics) -> None:
    event = shopping_sessions(1, seed=5)[0]
    assert post(collector, json.dumps([event] * 501).encode())[0] == 413
    assert post(collector, json.dumps(event).encode(), "text/plain")[0] == 415
    assert post(collector, b"[1,")[0] == 400
    assert post(collector, json.dumps(event).encode()) == (
        200,
        {
            "accepted": 1,
            "rejected": 0,
            "results": [{"index": 0, "event_id": event["event_id"], "status": "accepted"}],
        },
    )
    stored = read_topic(stream_topics.bootstrap_servers, stream_topics.events)
    assert [value for _, _, value in stored] == [event]
    assert read_topic(stream_topics.bootstrap_servers, stream_topics.dead_letters) == []


def test_events_of_one_user_keep_their_order_across_requests(
    collector: str, stream_topics: StreamTopics
) -> None:
    events = shopping_sessions(12, seed=8)
    for start in range(0, len(events), 7):  # several requests, each a slice, in order
        assert post(collector, json.dumps(events[start : start + 7]).encode())[0] == 200
    stored = read_topic(stream_topics.bootstrap_servers, stream_topics.events)

    def ids_by_key(items: list[tuple[bytes | None, dict]]) -> dict[bytes | None, list[str]]:
        grouped: dict[bytes | None, list[str]] = defaultdict(list)
        for key, event in items:
            grouped[key].append(event["event_id"])
        return grouped

    posted = [
        (str(e["user_id"] if e["user_id"] is not None else e["anonymous_id"]).encode(), e)
        for e in events
    ]
    assert ids_by_key([(key, value) for _, key, value in stored]) == ids_by_key(posted)
    partitions_by_key = defaultdict(set)
    for partition, key, _ in stored:
        partitions_by_key[key].add(partition)
    assert all(len(partitions) == 1 for partitions in partitions_by_key.values())
