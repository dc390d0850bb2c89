"""The one place the booking code asks for the time, so tests can move it (monkeypatch `clock.now`).
Call it as `clock.now()` (module attribute), never `from config.clock import now`."""

from datetime import UTC, datetime

from django.utils import timezone


def now() -> datetime:
    return timezone.now()


def to_ms(moment: datetime) -> int:
    """A moment as whole milliseconds since the epoch: how Redis keys and scripts store time."""
    return int(moment.timestamp() * 1000)


def from_ms(ms: str | int) -> datetime:
    """The moment `to_ms` wrote (UTC)."""
    return datetime.fromtimestamp(int(ms) / 1000, tz=UTC)
