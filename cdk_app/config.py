"""Typed, validated configuration per environment, read from the `environments` key of cdk.json.

Environments differ only here (sizes, MSK and Redshift modes, retention), so every value is
checked before a single construct is built. Pure pydantic + json on purpose: the local tools
(Kafka topics, real-time thresholds) read the same file without importing aws_cdk.
"""

from __future__ import annotations

import ipaddress
import json
import re
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from contracts.events.topics import DEAD_LETTER_TOPIC, EVENTS_TOPIC

CDK_JSON = Path(__file__).resolve().parent.parent / "cdk.json"
_TOPIC_NAME = re.compile(r"^[a-zA-Z0-9._-]{1,249}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# A web origin as browsers send it: scheme, host and an optional port; no path, no wildcard.
WebOrigin = Annotated[str, StringConstraints(pattern=r"^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?$")]
# A six-field cron in UTC, as Glue triggers and EventBridge (Scheduler) take it.
Cron = Annotated[str, Field(pattern=r"^cron\((\S+ ){5}\S+\)$")]
# The only retention periods CloudWatch Logs accepts.
LOG_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827)


class ConfigError(ValueError):
    """The configuration cannot be used; the message names the environment and the key."""


class _Section(BaseModel):
    # A misspelt key must fail loudly instead of silently falling back to a default.
    model_config = ConfigDict(extra="forbid", frozen=True)


class NetworkConfig(_Section):
    vpc_cidr: str = "10.40.0.0/16"
    max_azs: Annotated[int, Field(ge=2, le=6)] = 3
    flow_log_retention_days: int = 30

    @field_validator("vpc_cidr")
    @classmethod
    def _cidr_is_private_block(cls, value: str) -> str:
        network = ipaddress.ip_network(value, strict=True)
        if network.version != 4 or not network.is_private or not 16 <= network.prefixlen <= 22:
            raise ValueError("must be a private IPv4 block between /16 and /22")
        return value

    @field_validator("flow_log_retention_days")
    @classmethod
    def _retention_cloudwatch_accepts(cls, value: int) -> int:
        if value not in LOG_RETENTION_DAYS:
            raise ValueError(f"must be one of {', '.join(map(str, LOG_RETENTION_DAYS))}")
        return value


class TopicConfig(_Section):
    name: str
    partitions: Annotated[int, Field(ge=1, le=1000)]
    retention_hours: Annotated[int, Field(ge=1, le=24 * 365)]

    @field_validator("name")
    @classmethod
    def _legal_kafka_name(cls, value: str) -> str:
        if not _TOPIC_NAME.match(value) or value in {".", ".."}:
            raise ValueError("Kafka topic names use only letters, digits, '.', '_' and '-'")
        return value


def _default_topics() -> list[TopicConfig]:
    return [
        TopicConfig(name=EVENTS_TOPIC, partitions=6, retention_hours=168),
        TopicConfig(name=DEAD_LETTER_TOPIC, partitions=2, retention_hours=336),
    ]


class StreamingConfig(_Section):
    mode: Literal["serverless", "provisioned"] = "serverless"
    kafka_version: Annotated[str, Field(pattern=r"^\d+\.\d+\.(\d+|x)$")] = "3.9.x"
    broker_instance_type: Annotated[str, Field(pattern=r"^kafka\.[a-z0-9]+\.[a-z0-9]+$")] = (
        "kafka.m7g.large"
    )
    broker_count: Annotated[int, Field(ge=2, le=30)] = 2
    broker_volume_gib: Annotated[int, Field(ge=1, le=16384)] = 100
    topics: list[TopicConfig] = Field(default_factory=_default_topics)

    def topic(self, name: str) -> TopicConfig:
        (found,) = (topic for topic in self.topics if topic.name == name)
        return found

    @field_validator("topics")
    @classmethod
    def _unique_names_with_the_contract_topics(cls, topics: list[TopicConfig]) -> list[TopicConfig]:
        names = [topic.name for topic in topics]
        if len(set(names)) != len(names):
            raise ValueError(f"topic names must be unique, got {names}")
        missing = {EVENTS_TOPIC, DEAD_LETTER_TOPIC} - set(names)
        if missing:
            raise ValueError(f"the event contract needs topics {sorted(missing)}")
        return topics


class OltpConfig(_Section):
    engine_version: Annotated[str, Field(pattern=r"^1[67]\.\d+$")] = "17.6"
    instance_class: Annotated[str, Field(pattern=r"^[a-z0-9]+\.[a-z0-9]+$")] = "t4g.micro"
    allocated_storage_gib: Annotated[int, Field(ge=20, le=65536)] = 20
    max_allocated_storage_gib: Annotated[int, Field(ge=20, le=65536)] = 100
    multi_az: bool = False
    backup_retention_days: Annotated[int, Field(ge=1, le=35)] = 7
    deletion_protection: bool = True
    secret_rotation_days: Annotated[int, Field(ge=1, le=365)] = 30
    database_name: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,62}$")] = "ecommerce"
    # RDS enhanced monitoring: OS metrics every this many seconds (the intervals RDS accepts).
    monitoring_interval_seconds: Literal[1, 5, 10, 15, 30, 60] = 60


class LakeConfig(_Section):
    raw_infrequent_access_days: Annotated[int, Field(ge=30)] = 30
    raw_glacier_days: Annotated[int, Field(ge=31)] = 180
    noncurrent_version_expiration_days: Annotated[int, Field(ge=1)] = 30
    access_log_expiration_days: Annotated[int, Field(ge=1)] = 365


class WarehouseConfig(_Section):
    mode: Literal["serverless", "provisioned"] = "serverless"
    base_rpu: Annotated[int, Field(ge=8, le=1024, multiple_of=8)] = 8
    node_type: Annotated[str, Field(pattern=r"^ra3\.[a-z0-9]+$")] = "ra3.large"
    node_count: Annotated[int, Field(ge=1, le=128)] = 2
    database_name: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,62}$")] = "analytics"


class MonitoringConfig(_Section):
    alarm_email: str | None = None
    rds_cpu_percent: Annotated[float, Field(gt=0, le=100)] = 80
    rds_free_storage_gib: Annotated[float, Field(gt=0)] = 5
    rds_max_connections: Annotated[int, Field(ge=1)] = 80

    @field_validator("alarm_email")
    @classmethod
    def _looks_like_email(cls, value: str | None) -> str | None:
        if value is not None and not _EMAIL.match(value):
            raise ValueError("must be an e-mail address")
        return value


class IngestConfig(_Section):
    """The platform's HTTP API: API Gateway throttling (the stage's steady rate and burst), the
    web origins whose pages may post events from a browser (CORS; none means server-side
    clients only), and the collector and recommendations Lambdas' sizes."""

    throttle_rate_per_second: Annotated[float, Field(gt=0, le=10_000)] = 100
    throttle_burst: Annotated[int, Field(ge=1, le=5_000)] = 200
    cors_allowed_origins: tuple[WebOrigin, ...] = ()
    collector_memory_mb: Annotated[int, Field(ge=128, le=10_240)] = 512
    # Concurrent collector invocations reserved (and capped): throttle rate x request seconds.
    collector_reserved_concurrency: Annotated[int, Field(ge=1, le=1000)] = 100
    # Concurrent recommendations invocations reserved (and capped); each holds one database
    # connection, so this also caps the API's connections to PostgreSQL.
    recommendations_reserved_concurrency: Annotated[int, Field(ge=1, le=1000)] = 20
    access_log_retention_days: int = 30

    @field_validator("access_log_retention_days")
    @classmethod
    def _retention_cloudwatch_accepts(cls, value: int) -> int:
        if value not in LOG_RETENTION_DAYS:
            raise ValueError(f"must be one of {', '.join(map(str, LOG_RETENTION_DAYS))}")
        return value

    @field_validator("throttle_burst")
    @classmethod
    def _burst_covers_a_second(cls, value: int, info: ValidationInfo) -> int:
        rate = info.data.get("throttle_rate_per_second")
        if rate is not None and value < rate:
            raise ValueError("must be at least throttle_rate_per_second")
        return value


class RealtimeConfig(_Section):
    """The real-time consumers of the events topic: the stream processor's event source
    mapping, the raw-zone streaming job, and the thresholds of their alarms."""

    cart_abandonment_minutes: Annotated[int, Field(ge=1, le=1440)] = 30
    # The MSK event source mapping: records per invocation and how long to gather them.
    batch_size: Annotated[int, Field(ge=1, le=10_000)] = 500
    batching_window_seconds: Annotated[int, Field(ge=0, le=300)] = 1
    processor_memory_mb: Annotated[int, Field(ge=128, le=10_240)] = 1024
    processor_timeout_seconds: Annotated[int, Field(ge=10, le=900)] = 120
    # The MSK trigger runs at most one invocation per partition of the events topic.
    processor_reserved_concurrency: Annotated[int, Field(ge=1, le=1000)] = 12
    # A failing batch is retried this often, then parked on a queue (its offsets, for replay).
    processor_retry_attempts: Annotated[int, Field(ge=0, le=10_000)] = 10
    failed_batch_retention_days: Annotated[int, Field(ge=1, le=14)] = 14
    # Alarm when the processor's consumer group is this far behind (records, or seconds).
    max_offset_lag: Annotated[int, Field(ge=1)] = 10_000
    max_time_lag_seconds: Annotated[int, Field(ge=1)] = 300
    # The Glue streaming job that lands the topic in the raw zone.
    raw_stream_worker_type: Literal["G.025X", "G.1X", "G.2X"] = "G.1X"
    raw_stream_workers: Annotated[int, Field(ge=2, le=100)] = 2
    raw_stream_trigger_seconds: Annotated[int, Field(ge=10, le=3600)] = 60
    # Redshift streaming ingestion: how long one DDL statement may run on deploy.
    redshift_statement_timeout_seconds: Annotated[int, Field(ge=10, le=840)] = 300

    @field_validator("processor_timeout_seconds")
    @classmethod
    def _longer_than_the_batching_window(cls, value: int, info: ValidationInfo) -> int:
        window = info.data.get("batching_window_seconds")
        if window is not None and value <= window:
            raise ValueError("must be longer than batching_window_seconds")
        return value


class EtlConfig(_Section):
    """The batch Glue jobs (extract -> curate -> marts -> load) and their workflow."""

    # EventBridge-style cron (six fields) of the workflow's scheduled trigger, in UTC.
    schedule: Cron = "cron(0 2 * * ? *)"
    worker_type: Literal["G.025X", "G.1X", "G.2X", "G.4X", "G.8X"] = "G.1X"
    workers: Annotated[int, Field(ge=2, le=299)] = 2
    timeout_minutes: Annotated[int, Field(ge=5, le=2880)] = 120
    # Alarm when one run of a job takes longer than this.
    max_duration_minutes: Annotated[int, Field(ge=1, le=2880)] = 60
    allowed_lateness_hours: Annotated[int, Field(ge=0, le=720)] = 48

    @field_validator("max_duration_minutes")
    @classmethod
    def _alarm_before_the_timeout(cls, value: int, info: ValidationInfo) -> int:
        timeout = info.data.get("timeout_minutes")
        if timeout is not None and value >= timeout:
            raise ValueError("must be shorter than timeout_minutes")
        return value


class MlConfig(_Section):
    """The SageMaker pipelines: when they run (EventBridge Scheduler cron, six fields, UTC),
    the churn horizon, and the thresholds a trained model must meet to be registered (the
    training pipeline's parameters; docs/ml.md says how they were measured)."""

    training_schedule: Cron = "cron(0 4 ? * MON *)"
    scoring_schedule: Cron = "cron(0 6 * * ? *)"
    horizon_days: Annotated[int, Field(ge=7, le=730)] = 90
    min_churn_auc: Annotated[float, Field(ge=0.5, le=1)] = 0.75
    max_churn_brier: Annotated[float, Field(gt=0, le=0.25)] = 0.12
    max_clv_revenue_error: Annotated[float, Field(gt=0)] = 0.3


class FunctionsConfig(_Section):
    """What every project Lambda function gets unless its own section sizes it: the
    concurrency reserved for it (which also caps it), and how long its dead-letter queue keeps
    failed asynchronous invocations."""

    default_reserved_concurrency: Annotated[int, Field(ge=1, le=1000)] = 5
    dead_letter_retention_days: Annotated[int, Field(ge=1, le=14)] = 14


# A QuickSight group: its full ARN (as `aws quicksight describe-group` prints it), or its name,
# which the stack completes with the account, the identity region and the namespace.
_QUICKSIGHT_GROUP_ARN = re.compile(
    r"^arn:aws[a-z-]*:quicksight:[a-z]{2}(-[a-z]+)+-\d:\d{12}:group/[A-Za-z0-9._-]+/[\w+=,.@-]{1,128}$"
)
_QUICKSIGHT_GROUP_NAME = re.compile(r"^[\w+=,.@-]{1,128}$")


class RefreshOverrides(_Section):
    """This environment's SPICE refresh, where it differs from the dataset definitions'
    (quicksight_templates/datasets.yaml, written for dev's nightly batch): each key set here
    replaces that key of every SPICE dataset's schedule; unset keys keep the definition's."""

    interval: Literal["HOURLY", "DAILY"] | None = None
    # Local time of a DAILY refresh, after the nightly load of the marts (etl.schedule).
    time_of_day: Annotated[str | None, Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")] = None
    time_zone: str | None = None

    @field_validator("time_zone")
    @classmethod
    def _known_time_zone(cls, value: str | None) -> str | None:
        if value is None:
            return value
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("must be an IANA time zone such as UTC or Europe/Paris") from None
        return value


class DashboardsConfig(_Section):
    """QuickSight: whether this account deploys the dashboards at all (the subscription is a
    one-time manual step, docs/operations.md), the groups that see them (groups cannot be made
    by CloudFormation, so config names existing ones), and when SPICE datasets refresh here."""

    enabled: bool = False
    # Readers: view the dashboards and their datasets. Admins: own every QuickSight resource.
    analysts_group: str | None = None
    admins_group: str | None = None
    # Where the groups live: the QuickSight namespace and identity region (None: this region).
    namespace: Annotated[str, Field(pattern=r"^[a-zA-Z0-9._-]{1,64}$")] = "default"
    identity_region: Annotated[str | None, Field(pattern=r"^[a-z]{2}(-[a-z]+)+-\d$")] = None
    refresh: RefreshOverrides = RefreshOverrides()

    @field_validator("analysts_group", "admins_group")
    @classmethod
    def _group_name_or_arn(cls, value: str | None) -> str | None:
        if value is None or _QUICKSIGHT_GROUP_NAME.match(value):
            return value
        if not _QUICKSIGHT_GROUP_ARN.match(value):
            raise ValueError(
                "must be a QuickSight group name or a group ARN"
                " (arn:aws:quicksight:<region>:<account>:group/<namespace>/<name>)"
            )
        return value

    def group(self, role: Literal["analysts", "admins"]) -> str:
        """The configured group of `role` (set whenever the dashboards are enabled)."""
        value = getattr(self, f"{role}_group")
        if value is None:
            raise ConfigError(f"dashboards.{role}_group is not set")
        return value

    @model_validator(mode="after")
    def _groups_when_enabled(self) -> DashboardsConfig:
        if self.enabled:
            missing = [
                key for key in ("analysts_group", "admins_group") if getattr(self, key) is None
            ]
            if missing:
                raise ValueError(f"enabled needs {' and '.join(missing)} (QuickSight groups)")
            if self.analysts_group == self.admins_group:
                raise ValueError("analysts_group and admins_group must be different groups")
        return self


class PlatformConfig(_Section):
    env_name: str
    account: Annotated[str | None, Field(pattern=r"^\d{12}$")] = None
    region: Annotated[str | None, Field(pattern=r"^[a-z]{2}(-[a-z]+)+-\d$")] = None
    destroy_data: bool = False
    network: NetworkConfig = NetworkConfig()
    streaming: StreamingConfig = StreamingConfig()
    oltp: OltpConfig = OltpConfig()
    lake: LakeConfig = LakeConfig()
    warehouse: WarehouseConfig = WarehouseConfig()
    monitoring: MonitoringConfig = MonitoringConfig()
    ingest: IngestConfig = IngestConfig()
    realtime: RealtimeConfig = RealtimeConfig()
    etl: EtlConfig = EtlConfig()
    ml: MlConfig = MlConfig()
    functions: FunctionsConfig = FunctionsConfig()
    dashboards: DashboardsConfig = DashboardsConfig()

    @model_validator(mode="after")
    def _sections_agree(self) -> PlatformConfig:
        problems = []
        if self.warehouse.mode == "serverless" and self.network.max_azs < 3:
            problems.append(
                "network.max_azs: Redshift Serverless needs subnets in 3 AZs"
                " (or set warehouse.mode to provisioned)"
            )
        if (
            self.streaming.mode == "provisioned"
            and self.streaming.broker_count % self.network.max_azs
        ):
            problems.append("streaming.broker_count: must be a multiple of network.max_azs")
        if self.oltp.max_allocated_storage_gib < self.oltp.allocated_storage_gib:
            problems.append(
                "oltp.max_allocated_storage_gib: must be at least oltp.allocated_storage_gib"
            )
        if self.destroy_data and self.oltp.deletion_protection:
            problems.append(
                "oltp.deletion_protection: must be false when destroy_data is set,"
                " or the database cannot be deleted"
            )
        events_partitions = self.streaming.topic(EVENTS_TOPIC).partitions
        if self.realtime.processor_reserved_concurrency < events_partitions:
            problems.append(
                "realtime.processor_reserved_concurrency: must be at least the partitions of"
                f" {EVENTS_TOPIC} ({events_partitions}), or partitions wait for each other"
            )
        problems += self._dashboard_groups_in_this_account()
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def _dashboard_groups_in_this_account(self) -> list[str]:
        """A group ARN of another account would deploy, then grant nobody here anything."""
        problems = []
        for key in ("analysts_group", "admins_group"):
            value = getattr(self.dashboards, key)
            if self.account and value and value.startswith("arn:"):
                account = value.split(":")[4]
                if account != self.account:
                    problems.append(
                        f"dashboards.{key}: account {account} is not this environment's"
                        f" account {self.account}"
                    )
        return problems


def read_cdk_context(path: Path = CDK_JSON) -> dict[str, Any]:
    """The "context" object of cdk.json (the defaults every environment starts from)."""
    return json.loads(path.read_text())["context"]


def load_config(env_name: str, context: dict[str, Any] | None = None) -> PlatformConfig:
    """Validated config of one environment; a top-level `destroy_data` context value overrides.

    `context` is the CDK context (cdk.json's "context" when omitted). Raises ConfigError naming
    the environment and the offending key.
    """
    context = read_cdk_context() if context is None else context
    environments = context.get("environments") or {}
    if env_name not in environments:
        known = ", ".join(sorted(environments)) or "none"
        raise ConfigError(f"unknown environment {env_name!r} (key 'env'); known: {known}")
    values = {**environments[env_name], "env_name": env_name}
    if context.get("destroy_data") is not None:
        values["destroy_data"] = context["destroy_data"]
    try:
        return PlatformConfig.model_validate(values)
    except ValidationError as error:
        problems = "; ".join(_describe(issue) for issue in error.errors())
        raise ConfigError(f"invalid config for environment {env_name!r}: {problems}") from None


def _describe(issue: Any) -> str:
    """One validation issue as `dotted.key: message (got value)`."""
    if not issue["loc"]:  # a rule across sections: the message names its keys
        return issue["msg"].removeprefix("Value error, ")
    key = ".".join(str(part) for part in issue["loc"])
    return f"{key}: {issue['msg']} (got {issue['input']!r})"


# owner/name as GitHub spells them (the `sub` claim of its OIDC tokens starts with repo:<this>).
GithubRepository = Annotated[
    str, Field(pattern=r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}$")
]


class DeliveryConfig(_Section):
    """The deployment identity (stacks/delivery.py): which repository's workflows may deploy,
    and the GitHub environments they deploy from. Deployed once per account by an admin."""

    github_repository: GithubRepository
    deploy_environments: Annotated[tuple[str, ...], Field(min_length=1)] = ("staging", "prod")
    # An account holds one OIDC provider per issuer: false reuses the one already there.
    create_oidc_provider: bool = True


def load_delivery_config(context: dict[str, Any] | None = None) -> DeliveryConfig:
    """The `delivery` section of the CDK context; a top-level `github_repository` context value
    (`-c github_repository=owner/name`) overrides. Raises ConfigError naming the key."""
    context = read_cdk_context() if context is None else context
    values = dict(context.get("delivery") or {})
    if context.get("github_repository"):
        values["github_repository"] = context["github_repository"]
    if not values.get("github_repository"):
        raise ConfigError(
            "delivery.github_repository is not set: pass -c github_repository=OWNER/NAME"
        )
    try:
        config = DeliveryConfig.model_validate(values)
    except ValidationError as error:
        problems = "; ".join(_describe(issue) for issue in error.errors())
        raise ConfigError(f"invalid delivery config: {problems}") from None
    known = set(context.get("environments") or {})
    unknown = [name for name in config.deploy_environments if name not in known]
    if unknown:
        raise ConfigError(
            f"invalid delivery config: deploy_environments: {unknown} are not environments"
            f" (known: {', '.join(sorted(known))})"
        )
    return config
