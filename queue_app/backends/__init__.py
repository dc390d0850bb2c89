"""Backend selection: settings.QUEUE_BACKEND is "redis" or "database" (read per call; tests switch it)."""

from __future__ import annotations

from functools import cache

from django.conf import settings

from queue_app.backends.base import QueueBackend


@cache
def _backend(name: str) -> QueueBackend:
    if name == "redis":
        from queue_app.backends.redis_backend import RedisQueueBackend

        return RedisQueueBackend()
    if name == "database":
        from queue_app.backends.database import DatabaseQueueBackend

        return DatabaseQueueBackend()
    raise ValueError(f"unknown QUEUE_BACKEND {name!r}: use 'redis' or 'database'")


def get_backend() -> QueueBackend:
    return _backend(settings.QUEUE_BACKEND)
