"""Status polls as the queue grows: 10,000, 100,000 and 1,000,000 waiting tokens in one concert each.

The tokens are written straight into Redis in the layout the Redis backend uses
(queue_app/backends/redis_scripts.py): a hash per token, the `wait` and `seen` sorted sets, the user's
key, the queue number sequence. A Lua script writes them server-side, 5,000 a call, so a million take
seconds; `check_layout` compares a seeded token with one issued by the service itself and asks the
backend for a few of them, so a change of layout fails the scenario instead of measuring the wrong thing.
Each size is its own concert id (no catalog row: a poll needs none, and no admission round touches
them), and the polls of each size are spread over up to SAMPLE of its tokens, in random order.
"""

from __future__ import annotations

import random
import time
from typing import Any

from bench.context import Context
from bench.scenarios.http_load import QUEUE_STATUS, _wrk

SIZES = (10_000, 100_000, 1_000_000)
SAMPLE = 200_000
BATCH = 5_000
CONCERT_BASE = 9_000_000  # concert ids of the scaling queues, far from the catalog's
USER_BASE = 50_000_000  # their (row-less) user ids
RETENTION_MS = 24 * 3600 * 1000

_SEED = """
local c, first, count, now, ret, ubase = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4], ARGV[5],
  tonumber(ARGV[6])
local p = 'q:{' .. c .. '}:'
for i = first, first + count - 1 do
  local t = c .. '.' .. string.format('s%021d', i)
  local u = ubase + i
  redis.call('HSET', p .. 't:' .. t, 'u', u, 'n', i, 's', 'W', 'i', now)
  redis.call('PEXPIRE', p .. 't:' .. t, ret)
  redis.call('ZADD', p .. 'wait', i, t)
  redis.call('ZADD', p .. 'seen', now, t)
  redis.call('SET', p .. 'u:' .. u, t, 'PX', ret)
end
redis.call('HSET', p .. 'sale', 'n', first + count - 1)
return count
"""


def token(concert_id: int, i: int) -> str:
    """The i-th seeded token (1-based): "<concert>.<22 characters>", as long as a real one."""
    return f"{concert_id}.s{i:021d}"


def seed(concert_id: int, count: int) -> tuple[float, int]:
    """Seconds taken and the Redis memory they added (INFO used_memory delta)."""
    import redis
    from django.conf import settings

    # its own client: a seeding call may take longer than the app's short socket timeout
    client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=120, decode_responses=True)
    script = client.register_script(_SEED)
    now_ms = int(time.time() * 1000)
    before = int(client.info("memory")["used_memory"])
    t0 = time.perf_counter()
    for first in range(1, count + 1, BATCH):
        n = min(BATCH, count - first + 1)
        script(keys=[], args=[concert_id, first, n, now_ms, RETENTION_MS, USER_BASE])
    return time.perf_counter() - t0, int(client.info("memory")["used_memory"]) - before


def check_layout(concert_id: int, count: int, real_token: str) -> None:
    """The seeded hash has the fields and TTL of a token the service issued, and the backend reads
    seeded tokens as WAITING at their position."""
    from django.utils import timezone

    from config.redis import get_redis
    from queue_app.backends import get_backend
    from queue_app.backends.redis_backend import key, token_concert

    client = get_redis()
    real_concert = token_concert(real_token)
    assert real_concert is not None
    real = client.hgetall(key(real_concert, f"t:{real_token}"))
    mine = client.hgetall(key(concert_id, f"t:{token(concert_id, 1)}"))
    if set(real) != set(mine) or client.pttl(key(concert_id, f"t:{token(concert_id, 1)}")) <= 0:
        raise RuntimeError(f"seeded token layout differs from the backend's: {mine} vs {real}")
    for i in (1, count // 2, count):
        state = get_backend().status(
            token=token(concert_id, i), now=timezone.now(), abandon_seconds=3600, touch=False
        )
        if state is None or state.status.value != "WAITING" or state.position != i:
            raise RuntimeError(f"seeded token {i} of {count} reads {state}")


def run(ctx: Context, seeded: dict[int, dict[str, Any]]) -> dict[str, object]:
    """Seeds each size once (kept in `seeded` across repetitions), then polls each for ctx.duration."""
    sizes: list[dict[str, Any]] = []
    for k, size in enumerate(SIZES):
        concert_id = CONCERT_BASE + k
        if size not in seeded:
            seconds, memory = seed(concert_id, size)
            check_layout(concert_id, size, ctx.queue_tokens["queue"][-1])  # still waiting
            seeded[size] = {
                "seed_s": round(seconds, 1),
                "redis_bytes_per_waiting_token": round(memory / size, 1),
            }
        picks = random.Random(size).sample(range(1, size + 1), min(size, SAMPLE))
        rows = [(QUEUE_STATUS, "", [f"X-Queue-Token: {token(concert_id, i)}"]) for i in picks]
        from bench import probes

        trips = probes.RoundTrips(pg=False)
        trips.start()
        res = _wrk(ctx, f"scaling_{size}", rows)
        counts = trips.stop(int(res["requests"]))  # type: ignore[call-overload]
        sizes.append(
            {
                "waiting_tokens": size,
                "rps": res["rps"],
                "p50_ms": res["p50_ms"],
                "p99_ms": res["p99_ms"],
                "errors_5xx": res["errors_5xx"],
                "non_200": sum(v for k2, v in res["status_counts"].items() if k2 != "200"),  # type: ignore[attr-defined]
                "redis_calls_per_request": counts.get("redis_calls_per_request"),
                "redis_script_usec_per_call": counts.get("redis_script_usec_per_call"),
                **seeded[size],
            }
        )
    first, last = sizes[0], sizes[-1]
    flat = round(float(last["rps"]) / float(first["rps"]), 3)
    return {
        "rps": last["rps"],
        "p50_ms": last["p50_ms"],
        "p99_ms": last["p99_ms"],
        "errors_5xx": sum(s["errors_5xx"] for s in sizes),
        "requests": 0,  # counted per size
        "sizes": sizes,
        "rps_largest_over_smallest": flat,
        "flat_as_it_grows": flat >= 0.85 and all(s["non_200"] == 0 for s in sizes),
    }
