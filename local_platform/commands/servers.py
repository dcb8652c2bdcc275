"""The shape `ecom db` and `ecom kafka` share: start or stop a local server, with one clear
message when it fails."""

from __future__ import annotations

from collections.abc import Callable

from local_platform.console import fail, stderr


def start_server(start: Callable[[], str], error: type[Exception], server: str) -> str:
    """What start() returns (the server's address); on `error`, exits naming the server."""
    try:
        return start()
    except error as failure:
        fail(f"could not start {server}: {failure}")


def stop_server(stop: Callable[[], bool], error: type[Exception], server: str) -> None:
    """Stop the server and say so, or that it was not running; on `error`, exits."""
    try:
        stopped = stop()
    except error as failure:
        fail(f"could not stop {server}: {failure}")
    stderr.print("Stopped." if stopped else f"{server[0].upper()}{server[1:]} was not running.")
