"""Taking seats: an order's seats held together, all or none (a single-seat hold is an order of one).

Two spellings of the same rules, and the order rule tests run every case against both on PostgreSQL:
- `_hold_in_one_call`: PostgreSQL, one round trip (reservations_hold_seats(), migration 0007). It writes
  concerts_seat directly: the one place another app's rows change outside its services, because a hold
  must cost one round trip under sale-day load;
- `_hold_portable`: any database (SQLite in embedded mode), statement by statement.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, connection, transaction

from concerts import selectors as concert_selectors
from concerts import services as concert_services
from concerts.errors import ScheduleNotFound
from concerts.models import Schedule, Seat
from concerts.seat_rules import best_available, seat_is_takeable, seat_takeable_q
from config.db import atomic_with_retry, bound_cursor, statement_with_retry
from config.exceptions import DomainError
from queue_app.errors import QueueTokenNotActive
from reservations.errors import (
    HoldLimitReached,
    NotEnoughSeats,
    ScheduleClosed,
    SeatNotFound,
    SeatUnavailable,
)
from reservations.models import Order, Reservation, ReservationStatus
from reservations.selectors import reservation_pending_count
from users.errors import AccountGone


@dataclass(frozen=True)
class OrderRequest:
    """What to hold: `seat_numbers` (chosen), or `quantity` seats best available (of `grade`)."""

    user_id: int
    concert_id: int  # the concert of the user's ACTIVE queue token
    schedule_id: int
    seat_numbers: tuple[int, ...] | None
    quantity: int
    grade: str | None
    order_id: uuid.UUID
    now: datetime
    expires_at: datetime


@dataclass(frozen=True)
class HeldSeat:
    seat_id: int
    number: int
    price: int
    grade: str
    reservation_id: uuid.UUID


def hold_implementation() -> Callable[[OrderRequest], Order]:
    """PostgreSQL holds in one call, other databases statement by statement; the rule tests run every
    case against both on PostgreSQL by replacing this choice."""
    return _hold_in_one_call if connection.vendor == "postgresql" else _hold_portable


_REFUSALS: dict[str, type[DomainError]] = {
    "schedule_not_found": ScheduleNotFound,
    "token_other_concert": QueueTokenNotActive,
    "schedule_closed": ScheduleClosed,
    "hold_limit_reached": HoldLimitReached,
    "seat_not_found": SeatNotFound,
    "not_enough_seats": NotEnoughSeats,
}


def seat_unavailable(numbers: list[int]) -> SeatUnavailable:
    """409 seat_unavailable naming the seats that could not be taken."""
    detail = "This seat is held or sold." if len(numbers) == 1 else "Some of these seats are held or sold."
    return SeatUnavailable(detail, extra={"unavailable_seats": sorted(numbers)})


@contextmanager
def _account_must_exist() -> Iterator[None]:
    """The hold's insert names the user: a token outliving its deleted account fails the foreign key."""
    try:
        yield
    except IntegrityError as exc:
        if "user_id" in str(getattr(getattr(exc.__cause__, "diag", None), "constraint_name", "") or ""):
            raise AccountGone() from exc
        raise


HOLD_SQL = "SELECT * FROM reservations_hold_seats(%s, %s, %s, %s::integer[], %s, %s::text, %s, %s, %s, %s)"
# The same call, its transaction committing without waiting for the disk: set_config(..., true) lasts
# until that transaction ends (this statement's own commit, or the caller's atomic block), so every
# other transaction on the connection still commits synchronously. Why a hold may: a crash can lose only
# the last fraction of a second of holds, each whole (seats, order and reservations are one
# transaction), and a payment's synchronous commit flushes the WAL up to itself, so no paid hold can be
# among them. (The set_config column comes last; the rows are read by position.)
HOLD_ASYNC_COMMIT_SQL = HOLD_SQL + ", set_config('synchronous_commit', 'off', true)"


@statement_with_retry
def _hold_in_one_call(request: OrderRequest) -> Order:
    with bound_cursor() as cursor, _account_must_exist():
        cursor.execute(
            HOLD_ASYNC_COMMIT_SQL if settings.RESERVATION_HOLD_ASYNC_COMMIT else HOLD_SQL,
            [
                request.user_id,
                request.concert_id,
                request.schedule_id,
                list(request.seat_numbers) if request.seat_numbers is not None else None,
                request.quantity,
                request.grade,
                request.order_id,
                request.now,
                request.expires_at,
                settings.MAX_HOLDS_PER_USER,
            ],
        )
        rows = cursor.fetchall()
    outcome = rows[0][0]
    if outcome == "seat_unavailable":
        raise seat_unavailable([row[2] for row in rows])
    if outcome != "held":
        raise _REFUSALS[outcome]()
    return held_order(request, [HeldSeat(*row[1:6]) for row in rows])


@atomic_with_retry
def _hold_portable(request: OrderRequest) -> Order:
    """Any database: the same rules, statement by statement, in one transaction."""
    schedule = Schedule.objects.filter(pk=request.schedule_id).first()
    if schedule is None:
        raise ScheduleNotFound()
    if schedule.concert_id != request.concert_id:
        raise QueueTokenNotActive()
    if not concert_selectors.schedule_is_on_sale(schedule=schedule, now=request.now):
        raise ScheduleClosed()
    # Serialize one user's holds so concurrent requests cannot overshoot the hold limit.
    if (
        get_user_model().objects.select_for_update().filter(pk=request.user_id).values_list("pk").first()
        is None
    ):
        raise AccountGone()
    pending = reservation_pending_count(user_id=request.user_id, now=request.now)
    if pending + request.quantity > settings.MAX_HOLDS_PER_USER:
        raise HoldLimitReached()
    seats = _take_chosen(request) if request.seat_numbers is not None else _take_best_available(request)
    order = held_order(request, seats)
    order.save(force_insert=True)
    Reservation.objects.bulk_create(order.seats)
    return order


def _locked_seats(*, schedule_id: int, numbers: list[int]) -> list[Seat]:
    """The seats of these numbers, locked in id order (two orders for overlapping seats wait, never
    deadlock); SQLite has no row locks, its one writer at a time serializes instead."""
    return list(
        Seat.objects.select_for_update()
        .filter(schedule_id=schedule_id, number__in=numbers)
        .order_by("id")
        .only("id", "number", "status", "held_until")
    )


def _expire_lapsed_holds(*, seat_ids: list[int], now: datetime) -> None:
    """Lapsed holds on these seats give way before they are retaken, so the one-live-reservation-per-seat
    constraint holds (reservation before seat: the lock order)."""
    Reservation.objects.filter(
        seat_id__in=seat_ids, status=ReservationStatus.PENDING, expires_at__lte=now
    ).update(status=ReservationStatus.EXPIRED)


def _take(request: OrderRequest, numbers: list[int]) -> list[HeldSeat] | None:
    """Take these seats, each with a guarded statement; None (nothing kept) unless every one was taken."""
    held: list[HeldSeat] = []
    with transaction.atomic():  # a savepoint: a partial take is undone
        for number in sorted(numbers):
            reservation_id = uuid.uuid4()
            taken = concert_services.seat_take_for_hold(
                schedule_id=request.schedule_id,
                seat_number=number,
                reservation_id=reservation_id,
                held_until=request.expires_at,
                now=request.now,
            )
            if taken is None:
                transaction.set_rollback(True)
                return None
            held.append(HeldSeat(taken[0], number, taken[1], taken[2], reservation_id))
    return held


def _take_chosen(request: OrderRequest) -> list[HeldSeat]:
    assert request.seat_numbers is not None
    numbers = list(request.seat_numbers)
    seats = _locked_seats(schedule_id=request.schedule_id, numbers=numbers)
    if len(seats) < len(numbers):
        raise SeatNotFound()
    _expire_lapsed_holds(seat_ids=[s.pk for s in seats], now=request.now)
    unavailable = [
        s.number
        for s in seats
        if not seat_is_takeable(status=s.status, held_until=s.held_until, now=request.now)
    ]
    if unavailable:
        raise seat_unavailable(unavailable)
    held = _take(request, numbers)
    if held is None:  # taken between the read and the write (SQLite: another writer came first)
        raise seat_unavailable(numbers)
    return held


def _take_best_available(request: OrderRequest) -> list[HeldSeat]:
    """Plan on the takeable seats, lock the plan in id order, take it; a seat taken meanwhile is planned
    around on the next attempt, so NotEnoughSeats means fewer than `quantity` takeable seats remained."""
    takeable = Seat.objects.filter(seat_takeable_q(now=request.now), schedule_id=request.schedule_id)
    if request.grade is not None:
        takeable = takeable.filter(grade=request.grade)
    while True:
        numbers = best_available(
            list(takeable.order_by("number").values_list("number", flat=True)), request.quantity
        )
        if numbers is None:
            raise NotEnoughSeats()
        seats = _locked_seats(schedule_id=request.schedule_id, numbers=numbers)
        _expire_lapsed_holds(seat_ids=[s.pk for s in seats], now=request.now)
        held = _take(request, numbers)
        if held is not None:
            return held


def held_order(request: OrderRequest, seats: list[HeldSeat]) -> Order:
    """The order and its reservations as written (the caller saves them, or the database function did),
    with `order.seats` set for the answer."""
    order = Order(
        id=request.order_id,
        user_id=request.user_id,
        concert_id=request.concert_id,
        schedule_id=request.schedule_id,
        status=ReservationStatus.PENDING,
        expires_at=request.expires_at,
        created_at=request.now,
        updated_at=request.now,
    )
    reservations = []
    for seat in sorted(seats, key=lambda s: s.number):
        reservation = Reservation(
            id=seat.reservation_id,
            order_id=order.pk,
            user_id=request.user_id,
            concert_id=request.concert_id,
            schedule_id=request.schedule_id,
            seat_id=seat.seat_id,
            seat_number=seat.number,
            price=seat.price,
            status=ReservationStatus.PENDING,
            expires_at=request.expires_at,
            created_at=request.now,
            updated_at=request.now,
        )
        reservation.grade = seat.grade  # type: ignore[attr-defined]  # the seat's, for the answer
        reservations.append(reservation)
    order.seats = reservations
    return order
