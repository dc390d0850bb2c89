"""The Redis queue: sorted sets and one Lua script per step, so each step is atomic and one round trip.

A status poll is one EVALSHA (token fields, rank, last-seen update, rate-limit count); issuing is one
EVALSHA; an admission round is one EVALSHA, so concurrent rounds serialize inside Redis and can neither
admit a token twice nor pass the cap. Layout and time rules: redis_scripts.py.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from typing import Any

from redis.commands.core import Script

from config.redis import get_redis
from queue_app.backends import redis_scripts
from queue_app.backends.base import Admission, QueueCounts, TokenState, TokenStatus
from queue_app.conf import RateLimit
from queue_app.errors import QueueThrottled

RETENTION_MS = 24 * 3600 * 1000  # an ended token keeps answering EXPIRED (not 404) this long
SWEEP_LIMIT = 200  # abandoned/lapsed tokens tidied per script call; the rest wait for the next one
MAX_TOKEN_LENGTH = 128

_STATUS = {"W": TokenStatus.WAITING, "A": TokenStatus.ACTIVE, "E": TokenStatus.EXPIRED}


@cache
def _script(source: str) -> Script:
    # Scripts only hash the source here; each call passes the current client (tests swap clients).
    return get_redis().register_script(source)


def _run(source: str, keys: list[str], args: list[Any]) -> Any:
    return _script(source)(keys=keys, args=args, client=get_redis())


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _at(ms: str | int) -> datetime:
    return datetime.fromtimestamp(int(ms) / 1000, tz=UTC)


def _rate_args(rate: RateLimit | None) -> list[int]:
    return [rate.limit, rate.window_seconds * 1000] if rate else [0, 1]


def _throttled(retry_ms: int) -> QueueThrottled:
    return QueueThrottled(retry_after=-(-int(retry_ms) // 1000))


class RedisQueueBackend:
    name = "redis"

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
        reply = _run(
            redis_scripts.ISSUE,
            [f"q:c:{concert_id}:u:{user_id}", f"q:t:{new_token}"],
            [
                user_id,
                concert_id,
                new_token,
                _ms(now),
                abandon_seconds * 1000,
                *_rate_args(rate),
                RETENTION_MS,
                SWEEP_LIMIT,
            ],
        )
        if int(reply[0]) == -1:
            raise _throttled(reply[1])
        created, token, status, position, issued, expires = reply
        state = TokenState(
            token=token,
            user_id=user_id,
            concert_id=concert_id,
            status=_STATUS[status],
            position=int(position),
            issued_at=_at(issued),
            expires_at=_at(expires) if expires != "" else None,
        )
        return state, int(created) == 1

    def status(
        self,
        *,
        token: str,
        now: datetime,
        abandon_seconds: int,
        user_id: int | None = None,
        touch: bool = True,
        rate: RateLimit | None = None,
    ) -> TokenState | None:
        if not token or len(token) > MAX_TOKEN_LENGTH:
            return None
        reply = _run(
            redis_scripts.STATUS,
            [f"q:t:{token}"],
            [
                token,
                _ms(now),
                abandon_seconds * 1000,
                "" if user_id is None else user_id,
                int(touch),
                *_rate_args(rate),
                RETENTION_MS,
                SWEEP_LIMIT,
            ],
        )
        if int(reply[0]) == 0:
            return None
        if int(reply[0]) == -1:
            raise _throttled(reply[1])
        _, owner, concert, status, position, issued, expires = reply
        return TokenState(
            token=token,
            user_id=int(owner),
            concert_id=int(concert),
            status=_STATUS[status],
            position=int(position),
            issued_at=_at(issued),
            expires_at=_at(expires) if expires != "" else None,
        )

    def expire(self, *, token: str, now: datetime) -> bool:
        if not token or len(token) > MAX_TOKEN_LENGTH:
            return False
        return bool(_run(redis_scripts.EXPIRE, [f"q:t:{token}"], [token, _ms(now)]))

    def promote(self, *, concert_id: int, now: datetime, admission: Admission) -> int:
        cap = -1 if admission.max_active is None else admission.max_active
        return int(
            _run(
                redis_scripts.PROMOTE,
                [],
                [
                    concert_id,
                    _ms(now),
                    admission.abandon_seconds * 1000,
                    admission.batch,
                    cap,
                    admission.active_ttl_seconds * 1000,
                    int(admission.paused),
                    RETENTION_MS,
                    SWEEP_LIMIT,
                ],
            )
        )

    def concerts_with_waiting(self) -> list[int]:
        return sorted(int(c) for c in get_redis().smembers("q:concerts"))

    def counts(self, *, concert_id: int, now: datetime, abandon_seconds: int) -> QueueCounts:
        pipe = get_redis().pipeline(transaction=False)
        pipe.zcount(f"q:c:{concert_id}:seen", f"({_ms(now) - abandon_seconds * 1000}", "+inf")
        pipe.zcount(f"q:c:{concert_id}:active", f"({_ms(now)}", "+inf")
        waiting, active = pipe.execute()
        return QueueCounts(waiting=int(waiting), active=int(active))

    def live_token_for(
        self, *, user_id: int, concert_id: int, now: datetime, abandon_seconds: int
    ) -> str | None:
        token = get_redis().get(f"q:c:{concert_id}:u:{user_id}")
        if not token:
            return None
        token = str(token)
        state = self.status(token=token, now=now, abandon_seconds=abandon_seconds, touch=False)
        live = state is not None and state.status != TokenStatus.EXPIRED
        return token if live else None
