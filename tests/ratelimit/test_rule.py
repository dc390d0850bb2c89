"""The rate-limit rule, run against both spellings of its counter: config.ratelimit.rate_hit (Django's
cache; DRF throttles, plain views, the database queue) and the Lua `rate_hit` the Redis queue's status
script runs (its fast-path twin), each given the same RateLimit values from the one reader."""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from config.ratelimit import RateLimit, rate_hit, rate_limit
from queue_app.backends.redis_backend import RedisQueueBackend
from queue_app.errors import QueueThrottled

pytestmark = pytest.mark.django_db

START = datetime(2030, 1, 1, 12, 0, 0, tzinfo=UTC)  # the start of a minute (and of an hour)
Hit = Callable[[RateLimit | None, datetime], int]  # one request at a moment: 0, or seconds to wait


def _python_counter(ident: str) -> Hit:
    return lambda rate, now: rate_hit(rate, ident=ident, now=now)


def _lua_counter(ident: str) -> Hit:
    backend = RedisQueueBackend()
    user_id = 1000 + int(ident)
    token = f"1.rate-{ident}"  # a queue token names its concert (the Redis keys' hash tag)
    backend.issue(user_id=user_id, concert_id=1, new_token=token, now=START, abandon_seconds=10**6, rate=None)

    def hit(rate: RateLimit | None, now: datetime) -> int:
        try:
            backend.status(token=token, now=now, abandon_seconds=10**6, rate=rate)
        except QueueThrottled as throttled:
            return int(throttled.retry_after)
        return 0

    return hit


@pytest.fixture(params=["python", "lua"])
def counter(request, settings) -> Callable[[str], Hit]:
    if request.param == "lua" and not settings.REDIS_URL:
        pytest.skip("the Lua twin needs REDIS_URL (run under .ci/with-services)")
    return _python_counter if request.param == "python" else _lua_counter


def at(seconds: float) -> datetime:
    return START + timedelta(seconds=seconds)


def test_the_limit_allows_that_many_requests_per_window_then_refuses(counter):
    hit = counter("1")
    rate = RateLimit(scope="queue_status", limit=3, window_seconds=60)
    assert [hit(rate, at(s)) for s in (0, 10, 20)] == [0, 0, 0]
    assert hit(rate, at(30)) == 30  # Retry-After: the seconds left in the window
    assert hit(rate, at(44.5)) == 16  # rounded up
    assert hit(rate, at(59.9)) == 1


def test_a_new_window_starts_a_new_count(counter):
    hit = counter("1")
    rate = RateLimit(scope="queue_status", limit=2, window_seconds=60)
    assert [hit(rate, at(s)) for s in (50, 55, 58)] == [0, 0, 2]
    assert [hit(rate, at(s)) for s in (60, 61, 62)] == [0, 0, 58]  # windows are aligned, not sliding
    assert hit(rate, at(3600)) == 0


def test_each_identity_and_scope_counts_alone(counter):
    one, two = counter("1"), counter("2")
    rate = RateLimit(scope="queue_status", limit=1, window_seconds=60)
    assert one(rate, at(0)) == 0 and one(rate, at(1)) == 59
    assert two(rate, at(2)) == 0


def test_refused_requests_count_too(counter):
    hit = counter("1")
    rate = RateLimit(scope="queue_status", limit=1, window_seconds=10)
    assert [hit(rate, at(s)) for s in (0, 1, 2)] == [0, 9, 8]
    assert hit(rate, at(10)) == 0


def test_no_rate_means_no_limit(counter):
    hit = counter("1")
    assert all(hit(None, at(0)) == 0 for _ in range(20))


def test_the_reader_gives_every_scope_its_setting_and_none_when_off(settings):
    settings.RATE_LIMITS_ENABLED = True
    rates = {
        "booking": "120/minute",
        "login": "30/m",
        "register": "20/hour",
        "burst": "5/s",
        "zero": "0/minute",
    }
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}
    assert rate_limit("booking") == RateLimit(scope="booking", limit=120, window_seconds=60)
    assert rate_limit("login") == RateLimit(scope="login", limit=30, window_seconds=60)
    assert rate_limit("register") == RateLimit(scope="register", limit=20, window_seconds=3600)
    assert rate_limit("burst") == RateLimit(scope="burst", limit=5, window_seconds=1)
    assert rate_limit("zero") is None
    assert rate_limit("unknown") is None
    settings.RATE_LIMITS_ENABLED = False
    assert rate_limit("booking") is None


def test_queue_conf_reads_rates_through_the_one_reader():
    import config.ratelimit
    import queue_app.conf

    assert queue_app.conf.rate_limit is config.ratelimit.rate_limit
    assert queue_app.conf.RateLimit is config.ratelimit.RateLimit


def test_the_python_counter_lets_requests_through_while_the_cache_is_down(monkeypatch):
    from django.core.cache.backends.redis import RedisCache

    import config.ratelimit

    dead = RedisCache("redis://127.0.0.1:1/0", {"OPTIONS": {"socket_connect_timeout": 0.2}})
    monkeypatch.setattr(config.ratelimit, "cache", dead)
    rate = RateLimit(scope="booking", limit=1, window_seconds=60)
    assert [rate_hit(rate, ident="u1", now=at(s)) for s in (0, 1, 2)] == [0, 0, 0]
