"""Run a function in N real threads released together; each thread closes its own connection."""

import threading
from collections.abc import Callable
from typing import Any

from django.db import connection

JOIN_TIMEOUT_SECONDS = 60


def run_concurrently(func: Callable[[int], Any], count: int) -> list[Any]:
    """Results in thread order; an exception raised in a thread is returned in its place."""
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count

    def worker(index: int) -> None:
        try:
            barrier.wait(timeout=JOIN_TIMEOUT_SECONDS)
            results[index] = func(index)
        except Exception as exc:
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(JOIN_TIMEOUT_SECONDS)
    assert not any(thread.is_alive() for thread in threads), "a thread hung"
    return results
