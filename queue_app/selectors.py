"""Queue reads for operators (the admin page)."""

from __future__ import annotations

from config import clock
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


def queue_counts_all() -> dict[int, tuple[int, int]]:
    """{concert id: (waiting, active)} for every concert: the Prometheus queue gauges."""
    from concerts.models import Concert

    counts = {}
    for concert_id in Concert.objects.values_list("pk", flat=True):
        live = queue_counts(concert_id=concert_id)
        counts[concert_id] = (live.waiting, live.active)
    return counts
