"""The sale opening and the inventory as the queue sees them: scheduling an opening (fresh seed and
public commitment), and publishing a concert's availability to the queue store after a seat change."""

from __future__ import annotations

import logging
from datetime import datetime

from concerts.errors import ConcertNotFound
from concerts.models import Concert
from concerts.selectors import concert_inventory
from concerts.services import concert_sale_set
from config import clock
from config.exceptions import InvalidInput
from queue_app.backends import get_backend
from queue_app.draw import commitment, new_seed
from queue_app.errors import SaleAlreadyDrawn

logger = logging.getLogger(__name__)


def sale_schedule(*, concert_id: int, opens_at: datetime | None) -> Concert:
    """(Re)schedule the concert's sale opening (None: open now) with a fresh draw seed; the commitment
    (hex SHA-256 of the seed) is public at once, the seed once the pre-queue is drawn. Refused with
    SaleAlreadyDrawn once the pre-queue has been drawn (a due draw is done first), and with InvalidInput
    for an opening not in the future."""
    now = clock.now()
    if opens_at is not None and (opens_at.tzinfo is None or opens_at <= now):
        raise InvalidInput({"opens_at": ["Must be a time in the future, with its offset."]})
    concert = Concert.objects.filter(pk=concert_id).first()
    if concert is None:
        raise ConcertNotFound()
    backend = get_backend()
    if concert.drawn_at is not None or backend.draw(concert_id=concert_id, now=now):
        raise SaleAlreadyDrawn()
    seed = new_seed()
    if not concert_sale_set(concert_id=concert_id, opens_at=opens_at, seed=seed, commitment=commitment(seed)):
        raise SaleAlreadyDrawn()
    backend.sale_publish(concert_id=concert_id, opens_at=opens_at, seed=seed, drawn=False)
    concert.refresh_from_db()
    return concert


def queue_inventory_publish(*, concert_id: int) -> None:
    """After a committed seat change: one count, and the concert's sold-out and seat-available flags go
    to the queue store (token issue and polls read them there, without SQL)."""
    inventory = concert_inventory(concert_id=concert_id)
    get_backend().inventory_publish(
        concert_id=concert_id, sold_out=inventory.sold_out, seat_available=inventory.available_now > 0
    )
