"""Run callables at the same instant on real threads, each with its own database connection."""

import functools
import threading
from collections.abc import Callable
from typing import Any

from django.db import connection

JOIN_TIMEOUT_SECONDS = 60


def run_concurrently(calls: list[Callable[[], Any]], timeout: float = JOIN_TIMEOUT_SECONDS) -> list[Any]:
    """Returns each call's result or the exception it raised, in order."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def worker(index: int, call: Callable[[], Any]) -> None:
        try:
            barrier.wait(timeout=timeout)
            results[index] = call()
        except BaseException as exc:
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
        assert not thread.is_alive(), "a concurrent call hung"
    return results


def run_n_concurrently(func: Callable[[int], Any], count: int) -> list[Any]:
    """`func(0)` .. `func(count - 1)` at the same instant, one thread each."""
    return run_concurrently([functools.partial(func, i) for i in range(count)])
