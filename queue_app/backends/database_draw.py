"""The database backend's sale state and the opening's draw.

The draw runs in one transaction holding the concert's state row lock (which issuing a new token also
takes): it rewrites `order_key` of every waiting token to its draw rank and records `drawn_at`, so
readers see either the pre-queue or the whole drawn order, never a part of it. Concurrent first polls
queue on the lock; the later ones find `drawn_at` set and draw nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from concerts.models import Concert
from config.db import atomic_with_retry
from queue_app.backends.base import Pace, TokenStatus
from queue_app.draw import draw_order
from queue_app.models import ConcertQueueState, QueueToken

WRITE_BATCH = 1000


@dataclass(frozen=True, slots=True)
class Sale:
    opens_at: datetime | None
    drawn_at: datetime | None
    sold_out: bool
    seat_available: bool
    paused: bool
    rate: float | None

    def prequeue(self, now: datetime) -> bool:
        return self.opens_at is not None and self.drawn_at is None and now < self.opens_at

    def pace(self, now: datetime) -> Pace:
        blocked = self.prequeue(now) or self.sold_out or not self.seat_available or self.paused
        return Pace(blocked=blocked, rate=self.rate)


def sale_of(concert_id: int) -> Sale:
    concert: Any = Concert.objects.filter(pk=concert_id).values("sales_open_at", "drawn_at").first() or {}
    state = ConcertQueueState.objects.filter(pk=concert_id).first() or ConcertQueueState()
    return Sale(
        opens_at=concert.get("sales_open_at"),
        drawn_at=concert.get("drawn_at"),
        sold_out=bool(state.sold_out),
        seat_available=state.seat_available,
        paused=state.paused,
        rate=state.rate,
    )


def state_row(concert_id: int) -> None:
    """Make sure the concert's state row exists."""
    if not ConcertQueueState.objects.filter(pk=concert_id).exists():
        ConcertQueueState.objects.bulk_create(
            [ConcertQueueState(concert_id=concert_id)], ignore_conflicts=True
        )


def locked_state(concert_id: int) -> ConcertQueueState:
    """The concert's state row, locked until the caller's transaction ends."""
    state_row(concert_id)
    return ConcertQueueState.objects.select_for_update().get(pk=concert_id)


def draw(*, concert_id: int, now: datetime) -> bool:
    """Draw the pre-queue when the opening is due and nobody has; True once it is drawn."""
    sale = sale_of(concert_id)
    if sale.drawn_at is not None:
        return True
    if sale.opens_at is None or now < sale.opens_at:
        return False
    return _draw(concert_id=concert_id, now=now)


@atomic_with_retry
def _draw(*, concert_id: int, now: datetime) -> bool:
    from concerts.services import concert_mark_drawn

    locked_state(concert_id)
    concert = Concert.objects.filter(pk=concert_id).values("sales_open_at", "drawn_at", "draw_seed").first()
    if concert is None:
        return False
    if concert["drawn_at"] is not None:
        return True
    if concert["sales_open_at"] is None or now < concert["sales_open_at"]:
        return False
    waiting = QueueToken.objects.filter(concert_id=concert_id, status=TokenStatus.WAITING)
    id_of = dict(waiting.values_list("queue_number", "id"))
    ranked = draw_order(seed=concert["draw_seed"], queue_numbers=id_of)
    QueueToken.objects.bulk_update(
        [QueueToken(id=id_of[number], order_key=rank) for rank, number in enumerate(ranked, start=1)],
        ["order_key"],
        batch_size=WRITE_BATCH,
    )
    concert_mark_drawn(concert_id=concert_id, drawn_at=now)
    return True
