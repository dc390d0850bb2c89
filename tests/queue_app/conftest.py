from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from config import clock as queue_clock
from queue_app.concert_cache import concert_cache_clear


class FakeClock:
    """The queue's time, moved by hand: expiry and abandonment are tested without sleeping."""

    def __init__(self, start: datetime) -> None:
        self.current = start

    def now(self) -> datetime:
        return self.current

    def advance(self, seconds: float) -> None:
        self.current += timedelta(seconds=seconds)


@pytest.fixture(autouse=True)
def _fresh_concert_cache():
    concert_cache_clear()
    yield
    concert_cache_clear()


@pytest.fixture
def clock(monkeypatch) -> FakeClock:
    fake = FakeClock(timezone.now().replace(microsecond=0))  # whole seconds: Redis keeps milliseconds
    monkeypatch.setattr(queue_clock, "now", fake.now)
    return fake


@pytest.fixture(params=["database", "redis"])
def backend(request, settings) -> str:
    """Run the test once per queue backend (Redis only where REDIS_URL is set)."""
    if request.param == "redis" and not settings.REDIS_URL:
        pytest.skip("the Redis backend needs REDIS_URL (run under .ci/with-services)")
    settings.QUEUE_BACKEND = request.param
    return request.param


@pytest.fixture
def queue_settings(settings):
    """Small, explicit admission settings for arithmetic in assertions."""
    settings.QUEUE_PROMOTION_BATCH_SIZE = 2
    settings.QUEUE_PROMOTION_INTERVAL_SECONDS = 10
    settings.QUEUE_ACTIVE_TTL_SECONDS = 600
    settings.QUEUE_ABANDON_SECONDS = 300
    return settings
