"""The one place the booking code asks for the time, so tests can move it (monkeypatch `clock.now`).
Call it as `clock.now()` (module attribute), never `from config.clock import now`.

A write whose outcome depends on the time (a hold, an order, a payment, a token issue, an admission round,
the expiry sweep) takes its "now" from `clock.write_now()` instead: the same time, refused with
ClockOutOfBounds (503, Retry-After) while this process's clock is too far off the shared one
(config/clock_guard.py). Reads keep `clock.now()` and stay served."""

from datetime import UTC, datetime

from django.utils import timezone

from config import clock_guard


def now() -> datetime:
    return timezone.now()


def write_now() -> datetime:
    """`now()` for a time-dependent write; raises ClockOutOfBounds while this clock is out of bounds."""
    clock_guard.require_in_bounds()
    return now()


def to_ms(moment: datetime) -> int:
    """A moment as whole milliseconds since the epoch: how Redis keys and scripts store time."""
    return int(moment.timestamp() * 1000)


def from_ms(ms: str | int) -> datetime:
    """The moment `to_ms` wrote (UTC)."""
    return datetime.fromtimestamp(int(ms) / 1000, tz=UTC)
