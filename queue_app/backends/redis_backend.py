"""The Redis queue: sorted sets and one Lua script per step, so each step is atomic and one round trip.

A status poll is one EVALSHA (token fields, rank, rate-limit count, and at most every SEEN_REFRESH_MS per
token the last-seen update with its bounded abandonment sweep); a hold's token check is the same script,
which also records the hold's seat-map write intent (`mark`, concerts/seat_map_cache.py); issuing is one
EVALSHA; an admission round is one EVALSHA, so concurrent rounds serialize inside Redis and can neither
admit a token twice nor pass the cap. The one exception is the opening: the first call that finds the
draw due computes it (queue_app/backends/redis_draw.py) and calls again. Layout and time rules:
redis_scripts.py.
"""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import Any

from redis.commands.core import Script

from config import clock
from config.redis import get_redis
from config.redis_hot import run_hot_script
from queue_app import pace
from queue_app.backends import redis_scripts
from queue_app.backends.base import (
    Admission,
    ExpiredReason,
    Pace,
    QueueCounts,
    QueueSnapshot,
    RoundResult,
    TokenState,
    TokenStatus,
)
from queue_app.conf import RateLimit
from queue_app.errors import QueueSoldOut, QueueThrottled

RETENTION_MS = 24 * 3600 * 1000  # an ended token keeps answering EXPIRED (not 404) this long
SWEEP_LIMIT = 200  # abandoned/lapsed tokens tidied per script call; the rest wait for the next one
SOLD_OUT_CHUNK = 1000  # waiting tokens ended as SOLD_OUT per script call (Redis blocks while one runs)
MAX_TOKEN_LENGTH = 128
SEEN_REFRESH_MS = 2000  # a poll this close to the recorded last poll reads only (redis_scripts.STATUS)
DRAW_ATTEMPTS = 5

_STATUS = {"W": TokenStatus.WAITING, "A": TokenStatus.ACTIVE, "E": TokenStatus.EXPIRED}


def key(concert_id: int, name: str) -> str:
    """A key of one concert's queue: every one carries the concert's hash tag (one cluster slot)."""
    return f"q:{{{concert_id}}}:{name}"


def token_concert(token: str) -> int | None:
    """The concert a token value belongs to ("<concert id>.<random>"), or None when malformed."""
    head, dot, _ = token.partition(".")
    if not dot or not head.isdigit() or len(head) > 19:
        return None
    return int(head)


@cache
def _script(source: str) -> Script:
    # Scripts only hash the source here; each call passes the current client (tests swap clients).
    return get_redis().register_script(source)


def run_script(source: str, keys: list[str], args: list[Any]) -> Any:
    return run_hot_script(_script(source), keys=keys, args=args)


def _rate_args(rate: RateLimit | None) -> list[int]:
    return [rate.limit, rate.window_seconds * 1000] if rate else [0, 1]


def _throttled(retry_ms: int) -> QueueThrottled:
    return QueueThrottled(retry_after=-(-int(retry_ms) // 1000))


def _pace(blocked: Any, rate: Any) -> Pace:
    return Pace(blocked=int(blocked) == 1, rate=float(rate) if rate not in ("", None) else None)


def _state(token: str, user_id: int, concert_id: int, fields: list[Any]) -> TokenState:
    status, position, issued, expires, number, reason, blocked, rate = fields
    return TokenState(
        token=token,
        user_id=user_id,
        concert_id=concert_id,
        queue_number=int(number),
        status=_STATUS[status],
        position=None if int(position) == -1 else int(position),
        issued_at=clock.from_ms(issued),
        expires_at=clock.from_ms(expires) if expires != "" else None,
        expired_reason=ExpiredReason(reason) if status == "E" and reason else None,
        pace=_pace(blocked, rate),
    )


def _draw_first(concert_id: int, now: datetime) -> None:
    from queue_app.backends.redis_draw import draw

    draw(concert_id=concert_id, now=now)


class RedisQueueBackend:
    name = "redis"
    marks_write_intents = True

    def issue(
        self,
        *,
        user_id: int,
        concert_id: int,
        new_token: str,
        now: datetime,
        abandon_seconds: int,
        rate: RateLimit | None,
    ) -> tuple[TokenState, bool]:
        keys = [key(concert_id, f"u:{user_id}"), key(concert_id, f"t:{new_token}"), key(concert_id, "sale")]
        args = [
            user_id,
            concert_id,
            new_token,
            clock.to_ms(now),
            abandon_seconds * 1000,
            *_rate_args(rate),
            RETENTION_MS,
            SWEEP_LIMIT,
        ]
        reply = run_script(redis_scripts.ISSUE, keys, args)
        if int(reply[0]) == 2:
            _draw_first(concert_id, now)
            reply = run_script(redis_scripts.ISSUE, keys, [*args[:5], 0, 1, *args[7:]])  # counted once
        if int(reply[0]) == -1:
            raise _throttled(reply[1])
        if int(reply[0]) == -2:
            raise QueueSoldOut()
        created, token, *fields = reply
        return _state(str(token), user_id, concert_id, fields), int(created) == 1

    def status(
        self,
        *,
        token: str,
        now: datetime,
        abandon_seconds: int,
        user_id: int | None = None,
        touch: bool = True,
        rate: RateLimit | None = None,
        mark: str | None = None,
    ) -> TokenState | None:
        concert_id = token_concert(token) if token and len(token) <= MAX_TOKEN_LENGTH else None
        if concert_id is None:
            return None
        keys = [key(concert_id, f"t:{token}"), key(concert_id, "sale")]
        if mark is not None:
            keys.append(mark)
        args = [
            token,
            clock.to_ms(now),
            abandon_seconds * 1000,
            "" if user_id is None else user_id,
            int(touch),
            *_rate_args(rate),
            RETENTION_MS,
            SWEEP_LIMIT,
            concert_id,
            SEEN_REFRESH_MS,
        ]
        reply = run_script(redis_scripts.STATUS, keys, args)
        if int(reply[0]) == 2:
            _draw_first(concert_id, now)
            reply = run_script(redis_scripts.STATUS, keys, [*args[:5], 0, 1, *args[7:]])  # counted once
        if int(reply[0]) == 0:
            return None
        if int(reply[0]) == -1:
            raise _throttled(reply[1])
        _, owner, concert, *fields = reply
        return _state(token, int(owner), int(concert), fields)

    def expire(self, *, token: str, now: datetime, reason: ExpiredReason, abandon_seconds: int) -> bool:
        concert_id = token_concert(token) if token and len(token) <= MAX_TOKEN_LENGTH else None
        if concert_id is None:
            return False
        keys = [key(concert_id, f"t:{token}"), key(concert_id, "sale")]
        args = [token, clock.to_ms(now), concert_id, reason.value, abandon_seconds * 1000]
        result = int(run_script(redis_scripts.EXPIRE, keys, args))
        if result == 2:
            _draw_first(concert_id, now)
            result = int(run_script(redis_scripts.EXPIRE, keys, args))
        return result == 1

    def promote(self, *, concert_id: int, now: datetime, admission: Admission) -> RoundResult:
        cap = -1 if admission.max_active is None else admission.max_active
        args = [
            concert_id,
            clock.to_ms(now),
            admission.abandon_seconds * 1000,
            admission.batch,
            cap,
            admission.active_ttl_seconds * 1000,
            int(admission.paused),
            RETENTION_MS,
            SWEEP_LIMIT,
            int(admission.seat_available),
            int(admission.sold_out),
            pace.KEEP_ROUNDS,
        ]
        reply = run_script(redis_scripts.PROMOTE, [key(concert_id, "sale")], args)
        if int(reply[0]) == 2:
            _draw_first(concert_id, now)
            reply = run_script(redis_scripts.PROMOTE, [key(concert_id, "sale")], args)
        if int(reply[0]) != 1:
            return RoundResult(ran=False, admitted=0)
        admitted, left = int(reply[1]), int(reply[2])
        while left > 0:
            left = int(
                run_script(
                    redis_scripts.SOLD_OUT,
                    [key(concert_id, "sale")],
                    [concert_id, clock.to_ms(now), SOLD_OUT_CHUNK],
                )
            )
        rate = pace.achieved_rate(
            rounds=pace.parse_rounds(reply[3:]),
            now_ms=clock.to_ms(now),
            interval_seconds=admission.interval_seconds,
        )
        get_redis().hset(key(concert_id, "sale"), "r", "" if rate is None else repr(rate))
        return RoundResult(ran=True, admitted=admitted)

    def sale_publish(self, *, concert_id: int, opens_at: datetime | None, seed: str, drawn: bool) -> None:
        fields: dict[Any, Any] = {
            "o": "" if opens_at is None else clock.to_ms(opens_at),
            "seed": seed,
        }
        if drawn:
            fields["d"] = "1"
        get_redis().hset(key(concert_id, "sale"), mapping=fields)

    def inventory_publish(self, *, concert_id: int, sold_out: bool, seat_available: bool) -> None:
        get_redis().hset(
            key(concert_id, "sale"), mapping={"so": int(sold_out), "ns": int(not seat_available)}
        )

    def draw(self, *, concert_id: int, now: datetime) -> bool:
        from queue_app.backends.redis_draw import draw

        return draw(concert_id=concert_id, now=now)

    def snapshot(self, *, concert_id: int, now: datetime, abandon_seconds: int) -> QueueSnapshot:
        pipe = get_redis().pipeline(transaction=False)
        pipe.hmget(key(concert_id, "sale"), ["d", "dt", "so", "at", "ab", "ns"])
        pipe.zcount(key(concert_id, "seen"), f"({clock.to_ms(now) - abandon_seconds * 1000}", "+inf")
        pipe.zcount(key(concert_id, "active"), f"({clock.to_ms(now)}", "+inf")
        pipe.lrange(key(concert_id, "rounds"), 0, -1)
        (drawn, drawn_ms, sold_out, admitted, abandoned, no_seat), waiting, active, rounds = pipe.execute()
        return QueueSnapshot(
            waiting=int(waiting),
            active=int(active),
            drawn=drawn == "1",
            drawn_at=clock.from_ms(drawn_ms) if drawn_ms else None,
            sold_out=None if sold_out in (None, "") else sold_out == "1",
            seat_available=no_seat != "1",
            rounds=pace.parse_rounds(rounds),
            admitted_total=int(admitted or 0),
            abandoned_total=int(abandoned or 0),
        )

    def counts(self, *, concert_id: int, now: datetime, abandon_seconds: int) -> QueueCounts:
        pipe = get_redis().pipeline(transaction=False)
        pipe.zcount(key(concert_id, "seen"), f"({clock.to_ms(now) - abandon_seconds * 1000}", "+inf")
        pipe.zcount(key(concert_id, "active"), f"({clock.to_ms(now)}", "+inf")
        waiting, active = pipe.execute()
        return QueueCounts(waiting=int(waiting), active=int(active))

    def last_round_at(self, *, concert_ids: list[int]) -> dict[int, datetime | None]:
        pipe = get_redis().pipeline(transaction=False)
        for concert_id in concert_ids:
            pipe.hget(key(concert_id, "sale"), "rt")
        return {
            concert_id: clock.from_ms(at) if at else None
            for concert_id, at in zip(concert_ids, pipe.execute(), strict=True)
        }

    def live_token_for(
        self, *, user_id: int, concert_id: int, now: datetime, abandon_seconds: int
    ) -> str | None:
        token = get_redis().get(key(concert_id, f"u:{user_id}"))
        if not token:
            return None
        token = str(token)
        state = self.status(token=token, now=now, abandon_seconds=abandon_seconds, touch=False)
        live = state is not None and state.status != TokenStatus.EXPIRED
        return token if live else None
