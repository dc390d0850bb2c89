"""Queue tokens for the data set, issued in-process through the queue app's own services (no HTTP).

Waiting tokens: `queue_token_issue` called from a few threads (each call is one EVALSHA of the backend's
own script, so the data is exactly what the API would have written). Active tokens: the same, then
`queue_promote` rounds with a batch as large as the group (QUEUE_PROMOTION_BATCH_SIZE overridden here only).
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

THREADS = 4
CHUNK = 2_000


def available() -> str | None:
    """None when tokens can be seeded, else the reason they cannot."""
    try:
        from queue_app import services

        for name in ("queue_token_issue", "queue_promote"):
            if not hasattr(services, name):
                return f"queue_app.services.{name} missing"
    except ImportError as exc:
        return f"queue service not available ({exc})"
    return None


def _issue_chunk(concert_id: int, user_ids: Sequence[int]) -> list[str]:
    from django.db import connection

    from queue_app.services import queue_token_issue

    try:
        return [queue_token_issue(user_id=u, concert_id=concert_id)[0].token for u in user_ids]
    finally:
        connection.close()


def issue_waiting(*, concert_id: int, user_ids: Sequence[int]) -> list[str]:
    """One WAITING token per user, in the order of `user_ids`."""
    from django.conf import settings

    if settings.QUEUE_BACKEND == "redis":
        try:
            return _issue_pipelined(concert_id, user_ids)
        except _NoFastPath:
            pass
    chunks = [user_ids[i : i + CHUNK] for i in range(0, len(user_ids), CHUNK)]
    with ThreadPoolExecutor(THREADS) as pool:
        parts = list(pool.map(lambda ch: _issue_chunk(concert_id, ch), chunks))
    return [t for part in parts for t in part]


class _NoFastPath(Exception):
    pass


class _Captured(Exception):
    def __init__(self, source: str, keys: list[str], args: list[object]) -> None:
        self.call = (source, keys, args)


def _issue_pipelined(concert_id: int, user_ids: Sequence[int]) -> list[str]:
    """The Redis backend funnels every script call through `redis_backend._run(source, keys, args)`.
    Capture the call `queue_token_issue` makes for each user (its own keys, arguments and Lua script),
    then send the captured calls in pipelines of CHUNK: the same writes as the API, minus the round trips."""
    from config.redis import get_redis
    from queue_app import services
    from queue_app.backends import redis_backend

    run = getattr(redis_backend, "_run", None)
    script = getattr(redis_backend, "_script", None)
    if run is None or script is None:
        raise _NoFastPath

    def capture(source: str, keys: list[str], args: list[object]) -> object:
        raise _Captured(source, keys, args)

    calls = []
    redis_backend._run = capture
    try:
        for uid in user_ids:
            try:
                services.queue_token_issue(user_id=uid, concert_id=concert_id)
            except _Captured as cap:
                calls.append(cap.call)
            else:
                raise _NoFastPath
    finally:
        redis_backend._run = run
    tokens: list[str] = []
    client = get_redis()
    for i in range(0, len(calls), CHUNK):
        pipe = client.pipeline(transaction=False)
        for source, keys, args in calls[i : i + CHUNK]:
            script(source)(keys=keys, args=args, client=pipe)
        for reply in pipe.execute():
            if int(reply[0]) != 1:
                raise RuntimeError(f"token not created: {reply!r}")
            tokens.append(str(reply[1]))
    return tokens


def admit(*, concert_id: int, count: int) -> int:
    """One admission round of up to `count` tokens through the service; returns how many were admitted."""
    from django.test.utils import override_settings

    from queue_app.services import queue_promote

    with override_settings(QUEUE_PROMOTION_BATCH_SIZE=count):
        return queue_promote(concert_id=concert_id)


def issue_active(*, concert_id: int, user_ids: Sequence[int]) -> list[str]:
    """One ACTIVE token per user: issue, then admission rounds until all of them are in."""
    tokens = issue_waiting(concert_id=concert_id, user_ids=user_ids)
    # The beat may admit a few meanwhile: run rounds until none is left, then count the active ones.
    while admit(concert_id=concert_id, count=len(user_ids)):
        pass
    active = active_count(concert_id=concert_id)
    if active < len(user_ids):
        raise RuntimeError(f"only {active} of {len(user_ids)} tokens active for concert {concert_id}")
    return tokens


def active_count(*, concert_id: int) -> int:
    from django.utils import timezone

    from queue_app.backends import get_backend
    from queue_app.conf import queue_settings

    counts = get_backend().counts(
        concert_id=concert_id, now=timezone.now(), abandon_seconds=queue_settings().abandon_seconds
    )
    return counts.active
