"""Admission rounds: the beat's visit of every concert on sale, and one round for one concert.

A round knows the inventory: it counts the concert's seats in one query before admitting, admits nobody
while no seat is AVAILABLE on a schedule on sale, and ends every waiting token as SOLD_OUT once nothing is
left to sell (publishing both to the queue store, which heals a missed inventory notice). Each concert
may set its own batch (`queue_batch_size`) and interval (`queue_interval_seconds`); the beat runs at the
global interval and visits a concert when its own interval has elapsed since its last round (an interval
shorter than the beat's runs at the beat's pace).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from concerts.errors import ConcertNotFound
from concerts.models import Concert
from concerts.selectors import concert_inventory, concerts_selling
from config import clock
from queue_app.backends import get_backend
from queue_app.backends.base import Admission, RoundResult
from queue_app.conf import queue_settings

logger = logging.getLogger(__name__)

BEAT_SLACK = timedelta(milliseconds=500)  # a beat tick a little early still counts as on time
_FIELDS = (
    "pk",
    "queue_paused",
    "queue_max_active",
    "queue_batch_size",
    "queue_interval_seconds",
    "sales_open_at",
    "draw_seed",
    "drawn_at",
)


def _interval(concert: dict[str, Any]) -> int:
    return concert["queue_interval_seconds"] or queue_settings().interval_seconds


def _round(concert: dict[str, Any], *, now: datetime) -> RoundResult:
    conf = queue_settings()
    concert_id = concert["pk"]
    backend = get_backend()
    # Heal the store's copy of the sale (a Redis restarted since the sale was scheduled).
    backend.sale_publish(
        concert_id=concert_id,
        opens_at=concert["sales_open_at"],
        seed=concert["draw_seed"],
        drawn=concert["drawn_at"] is not None,
    )
    inventory = concert_inventory(concert_id=concert_id)
    admission = Admission(
        batch=max(1, concert["queue_batch_size"] or conf.batch),
        max_active=concert["queue_max_active"],
        paused=concert["queue_paused"],
        active_ttl_seconds=conf.active_ttl_seconds,
        abandon_seconds=conf.abandon_seconds,
        interval_seconds=_interval(concert),
        seat_available=inventory.available_now > 0,
        sold_out=inventory.sold_out,
    )
    return backend.promote(concert_id=concert_id, now=now, admission=admission)


def queue_promote(*, concert_id: int) -> int:
    """One admission round for one concert now, whatever its interval; returns how many were admitted."""
    concert = Concert.objects.filter(pk=concert_id).values(*_FIELDS).first()
    if concert is None:
        raise ConcertNotFound()
    return _round(concert, now=clock.write_now()).admitted


def queue_promote_all() -> dict[int, int]:
    """The beat: one round for each concert on sale (scheduled or open, not ended) whose interval has
    elapsed since its last round: {concert id: admitted} for the rounds that ran. The concerts come from
    the catalog, never from the queue store."""
    now = clock.write_now()
    concerts = list(concerts_selling(now=now).values(*_FIELDS))
    last = get_backend().last_round_at(concert_ids=[c["pk"] for c in concerts])
    admitted: dict[int, int] = {}
    for concert in concerts:
        previous = last.get(concert["pk"])
        if previous is not None and now - previous < timedelta(seconds=_interval(concert)) - BEAT_SLACK:
            continue
        try:
            result = _round(concert, now=now)
        except Exception:  # one concert's trouble never stops the others' rounds
            logger.exception("admission round failed for concert %s", concert["pk"])
            continue
        if result.ran:
            admitted[concert["pk"]] = result.admitted
    return admitted
