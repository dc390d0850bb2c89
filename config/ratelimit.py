"""Rate limits: one rule, one configuration, one counter.

Configuration: every scope's rate is a setting, REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] (from the
environment, in DRF's "30/minute" syntax), read at each call; RATE_LIMITS_ENABLED=false switches every
limit off, and a scope with no rate or a rate of 0 has none. `rate_limit(scope)` is the one reader: a
RateLimit, or None when there is no limit.

The rule: at most `limit` requests per identity in each fixed window of `window_seconds`; windows are
aligned to the epoch (window n covers [n*w, (n+1)*w) seconds of config.clock time). A request over the
limit is refused, and counted; Retry-After is the whole seconds, rounded up, until its window ends.

Two spellings of the counter, run by one test suite:
- `rate_hit` below, on Django's cache (Redis in the full mode, memory in the embedded one): the DRF
  throttles (config.api.throttling), the plain views and the database queue backend count with it.
  With Redis away it lets requests through (config.api.fail_open), a warning logged each time.
- `rate_hit` in the Lua prelude of queue_app/backends/redis_scripts.py: the queue's fast path, counted
  inside the one round trip of a token issue or status poll, given the same RateLimit values.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.core.cache import cache

from config.api.fail_open import fail_open

_PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


@dataclass(frozen=True, slots=True)
class RateLimit:
    """`limit` requests per fixed window of `window_seconds`, per identity."""

    scope: str
    limit: int
    window_seconds: int


def rate_limits_enabled() -> bool:
    return bool(settings.RATE_LIMITS_ENABLED)


def parse_rate(rate: str) -> tuple[int, int]:
    """DRF's rate syntax: "30/minute" -> (30, 60), "5/s" -> (5, 1)."""
    count, period = rate.split("/")
    return int(count), _PERIODS[period.strip()[0]]


def rate_limit(scope: str) -> RateLimit | None:
    """The rate for `scope`, or None when limits are off or the scope has no rate (or a rate of 0)."""
    if not rate_limits_enabled():
        return None
    rate = settings.REST_FRAMEWORK.get("DEFAULT_THROTTLE_RATES", {}).get(scope)  # type: ignore[attr-defined]
    if not rate:
        return None
    limit, window = parse_rate(rate)
    if limit <= 0:
        return None
    return RateLimit(scope=scope, limit=limit, window_seconds=window)


def user_ident(user_id: int) -> str:
    """Whom an authenticated request counts for: the same key for DRF throttles, plain views and the
    database queue."""
    return f"u{user_id}"


@fail_open(0)
def rate_hit(rate: RateLimit | None, *, ident: str, now: datetime) -> int:
    """Count one request of `ident` against `rate` at `now`: 0 when it is allowed, else the seconds to
    wait (Retry-After). No rate (None, or a limit of 0) allows everything."""
    if rate is None or rate.limit <= 0:
        return 0
    moment = now.timestamp()
    window = int(moment // rate.window_seconds)
    key = f"rl:{rate.scope}:{ident}:{window}"
    try:
        count = cache.incr(key)
    except ValueError:  # the window's first request (or its key was evicted)
        count = 1 if cache.add(key, 1, timeout=rate.window_seconds) else cache.incr(key)
    if count <= rate.limit:
        return 0
    return max(1, math.ceil((window + 1) * rate.window_seconds - moment))
