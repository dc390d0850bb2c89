"""The opening's draw on Redis: computed once, in Python, and put in place in one short script.

Ranks are computed here from a consistent snapshot (MULTI: the queue number sequence and every waiting
token with its queue number), written to q:{c}:draw:tmp with pipelines, and swapped onto q:{c}:wait by
DRAW_SWAP, which also sets the drawn flag. Readers never see a half-drawn queue: until the swap every
script that reads the waiting order answers "draw first", after it the whole order is in place. One
process draws (q:{c}:draw:lock); the others wait briefly and read the result. Should the queue change
between the snapshot and the swap (a clock a little behind the opening), the swap refuses and the draw
is computed again.
"""

from __future__ import annotations

import logging
import secrets
import time
from datetime import datetime

from config import clock
from config.exceptions import ServiceUnavailable
from config.redis import get_redis
from queue_app.backends import redis_scripts
from queue_app.backends.redis_backend import key, run_script
from queue_app.draw import draw_order

logger = logging.getLogger(__name__)

LOCK_MS = 60_000
WAIT_SECONDS = 15.0
WRITE_CHUNK = 10_000
ATTEMPTS = 5


def _due(concert_id: int, now_ms: int) -> tuple[bool, str]:
    opens, drawn, seed = (
        str(v) if v is not None else ""
        for v in get_redis().hmget(key(concert_id, "sale"), ["o", "d", "seed"])
    )
    due = bool(opens) and drawn != "1" and now_ms >= int(opens)
    return due, seed


def draw(*, concert_id: int, now: datetime) -> bool:
    """Draw the pre-queue when the opening is due and nobody has; True once it is drawn."""
    now_ms = clock.to_ms(now)
    redis = get_redis()
    lock, holder = key(concert_id, "draw:lock"), secrets.token_hex(8)
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        due, seed = _due(concert_id, now_ms)
        if not due:
            return redis.hget(key(concert_id, "sale"), "d") == "1"
        if redis.set(lock, holder, nx=True, px=LOCK_MS):
            break
        if time.monotonic() > deadline:
            raise ServiceUnavailable("The queue is being drawn; try again in a moment.")
        time.sleep(0.02)
    try:
        for _ in range(ATTEMPTS):
            due, seed = _due(concert_id, now_ms)
            if not due:
                return True
            if _draw_once(concert_id, now_ms, seed):
                _record(concert_id, now_ms)
                return True
        raise ServiceUnavailable("The queue kept changing while it was drawn; try again.")
    finally:
        run_script(redis_scripts.UNLOCK, [lock], [holder])


def _draw_once(concert_id: int, now_ms: int, seed: str) -> bool:
    redis = get_redis()
    snapshot = redis.pipeline(transaction=True)
    snapshot.hget(key(concert_id, "sale"), "n")
    snapshot.zrange(key(concert_id, "wait"), 0, -1, withscores=True)
    sequence, members = snapshot.execute()
    token_of = {int(number): token for token, number in members}
    tmp = key(concert_id, "draw:tmp")
    redis.delete(tmp)
    ranked = draw_order(seed=seed, queue_numbers=token_of)
    for start in range(0, len(ranked), WRITE_CHUNK):
        chunk = ranked[start : start + WRITE_CHUNK]
        redis.zadd(tmp, {token_of[number]: start + i + 1 for i, number in enumerate(chunk)})
    swapped = run_script(
        redis_scripts.DRAW_SWAP,
        [key(concert_id, "sale"), key(concert_id, "wait"), tmp],
        [now_ms, int(sequence or 0), len(members)],
    )
    if int(swapped) == 1:
        logger.info("concert %s: pre-queue of %d drawn", concert_id, len(members))
    return int(swapped) == 1


def _record(concert_id: int, now_ms: int) -> None:
    from concerts.services import concert_mark_drawn

    try:
        concert_mark_drawn(concert_id=concert_id, drawn_at=clock.from_ms(now_ms))
    except Exception:  # the draw stands; the admission beat copies drawn_at to the catalog later
        logger.warning("concert %s: drawn_at not recorded yet", concert_id, exc_info=True)
