import os
import threading
import time
from datetime import datetime, timedelta

import pytest
from django.conf import settings
from django.contrib.auth.models import Group
from django.core.cache import cache
from django.db import connection
from django.test import Client
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from config import clock as project_clock
from config import clock_guard
from config.redis_hot import pause_end
from queue_app.concert_cache import concert_cache_clear
from tests.factories import UserFactory
from users.operators import operators_group_sync


def pytest_report_header(config):
    database = settings.DATABASES["default"]
    where = database["ENGINE"].rsplit(".", 1)[-1]
    if where != "sqlite3":
        where += f" at {database.get('HOST')}:{database.get('PORT')}"
    redis = settings.REDIS_URL or "none (embedded mode)"
    if settings.REDIS_URL and settings.REDIS_CLUSTER:
        redis = f"cluster at {settings.REDIS_URL} (Celery broker {os.environ.get('CELERY_BROKER_URL')})"
    return [f"database: {where}", f"redis: {redis}", f"queue backend: {settings.QUEUE_BACKEND}"]


@pytest.fixture(autouse=True)
def _clean_shared_state():
    """Each test starts with an empty cache, an empty in-process concert cache and an empty Redis (the
    database is handled by pytest-django). On a cluster every master is flushed (a plain FLUSHDB would
    reach one node)."""
    cache.clear()
    concert_cache_clear()
    pause_end()
    # A fresh "in bounds" verdict: no test measures the clock unless it asks to (settings/test.py).
    clock_guard._verdict = clock_guard.Verdict(True, 0.0, "test", time.monotonic())
    if settings.REDIS_URL:
        from redis.cluster import RedisCluster

        from config.redis import get_redis

        client = get_redis()
        if isinstance(client, RedisCluster):
            client.flushdb(target_nodes=RedisCluster.PRIMARIES)
        else:
            client.flushdb()
    yield
    concert_cache_clear()


class FakeClock:
    """config.clock.now() as the test says: frozen at the start, moved by hand (never by sleeping).

    `set(moment)` and `advance(seconds=...)` move it for every thread; `set_for_this_thread(moment)` gives
    the calling thread its own time (race tests where each side acts at a chosen instant)."""

    def __init__(self, start: datetime) -> None:
        self.current = start
        self._thread = threading.local()

    def now(self) -> datetime:
        return getattr(self._thread, "now", None) or self.current

    def set(self, moment: datetime) -> None:
        self.current = moment

    def advance(self, seconds: float = 0, **more: float) -> datetime:
        self.current += timedelta(seconds=seconds, **more)
        return self.current

    def set_for_this_thread(self, moment: datetime) -> None:
        self._thread.now = moment


@pytest.fixture
def clock(monkeypatch) -> FakeClock:
    """The one way tests move time: every read of config.clock.now() answers the fake clock."""
    fake = FakeClock(project_clock.now().replace(microsecond=0))  # whole seconds: Redis keeps milliseconds
    monkeypatch.setattr(project_clock, "now", fake.now)
    return fake


@pytest.fixture(autouse=True)
def _postgres_only_marker(request: pytest.FixtureRequest) -> None:
    """`@pytest.mark.postgres_only("why")`: the test needs PostgreSQL itself (its locks, plans, settings)."""
    marker = request.node.get_closest_marker("postgres_only")
    if marker is not None and connection.vendor != "postgresql":
        pytest.skip(marker.args[0] if marker.args else "needs PostgreSQL")


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def user(db):
    return UserFactory()


@pytest.fixture
def other_user(db):
    return UserFactory()


def limit_rate(settings, scope: str, rate: str) -> None:
    """For one test: rate limits on, and the limit `scope` at `rate` ("1/minute")."""
    settings.RATE_LIMITS_ENABLED = True
    rates = {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], scope: rate}
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}


def client_for(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(user)}")
    return client


@pytest.fixture
def auth_client(user) -> APIClient:
    return client_for(user)


@pytest.fixture
def other_client(other_user) -> APIClient:
    return client_for(other_user)


@pytest.fixture
def operators_group(db) -> Group:
    # The migration creates it; transactional tests flush it, so make sure it is there.
    return operators_group_sync()


@pytest.fixture
def operator(operators_group):
    """A staff member in the operators group."""
    user = UserFactory(is_staff=True, email="operator@example.com")
    user.groups.add(operators_group)
    return user


@pytest.fixture
def operator_client(operator) -> Client:
    """The admin site, logged in as the operator."""
    client = Client()
    client.force_login(operator)
    return client


@pytest.fixture
def superuser_client(db) -> Client:
    """The admin site, logged in as a staff superuser."""
    client = Client()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


@pytest.fixture
def round_trips(monkeypatch):
    """Commands (or pipelines) sent to Redis, counted by a spy on the real connection (not a mock)."""
    from redis.connection import Connection

    sent = []
    original = Connection.send_packed_command

    def spy(self, command, check_health=True):
        sent.append(command)
        return original(self, command, check_health)

    monkeypatch.setattr(Connection, "send_packed_command", spy)
    return sent
