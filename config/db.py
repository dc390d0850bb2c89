"""Transactions that survive contention: deadlocks, serialization failures and SQLite's busy lock are
retried a bounded number of times with jitter; a lock wait past `lock_timeout` or a lost connection
becomes 503 `service_unavailable`, never a 500."""

from __future__ import annotations

import functools
import logging
import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, ParamSpec, TypeVar

from django.db import DatabaseError, OperationalError, connection, transaction
from django.db.backends.utils import CursorWrapper

from config.exceptions import ServiceUnavailable

logger = logging.getLogger(__name__)

P = ParamSpec("P")
R = TypeVar("R")

RETRYABLE_PGCODES = {"40001", "40P01"}  # serialization_failure, deadlock_detected
UNAVAILABLE_PGCODES = {"55P03", "57014"}  # lock_not_available (lock_timeout), query_canceled
MAX_ATTEMPTS = 5


def _pgcode(exc: BaseException) -> str | None:
    cause = exc.__cause__
    return getattr(cause, "sqlstate", None) or getattr(cause, "pgcode", None)


def is_retryable(exc: BaseException) -> bool:
    if _pgcode(exc) in RETRYABLE_PGCODES:
        return True
    return connection.vendor == "sqlite" and "locked" in str(exc).lower()


def _retrying(name: str, attempt_once: Callable[[], R]) -> R:
    for attempt in range(1, MAX_ATTEMPTS + 1):
        try:
            return attempt_once()
        except DatabaseError as exc:
            if is_retryable(exc) and attempt < MAX_ATTEMPTS:
                logger.info("retry %s after %s (%d)", name, type(exc).__name__, attempt)
                time.sleep(random.uniform(0.005, 0.03) * attempt)
                continue
            if is_retryable(exc) or _pgcode(exc) in UNAVAILABLE_PGCODES:
                raise ServiceUnavailable("The system is busy; try again.") from exc
            if isinstance(exc, OperationalError):
                raise ServiceUnavailable() from exc
            raise
    raise AssertionError("unreachable")


def atomic_with_retry(func: Callable[P, R]) -> Callable[P, R]:
    """Run `func` in a transaction, retried on deadlock/serialization failure. Nested inside another
    atomic block it simply joins it: only the outermost transaction can be retried."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        if connection.in_atomic_block:
            with transaction.atomic():
                return func(*args, **kwargs)

        def attempt_once() -> R:
            with transaction.atomic():
                return func(*args, **kwargs)

        return _retrying(func.__name__, attempt_once)

    return wrapper


def statement_with_retry(func: Callable[P, R]) -> Callable[P, R]:
    """For work that is one statement (its own transaction in autocommit: one round trip, no BEGIN or
    COMMIT): retried like atomic_with_retry; inside an atomic block it joins that transaction."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        if connection.in_atomic_block:
            return func(*args, **kwargs)
        return _retrying(func.__name__, lambda: func(*args, **kwargs))

    return wrapper


@contextmanager
def bound_cursor() -> Iterator[CursorWrapper]:
    """PostgreSQL: a cursor that sends its parameters apart from the SQL (server-side binding), so a
    statement run again and again on one connection is parsed and planned once (psycopg prepares it after
    a few runs) and no Python code splices the values into the text. For the hottest statements only:
    the project's other queries keep Django's default client-side binding. Logged like any cursor."""
    from django.db.backends.postgresql.base import ServerBindingCursor

    connection.close_if_health_check_failed()
    connection.ensure_connection()
    with connection.wrap_database_errors:
        # A psycopg cursor on Django's connection (django-stubs type this class otherwise).
        raw: Any = ServerBindingCursor(connection.connection)  # type: ignore[call-arg]
    cursor = connection.make_debug_cursor(raw) if connection.queries_logged else connection.make_cursor(raw)
    try:
        yield cursor
    finally:
        cursor.close()
