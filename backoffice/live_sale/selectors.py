"""Reads for the live sale page: which sales are recorded, the figures of this moment, the pace of
orders, the snapshot series the charts draw and the CSV export."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import QuerySet

from backoffice.models import SaleSnapshot
from config import clock
from payments.selectors import revenue_by_concert
from queue_app.selectors import queue_overview
from reservations.selectors import order_sizes_since, reservation_counts_by_concert

# Orders per minute and seats per order are read over this many recent minutes: short enough to show the
# pace of the sale now, long enough not to jump with every order.
ORDER_PACE_MINUTES = 10

CSV_HEADER = [
    "taken_at",
    "waiting",
    "active",
    "admitted_total",
    "abandoned_total",
    "holds",
    "sales",
    "revenue",
    "conversion",
]


@dataclass(frozen=True, slots=True)
class SaleFigures:
    """One concert's sale at one moment: the queue's counts and the money side."""

    concert_id: int
    state: str
    waiting: int
    active: int
    admitted_total: int
    abandoned_total: int
    admitted_last_minute: int
    holds: int
    sales: int
    revenue: int

    @property
    def conversion(self) -> float | None:
        return conversion(sales=self.sales, admitted=self.admitted_total)


def conversion(*, sales: int, admitted: int) -> float | None:
    """Sold tickets per admitted user, as a fraction (None before anyone was admitted)."""
    return round(sales / admitted, 4) if admitted else None


def sale_figures(*, concert_ids: list[int], now: datetime) -> list[SaleFigures]:
    """The figures of `now` for each concert: one queue overview per concert, two queries for the rest."""
    counts = reservation_counts_by_concert(concert_ids=concert_ids, now=now)
    revenue = revenue_by_concert(concert_ids=concert_ids)
    figures = []
    for concert_id in concert_ids:
        overview = queue_overview(concert_id=concert_id)
        holds, sales = counts.get(concert_id, (0, 0))
        figures.append(
            SaleFigures(
                concert_id=concert_id,
                state=overview.state,
                waiting=overview.waiting,
                active=overview.active,
                admitted_total=overview.admitted_total,
                abandoned_total=overview.abandoned_total,
                admitted_last_minute=overview.admitted_last_minute,
                holds=holds,
                sales=sales,
                revenue=revenue.get(concert_id, 0),
            )
        )
    return figures


@dataclass(frozen=True, slots=True)
class OrderPace:
    """The concert's orders of the last `minutes`: how many, how fast, and how many seats each."""

    minutes: int
    orders: int
    seats: int
    orders_per_minute: float
    seats_per_order: float | None  # None while no order was placed
    sizes: dict[str, int]  # orders by seats per order, "1" .. the hold limit, every size listed


def order_pace(*, concert_id: int, now: datetime, minutes: int = ORDER_PACE_MINUTES) -> OrderPace:
    """From Order rows by concert and creation time (one query): every order placed in the last
    `minutes`, whatever became of it since (paid, lapsed or cancelled)."""
    by_size = order_sizes_since(concert_id=concert_id, since=now - timedelta(minutes=minutes))
    orders = sum(by_size.values())
    seats = sum(size * count for size, count in by_size.items())
    largest = max([settings.MAX_HOLDS_PER_USER, *by_size])
    return OrderPace(
        minutes=minutes,
        orders=orders,
        seats=seats,
        orders_per_minute=round(orders / minutes, 2),
        seats_per_order=round(seats / orders, 2) if orders else None,
        sizes={str(size): by_size.get(size, 0) for size in range(1, largest + 1)},
    )


def sale_snapshots(*, concert_id: int, since: datetime | None = None) -> QuerySet[SaleSnapshot]:
    snapshots = SaleSnapshot.objects.filter(concert_id=concert_id)
    if since is not None:
        snapshots = snapshots.filter(taken_at__gte=since)
    return snapshots.order_by("taken_at")


def _per_minute(values: list[int], minutes: list[datetime]) -> list[float | None]:
    """The rise of a running total per minute between consecutive snapshots (None for the first)."""
    rates: list[float | None] = [None] if values else []
    for i in range(1, len(values)):
        gap = (minutes[i] - minutes[i - 1]).total_seconds() / 60 or 1
        rates.append(round(max(values[i] - values[i - 1], 0) / gap, 2))
    return rates


def live_sale_data(*, concert_id: int, window_minutes: int) -> dict[str, Any]:
    """What the live sale page draws: the figures of this moment and the series of the last
    `window_minutes` of snapshots (one point per recorded minute)."""
    now = clock.now()
    current = sale_figures(concert_ids=[concert_id], now=now)[0]
    rows = list(sale_snapshots(concert_id=concert_id, since=now - timedelta(minutes=window_minutes)).values())
    minutes = [row["taken_at"] for row in rows]
    admitted = [row["admitted_total"] for row in rows]
    abandoned = [row["abandoned_total"] for row in rows]
    return {
        "concert_id": concert_id,
        "now": {**asdict(current), "conversion": current.conversion, "at": now.isoformat()},
        "orders": asdict(order_pace(concert_id=concert_id, now=now)),
        "series": {
            "taken_at": [m.isoformat() for m in minutes],
            "labels": [f"{m:%H:%M}" for m in minutes],
            "waiting": [row["waiting"] for row in rows],
            "active": [row["active"] for row in rows],
            "admitted_per_minute": _per_minute(admitted, minutes),
            "abandoned_per_minute": _per_minute(abandoned, minutes),
            "holds": [row["holds"] for row in rows],
            "sales": [row["sales"] for row in rows],
            "conversion": [conversion(sales=row["sales"], admitted=row["admitted_total"]) for row in rows],
            "revenue": [row["revenue"] for row in rows],
        },
    }


def sale_snapshot_csv_rows(*, concert_id: int) -> Iterator[list[Any]]:
    """The CSV export: a header, then one line per recorded minute, oldest first."""
    yield CSV_HEADER
    for snapshot in sale_snapshots(concert_id=concert_id).iterator():
        rate = conversion(sales=snapshot.sales, admitted=snapshot.admitted_total)
        yield [
            snapshot.taken_at.isoformat(),
            snapshot.waiting,
            snapshot.active,
            snapshot.admitted_total,
            snapshot.abandoned_total,
            snapshot.holds,
            snapshot.sales,
            snapshot.revenue,
            "" if rate is None else f"{rate:.4f}",
        ]
