"""With Redis away, rate limits and the login lockout let requests through instead of answering 503.
Django's Redis cache talks to a dead port here: a real connection failure, not a mock."""

import pytest
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache

from tests.factories import TEST_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def dead_cache(monkeypatch):
    dead = RedisCache("redis://127.0.0.1:1/0", {"OPTIONS": {"socket_connect_timeout": 0.2}})
    import config.ratelimit
    import users.lockout

    monkeypatch.setattr(config.ratelimit, "cache", dead)
    monkeypatch.setattr(users.lockout, "cache", dead)
    return dead


def test_login_and_registration_work_while_the_cache_is_down(api_client, dead_cache, settings):
    settings.RATE_LIMITS_ENABLED = True
    user = UserFactory()
    token = api_client.post(
        "/api/v1/auth/token", {"email": user.email, "password": TEST_PASSWORD}, format="json"
    )
    assert token.status_code == 200
    wrong = api_client.post("/api/v1/auth/token", {"email": user.email, "password": "nope"}, format="json")
    assert wrong.status_code == 401
    created = api_client.post(
        "/api/v1/users",
        {"name": "N", "email": "new@example.com", "password": "a-long-passphrase-1"},
        format="json",
    )
    assert created.status_code == 201
    assert caches  # the real default cache is untouched
