"""A local single-node Kafka broker (KRaft mode) run from the Maven Central jars with Java 17.

The broker is the same Apache Kafka release as MSK runs (local_platform/kafka/pom.xml pins it;
a unit test keeps it in step with streaming.kafka_version in cdk.json). It listens on
127.0.0.1 only, keeps its data, config and logs in a git-ignored folder and outlives the
command that started it, so the next command reuses it. The jars are fetched by `mvn` on
first use (its own settings pick the repository) into .local/kafka/libs, shared by every
broker home, so a throw-away broker in a temporary folder starts without another download.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from kafka import KafkaAdminClient
from kafka.admin import NewTopic
from kafka.errors import KafkaError, TopicAlreadyExistsError

from cdk_app.config import TopicConfig
from glue_jobs.maven_jars import MavenJarsError, copy_pom_jars
from local_platform.logs import kafka_python_quiet
from local_platform.paths import LOCAL_HOME

POM_FILE = Path(__file__).resolve().parent / "kafka" / "pom.xml"
DEFAULT_HOME = LOCAL_HOME / "kafka"
JARS_DIR = DEFAULT_HOME / "libs"
MINIMUM_JAVA = 17
# A few hundred MB is plenty for local traffic and leaves room for Spark and PostgreSQL.
HEAP_OPTIONS = ("-Xms256m", "-Xmx768m")
_BROKER_MAIN_CLASS = "kafka.Kafka"


class KafkaBrokerError(RuntimeError):
    """The local broker could not be prepared, started or stopped; the message says why."""


@dataclass(frozen=True)
class BrokerStatus:
    running: bool
    pid: int | None
    bootstrap_servers: str | None


@dataclass(frozen=True)
class KafkaBroker:
    home: Path = DEFAULT_HOME
    jars_dir: Path = JARS_DIR

    @property
    def data_dir(self) -> Path:
        return self.home / "data"

    @property
    def config_file(self) -> Path:
        return self.home / "config" / "server.properties"

    @property
    def log_dir(self) -> Path:
        return self.home / "logs"

    @property
    def log_file(self) -> Path:
        return self.log_dir / "server.log"

    @property
    def state_file(self) -> Path:
        return self.home / "broker.json"

    def status(self) -> BrokerStatus:
        state = self._read_state()
        pid = state.get("pid")
        if pid is None or not _is_our_broker(pid, self.config_file):
            return BrokerStatus(False, None, None)
        bootstrap = _bootstrap(state["port"])
        return BrokerStatus(_answers(bootstrap), pid, bootstrap)

    def start(self, timeout_s: float = 90.0) -> str:
        """Start the broker (or find it running); returns its bootstrap servers when it answers."""
        with self._lock():
            status = self.status()
            if status.running and status.bootstrap_servers:
                return status.bootstrap_servers
            if status.pid is not None:  # started but not answering yet, e.g. another caller's
                pid = status.pid
                return self._wait_until_answering(
                    lambda: _is_our_broker(pid, self.config_file),
                    self._read_state()["port"],
                    timeout_s,
                )
            java = find_java()
            ensure_jars(self.jars_dir)
            port, controller_port = self._choose_ports()
            self._write_config(port, controller_port)
            if not (self.data_dir / "meta.properties").exists():
                self._format_storage(java)
            process = self._launch(java)
            self._write_state(
                {"pid": process.pid, "port": port, "controller_port": controller_port}
            )
            return self._wait_until_answering(lambda: process.poll() is None, port, timeout_s)

    def stop(self, timeout_s: float = 60.0) -> bool:
        """Stop the broker (SIGTERM; SIGKILL after the timeout); False if it was not running."""
        with self._lock():
            pid = self._read_state().get("pid")
            if pid is None or not _is_our_broker(pid, self.config_file):
                return False
            os.kill(pid, signal.SIGTERM)
            deadline = time.monotonic() + timeout_s
            while _is_our_broker(pid, self.config_file) and time.monotonic() < deadline:
                time.sleep(0.1)
            if _is_our_broker(pid, self.config_file):
                os.kill(pid, signal.SIGKILL)
                while _is_our_broker(pid, self.config_file):
                    time.sleep(0.05)
            with contextlib.suppress(ChildProcessError):  # reap it when this process started it
                os.waitpid(pid, os.WNOHANG)
            return True

    def _choose_ports(self) -> tuple[int, int]:
        """The ports of the last run when still free (clients keep their address), else new ones."""
        state = self._read_state()
        previous = (state.get("port"), state.get("controller_port"))
        if all(isinstance(p, int) and _port_is_free(p) for p in previous):
            return previous[0], previous[1]
        port = _free_port()
        controller_port = _free_port()
        while controller_port == port:
            controller_port = _free_port()
        return port, controller_port

    def _write_config(self, port: int, controller_port: int) -> None:
        self.config_file.parent.mkdir(parents=True, exist_ok=True)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        settings = {
            "process.roles": "broker,controller",
            "node.id": "1",
            "controller.quorum.voters": f"1@127.0.0.1:{controller_port}",
            "listeners": f"PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller_port}",
            "advertised.listeners": f"PLAINTEXT://127.0.0.1:{port}",
            "controller.listener.names": "CONTROLLER",
            "inter.broker.listener.name": "PLAINTEXT",
            "listener.security.protocol.map": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
            "log.dirs": str(self.data_dir),
            # Topics come from config (ecom kafka topics), as on MSK; a typo must not create one.
            "auto.create.topics.enable": "false",
            # One node: every internal topic has a single replica.
            "offsets.topic.replication.factor": "1",
            "offsets.topic.num.partitions": "10",
            "transaction.state.log.replication.factor": "1",
            "transaction.state.log.min.isr": "1",
            "transaction.state.log.num.partitions": "10",
            # A lone consumer should not wait 3 s for company before it gets its partitions.
            "group.initial.rebalance.delay.ms": "0",
        }
        self.config_file.write_text("".join(f"{k}={v}\n" for k, v in settings.items()))
        (self.config_file.parent / "log4j.properties").write_text(
            "log4j.rootLogger=INFO, file\n"
            "log4j.appender.file=org.apache.log4j.RollingFileAppender\n"
            f"log4j.appender.file.File={self.log_file}\n"
            "log4j.appender.file.MaxFileSize=20MB\n"
            "log4j.appender.file.MaxBackupIndex=3\n"
            "log4j.appender.file.layout=org.apache.log4j.PatternLayout\n"
            "log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n\n"
        )

    def _java_command(self, java: str, main_class: str, *args: str) -> list[str]:
        log4j = self.config_file.parent / "log4j.properties"
        return [
            java,
            *HEAP_OPTIONS,
            "-XX:+UseG1GC",
            "-Djava.awt.headless=true",
            f"-Dlog4j.configuration={log4j.as_uri()}",
            f"-Dkafka.logs.dir={self.log_dir}",
            "-cp",
            str(self.jars_dir / "*"),
            main_class,
            *args,
        ]

    def _format_storage(self, java: str) -> None:
        cluster_id = new_cluster_id()
        command = self._java_command(
            java, "kafka.tools.StorageTool", "format", "-t", cluster_id, "-c", str(self.config_file)
        )
        result = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603 java with the broker's own jars
        if result.returncode != 0:
            raise KafkaBrokerError(f"formatting {self.data_dir} failed: {result.stderr.strip()}")

    def _launch(self, java: str) -> subprocess.Popen:
        command = self._java_command(java, _BROKER_MAIN_CLASS, str(self.config_file))
        with (self.log_dir / "stdout.log").open("ab") as output:
            process = subprocess.Popen(  # noqa: S603 java with the broker's own jars
                command,
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # outlives this command and its Ctrl-C
            )
        return process

    def _wait_until_answering(
        self, is_alive: Callable[[], bool], port: int, timeout_s: float
    ) -> str:
        bootstrap = _bootstrap(port)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if not is_alive():
                raise KafkaBrokerError(f"the broker exited during start-up.\n{self._log_tail()}")
            if _answers(bootstrap):
                return bootstrap
            time.sleep(0.2)
        raise KafkaBrokerError(
            f"the broker did not answer on {bootstrap} within {timeout_s:.0f} s.\n"
            f"{self._log_tail()}"
        )

    def _log_tail(self, lines: int = 30) -> str:
        if not self.log_file.exists():
            return f"(no log at {self.log_file})"
        tail = self.log_file.read_text(errors="replace").splitlines()[-lines:]
        return f"last lines of {self.log_file}:\n" + "\n".join(tail)

    def _read_state(self) -> dict:
        if not self.state_file.exists():
            return {}
        return json.loads(self.state_file.read_text())

    def _write_state(self, state: dict) -> None:
        self.state_file.write_text(json.dumps(state))

    @contextlib.contextmanager
    def _lock(self) -> Iterator[None]:
        """One starter at a time, across processes (parallel test workers, make and a shell)."""
        self.home.mkdir(parents=True, exist_ok=True)
        with (self.home / ".lock").open("w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)


def find_java() -> str:
    """The java binary ($JAVA_HOME first, then PATH); it must be Java 17 or newer."""
    java_home = os.environ.get("JAVA_HOME")
    java = str(Path(java_home) / "bin" / "java") if java_home else shutil.which("java")
    if not java or not Path(java).exists():
        raise KafkaBrokerError("java not found: install a Java 17 runtime or set JAVA_HOME")
    result = subprocess.run([java, "-version"], capture_output=True, text=True, check=False)  # noqa: S603 java from JAVA_HOME or PATH
    match = re.search(r'version "(\d+)', result.stderr)
    if not match or int(match[1]) < MINIMUM_JAVA:
        raise KafkaBrokerError(
            f"{java} is not Java {MINIMUM_JAVA}+: {result.stderr.strip().splitlines()[:1]}"
        )
    return java


def pom_kafka_version(pom: Path = POM_FILE) -> str:
    """The Kafka release the pom pins (its kafka.version property)."""
    match = re.search(r"<kafka\.version>([^<]+)</kafka\.version>", pom.read_text())
    if not match:
        raise KafkaBrokerError(f"{pom} has no <kafka.version> property")
    return match[1].strip()


def ensure_jars(jars_dir: Path = JARS_DIR, pom: Path = POM_FILE) -> bool:
    """Copy the broker jars with mvn unless the pom is unchanged; True when it downloaded."""
    try:
        return copy_pom_jars(pom, jars_dir, f"Kafka {pom_kafka_version(pom)} jars")
    except MavenJarsError as error:
        raise KafkaBrokerError(str(error)) from error


def ensure_topics(bootstrap_servers: str, topics: Sequence[TopicConfig]) -> list[str]:
    """Create the topics that do not exist yet (partitions and retention from config).

    Returns the names created. Existing topics are left as they are: changing partition
    counts of a live topic reorders keys, which is a decision for an operator, not a start-up.
    """
    with _admin(bootstrap_servers, client_id="ecom-topics") as admin:
        existing = set(admin.list_topics())
        missing = [topic for topic in topics if topic.name not in existing]
        created = []
        for topic in missing:
            new_topic = NewTopic(
                name=topic.name,
                num_partitions=topic.partitions,
                replication_factor=1,
                topic_configs={"retention.ms": str(topic.retention_hours * 3_600_000)},
            )
            try:
                admin.create_topics([new_topic])
                created.append(topic.name)
            except TopicAlreadyExistsError:  # another caller won the race: same outcome
                pass
        return created


def describe_topics(bootstrap_servers: str) -> dict[str, int]:
    """Partition count of every non-internal topic on the broker."""
    with _admin(bootstrap_servers, client_id="ecom-topics") as admin:
        return {
            topic["topic"]: len(topic["partitions"])
            for topic in admin.describe_topics()
            if not topic["is_internal"]
        }


@contextlib.contextmanager
def _admin(bootstrap_servers: str, **options: object) -> Iterator[KafkaAdminClient]:
    """A one-shot admin client; its retry logs are held back, since a broker that does not
    answer becomes the caller's one error line."""
    with kafka_python_quiet():
        admin = KafkaAdminClient(bootstrap_servers=bootstrap_servers, **options)
        try:
            yield admin
        finally:
            admin.close()


def new_cluster_id() -> str:
    """A KRaft cluster id: a random UUID in URL-safe base64. Like Kafka's own generator, it
    never starts with "-", which the storage tool's argument parser would take for an option."""
    while True:
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not cluster_id.startswith("-"):
            return cluster_id


def resolve_bootstrap_servers(explicit: str | None = None, *, progress: bool = True) -> str:
    """The broker to use: an explicit address, else $KAFKA_BOOTSTRAP_SERVERS, else the local one."""
    servers = explicit or os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if servers:
        return servers
    broker = KafkaBroker()
    if progress and not broker.status().running:
        print(f"Starting the local Kafka broker in {broker.home} ...", file=sys.stderr)
    return broker.start()


def _bootstrap(port: int) -> str:
    return f"127.0.0.1:{port}"


def _answers(bootstrap_servers: str) -> bool:
    """True when the broker accepts connections and serves metadata."""
    host, port = bootstrap_servers.rsplit(":", 1)
    try:
        with socket.create_connection((host, int(port)), timeout=1):
            pass
    except OSError:
        return False
    try:
        with _admin(
            bootstrap_servers,
            client_id="ecom-probe",
            request_timeout_ms=5000,
            api_version_auto_timeout_ms=2000,
        ) as admin:
            admin.describe_cluster()
            return True
    except KafkaError:
        return False


def _is_our_broker(pid: int, config_file: Path) -> bool:
    """True when pid is alive and is the broker of this home (not a recycled pid).

    Paths are compared resolved: a checkout reached through a symbolic link names the same
    home by another path, and a second broker started on the same data would corrupt it."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    if _is_zombie(pid) or _BROKER_MAIN_CLASS.encode() not in cmdline:
        return False
    ours = config_file.resolve()
    return any(
        Path(os.fsdecode(arg)).resolve() == ours
        for arg in cmdline
        if arg.endswith(config_file.name.encode())
    )


def _is_zombie(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] == "Z"


def _port_is_free(port: int) -> bool:
    """Free for a listener: like the broker, ignore connections of its last run in TIME_WAIT."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
