"""Whether a running process is the local broker of a given home: a check by pid alone
would take a recycled pid for the broker, and a check by the path as written would miss a
broker started through a symbolic link to the same home and start a second one on its data."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from local_platform.kafka_broker import _is_our_broker


@contextmanager
def process_with_arguments(*arguments: str) -> Iterator[int]:
    """A live process whose command line ends with `arguments` (as the broker's does)."""
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", *arguments])
    try:
        # Until the child has exec'd, /proc shows the parent's command line.
        deadline = time.monotonic() + 10
        while arguments[-1].encode() not in Path(f"/proc/{child.pid}/cmdline").read_bytes():
            assert time.monotonic() < deadline, "the child process did not start"
            time.sleep(0.01)
        yield child.pid
    finally:
        child.kill()
        child.wait()


def test_the_broker_of_this_home_is_recognized_by_the_path_it_was_started_with(
    tmp_path: Path,
) -> None:
    config = tmp_path / "home" / "config" / "server.properties"
    config.parent.mkdir(parents=True)
    config.write_text("")
    with process_with_arguments("kafka.Kafka", str(config)) as pid:
        assert _is_our_broker(pid, config)
        assert not _is_our_broker(pid, tmp_path / "other" / "config" / "server.properties")


def test_a_broker_started_through_a_symbolic_link_is_the_same_homes_broker(
    tmp_path: Path,
) -> None:
    (tmp_path / "home" / "config").mkdir(parents=True)
    config = tmp_path / "home" / "config" / "server.properties"
    config.write_text("")
    (tmp_path / "linked").symlink_to(tmp_path / "home")
    with process_with_arguments(
        "kafka.Kafka", str(tmp_path / "linked" / "config" / config.name)
    ) as pid:
        assert _is_our_broker(pid, config)
    with process_with_arguments("kafka.Kafka", str(config)) as pid:
        assert _is_our_broker(pid, tmp_path / "linked" / "config" / config.name)


def test_another_program_naming_the_same_config_is_not_the_broker(tmp_path: Path) -> None:
    config = tmp_path / "server.properties"
    config.write_text("")
    with process_with_arguments("kafka.tools.SomethingElse", str(config)) as pid:
        assert not _is_our_broker(pid, config)


def test_a_process_that_has_ended_is_not_the_broker(tmp_path: Path) -> None:
    config = tmp_path / "server.properties"
    with process_with_arguments("kafka.Kafka", str(config)) as pid:
        pass
    assert not _is_our_broker(pid, config)
