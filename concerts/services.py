"""Catalog writes: concerts, schedules, seat generation. Seat status changes for holds and sales live here
too, as guarded single statements the reservations app calls."""

import functools
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Field, Q

from concerts import seat_map_cache
from concerts.errors import ConcertNotFound, SeatNotBlockable, SeatNotBlocked
from concerts.inventory import inventory_changed_for_schedules, inventory_changed_on_commit
from concerts.models import Concert, Schedule, Seat, SeatStatus
from concerts.seat_rules import SEAT_TAKEABLE_SQL, seat_hold_is_live, seat_live_hold_q, seat_takeable_q
from config import clock
from config.db import atomic_with_retry
from config.exceptions import InvalidInput

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
        raise InvalidInput({"count": [f"Must be between 1 and {MAX_SEATS_PER_GENERATION}."]})
    if price is not None and price < 0:
        raise InvalidInput({"price": ["Must not be negative."]})
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
            raise InvalidInput({"start_number": ["Must be at least 1."]})
        numbers = range(start_number, start_number + count)
        if Seat.objects.filter(schedule=schedule, number__in=numbers).exists():
            raise InvalidInput({"start_number": ["Some of these seat numbers already exist."]})
        seat_price = schedule.concert.price if price is None else price
        seats = [Seat(schedule=schedule, number=n, grade=grade, price=seat_price) for n in numbers]
        created = Seat.objects.bulk_create(seats, batch_size=1000)
        transaction.on_commit(lambda: seat_map_invalidate(schedule_id=schedule.pk))
        inventory_changed_on_commit(concert_id=schedule.concert_id)
        return created


def concert_sale_set(*, concert_id: int, opens_at: datetime | None, seed: str, commitment: str) -> bool:
    """Record a (re)scheduled sale opening with its draw seed and commitment: one guarded statement,
    refused (False) once the pre-queue has been drawn."""
    return bool(
        Concert.objects.filter(pk=concert_id, drawn_at__isnull=True).update(
            sales_open_at=opens_at, draw_seed=seed, draw_commitment=commitment, updated_at=clock.now()
        )
    )


def concert_mark_drawn(*, concert_id: int, drawn_at: datetime) -> bool:
    """Record when the pre-queue was drawn, once (False when it already was)."""
    return bool(Concert.objects.filter(pk=concert_id, drawn_at__isnull=True).update(drawn_at=drawn_at))


QUEUE_BATCH_SIZE_MAX = 10_000
QUEUE_INTERVAL_SECONDS_MAX = 3600
QUEUE_MAX_ACTIVE_MAX = 2**31 - 1


def concert_set_queue_admission(
    *,
    concert: Concert,
    paused: bool | None = None,
    max_active: int | None = None,
    batch_size: int | None = None,
    interval_seconds: int | None = None,
) -> Concert:
    """Operators pause/resume admission, change the cap on active queue users, or override the global
    batch size and interval for this concert. None leaves a value as it is; 0 clears the cap (no cap)
    or the override (the global setting again). Pausing keeps every place: it only stops admission."""
    errors: dict[str, list[str]] = {}
    updates: dict[str, object] = {}
    if paused is not None:
        updates["queue_paused"] = paused
    if max_active is not None:
        if not 0 <= max_active <= QUEUE_MAX_ACTIVE_MAX:
            errors["max_active"] = [f"Must be between 0 (no cap) and {QUEUE_MAX_ACTIVE_MAX}."]
        updates["queue_max_active"] = max_active or None  # 0 clears the cap
    if batch_size is not None:
        if not 0 <= batch_size <= QUEUE_BATCH_SIZE_MAX:
            errors["batch_size"] = [f"Must be between 1 and {QUEUE_BATCH_SIZE_MAX} (0: the global setting)."]
        updates["queue_batch_size"] = batch_size or None
    if interval_seconds is not None:
        if not 0 <= interval_seconds <= QUEUE_INTERVAL_SECONDS_MAX:
            errors["interval_seconds"] = [
                f"Must be between 1 and {QUEUE_INTERVAL_SECONDS_MAX} seconds (0: the global setting)."
            ]
        updates["queue_interval_seconds"] = interval_seconds or None
    if errors:
        raise InvalidInput(errors)
    if updates:
        Concert.objects.filter(pk=concert.pk).update(**updates)
        concert.refresh_from_db(fields=list(updates))
    return concert


# --- Seat status transitions -----------------------------------------------------------------------
# Each is one guarded statement: the WHERE clause is the rule, the row count (or RETURNING) the answer,
# so two writers can never both win. Only the reservations app calls these.


def seat_take_for_hold(
    *, schedule_id: int, seat_number: int, reservation_id: uuid.UUID, held_until: datetime, now: datetime
) -> tuple[int, int, str] | None:
    """Hold the seat if it is free (or its hold lapsed). Returns (seat id, price, grade) or None if taken."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {Seat._meta.db_table} "  # noqa: S608 - only our own table name is interpolated
            "SET status = 'HELD', held_until = %s, reservation_id = %s, updated_at = %s "
            f"WHERE schedule_id = %s AND number = %s AND {SEAT_TAKEABLE_SQL} RETURNING id, price, grade",
            [_sql_param(v) for v in (held_until, reservation_id, now, schedule_id, seat_number, now)],
        )
        row = cursor.fetchone()
    return (row[0], row[1], row[2]) if row else None


def _seats_owned(seats: dict[int, uuid.UUID]) -> Q:
    """Each of these seat ids, still owned by its reservation."""
    owned = Q(pk__in=[])
    for seat_id, reservation_id in seats.items():
        owned |= Q(pk=seat_id, reservation_id=reservation_id)
    return owned


def seats_sell(*, seats: dict[int, uuid.UUID], now: datetime, schedule_id: int) -> int:
    """HELD by their reservation ({seat id: reservation id}) and not lapsed -> SOLD, in one statement.
    Returns how many matched (the caller refuses the payment unless all did)."""
    sold = Seat.objects.filter(
        seat_live_hold_q(now=now), _seats_owned(seats), schedule_id=schedule_id
    ).update(status=SeatStatus.SOLD, held_until=None, updated_at=now)
    if sold:
        inventory_changed_for_schedules(schedule_ids=[schedule_id])
    return int(sold)


def seats_release(*, seats: dict[int, uuid.UUID], now: datetime, schedule_id: int) -> int:
    """A hold or sale of their reservation -> AVAILABLE (cancel, refund, operator release), in one
    statement. Returns how many matched."""
    released = Seat.objects.filter(
        _seats_owned(seats), schedule_id=schedule_id, status__in=[SeatStatus.HELD, SeatStatus.SOLD]
    ).update(status=SeatStatus.AVAILABLE, held_until=None, reservation_id=None, updated_at=now)
    if released:
        inventory_changed_for_schedules(schedule_ids=[schedule_id])
    return int(released)


def seats_release_lapsed(*, now: datetime) -> int:
    """Tidy-up for the sweep job: lapsed holds already read AVAILABLE; this makes the rows say so."""
    lapsed = seat_takeable_q(now=now) & Q(status=SeatStatus.HELD)
    return Seat.objects.filter(lapsed).update(
        status=SeatStatus.AVAILABLE, held_until=None, reservation_id=None, updated_at=now
    )


def _sql_param(value: Any) -> Any:
    """A parameter of the raw seat statements as the ORM would write it. SQLite keeps datetimes as text
    (a raw aware value would carry "+00:00", and text comparisons against the ORM's own values, the seat
    map's status and the guards, would be wrong at the very deadline) and UUIDs as 32 hex characters."""
    if isinstance(value, datetime):
        return connection.ops.adapt_datetimefield_value(value)
    if isinstance(value, uuid.UUID) and connection.vendor == "sqlite":
        return value.hex
    return value


# --- Operators: taking seats off sale ---------------------------------------------------------------
# Blocking is the same kind of guarded statement as a hold: it takes an AVAILABLE seat, or a HELD one
# whose hold has lapsed, and nothing else; a live hold or a sale keeps the seat whatever runs at once.


@dataclass(frozen=True)
class SeatStatusChange:
    """What a bulk block/unblock did: the seat ids it changed and, per refused seat id, why not."""

    changed: list[int]
    refused: dict[int, str]


def _seat_ids_update(
    *, sql_set: str, set_params: list[Any], sql_guard: str, guard_params: list[Any], seat_ids: list[int]
) -> list[int]:
    """Run the guarded UPDATE; returns the changed seat ids. Cached seat maps of the schedules touched
    go stale once the transaction commits."""
    if not seat_ids:
        return []
    placeholders = ", ".join(["%s"] * len(seat_ids))
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {Seat._meta.db_table} SET {sql_set} "  # noqa: S608 - only our own SQL is interpolated
            f"WHERE id IN ({placeholders}) AND {sql_guard} RETURNING id, schedule_id",
            [_sql_param(v) for v in (*set_params, *seat_ids, *guard_params)],
        )
        rows = cursor.fetchall()
    for schedule_id in sorted({row[1] for row in rows}):
        transaction.on_commit(functools.partial(seat_map_invalidate, schedule_id=schedule_id))
    inventory_changed_for_schedules(schedule_ids=sorted({row[1] for row in rows}))
    return sorted(row[0] for row in rows)


def _seat_refusals(*, seat_ids: list[int], now: datetime) -> dict[int, str]:
    reasons = {}
    for seat in Seat.objects.filter(pk__in=seat_ids).order_by("number"):
        if seat_hold_is_live(status=seat.status, held_until=seat.held_until, now=now):
            why = f"held by a live reservation until {seat.held_until:%H:%M:%S} UTC; release the hold first"
        elif seat.status == SeatStatus.SOLD:
            why = "sold; cancel and refund its reservation first"
        elif seat.status == SeatStatus.BLOCKED:
            why = "already blocked"
        elif seat.status == SeatStatus.AVAILABLE:
            why = "not blocked"
        else:
            why = f"{seat.status.lower()} (changed meanwhile; try again)"
        reasons[seat.pk] = f"seat {seat.number}: {why}"
    for missing in set(seat_ids) - set(reasons):
        reasons[missing] = f"seat id {missing}: no such seat"
    return reasons


def seats_block(*, seat_ids: list[int]) -> SeatStatusChange:
    """AVAILABLE, or HELD with a lapsed hold -> BLOCKED, in one guarded statement. A live hold or a sold
    seat is refused (with the reason), never taken: a blocked seat is never sold."""
    return _seats_block(seat_ids=seat_ids)


@atomic_with_retry
def _seats_block(*, seat_ids: list[int]) -> SeatStatusChange:
    now = clock.now()
    changed = _seat_ids_update(
        sql_set="status = 'BLOCKED', held_until = NULL, reservation_id = NULL, updated_at = %s",
        set_params=[now],
        sql_guard=SEAT_TAKEABLE_SQL,
        guard_params=[now],
        seat_ids=seat_ids,
    )
    refused = _seat_refusals(seat_ids=sorted(set(seat_ids) - set(changed)), now=now)
    return SeatStatusChange(changed=changed, refused=refused)


def seats_unblock(*, seat_ids: list[int]) -> SeatStatusChange:
    """BLOCKED -> AVAILABLE, in one guarded statement; any other seat is refused (with the reason)."""
    return _seats_unblock(seat_ids=seat_ids)


@atomic_with_retry
def _seats_unblock(*, seat_ids: list[int]) -> SeatStatusChange:
    now = clock.now()
    changed = _seat_ids_update(
        sql_set="status = 'AVAILABLE', held_until = NULL, reservation_id = NULL, updated_at = %s",
        set_params=[now],
        sql_guard="status = 'BLOCKED'",
        guard_params=[],
        seat_ids=seat_ids,
    )
    refused = _seat_refusals(seat_ids=sorted(set(seat_ids) - set(changed)), now=now)
    return SeatStatusChange(changed=changed, refused=refused)


def seat_block(*, seat_id: int) -> Seat:
    """Block one seat; SeatNotBlockable (with the reason) when it is held live, sold or already blocked."""
    result = seats_block(seat_ids=[seat_id])
    if not result.changed:
        raise SeatNotBlockable(f"Seat not blocked: {result.refused[seat_id]}.")
    return Seat.objects.get(pk=seat_id)


def seat_unblock(*, seat_id: int) -> Seat:
    """Put one blocked seat back on sale; SeatNotBlocked when it is not blocked."""
    result = seats_unblock(seat_ids=[seat_id])
    if not result.changed:
        raise SeatNotBlocked(f"Seat not unblocked: {result.refused[seat_id]}.")
    return Seat.objects.get(pk=seat_id)


def seat_map_invalidate(*, schedule_id: int) -> None:
    """Call after a committed seat change (on_commit): cached seat maps of the schedule go stale."""
    seat_map_cache.invalidate(schedule_ids=[schedule_id])


# --- Operators: editing the catalog ----------------------------------------------------------------
# An edit writes only the columns the operator changed, in one UPDATE. Status, hold, draw and admission
# columns are written by their own guarded statements (holds, payments, the draw, pause and cap) while an
# operator's form is open; rewriting a whole row would put back what the form read.

CONCERT_EDITABLE_FIELDS = frozenset(
    {"name", "venue", "description", "price", "queue_batch_size", "queue_interval_seconds"}
)


def _checked_changes(
    model: type[Concert] | type[Seat], changes: dict[str, Any], allowed: frozenset[str]
) -> dict[str, Any]:
    """Each value cleaned by its model field (type, choices, bounds); anything else is InvalidInput."""
    errors: dict[str, list[str]] = {}
    cleaned: dict[str, Any] = {}
    for name, value in changes.items():
        if name not in allowed:
            errors[name] = ["This field is not edited here."]
            continue
        field = model._meta.get_field(name)
        assert isinstance(field, Field)
        try:
            cleaned[name] = field.clean(value, None)
        except ValidationError as exc:
            errors[name] = list(exc.messages)
    if errors:
        raise InvalidInput(errors)
    return cleaned


def concert_update(*, concert_id: int, changes: dict[str, Any]) -> Concert:
    """Change a concert's catalog text, price or queue settings (batch size, interval): only the given
    columns, in one UPDATE. Pause, cap and the draw have their own services and are never rewritten here."""
    cleaned = _checked_changes(Concert, changes, CONCERT_EDITABLE_FIELDS)
    if cleaned and not Concert.objects.filter(pk=concert_id).update(**cleaned, updated_at=clock.now()):
        raise ConcertNotFound()
    concert = Concert.objects.filter(pk=concert_id).first()
    if concert is None:
        raise ConcertNotFound()
    return concert


def seat_update(*, seat_id: int, grade: str | None = None, price: int | None = None) -> Seat:
    """Change a seat's grade and/or price (None leaves it) in one UPDATE of those columns only: a hold or
    a sale of the seat committed meanwhile stays as it is. The cached seat map goes stale on commit."""
    changes = {name: value for name, value in (("grade", grade), ("price", price)) if value is not None}
    cleaned = _checked_changes(Seat, changes, frozenset({"grade", "price"}))
    with transaction.atomic():
        seat = Seat.objects.filter(pk=seat_id).first()
        if seat is None:
            raise InvalidInput({"seat_id": ["No such seat."]})
        if cleaned:
            Seat.objects.filter(pk=seat_id).update(**cleaned, updated_at=clock.now())
            transaction.on_commit(functools.partial(seat_map_invalidate, schedule_id=seat.schedule_id))
            seat.refresh_from_db()
        return seat
