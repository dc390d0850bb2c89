"""A cluster that cannot serve is a clean 503 (or a fail-open), never a 500: readiness, the error
mapping, and the client's own errors."""

import pytest
from redis.exceptions import ClusterDownError, MasterDownError, RedisClusterException, TryAgainError

from config.exceptions import exception_to_problem
from config.redis import ClusterUnavailable, cluster_client, get_redis

pytestmark = pytest.mark.django_db


def test_readiness_pings_every_master(cluster, api_client):
    response = api_client.get("/readyz")
    assert response.status_code == 200 and response.json()["checks"]["redis"] is True


def test_readiness_is_503_when_no_node_answers(api_client, settings):
    settings.REDIS_URL, settings.REDIS_CLUSTER = "redis://127.0.0.1:1/0", True
    get_redis.cache_clear()
    try:
        response = api_client.get("/readyz")
    finally:
        get_redis.cache_clear()
    assert response.status_code == 503 and response.json()["checks"]["redis"] is False


def test_an_unreachable_cluster_is_a_connection_error():
    with pytest.raises(ClusterUnavailable):
        cluster_client("redis://127.0.0.1:1/0", socket_connect_timeout=0.2)


def test_a_programming_error_stays_one(cluster):
    with pytest.raises(RedisClusterException) as caught:
        cluster.mget(["a", "b", "c"])  # keys of several slots in one command
    assert not isinstance(caught.value, ClusterUnavailable)


@pytest.mark.parametrize(
    "exc",
    [
        ClusterUnavailable("Redis Cluster cannot be connected"),
        ClusterDownError("CLUSTERDOWN The cluster is down"),
        MasterDownError("MASTERDOWN Link with MASTER is down"),
        TryAgainError("TRYAGAIN"),
    ],
)
def test_cluster_states_map_to_service_unavailable(exc):
    mapped = exception_to_problem(exc)
    assert mapped is not None
    status, body, headers = mapped
    assert (status, body["code"], headers["Retry-After"]) == (503, "service_unavailable", "5")
