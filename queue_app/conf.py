"""Queue settings, read on every call so tests can override them with pytest-django's `settings`."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings

_PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


@dataclass(frozen=True, slots=True)
class QueueSettings:
    batch: int
    interval_seconds: int
    active_ttl_seconds: int
    abandon_seconds: int


@dataclass(frozen=True, slots=True)
class RateLimit:
    """`limit` requests per fixed window of `window_seconds`, per user."""

    scope: str
    limit: int
    window_seconds: int


def queue_settings() -> QueueSettings:
    return QueueSettings(
        batch=max(1, settings.QUEUE_PROMOTION_BATCH_SIZE),
        interval_seconds=max(1, settings.QUEUE_PROMOTION_INTERVAL_SECONDS),
        active_ttl_seconds=settings.QUEUE_ACTIVE_TTL_SECONDS,
        abandon_seconds=settings.QUEUE_ABANDON_SECONDS,
    )


def parse_rate(rate: str) -> tuple[int, int]:
    """DRF's rate syntax: "30/minute" -> (30, 60)."""
    count, period = rate.split("/")
    return int(count), _PERIODS[period.strip()[0]]


def rate_limit(scope: str) -> RateLimit | None:
    """The rate for `scope` from DEFAULT_THROTTLE_RATES, or None when limits are off or unset."""
    if not settings.RATE_LIMITS_ENABLED:
        return None
    rate = settings.REST_FRAMEWORK.get("DEFAULT_THROTTLE_RATES", {}).get(scope)  # type: ignore[attr-defined]
    if not rate:
        return None
    limit, window = parse_rate(rate)
    return RateLimit(scope=scope, limit=limit, window_seconds=window)
