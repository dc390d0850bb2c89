from datetime import datetime, timedelta

import pytest
from django.test import Client
from django.utils import timezone

from config import clock as app_clock
from queue_app.concert_cache import concert_cache_clear
from tests.factories import UserFactory
from users.operators import operators_group_sync


class FakeClock:
    """The application's time, moved by hand (config.clock.now)."""

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
    """Starts at second 10 of a whole minute, so tests know which minute a snapshot falls in."""
    start = timezone.now().replace(second=10, microsecond=0)
    fake = FakeClock(start)
    monkeypatch.setattr(app_clock, "now", fake.now)
    return fake


@pytest.fixture
def operator(db):
    user = UserFactory(is_staff=True, email="operator@example.com")
    user.groups.add(operators_group_sync())
    return user


@pytest.fixture
def operator_client(operator) -> Client:
    client = Client()
    client.force_login(operator)
    return client
