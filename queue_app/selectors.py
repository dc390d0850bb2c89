"""Queue reads for operators (the admin page)."""

from __future__ import annotations

from queue_app import clock
from queue_app.backends import get_backend
from queue_app.backends.base import QueueCounts
from queue_app.conf import queue_settings


def queue_counts(*, concert_id: int) -> QueueCounts:
    """Live waiting and live active tokens of one concert."""
    return get_backend().counts(
        concert_id=concert_id, now=clock.now(), abandon_seconds=queue_settings().abandon_seconds
    )


def queue_live_token_for_user(*, user_id: int, concert_id: int) -> str | None:
    return get_backend().live_token_for(
        user_id=user_id,
        concert_id=concert_id,
        now=clock.now(),
        abandon_seconds=queue_settings().abandon_seconds,
    )
