"""The one place the booking code asks for the time, so tests can move it (monkeypatch `clock.now`).
Call it as `clock.now()` (module attribute), never `from config.clock import now`."""

from datetime import datetime

from django.utils import timezone


def now() -> datetime:
    return timezone.now()
