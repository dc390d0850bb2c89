"""Queue settings, read on every call so tests can override them with pytest-django's `settings`.
Rate limits come from the one reader in config.ratelimit (re-exported here for the queue's backends)."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings

from config.ratelimit import RateLimit, parse_rate, rate_limit

__all__ = ["QueueSettings", "RateLimit", "parse_rate", "queue_settings", "rate_limit"]


@dataclass(frozen=True, slots=True)
class QueueSettings:
    batch: int
    interval_seconds: int
    active_ttl_seconds: int
    abandon_seconds: int


def queue_settings() -> QueueSettings:
    return QueueSettings(
        batch=max(1, settings.QUEUE_PROMOTION_BATCH_SIZE),
        interval_seconds=max(1, settings.QUEUE_PROMOTION_INTERVAL_SECONDS),
        active_ttl_seconds=settings.QUEUE_ACTIVE_TTL_SECONDS,
        abandon_seconds=settings.QUEUE_ABANDON_SECONDS,
    )
