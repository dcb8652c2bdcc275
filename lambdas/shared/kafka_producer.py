"""The Kafka producer of every runtime that publishes events: the collector, the simulator, the
stream processor's dead letters and the demo.

One place fixes what a published event can rely on:
- delivery: idempotent with acks=all, so a retried send neither loses nor duplicates a record
  and records of one partition keep their order;
- key: the user id, else the anonymous id, so one person's events share a partition and stay
  in order; keys map to partitions with murmur2, as Java clients and kafka-python do, so every
  producer of a topic agrees on where a user's events go;
- authentication from the environment: MSK IAM (SASL OAUTHBEARER with a token signed by
  aws-msk-iam-sasl-signer-python) when KAFKA_AUTH=iam, else plaintext (the local broker).

The client is librdkafka (confluent-kafka): a send costs a few microseconds there against
tens in kafka-python, which capped the simulator and the collector far below the broker's
own producer (docs/realtime.md has the figures). Consumers and admin calls stay on
kafka-python.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

from confluent_kafka import KafkaError, KafkaException, Message, Producer

AUTH_PLAINTEXT = "plaintext"
AUTH_IAM = "iam"
_MAX_KEY_CHARS = 200  # a hostile payload must not choose a megabyte key
_POLL_WHILE_FULL_S = 0.05
# Delivery reports are served every this many sends (and by flush): often enough to keep the
# report queue short, rarely enough that polling costs little per record.
_SENDS_PER_POLL = 100

# Numbers (ports, addresses, counts, milliseconds) vary between retries of one failure.
_NUMBERS = re.compile(r"0x[0-9a-fA-F]+|\d+")
_MAX_LOG_KINDS = 1_000

Signer = Callable[[str], tuple[str, int]]
# librdkafka's report on one record, served by later sends and by flush: (None, message) when
# the broker has it, else (the error, message).
DeliveryCallback = Callable[[KafkaError | None, Message], None]
Record = tuple[str, bytes | None, bytes | None]  # topic, key, value


class KafkaSettingsError(ValueError):
    """The environment does not say how to reach Kafka; the message names the variable."""


class ProducerError(RuntimeError):
    """Kafka did not take a record, or did not acknowledge it in time."""


class RecordRefusedError(ProducerError):
    """The client refused this one record (too large, unknown topic); others may go on."""


@dataclass(frozen=True)
class KafkaSettings:
    bootstrap_servers: str
    auth: Literal["plaintext", "iam"] = AUTH_PLAINTEXT
    region: str | None = None


def kafka_settings_from_environment(
    environ: Mapping[str, str], bootstrap_servers: str | None = None
) -> KafkaSettings:
    """KAFKA_BOOTSTRAP_SERVERS (unless given), KAFKA_AUTH (plaintext | iam) and, for IAM,
    AWS_REGION (or AWS_DEFAULT_REGION), checked before any connection is tried."""
    servers = bootstrap_servers or environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if not servers:
        raise KafkaSettingsError("set KAFKA_BOOTSTRAP_SERVERS (HOST:PORT[,HOST:PORT...])")
    auth = (environ.get("KAFKA_AUTH") or AUTH_PLAINTEXT).strip().lower()
    if auth not in (AUTH_PLAINTEXT, AUTH_IAM):
        raise KafkaSettingsError(
            f"KAFKA_AUTH must be {AUTH_PLAINTEXT!r} or {AUTH_IAM!r}, got {auth!r}"
        )
    region = environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION")
    if auth == AUTH_IAM and not region:
        raise KafkaSettingsError("KAFKA_AUTH=iam needs AWS_REGION to sign the MSK token")
    return KafkaSettings(servers, auth, region)  # type: ignore[arg-type]


def _sign_with_msk_signer(region: str) -> tuple[str, int]:
    # Imported here: only the IAM path needs it (and boto3 under it).
    from aws_msk_iam_sasl_signer import MSKAuthTokenProvider

    return MSKAuthTokenProvider.generate_auth_token(region)


def msk_iam_token_callback(
    region: str, sign: Signer = _sign_with_msk_signer
) -> Callable[[str | None], tuple[str, float]]:
    """librdkafka's oauth_cb for MSK IAM: a token signed with the runtime's AWS credentials and
    its expiry in epoch seconds (librdkafka asks again well before that)."""

    def token(_config: str | None) -> tuple[str, float]:
        signed, expires_ms = sign(region)
        return signed, expires_ms / 1000

    return token


class RepeatFilter(logging.Filter):
    """Lets the first record of each kind through, then at most one per `interval_s`, saying
    how many it stands for. A kind is the logger, the level and the message with its numbers
    blanked: a client retrying a dead broker every second logs when the failure starts (or
    changes) and a reminder per interval, not a line per attempt."""

    def __init__(
        self, interval_s: float = 30.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        super().__init__()
        self._interval_s = interval_s
        self._clock = clock
        self._kinds: dict[tuple[str, int, str], tuple[float, int]] = {}  # last shown, held
        self._lock = threading.Lock()  # librdkafka and kafka-python log from their threads

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        kind = (record.name, record.levelno, _NUMBERS.sub("#", message))
        now = self._clock()
        with self._lock:
            shown_at, held = self._kinds.get(kind, (None, 0))
            if shown_at is not None and now - shown_at < self._interval_s:
                self._kinds[kind] = (shown_at, held + 1)
                return False
            if len(self._kinds) >= _MAX_LOG_KINDS:
                self._kinds.clear()
            self._kinds[kind] = (now, 0)
        if held:
            record.msg = f"{message} ({held} more like this in the last {self._interval_s:g} s)"
            record.args = ()
        return True


# librdkafka logs through this logger (not stderr), each kind of message once per interval.
_LIBRDKAFKA_LOG = logging.getLogger("librdkafka")
_LIBRDKAFKA_LOG.addFilter(RepeatFilter())


def connection_config(settings: KafkaSettings) -> dict[str, object]:
    """librdkafka settings for the broker and its authentication."""
    config: dict[str, object] = {
        "bootstrap.servers": settings.bootstrap_servers,
        # librdkafka backs off up to 10 s between reconnects; a restarted broker is back sooner.
        "reconnect.backoff.max.ms": 1_000,
        "logger": _LIBRDKAFKA_LOG,
    }
    if settings.auth == AUTH_IAM:
        config.update(
            {
                "security.protocol": "SASL_SSL",
                "sasl.mechanisms": "OAUTHBEARER",
                "oauth_cb": msk_iam_token_callback(settings.region or ""),
            }
        )
    return config


class EventProducer:
    """An idempotent acks=all producer of raw bytes (callers serialize keys and values).

    `send` queues a record and returns at once, waiting only while the local queue is full
    (up to max_block_s); acknowledgements arrive through callbacks served by later sends and
    by `flush`. `deliver` is the all-or-error path for a request or a batch.
    """

    def __init__(self, producer: Producer, max_block_s: float) -> None:
        self._producer = producer
        self._max_block_s = max_block_s
        self._sends_since_poll = 0

    def send(
        self,
        topic: str,
        value: bytes | None,
        key: bytes | None = None,
        on_delivery: DeliveryCallback | None = None,
    ) -> None:
        deadline = None
        while True:
            try:
                self._producer.produce(topic, value, key, on_delivery=on_delivery)
                break
            except BufferError:
                deadline = deadline or time.monotonic() + self._max_block_s
                if time.monotonic() >= deadline:
                    raise ProducerError(
                        f"the send queue stayed full for {self._max_block_s:g} s "
                        "(is the broker reachable?)"
                    ) from None
                self._producer.poll(_POLL_WHILE_FULL_S)
            except KafkaException as error:
                raise RecordRefusedError(error.args[0].str()) from error
        self._sends_since_poll += 1
        if self._sends_since_poll >= _SENDS_PER_POLL:
            self._sends_since_poll = 0
            self._producer.poll(0)

    def deliver(self, records: Iterable[Record], timeout_s: float) -> int:
        """Send every record and wait until the broker has each; returns how many. Raises
        ProducerError naming the first failure once the others are stored."""
        failures: list[str] = []

        def note_failure(error: KafkaError | None, _message: Message) -> None:
            if error is not None:
                failures.append(error.str())

        count = 0
        for topic, key, value in records:
            try:
                self.send(topic, value, key, note_failure)
            except RecordRefusedError as error:
                failures.append(str(error))
            count += 1
        self.flush(timeout_s)
        if failures:
            raise ProducerError(f"{len(failures)} of {count} records failed: {failures[0]}")
        return count

    def flush(self, timeout_s: float = 60.0) -> None:
        """Wait for every queued record's acknowledgement (or failure)."""
        waiting = self._producer.flush(timeout_s)
        if waiting:
            raise ProducerError(f"{waiting} records were not acknowledged within {timeout_s:g} s")

    def has_topic(self, topic: str, timeout_s: float) -> bool:
        """Whether the broker knows the topic; raises ProducerError when it does not answer."""
        try:
            metadata = self._producer.list_topics(topic, timeout=timeout_s)
        except KafkaException as error:
            raise ProducerError(str(error.args[0])) from error
        found = metadata.topics.get(topic)
        return found is not None and found.error is None

    def close(self, timeout_s: float = 30.0) -> None:
        """Wait up to timeout_s for queued records; what is still queued then is lost."""
        self._producer.flush(timeout_s)


def create_producer(
    settings: KafkaSettings,
    *,
    client_id: str,
    linger_ms: int = 5,
    batch_size: int = 65_536,
    max_block_ms: int = 60_000,
) -> EventProducer:
    """The producer with the guarantees above; only batching and blocking are tunable."""
    producer = Producer(
        {
            **connection_config(settings),
            "client.id": client_id,
            "acks": "all",
            "enable.idempotence": True,
            "partitioner": "murmur2_random",
            "linger.ms": linger_ms,
            "batch.size": batch_size,
        }
    )
    return EventProducer(producer, max_block_ms / 1000)


def event_key(event: object) -> bytes | None:
    """The partition key of an event: its user id, else its anonymous id; None when the
    payload shows neither (a rejected payload then lands on any partition)."""
    if not isinstance(event, dict):
        return None
    user_id = event.get("user_id")
    if isinstance(user_id, int) and not isinstance(user_id, bool):
        return str(user_id).encode()
    anonymous_id = event.get("anonymous_id")
    if isinstance(anonymous_id, str) and anonymous_id:
        return anonymous_id[:_MAX_KEY_CHARS].encode("utf-8", "replace")
    return None
