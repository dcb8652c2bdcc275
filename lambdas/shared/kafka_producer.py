"""The Kafka producer of every runtime that publishes events: the collector and the simulator.

One place fixes what a published event can rely on:
- delivery: idempotent with acks=all, so a retried send neither loses nor duplicates a record
  and records of one partition keep their order;
- key: the user id, else the anonymous id, so one person's events share a partition and stay
  in order;
- authentication from the environment: MSK IAM (SASL OAUTHBEARER with a token signed by
  aws-msk-iam-sasl-signer-python) when KAFKA_AUTH=iam, else plaintext (the local broker).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal

from kafka import KafkaProducer
from kafka.sasl.oauth import AbstractTokenProvider

AUTH_PLAINTEXT = "plaintext"
AUTH_IAM = "iam"
# Signed tokens live 15 minutes; a new one is signed a minute before the old one expires.
_TOKEN_REFRESH_MARGIN_MS = 60_000
_MAX_KEY_CHARS = 200  # a hostile payload must not choose a megabyte key

Signer = Callable[[str], tuple[str, int]]


class KafkaSettingsError(ValueError):
    """The environment does not say how to reach Kafka; the message names the variable."""


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


class MskIamTokenProvider(AbstractTokenProvider):
    """OAUTHBEARER tokens for MSK IAM, signed with the runtime's AWS credentials and reused
    until shortly before they expire (every new connection asks for one)."""

    def __init__(
        self,
        region: str,
        sign: Signer = _sign_with_msk_signer,
        clock_ms: Callable[[], float] = lambda: time.time() * 1000,
    ) -> None:
        super().__init__()
        self._region = region
        self._sign = sign
        self._clock_ms = clock_ms
        self._token: str | None = None
        self._expires_ms = 0.0

    def token(self) -> str:
        if self._token is None or self._clock_ms() >= self._expires_ms - _TOKEN_REFRESH_MARGIN_MS:
            self._token, self._expires_ms = self._sign(self._region)
        return self._token


def connection_config(settings: KafkaSettings) -> dict[str, object]:
    """Client settings for the broker and its authentication (shared by every client kind)."""
    config: dict[str, object] = {"bootstrap_servers": settings.bootstrap_servers.split(",")}
    if settings.auth == AUTH_IAM:
        config.update(
            security_protocol="SASL_SSL",
            sasl_mechanism="OAUTHBEARER",
            sasl_oauth_token_provider=MskIamTokenProvider(settings.region or ""),
        )
    return config


def create_producer(
    settings: KafkaSettings,
    *,
    client_id: str,
    linger_ms: int = 5,
    batch_size: int = 65_536,
    max_block_ms: int = 60_000,
) -> KafkaProducer:
    """An idempotent acks=all producer of raw bytes (keys and values are serialized by callers).

    Only batching and blocking are tunable: the delivery guarantees are not a caller's choice.
    """
    return KafkaProducer(
        **connection_config(settings),
        client_id=client_id,
        acks="all",
        enable_idempotence=True,
        linger_ms=linger_ms,
        batch_size=batch_size,
        max_block_ms=max_block_ms,
        # kafka-python backs off up to 30 s between reconnects; a restarted broker is back sooner.
        reconnect_backoff_max_ms=1_000,
    )


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
