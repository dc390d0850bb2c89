"""Inventory change notices: the seat services that can make a concert sold out (or not any more) call
`inventory_changed` once their transaction commits; apps above the catalog register listeners (the
queue publishes the concert's availability to its store). The catalog imports none of its listeners.

A hold does not notify: holding an AVAILABLE seat never makes a concert sold out (HELD counts as not
sold out), and the hot hold path stays free of extra work. A listener that fails is logged, never raised:
the seat change has committed, and the queue's admission beat heals a missed notice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.db import transaction

logger = logging.getLogger(__name__)

Listener = Callable[..., None]
_listeners: list[Listener] = []


def inventory_listen(listener: Listener) -> None:
    """Register `listener(*, concert_id)` (idempotent)."""
    if listener not in _listeners:
        _listeners.append(listener)


def inventory_changed(*, concert_id: int) -> None:
    """Tell the listeners now (call it from on_commit; see inventory_changed_on_commit)."""
    for listener in list(_listeners):
        try:
            listener(concert_id=concert_id)
        except Exception:
            logger.warning("inventory listener failed for concert %s", concert_id, exc_info=True)


def inventory_changed_on_commit(*, concert_id: int) -> None:
    transaction.on_commit(lambda: inventory_changed(concert_id=concert_id))


def inventory_changed_for_schedules(*, schedule_ids: list[int]) -> None:
    """The same, for the concerts of some schedules (one query, after commit)."""
    if not schedule_ids:
        return

    def notify() -> None:
        from concerts.models import Schedule

        ids = Schedule.objects.filter(pk__in=schedule_ids).values_list("concert_id", flat=True)
        for concert_id in sorted(set(ids)):
            inventory_changed(concert_id=concert_id)

    transaction.on_commit(notify)
