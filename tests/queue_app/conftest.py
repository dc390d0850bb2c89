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
def _fresh_concert_cache():  # type: ignore[no-untyped-def]
    concert_cache_clear()
    yield
    concert_cache_clear()


@pytest.fixture
def clock(monkeypatch) -> FakeClock:  # type: ignore[no-untyped-def]
    fake = FakeClock(timezone.now().replace(microsecond=0))  # whole seconds: Redis keeps milliseconds
    monkeypatch.setattr(queue_clock, "now", fake.now)
    return fake


@pytest.fixture(params=["database", "redis"])
def backend(request, settings) -> str:  # type: ignore[no-untyped-def]
    """Run the test once per queue backend (Redis only where REDIS_URL is set)."""
    if request.param == "redis" and not settings.REDIS_URL:
        pytest.skip("the Redis backend needs REDIS_URL (run under .ci/with-services)")
    settings.QUEUE_BACKEND = request.param
    return request.param


@pytest.fixture
def queue_settings(settings):  # type: ignore[no-untyped-def]
    """Small, explicit admission settings for arithmetic in assertions."""
    settings.QUEUE_PROMOTION_BATCH_SIZE = 2
    settings.QUEUE_PROMOTION_INTERVAL_SECONDS = 10
    settings.QUEUE_ACTIVE_TTL_SECONDS = 600
    settings.QUEUE_ABANDON_SECONDS = 300
    return settings


def on_sale_concert(seats: int = 50, **fields):  # type: ignore[no-untyped-def]
    """A concert with one schedule on sale now and `seats` AVAILABLE seats (rounds admit only while a
    seat is available)."""
    from tests.factories import ConcertFactory, schedule_with_seats

    concert = ConcertFactory(**fields)
    schedule_with_seats(seats, concert=concert)
    return concert


def on_sale_concerts(count: int, **fields):  # type: ignore[no-untyped-def]
    return [on_sale_concert(**fields) for _ in range(count)]
