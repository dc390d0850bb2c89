"""A schedule's seat map, kept serialized in Redis and invalidated by writes and by time.

Keys: `seatmap:{<concert>}:<schedule>:ver` is a hash, v = a version counter bumped by every seat change
of the schedule, w = when the latest *write intent* was recorded (ms); `seatmap:{<concert>}:<schedule>:
<version>:<filter>` holds a rendered JSON body. The braces are a Redis Cluster hash tag: a concert's seat
maps share one slot with its waiting queue (`q:{<concert>}:...`), so the script that checks a hold's
queue token can record the hold's write intent in the same call (one server ignores the tags).

A reader looks the version and the body up in one round trip (a small Lua script). Two ways a write
makes older bodies unreachable:
- after commit, `invalidate` bumps the version (payments, cancellations, operators, the sweeper);
- before it, a hold's token check bumps the version and stamps `w` (a write intent: no second Redis call
  after the hold commits). A body rendered from a snapshot taken before that hold committed must then not
  be stored under the new version: a reader that sees an intent younger than WRITE_LEASE_MS serves what
  it renders without storing it. The hold path bumps again after commit, as before, whenever its commit
  may have come later than INTENT_MARGIN_SECONDS after the intent (a slow hold), so a reader past the
  lease always renders from a snapshot that includes the write. The lease minus the margin is the clock
  skew tolerated between web nodes.
A body also expires at the earliest deadline of a hold it shows, so a lapsing hold turns AVAILABLE on the
second, and within MAX_AGE_MS at the latest. Without Redis (embedded mode) there is no cache: every read
renders. A process keeps the bodies it last read in memory and names the one it holds in its lookup;
Redis answers "still current" instead of sending it again (see _LOOKUP).

The concert of a schedule comes from the database (one query for all the schedules of its concert) once
per process and MAPPING_SECONDS; a schedule an operator moves to another concert may be read under the
old concert's keys that long.
"""

from __future__ import annotations

import logging
import secrets
import time
from functools import lru_cache

from django.conf import settings
from redis.commands.core import Script
from redis.exceptions import RedisError

from config import clock
from config.memo import memo_put
from config.redis import get_redis
from config.redis_hot import run_hot_script

logger = logging.getLogger(__name__)

MAX_AGE_MS = 60_000
WRITE_LEASE_MS = 2_000
INTENT_MARGIN_SECONDS = 1.0
MAPPING_SECONDS = 300.0
# Each stored body starts with a random tag of TAG_LENGTH characters. A reader that still has a body in
# memory sends its tag; when that is the body stored under the current version, the script answers 1
# instead of the body (about 70 KB for 1,000 seats), so Redis stays the one judge of what is current and
# only the copying is saved.
_LOOKUP = """
local h = redis.call('HMGET', KEYS[1], 'v', 'w')
local version = h[1] or '0'
local stored = redis.call('GET', ARGV[1] .. version .. ':' .. ARGV[2])
if stored and ARGV[3] ~= '' and string.sub(stored, 1, #ARGV[3]) == ARGV[3] then
    stored = 1
end
return {version, h[2] or '', stored}
"""
TAG_LENGTH = 16
# The bodies this process last read or stored, by (schedule, variant): (tag, body). Emptied when full
# (about 70 KB a body: ~18 MB at most), which costs one full read per map.
_LOCAL_MAX = 256
_local: dict[tuple[int, str], tuple[str, bytes]] = {}


def _remember(schedule_id: int, variant: str, tag: str, body: bytes) -> None:
    memo_put(_local, (schedule_id, variant), (tag, body), limit=_LOCAL_MAX)


_concerts: dict[int, tuple[int, float]] = {}  # schedule id -> (concert id, monotonic time it goes stale)


def concert_of(schedule_id: int) -> int | None:
    """The schedule's concert (cached in-process), or None when there is no such schedule."""
    now = time.monotonic()
    known = _concerts.get(schedule_id)
    if known is not None and known[1] > now:
        return known[0]
    from concerts.models import Schedule

    # One query learns every schedule of the same concert: a catalog warms in one query per concert.
    concert = Schedule.objects.filter(pk=schedule_id).values("concert_id")
    siblings = list(Schedule.objects.filter(concert_id__in=concert).values_list("pk", "concert_id"))
    _concerts.pop(schedule_id, None)
    for pk, concert_id in siblings:
        _concerts[pk] = (concert_id, now + MAPPING_SECONDS)
    known = _concerts.get(schedule_id)
    return None if known is None else known[0]


def _prefix(concert_id: int, schedule_id: int) -> str:
    return f"seatmap:{{{concert_id}}}:{schedule_id}:"


def version_key(*, concert_id: int, schedule_id: int) -> str:
    """The schedule's version hash; a hold's token check records its write intent here."""
    return f"{_prefix(concert_id, schedule_id)}ver"


def body_pattern(schedule_id: int) -> str:
    """A SCAN pattern matching every cached body of the schedule (not its version hash)."""
    concert_id = concert_of(schedule_id)
    return f"{_prefix(concert_id or 0, schedule_id)}[0-9]*:*"


def enabled() -> bool:
    return bool(settings.REDIS_URL) and settings.SEAT_MAP_CACHE_ENABLED


@lru_cache(maxsize=1)
def _lookup_script() -> Script:
    return get_redis().register_script(_LOOKUP)


def lookup(*, schedule_id: int, variant: str) -> tuple[str | None, bytes | None]:
    """(current version, cached body or None). The version is None when a body rendered now must not be
    stored (a write intent younger than the lease, or no such schedule)."""
    concert_id = concert_of(schedule_id)
    if concert_id is None:
        return None, None
    prefix = _prefix(concert_id, schedule_id)
    held = _local.get((schedule_id, variant))
    version, intent, stored = run_hot_script(
        _lookup_script(), keys=[f"{prefix}ver"], args=[prefix, variant, held[0] if held else ""]
    )
    body: bytes | None = None
    if stored == 1 and held is not None:
        body = held[1]
    elif isinstance(stored, str):
        body = stored[TAG_LENGTH:].encode()
        _remember(schedule_id, variant, stored[:TAG_LENGTH], body)
    if intent and clock.to_ms(clock.now()) - int(intent) < WRITE_LEASE_MS:
        return None, body
    return str(version), body


def store(*, schedule_id: int, version: str, variant: str, body: bytes, ttl_ms: int) -> None:
    concert_id = concert_of(schedule_id)
    if ttl_ms <= 0 or concert_id is None:
        return
    tag = secrets.token_hex(TAG_LENGTH // 2)
    try:
        get_redis().set(
            f"{_prefix(concert_id, schedule_id)}{version}:{variant}",
            tag.encode() + body,
            px=min(ttl_ms, MAX_AGE_MS),
        )
    except RedisError:
        logger.warning("seat map cache: store failed", exc_info=True)
        return
    _remember(schedule_id, variant, tag, body)


def invalidate(*, schedule_ids: list[int]) -> None:
    if not enabled() or not schedule_ids:
        return
    try:
        pipe = get_redis().pipeline(transaction=False)
        for schedule_id in schedule_ids:
            concert_id = concert_of(schedule_id)
            if concert_id is not None:
                pipe.hincrby(version_key(concert_id=concert_id, schedule_id=schedule_id), "v", 1)
        pipe.execute()
    except RedisError:
        # Bodies still expire within MAX_AGE_MS; log so an outage is visible.
        logger.warning("seat map cache: invalidation failed", exc_info=True)
