"""Catalog writes: concerts, schedules, seat generation. Seat status changes for holds and sales live here
too, as guarded single statements the reservations app calls."""

import uuid
from datetime import datetime

from django.db import connection, transaction
from rest_framework.exceptions import ValidationError

from concerts.models import Concert, Schedule, Seat, SeatStatus

MAX_SEATS_PER_GENERATION = 10_000


def concert_create(*, name: str, price: int, venue: str = "", description: str = "") -> Concert:
    concert = Concert(name=name, price=price, venue=venue, description=description)
    concert.full_clean()
    concert.save()
    return concert


def schedule_create(
    *, concert: Concert, starts_at: datetime, sales_open_at: datetime, sales_close_at: datetime | None = None
) -> Schedule:
    schedule = Schedule(
        concert=concert, starts_at=starts_at, sales_open_at=sales_open_at, sales_close_at=sales_close_at
    )
    schedule.full_clean()
    schedule.save()
    return schedule


def seats_generate(
    *,
    schedule: Schedule,
    count: int,
    grade: str = "R",
    price: int | None = None,
    start_number: int | None = None,
) -> list[Seat]:
    """Add `count` seats numbered after the schedule's last seat (or from `start_number`)."""
    if not 1 <= count <= MAX_SEATS_PER_GENERATION:
        raise ValidationError({"count": [f"Must be between 1 and {MAX_SEATS_PER_GENERATION}."]})
    if price is not None and price < 0:
        raise ValidationError({"price": ["Must not be negative."]})
    with transaction.atomic():
        if start_number is None:
            last = (
                Seat.objects.filter(schedule=schedule)
                .order_by("-number")
                .values_list("number", flat=True)
                .first()
            )
            start_number = (last or 0) + 1
        elif start_number < 1:
            raise ValidationError({"start_number": ["Must be at least 1."]})
        numbers = range(start_number, start_number + count)
        if Seat.objects.filter(schedule=schedule, number__in=numbers).exists():
            raise ValidationError({"start_number": ["Some of these seat numbers already exist."]})
        seat_price = schedule.concert.price if price is None else price
        seats = [Seat(schedule=schedule, number=n, grade=grade, price=seat_price) for n in numbers]
        return Seat.objects.bulk_create(seats, batch_size=1000)


def concert_set_queue_admission(
    *, concert: Concert, paused: bool | None = None, max_active: int | None = None
) -> Concert:
    """Operators pause/resume admission or change the cap on active queue users (None leaves a value)."""
    updates: dict[str, object] = {}
    if paused is not None:
        updates["queue_paused"] = paused
    if max_active is not None:
        if max_active < 0:
            raise ValidationError({"max_active": ["Must not be negative."]})
        updates["queue_max_active"] = max_active or None  # 0 clears the cap
    if updates:
        Concert.objects.filter(pk=concert.pk).update(**updates)
        concert.refresh_from_db(fields=list(updates))
    return concert


# --- Seat status transitions -----------------------------------------------------------------------
# Each is one guarded statement: the WHERE clause is the rule, the row count (or RETURNING) the answer,
# so two writers can never both win. Only the reservations app calls these.

_TAKEABLE = "(status = 'AVAILABLE' OR (status = 'HELD' AND held_until <= %s))"


def seat_take_for_hold(
    *, schedule_id: int, seat_number: int, reservation_id: uuid.UUID, held_until: datetime, now: datetime
) -> tuple[int, int] | None:
    """Hold the seat if it is free (or its hold lapsed). Returns (seat id, price) or None if taken."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {Seat._meta.db_table} "  # noqa: S608 - only our own table name is interpolated
            "SET status = 'HELD', held_until = %s, reservation_id = %s, updated_at = %s "
            f"WHERE schedule_id = %s AND number = %s AND {_TAKEABLE} RETURNING id, price",
            [held_until, _uuid_param(reservation_id), now, schedule_id, seat_number, now],
        )
        row = cursor.fetchone()
    return (row[0], row[1]) if row else None


def seat_sell(*, seat_id: int, reservation_id: uuid.UUID, now: datetime) -> bool:
    """HELD by this reservation and not lapsed -> SOLD."""
    return bool(
        Seat.objects.filter(
            pk=seat_id, status=SeatStatus.HELD, reservation_id=reservation_id, held_until__gt=now
        ).update(status=SeatStatus.SOLD, held_until=None, updated_at=now)
    )


def seat_release(*, seat_id: int, reservation_id: uuid.UUID, now: datetime) -> bool:
    """A hold or sale of this reservation -> AVAILABLE (cancel, refund, operator release)."""
    return bool(
        Seat.objects.filter(
            pk=seat_id, status__in=[SeatStatus.HELD, SeatStatus.SOLD], reservation_id=reservation_id
        ).update(status=SeatStatus.AVAILABLE, held_until=None, reservation_id=None, updated_at=now)
    )


def seats_release_lapsed(*, now: datetime) -> int:
    """Tidy-up for the sweep job: lapsed holds already read AVAILABLE; this makes the rows say so."""
    return Seat.objects.filter(status=SeatStatus.HELD, held_until__lte=now).update(
        status=SeatStatus.AVAILABLE, held_until=None, reservation_id=None, updated_at=now
    )


def _uuid_param(value: uuid.UUID) -> str | uuid.UUID:
    # SQLite stores UUIDField as 32 hex characters; PostgreSQL has a native uuid type.
    return value.hex if connection.vendor == "sqlite" else value
