"""The cluster stage: REDIS_URL names a node of a Redis Cluster and REDIS_CLUSTER=true (`make test` runs
these with the 3-master cluster .ci/with-services starts). Tests that need a live cluster skip elsewhere."""

import pytest
from django.conf import settings
from redis.cluster import RedisCluster

from config.redis import get_redis


@pytest.fixture
def cluster() -> RedisCluster:
    """The app's own client on the live cluster (skips on a single Redis or without Redis)."""
    if not (settings.REDIS_URL and settings.REDIS_CLUSTER):
        pytest.skip("needs REDIS_CLUSTER=true and REDIS_URL on a Redis Cluster (the cluster stage)")
    client = get_redis()
    assert isinstance(client, RedisCluster)
    return client


def master_of(client: RedisCluster, key: str) -> str:
    """host:port of the master serving the key's slot."""
    return str(client.get_node_from_key(key).name)
