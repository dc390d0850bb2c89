"""The one place the queue asks for the time, so tests can move it (monkeypatch `clock.now`).

Call it as `clock.now()` (module attribute), never `from queue_app.clock import now`. The Redis backend
passes this time into its Lua scripts instead of using Redis TIME, so expiry and abandonment follow it.
"""

from datetime import datetime

from django.utils import timezone


def now() -> datetime:
    return timezone.now()
