"""Django's cache on the cluster: every operation the project uses, on keys spread over the masters;
rate limits and the login lockout through it; and fail-open when no node answers."""

import pytest
from django.core.cache import cache, caches
from redis.cluster import RedisCluster

from config.cache_cluster import RedisClusterCache
from tests.cluster.conftest import master_of
from tests.conftest import limit_rate
from tests.factories import TEST_PASSWORD, UserFactory
from tests.problems import assert_problem

pytestmark = pytest.mark.django_db


def keys_on_every_master(client: RedisCluster, count: int = 30) -> list[str]:
    keys = [f"k{i}" for i in range(count)]
    masters = {master_of(client, cache.make_key(k)) for k in keys}
    assert len(masters) == len(client.get_primaries()) > 1  # the test spans every master
    return keys


def test_the_default_cache_is_the_cluster_backend(cluster):
    assert isinstance(caches["default"], RedisClusterCache)


def test_single_key_operations(cluster):
    assert cache.add("a", {"x": 1}, timeout=30) is True
    assert cache.add("a", "other", timeout=30) is False
    assert cache.get("a") == {"x": 1}
    cache.set("n", 1, timeout=30)
    assert cache.incr("n", 4) == 5
    with pytest.raises(ValueError):
        cache.incr("missing")
    assert cache.touch("n", 60) is True
    assert cluster.ttl(cache.make_key("n")) > 30
    assert cache.has_key("n") and cache.delete("n") and not cache.has_key("n")


def test_multi_key_operations_span_the_masters(cluster):
    keys = keys_on_every_master(cluster)
    cache.set_many({k: f"v-{k}" for k in keys}, timeout=30)
    assert cache.get_many([*keys, "absent"]) == {k: f"v-{k}" for k in keys}
    assert all(0 < cluster.ttl(cache.make_key(k)) <= 30 for k in keys)
    cache.delete_many(keys[:10])
    assert set(cache.get_many(keys)) == set(keys[10:])
    cache.set_many({k: 1 for k in keys}, timeout=0)  # a zero timeout deletes, as on one server
    assert cache.get_many(keys) == {}


def test_clear_empties_every_master(cluster):
    keys = keys_on_every_master(cluster)
    cache.set_many({k: 1 for k in keys}, timeout=30)
    cache.clear()
    assert cluster.dbsize(target_nodes=RedisCluster.PRIMARIES) == 0  # summed over the masters


def test_a_rate_limit_counts_on_the_cluster(cluster, api_client, settings):
    limit_rate(settings, "register", "2/minute")
    for n in range(2):
        body = {"name": "N", "email": f"r{n}@example.com", "password": "a-long-passphrase-1"}
        assert api_client.post("/api/v1/users", body, format="json").status_code == 201
    body = {"name": "N", "email": "r9@example.com", "password": "a-long-passphrase-1"}
    response = api_client.post("/api/v1/users", body, format="json")
    assert_problem(response, 429, "throttled")
    assert any(k.startswith("cache:") and ":rl:register:" in k for k in cluster.scan_iter("cache:*"))


def test_the_login_lockout_counts_on_the_cluster(cluster, settings):
    from rest_framework.test import APIClient

    settings.RATE_LIMITS_ENABLED = True
    fan = UserFactory()
    for n in range(settings.LOGIN_MAX_FAILURES):
        client = APIClient(REMOTE_ADDR=f"10.9.0.{n + 1}")
        wrong = client.post("/api/v1/auth/token", {"email": fan.email, "password": "nope"}, format="json")
        assert wrong.status_code == 401
    right = APIClient(REMOTE_ADDR="10.9.1.1").post(
        "/api/v1/auth/token", {"email": fan.email, "password": TEST_PASSWORD}, format="json"
    )
    assert_problem(right, 429, "throttled")


def test_rate_limits_and_lockout_fail_open_when_no_node_answers(api_client, monkeypatch, settings):
    """A cluster that cannot be reached (nothing listens on port 1) is an outage like a single server's."""
    import rest_framework.throttling

    import users.lockout

    dead = RedisClusterCache("redis://127.0.0.1:1/0", {"OPTIONS": {"socket_connect_timeout": 0.2}})
    monkeypatch.setattr(rest_framework.throttling.SimpleRateThrottle, "cache", dead)
    monkeypatch.setattr(users.lockout, "cache", dead)
    settings.RATE_LIMITS_ENABLED = True
    user = UserFactory()
    login = {"email": user.email, "password": TEST_PASSWORD}
    assert api_client.post("/api/v1/auth/token", login, format="json").status_code == 200
