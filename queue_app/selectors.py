"""Queue reads: the per-concert overview (public page, operators' live sale page) and the admin's counts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from concerts.errors import ConcertNotFound
from concerts.models import Concert
from concerts.selectors import concert_inventory
from config import clock
from queue_app import pace
from queue_app.backends import get_backend
from queue_app.backends.base import QueueCounts, QueueState
from queue_app.conf import queue_settings


@dataclass(frozen=True, slots=True)
class QueueOverview:
    """One concert's sale and queue at a glance."""

    concert_id: int
    state: str  # SCHEDULED, OPEN, PAUSED or SOLD_OUT
    sales_open_at: datetime | None
    waiting: int
    active: int
    max_active: int | None
    admitted_last_minute: int
    estimated_wait_seconds: int | None  # for a token taken now; None while not OPEN or without a seat
    draw_commitment: str | None
    draw_seed: str | None  # None until drawn
    drawn_at: datetime | None
    admitted_total: int
    abandoned_total: int


_FIELDS = ("queue_paused", "queue_max_active", "queue_interval_seconds", "queue_batch_size")
_SALE = ("sales_open_at", "draw_seed", "draw_commitment", "drawn_at")


def queue_overview(*, concert_id: int) -> QueueOverview:
    """Cheap: one catalog row and one read of the queue store (Redis: one round trip; the database
    backend: a few indexed counts). At or after the opening it performs the draw if nobody has."""
    concert = Concert.objects.filter(pk=concert_id).values(*_FIELDS, *_SALE).first()
    if concert is None:
        raise ConcertNotFound()
    now = clock.now()
    conf = queue_settings()
    backend = get_backend()
    opens_at, drawn_at = concert["sales_open_at"], concert["drawn_at"]
    drawn = drawn_at is not None
    if opens_at is not None and not drawn and now >= opens_at:
        drawn = backend.draw(concert_id=concert_id, now=now)
    snap = backend.snapshot(concert_id=concert_id, now=now, abandon_seconds=conf.abandon_seconds)
    drawn = drawn or snap.drawn
    sold_out = snap.sold_out
    if sold_out is None:  # never published: count once
        sold_out = concert_inventory(concert_id=concert_id).sold_out
    if sold_out:
        state = QueueState.SOLD_OUT
    elif opens_at is not None and not drawn and now < opens_at:
        state = QueueState.SCHEDULED
    elif concert["queue_paused"]:
        state = QueueState.PAUSED
    else:
        state = QueueState.OPEN
    interval = concert["queue_interval_seconds"] or conf.interval_seconds
    now_ms = clock.to_ms(now)
    estimate = None
    if state == QueueState.OPEN and snap.seat_available:
        rate = pace.achieved_rate(rounds=snap.rounds, now_ms=now_ms, interval_seconds=interval)
        if rate is None:
            rate = (concert["queue_batch_size"] or conf.batch) / interval
        estimate = pace.estimate_seconds(position=snap.waiting + 1, rate=rate, interval_seconds=interval)
    return QueueOverview(
        concert_id=concert_id,
        state=state.value,
        sales_open_at=opens_at,
        waiting=snap.waiting,
        active=snap.active,
        max_active=concert["queue_max_active"],
        admitted_last_minute=pace.admitted_since(rounds=snap.rounds, since_ms=now_ms - 60_000),
        estimated_wait_seconds=estimate,
        draw_commitment=concert["draw_commitment"] or None,
        draw_seed=(concert["draw_seed"] or None) if drawn else None,
        drawn_at=drawn_at or snap.drawn_at,
        admitted_total=snap.admitted_total,
        abandoned_total=snap.abandoned_total,
    )


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
    counts = {}
    for concert_id in Concert.objects.values_list("pk", flat=True):
        live = queue_counts(concert_id=concert_id)
        counts[concert_id] = (live.waiting, live.active)
    return counts
