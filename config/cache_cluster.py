"""Django's cache on a Redis Cluster (CACHES backend when REDIS_CLUSTER=true).

Django's RedisCache talks to one server (or a primary and read replicas) through a plain `redis.Redis`
per connection pool; a cluster answers most of its commands with MOVED. This keeps Django's backend,
serializer and key handling, and swaps its client for one RedisCluster per process
(config.redis.cluster_client: same timeouts, same outage errors). The three commands of Django's client
that touch several keys at once are spelled per key here, because a cluster refuses keys of different
slots in one command: get_many (MGET -> one GET per key, grouped by node), set_many (MSET + EXPIRE
-> one SET with its expiry per key, in one non-transactional pipeline) and clear (FLUSHDB on every
master, as on a single server it empties the whole database). Single-key commands are unchanged.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from typing import Any

from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from redis.cluster import RedisCluster

from config.redis import Cluster, cluster_client


class RedisClusterCacheClient(RedisCacheClient):
    # Set by RedisCacheClient.__init__ (the stubs do not declare them).
    _servers: list[str]
    _serializer: Any

    def __init__(
        self,
        servers: list[str],
        serializer: Any = None,
        pool_class: Any = None,
        parser_class: Any = None,
        **options: Any,
    ) -> None:
        super().__init__(servers, serializer=serializer)
        self._options = options  # socket timeouts etc., for every node's connections
        self._cluster: Cluster | None = None
        self._cluster_lock = threading.Lock()

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        """One cluster client for every key: it routes each command to the master of the key's slot."""
        if self._cluster is None:
            with self._cluster_lock:
                if self._cluster is None:
                    # Any listed node bootstraps the discovery of the others.
                    self._cluster = cluster_client(self._servers[0], **self._options)
        return self._cluster

    def get_many(self, keys: Iterable[Any]) -> dict[Any, Any]:
        keys = list(keys)
        values = self.get_client(None).mget_nonatomic(keys)
        return {k: self._serializer.loads(v) for k, v in zip(keys, values, strict=True) if v is not None}

    def set_many(self, data: Mapping[Any, Any], timeout: Any) -> None:
        client = self.get_client(None, write=True)
        if timeout == 0:  # as Django's client: a zero timeout deletes
            client.delete(*data)
            return
        pipeline = client.pipeline(transaction=False)
        for key, value in data.items():
            pipeline.set(key, self._serializer.dumps(value), ex=timeout)
        pipeline.execute()

    def clear(self) -> bool:
        client = self.get_client(None, write=True)
        return bool(client.flushdb(target_nodes=RedisCluster.PRIMARIES))


class RedisClusterCache(RedisCache):
    """`BACKEND: config.cache_cluster.RedisClusterCache`, LOCATION the URL of any node of the cluster."""

    def __init__(self, server: str | list[str], params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = RedisClusterCacheClient
