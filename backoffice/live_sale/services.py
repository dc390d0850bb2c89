"""Writes for the live sale page: the per-minute snapshots the beat records, and their retention."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings

from backoffice.live_sale import selectors
from backoffice.models import SaleSnapshot
from concerts.selectors import concerts_selling
from config import clock


def snapshot_minute(moment: datetime) -> datetime:
    return moment.replace(second=0, microsecond=0)


def sale_snapshots_record() -> int:
    """Record this minute's snapshot of every concert whose sale is scheduled or open; returns how many
    rows were written. Idempotent per minute: a concert already recorded this minute is skipped, and the
    unique (concert, minute) constraint refuses a second row written by a concurrent run."""
    now = clock.now()
    minute = snapshot_minute(now)
    concert_ids = list(concerts_selling(now=now).values_list("pk", flat=True))
    done = set(
        SaleSnapshot.objects.filter(taken_at=minute, concert_id__in=concert_ids).values_list(
            "concert_id", flat=True
        )
    )
    todo = [concert_id for concert_id in concert_ids if concert_id not in done]
    if not todo:
        return 0
    rows = [
        SaleSnapshot(
            concert_id=figures.concert_id,
            taken_at=minute,
            waiting=figures.waiting,
            active=figures.active,
            admitted_total=figures.admitted_total,
            abandoned_total=figures.abandoned_total,
            holds=figures.holds,
            sales=figures.sales,
            revenue=figures.revenue,
        )
        for figures in selectors.sale_figures(concert_ids=todo, now=now)
    ]
    SaleSnapshot.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


def sale_snapshots_purge() -> int:
    """Delete snapshots older than SALE_SNAPSHOT_RETENTION_DAYS; returns how many went."""
    cutoff = clock.now() - timedelta(days=settings.SALE_SNAPSHOT_RETENTION_DAYS)
    deleted, _ = SaleSnapshot.objects.filter(taken_at__lt=cutoff).delete()
    return deleted
