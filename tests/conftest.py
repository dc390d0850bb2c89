import os

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from tests.factories import UserFactory


def pytest_report_header(config):  # type: ignore[no-untyped-def]
    database = settings.DATABASES["default"]
    where = database["ENGINE"].rsplit(".", 1)[-1]
    if where != "sqlite3":
        where += f" at {database.get('HOST')}:{database.get('PORT')}"
    redis = settings.REDIS_URL or "none (embedded mode)"
    if settings.REDIS_URL and settings.REDIS_CLUSTER:
        redis = f"cluster at {settings.REDIS_URL} (Celery broker {os.environ.get('CELERY_BROKER_URL')})"
    return [f"database: {where}", f"redis: {redis}", f"queue backend: {settings.QUEUE_BACKEND}"]


@pytest.fixture(autouse=True)
def _clean_shared_state():  # type: ignore[no-untyped-def]
    """Each test starts with an empty cache and an empty Redis (the database is handled by pytest-django).
    On a cluster every master is flushed (a plain FLUSHDB would reach one node)."""
    cache.clear()
    if settings.REDIS_URL:
        from redis.cluster import RedisCluster

        from config.redis import get_redis

        client = get_redis()
        if isinstance(client, RedisCluster):
            client.flushdb(target_nodes=RedisCluster.PRIMARIES)
        else:
            client.flushdb()
    yield


@pytest.fixture
def is_postgres() -> bool:
    return connection.vendor == "postgresql"


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def user(db):  # type: ignore[no-untyped-def]
    return UserFactory()


@pytest.fixture
def other_user(db):  # type: ignore[no-untyped-def]
    return UserFactory()


def client_for(user) -> APIClient:  # type: ignore[no-untyped-def]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(user)}")
    return client


@pytest.fixture
def auth_client(user) -> APIClient:  # type: ignore[no-untyped-def]
    return client_for(user)


@pytest.fixture
def other_client(other_user) -> APIClient:  # type: ignore[no-untyped-def]
    return client_for(other_user)
