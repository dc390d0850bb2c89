"""A schedule's seat map, kept serialized in Redis and invalidated by writes and by time.

Keys: `seatmap:{<schedule>}:ver` is a counter bumped after every committed seat change of the schedule;
`seatmap:{<schedule>}:<version>:<filter>` holds the rendered JSON body. A reader looks both up in one
round trip (a small Lua script); the braces are a Redis Cluster hash tag, so a schedule's keys share one
slot and the script may read the body key it builds (one server ignores them). A bump makes every
older body unreachable, so a reader that rendered from an older snapshot can only store it under a
version nobody asks for any more. A body also expires at the earliest deadline of a hold it shows, so a
lapsing hold turns AVAILABLE on the second, and within MAX_AGE_MS at the latest. Without Redis (embedded
mode) there is no cache: every read renders.
"""

from __future__ import annotations

import logging
from functools import lru_cache

from django.conf import settings
from redis.commands.core import Script
from redis.exceptions import RedisError

from config.redis import get_redis

logger = logging.getLogger(__name__)

MAX_AGE_MS = 60_000
_LOOKUP = """
local version = redis.call('GET', KEYS[1]) or '0'
return {version, redis.call('GET', ARGV[1] .. version .. ':' .. ARGV[2])}
"""


def _tag(schedule_id: int) -> str:
    """The hash tag every key of one schedule carries: one cluster slot per schedule."""
    return f"seatmap:{{{schedule_id}}}:"


def _version_key(schedule_id: int) -> str:
    return f"{_tag(schedule_id)}ver"


def _body_prefix(schedule_id: int) -> str:
    return _tag(schedule_id)


def body_pattern(schedule_id: int) -> str:
    """A SCAN pattern matching every cached body of the schedule (not its version counter)."""
    return f"{_body_prefix(schedule_id)}[0-9]*:*"


def enabled() -> bool:
    return bool(settings.REDIS_URL) and settings.SEAT_MAP_CACHE_ENABLED


@lru_cache(maxsize=1)
def _lookup_script() -> Script:
    return get_redis().register_script(_LOOKUP)


def lookup(*, schedule_id: int, variant: str) -> tuple[str, bytes | None]:
    """(current version, cached body or None)."""
    version, body = _lookup_script()(
        keys=[_version_key(schedule_id)], args=[_body_prefix(schedule_id), variant]
    )
    return str(version), (body.encode() if isinstance(body, str) else body)


def store(*, schedule_id: int, version: str, variant: str, body: bytes, ttl_ms: int) -> None:
    if ttl_ms <= 0:
        return
    try:
        get_redis().set(f"{_body_prefix(schedule_id)}{version}:{variant}", body, px=min(ttl_ms, MAX_AGE_MS))
    except RedisError:
        logger.warning("seat map cache: store failed", exc_info=True)


def invalidate(*, schedule_ids: list[int]) -> None:
    if not enabled() or not schedule_ids:
        return
    try:
        pipe = get_redis().pipeline(transaction=False)
        for schedule_id in schedule_ids:
            pipe.incr(_version_key(schedule_id))
        pipe.execute()
    except RedisError:
        # Bodies still expire within MAX_AGE_MS; log so an outage is visible.
        logger.warning("seat map cache: invalidation failed", exc_info=True)
