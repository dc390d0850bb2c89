"""One shared Redis client per process, with short timeouts so an outage answers 503 fast.

REDIS_URL names a single server, or with REDIS_CLUSTER=true any node of a Redis Cluster: the client is
then a `redis.cluster.RedisCluster`, which discovers the other nodes, sends each command to the master
of its key's slot, and follows MOVED redirections and failovers. Every key one script or multi-key
command touches carries the same `{hash tag}`, so the same code runs on both.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, cast

import redis
from django.conf import settings
from redis.cluster import RedisCluster
from redis.exceptions import RedisClusterException, SlotNotCoveredError

# The same for a single server and for each node of a cluster.
CONNECTION_OPTIONS: dict[str, Any] = {
    "socket_connect_timeout": 0.5,
    "socket_timeout": 1.0,
    "health_check_interval": 30,
}
# What the cluster client's own errors say when no node, or no master for a slot, can be reached.
_UNREACHABLE = ("cannot be connected", "could not agree", "not covered")


class ClusterUnavailable(redis.exceptions.ConnectionError):
    """The cluster cannot serve a command right now: no reachable node, or a slot without a master
    (mid-failover). A ConnectionError, so it is a 503 and the fail-open paths skip it like an outage."""


def unavailable(exc: RedisClusterException) -> bool:
    """Is this cluster-client error an outage (rather than a programming error such as cross-slot keys)?"""
    return isinstance(exc, SlotNotCoveredError) or any(m in str(exc) for m in _UNREACHABLE)


class Cluster(RedisCluster):
    """RedisCluster whose "no node reachable" errors are ConnectionErrors like a single server's.

    redis-py raises those as RedisClusterException, which is no RedisError: left alone they would be a
    500 and would slip past every `except RedisError` that keeps a Redis outage a clean 503 or a
    fail-open."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        try:
            super().__init__(*args, **kwargs)
        except RedisClusterException as exc:
            if unavailable(exc):
                raise ClusterUnavailable(str(exc)) from exc
            raise

    def execute_command(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().execute_command(*args, **kwargs)
        except RedisClusterException as exc:
            if unavailable(exc):
                raise ClusterUnavailable(str(exc)) from exc
            raise


def cluster_client(url: str, **options: Any) -> Cluster:
    """A cluster client bootstrapped from any one node's URL. A command that meets a dead master or a
    moving slot refreshes the slot map and is retried (3 times by default) before it fails; a failover
    in progress therefore fails fast (a 503) and the next request finds the promoted replica."""
    return cast(Cluster, Cluster.from_url(url, **options))


@lru_cache(maxsize=1)
def get_redis() -> redis.Redis:
    """The process's client. With REDIS_CLUSTER it is a RedisCluster: it speaks the same commands, and is
    typed as Redis so that callers keep one spelling."""
    if settings.REDIS_CLUSTER:
        client = cluster_client(
            settings.REDIS_URL, decode_responses=True, max_connections=64, **CONNECTION_OPTIONS
        )
        return cast(redis.Redis, client)
    return redis.Redis.from_url(
        settings.REDIS_URL, decode_responses=True, max_connections=64, **CONNECTION_OPTIONS
    )


def ping_all() -> bool:
    """Readiness: a single server answers PING, or every master of the cluster does."""
    client = get_redis()
    if isinstance(client, RedisCluster):
        replies = client.ping(target_nodes=RedisCluster.PRIMARIES)
        return bool(replies)
    return bool(client.ping())
