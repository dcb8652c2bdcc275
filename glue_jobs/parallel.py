"""Independent Spark actions submitted from several driver threads at once.

Jobs over many small tables spend most of their time between Spark actions (planning,
scheduling, waiting for the slowest task), not computing. Spark runs jobs from different
driver threads side by side on the same executors, so independent actions (one per table)
overlap; on Glue the same holds for reads from different source tables.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import TypeVar

DRIVER_THREADS = 4

Item = TypeVar("Item")
Result = TypeVar("Result")


def map_concurrently(
    function: Callable[[Item], Result], items: Iterable[Item], threads: int = DRIVER_THREADS
) -> list[Result]:
    """`[function(item) for item in items]`, with up to `threads` calls at a time; results
    keep the items' order and the first exception is raised."""
    with ThreadPoolExecutor(max_workers=threads) as pool:
        return list(pool.map(function, items))


@contextmanager
def started_beside(function: Callable[[], Result]) -> Iterator[Future[Result]]:
    """Run `function` on a driver thread of its own while the caller's block runs; the block
    reads its result (or its exception) from the future, and its end waits for the thread."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        yield pool.submit(function)
