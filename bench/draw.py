"""Times the opening's draw on Redis: N pre-queued tokens (default 100,000) drawn by the first poll after
the opening, and the longest a status poll waits meanwhile (Redis blocks only for the short swap script).

Run on its own against a Redis (no database needed: the draw's drawn_at record is skipped when the
concert row is absent): `REDIS_URL=redis://127.0.0.1:6379/15 python -m bench.draw [--tokens N]`.
It writes under its own concert id's hash tag and deletes those keys afterwards. `run(tokens=N)` returns
the figures for a caller (a benchmark report)."""

from __future__ import annotations

import argparse
import json
import os
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

CONCERT_ID = 999_000_001
CHUNK = 5_000


def _setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    import django

    django.setup()


def _seed(*, tokens: int, opens_at: datetime) -> None:
    from config.redis import get_redis
    from queue_app.backends.redis_backend import key

    redis = get_redis()
    opens_ms = int(opens_at.timestamp() * 1000)
    redis.hset(key(CONCERT_ID, "sale"), mapping={"o": opens_ms, "seed": "bench-seed", "n": tokens})
    for start in range(1, tokens + 1, CHUNK):
        pipe = redis.pipeline(transaction=False)
        numbers = range(start, min(start + CHUNK, tokens + 1))
        for n in numbers:
            token = f"{CONCERT_ID}.bench{n}"
            pipe.hset(key(CONCERT_ID, f"t:{token}"), mapping={"u": n, "n": n, "s": "W", "i": opens_ms - 1000})
        pipe.zadd(key(CONCERT_ID, "wait"), {f"{CONCERT_ID}.bench{n}": n for n in numbers})
        pipe.zadd(key(CONCERT_ID, "seen"), {f"{CONCERT_ID}.bench{n}": opens_ms for n in numbers})
        pipe.execute()


def _cleanup() -> None:
    from config.redis import get_redis

    redis = get_redis()
    batch = list(redis.scan_iter(match=f"q:{{{CONCERT_ID}}}:*", count=10_000))
    for start in range(0, len(batch), 10_000):
        redis.unlink(*batch[start : start + 10_000])


def run(*, tokens: int = 100_000) -> dict[str, Any]:
    from queue_app.backends.redis_backend import RedisQueueBackend

    backend = RedisQueueBackend()
    opens_at = datetime.now(tz=UTC).replace(microsecond=0) + timedelta(minutes=1)
    _cleanup()
    started = time.perf_counter()
    _seed(tokens=tokens, opens_at=opens_at)
    seeded = time.perf_counter() - started
    now = opens_at + timedelta(seconds=1)
    polls: list[float] = []
    stop = threading.Event()

    def poll_meanwhile() -> None:  # a fan polling during the draw: how long does one poll wait?
        token = f"{CONCERT_ID}.bench{tokens}"
        while not stop.is_set():
            began = time.perf_counter()
            backend.status(token=token, now=opens_at - timedelta(seconds=1), abandon_seconds=300, touch=False)
            polls.append(time.perf_counter() - began)

    poller = threading.Thread(target=poll_meanwhile)
    poller.start()
    try:
        began = time.perf_counter()
        state = backend.status(token=f"{CONCERT_ID}.bench1", now=now, abandon_seconds=300, touch=False)
        draw_seconds = time.perf_counter() - began
    finally:
        stop.set()
        poller.join()
        _cleanup()
    assert state is not None and state.position is not None
    return {
        "tokens": tokens,
        "seed_seconds": round(seeded, 2),
        "first_poll_with_draw_seconds": round(draw_seconds, 3),
        "polls_meanwhile": len(polls),
        "slowest_poll_meanwhile_ms": round(max(polls, default=0) * 1000, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=100_000)
    args = parser.parse_args()
    _setup_django()
    print(json.dumps(run(tokens=args.tokens)))


if __name__ == "__main__":
    main()
