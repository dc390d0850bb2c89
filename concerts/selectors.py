"""Catalog reads. Seat status is computed at read time: a hold past `held_until` reads AVAILABLE."""

from dataclasses import dataclass
from datetime import date, datetime

import orjson
from django.db.models import Case, CharField, Count, Exists, F, Min, OuterRef, Q, QuerySet, Value, When
from redis.exceptions import RedisError

from concerts import seat_map_cache
from concerts.errors import ConcertNotFound, ScheduleNotFound
from concerts.models import Concert, Schedule, Seat, SeatStatus
from concerts.seat_rules import seat_live_hold_q, seat_takeable_q
from config import clock


def seat_public_status(*, now: datetime) -> Case:
    """The status fans see: AVAILABLE, HELD or SOLD (a blocked seat is simply not for sale)."""
    return Case(
        When(seat_takeable_q(now=now), then=Value(SeatStatus.AVAILABLE.value)),
        When(status=SeatStatus.HELD, then=Value(SeatStatus.HELD.value)),
        default=Value(SeatStatus.SOLD.value),
        output_field=CharField(),
    )


def concert_list() -> QuerySet[Concert]:
    now = clock.now()
    return Concert.objects.annotate(
        next_schedule_at=Min("schedules__starts_at", filter=Q(schedules__starts_at__gt=now))
    ).order_by("name", "id")


def concert_get(*, concert_id: int) -> Concert:
    concert = concert_list().filter(pk=concert_id).first()
    if concert is None:
        raise ConcertNotFound()
    return concert


def concert_detail(*, concert_id: int) -> Concert:
    """The concert with `sold_out` computed from its inventory (concert_inventory)."""
    concert = concert_get(concert_id=concert_id)
    concert.sold_out = concert_inventory(concert_id=concert_id).sold_out  # type: ignore[attr-defined]
    return concert


def schedule_list_bookable(*, concert: Concert, on_date: date | None = None) -> QuerySet[Schedule]:
    """Schedules a fan can book now: in the future, sales open, at least one seat available."""
    now = clock.now()
    qs = (
        Schedule.objects.filter(concert=concert, starts_at__gt=now, sales_open_at__lte=now)
        .filter(Q(sales_close_at__isnull=True) | Q(sales_close_at__gt=now))
        .annotate(
            total_seats=Count("seats"),
            available_seats=Count("seats", filter=seat_takeable_q(now=now, prefix="seats__")),
        )
        .filter(available_seats__gt=0)
        .order_by("starts_at", "id")
    )
    if on_date is not None:
        qs = qs.filter(starts_at__date=on_date)
    return qs


def schedule_is_on_sale(*, schedule: Schedule, now: datetime | None = None) -> bool:
    now = now or clock.now()
    closes_at = schedule.sales_close_at or schedule.starts_at
    return schedule.sales_open_at <= now < closes_at


# --- Operators (admin): the seat map summary and the sales dashboard ----------------------------------


def seat_operator_status(*, now: datetime, prefix: str = "") -> Case:
    """The status operators see: a lapsed hold is AVAILABLE; HELD, SOLD and BLOCKED as stored."""
    return Case(
        When(seat_takeable_q(now=now, prefix=prefix), then=Value(SeatStatus.AVAILABLE.value)),
        default=F(f"{prefix}status"),
        output_field=CharField(),
    )


def seat_counts_by_grade_and_status(*, schedule: Schedule) -> dict[str, dict[str, int]]:
    """{grade: {AVAILABLE, HELD, SOLD, BLOCKED: n}} for one schedule, in one query (admin seat map)."""
    rows = (
        Seat.objects.filter(schedule=schedule)
        .annotate(op_status=seat_operator_status(now=clock.now()))
        .values("grade", "op_status")
        .annotate(n=Count("id"))
        .order_by("grade")
    )
    summary: dict[str, dict[str, int]] = {}
    for row in rows:
        counts = summary.setdefault(row["grade"], {s.value: 0 for s in SeatStatus})
        counts[row["op_status"]] = row["n"]
    return summary


def schedule_sales_overview(
    *, concert_id: int | None = None, include_past: bool = False, limit: int = 500
) -> QuerySet[Schedule]:
    """Schedules with their seats counted by operator status, in one query: seats_total, seats_sold,
    seats_held (live holds), seats_available (incl. lapsed holds) and seats_blocked. Soonest first."""
    now = clock.now()
    qs = Schedule.objects.select_related("concert")
    if concert_id is not None:
        qs = qs.filter(concert_id=concert_id)
    if not include_past:
        qs = qs.filter(starts_at__gt=now)
    return qs.annotate(
        seats_total=Count("seats"),
        seats_sold=Count("seats", filter=Q(seats__status=SeatStatus.SOLD)),
        seats_held=Count("seats", filter=seat_live_hold_q(now=now, prefix="seats__")),
        seats_available=Count("seats", filter=seat_takeable_q(now=now, prefix="seats__")),
        seats_blocked=Count("seats", filter=Q(seats__status=SeatStatus.BLOCKED)),
    ).order_by("starts_at", "id")[:limit]


def seat_map_json(*, schedule_id: int, status: str | None = None) -> bytes:
    """The body of GET /schedules/{id}/seats: every seat by number (or those of one status), in the
    collection envelope. Served from the Redis cache when it is current; rendered from one query
    otherwise. Raises ScheduleNotFound."""
    variant = status or "ALL"
    version = None
    if seat_map_cache.enabled():
        try:
            version, body = seat_map_cache.lookup(schedule_id=schedule_id, variant=variant)
        except RedisError:  # the map is still served, from the database, while Redis is away
            version, body = None, None
        if body is not None:
            return body
    now = clock.now()
    if not Schedule.objects.filter(pk=schedule_id).exists():
        raise ScheduleNotFound()
    # The status fans see is computed by the database (seat_public_status), so a render costs one query
    # and a C encoder: a map is rendered again after every change while fans rush a schedule.
    rows = (
        Seat.objects.filter(schedule_id=schedule_id)
        .annotate(public_status=seat_public_status(now=now))
        .order_by("number")
        .values_list("id", "number", "grade", "price", "public_status", "held_until")
    )
    results = []
    earliest_deadline: datetime | None = None
    for seat_id, number, grade, price, public, held_until in rows:
        if public == SeatStatus.HELD and held_until is not None:
            earliest_deadline = min(earliest_deadline or held_until, held_until)
        if status is None or public == status:
            results.append(
                {"id": seat_id, "number": number, "grade": grade, "price": price, "status": public}
            )
    body = orjson.dumps({"count": len(results), "next": None, "previous": None, "results": results})
    if version is not None:
        ttl_ms = seat_map_cache.MAX_AGE_MS
        if earliest_deadline is not None:
            ttl_ms = int((earliest_deadline - now).total_seconds() * 1000)
        seat_map_cache.store(
            schedule_id=schedule_id, version=version, variant=variant, body=body, ttl_ms=ttl_ms
        )
    return body


# --- Inventory: what the queue may offer -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ConcertInventory:
    """One concert's seats on its schedules whose sale has not closed.

    `available_now`: AVAILABLE seats (lapsed holds included) on schedules on sale now: what an admitted
    fan can hold. `unsold`: seats AVAILABLE or HELD on schedules not closed. `seats`: every seat there."""

    available_now: int
    unsold: int
    seats: int

    @property
    def sold_out(self) -> bool:
        """Nothing left to sell: seats were on sale and none is AVAILABLE or HELD (a concert with no seat
        on sale at all is not sold out, it simply has nothing on sale yet)."""
        return self.seats > 0 and self.unsold == 0


def concert_inventory(*, concert_id: int) -> ConcertInventory:
    """One query over the concert's seats on schedules not closed."""
    now = clock.now()
    not_closed = Q(schedule__concert_id=concert_id, schedule__starts_at__gt=now) & (
        Q(schedule__sales_close_at__isnull=True) | Q(schedule__sales_close_at__gt=now)
    )
    on_sale_now = Q(schedule__sales_open_at__lte=now)
    counts = Seat.objects.filter(not_closed).aggregate(
        seats=Count("id"),
        unsold=Count("id", filter=Q(status__in=[SeatStatus.AVAILABLE, SeatStatus.HELD])),
        available_now=Count("id", filter=on_sale_now & seat_takeable_q(now=now)),
    )
    return ConcertInventory(
        available_now=counts["available_now"], unsold=counts["unsold"], seats=counts["seats"]
    )


def concerts_selling(*, now: datetime) -> QuerySet[Concert]:
    """Concerts whose sale is scheduled or open and not ended: at least one schedule not closed yet.
    One query over the catalog (an index range on schedules per concert), whatever the queues hold."""
    not_closed = Schedule.objects.filter(concert=OuterRef("pk"), starts_at__gt=now).filter(
        Q(sales_close_at__isnull=True) | Q(sales_close_at__gt=now)
    )
    return Concert.objects.filter(Exists(not_closed)).order_by("pk")
