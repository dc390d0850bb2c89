"""How the hot paths (queue polls and issues, a hold's token check, the seat map's lookup) call Redis.

Each runs one Lua script, through `run_hot_script`:
- on a connection the calling thread keeps (for a single server), so a call skips taking a connection
  from the shared pool and giving it back: about a fifth of a small script's client-side cost;
- refused at once for a moment after a call timed out in this process. A timeout means Redis is frozen
  or overloaded, not gone (a refused connection fails at once by itself); without the pause every
  request would hold a worker thread for the whole socket timeout, and requests that need no Redis at
  all would queue behind them. The refusal is a ConnectionError: a 503 with Retry-After where Redis is
  needed, skipped where the caller fails open.
"""

from __future__ import annotations

import os
import threading
import time
from typing import Any

import redis
from redis.cluster import RedisCluster
from redis.commands.core import Script

from config.redis import get_redis

TIMEOUT_PAUSE_SECONDS = 1.0

_threads = threading.local()
_paused_until = 0.0  # monotonic; a float swap is atomic under the GIL


class RedisPaused(redis.exceptions.ConnectionError):
    """Not sent: a call to Redis timed out in this process less than TIMEOUT_PAUSE_SECONDS ago."""


def run_hot_script(script: Script, *, keys: list[str], args: list[Any]) -> Any:
    """`script` on this thread's connection. Script.__call__ loads a script the server lost (NOSCRIPT)
    and runs it again."""
    global _paused_until
    if time.monotonic() < _paused_until:
        raise RedisPaused("Redis timed out a moment ago; not trying again yet")
    try:
        return script(keys=keys, args=args, client=get_thread_redis())
    except redis.exceptions.TimeoutError:
        _paused_until = time.monotonic() + TIMEOUT_PAUSE_SECONDS
        raise


def pause_end() -> None:
    """Try Redis again on the next call (tests; an operator's shell after fixing Redis)."""
    global _paused_until
    _paused_until = 0.0


def get_thread_redis() -> redis.Redis:
    """For a single server: a client of the process's pool that keeps one connection for the calling
    thread. It makes the check the pool makes when it hands a connection out: a connection the server
    closed (a restart, a killed client) reads as having data, and is replaced before the command is
    sent, so no command is ever sent twice. A cluster client routes each command to a node itself and
    is returned as it is."""
    shared = get_redis()
    if isinstance(shared, RedisCluster):
        return shared
    mine: redis.Redis | None = getattr(_threads, "client", None)
    # Rebuilt when the shared client was replaced, and in a forked child: the parent's socket is not ours.
    if mine is None or mine.connection_pool is not shared.connection_pool or _threads.pid != os.getpid():
        mine = redis.Redis(connection_pool=shared.connection_pool, single_connection_client=True)
        _threads.client, _threads.pid = mine, os.getpid()
    connection = mine.connection
    if connection is not None and connection.is_connected and _closed_or_dirty(connection):
        connection.disconnect()  # the command about to be sent connects again
    return mine


def _closed_or_dirty(connection: redis.connection.AbstractConnection) -> bool:
    try:
        return bool(connection.can_read())
    except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError):
        return True
