"""Seat holds and their life: hold, confirm (for payments), cancel/refund, release, expire.

Lock order everywhere: reservation row -> seat row -> wallet row. Seat changes are guarded single
statements in concerts.services; the row count decides who won.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction

from concerts import selectors as concert_selectors
from concerts import services as concert_services
from concerts.models import Seat
from config import clock, metrics
from config.db import atomic_with_retry
from queue_app.errors import QueueTokenRequired
from queue_app.services import queue_token_require_active
from reservations.errors import (
    HoldLimitReached,
    ReservationExpired,
    ReservationNotCancellable,
    ReservationNotFound,
    ReservationNotPending,
    ScheduleClosed,
    SeatNotFound,
    SeatUnavailable,
)
from reservations.models import Reservation, ReservationStatus
from reservations.selectors import reservation_pending_count, reservation_status_now

SWEEP_BATCH = 1000


def reservation_hold(
    *, user_id: int, schedule_id: int, seat_number: int, queue_token: str | None
) -> Reservation:
    """Hold one seat for RESERVATION_HOLD_SECONDS. Needs the user's ACTIVE token for the concert."""
    if not queue_token:
        raise QueueTokenRequired()  # before any lookup: no token, no information
    schedule = concert_selectors.schedule_get(schedule_id=schedule_id)
    queue_token_require_active(token=queue_token, user_id=user_id, concert_id=schedule.concert_id)
    now = clock.now()
    if not concert_selectors.schedule_is_on_sale(schedule=schedule, now=now):
        raise ScheduleClosed()
    reservation = _hold_seat(user_id=user_id, schedule=schedule, seat_number=seat_number, now=now)
    transaction.on_commit(metrics.HOLDS_CREATED.inc)
    return reservation


@atomic_with_retry
def _hold_seat(*, user_id: int, schedule, seat_number: int, now: datetime) -> Reservation:  # type: ignore[no-untyped-def]
    # Serialize one user's holds so concurrent requests cannot overshoot the hold limit.
    get_user_model().objects.select_for_update().filter(pk=user_id).values_list("pk", flat=True).first()
    if reservation_pending_count(user_id=user_id, now=now) >= settings.MAX_HOLDS_PER_USER:
        raise HoldLimitReached()
    # A lapsed hold on this seat gives way: its reservation becomes EXPIRED before the seat is retaken,
    # so the one-live-reservation-per-seat constraint holds (reservation before seat: the lock order).
    Reservation.objects.filter(
        schedule_id=schedule.pk,
        seat_number=seat_number,
        status=ReservationStatus.PENDING,
        expires_at__lte=now,
    ).update(status=ReservationStatus.EXPIRED)
    reservation_id = uuid.uuid4()
    expires_at = now + timedelta(seconds=settings.RESERVATION_HOLD_SECONDS)
    taken = concert_services.seat_take_for_hold(
        schedule_id=schedule.pk,
        seat_number=seat_number,
        reservation_id=reservation_id,
        held_until=expires_at,
        now=now,
    )
    if taken is None:
        if not Seat.objects.filter(schedule_id=schedule.pk, number=seat_number).exists():
            raise SeatNotFound()
        raise SeatUnavailable()
    seat_id, price = taken
    return Reservation.objects.create(
        id=reservation_id,
        user_id=user_id,
        concert_id=schedule.concert_id,
        schedule_id=schedule.pk,
        seat_id=seat_id,
        seat_number=seat_number,
        price=price,
        status=ReservationStatus.PENDING,
        expires_at=expires_at,
        created_at=now,
    )


def _locked_reservation(*, reservation_id: uuid.UUID, user_id: int | None) -> Reservation:
    qs = Reservation.objects.select_for_update().filter(pk=reservation_id)
    if user_id is not None:
        qs = qs.filter(user_id=user_id)
    reservation = qs.first()
    if reservation is None:
        raise ReservationNotFound()
    return reservation


def reservation_confirm_for_payment(*, reservation_id: uuid.UUID, user_id: int, now: datetime) -> Reservation:
    """Inside the payment's transaction: lock the hold, check it, sell the seat, mark it CONFIRMED.
    Raises before changing anything when the hold is not payable."""
    reservation = _locked_reservation(reservation_id=reservation_id, user_id=user_id)
    status = reservation_status_now(reservation, now=now)
    if status == ReservationStatus.EXPIRED:
        raise ReservationExpired()
    if status != ReservationStatus.PENDING:
        raise ReservationNotPending()
    if not concert_services.seat_sell(seat_id=reservation.seat_id, reservation_id=reservation.pk, now=now):
        raise ReservationExpired()  # the seat's hold lapsed at this very instant
    reservation.status = ReservationStatus.CONFIRMED
    reservation.confirmed_at = now
    reservation.save(update_fields=["status", "confirmed_at", "updated_at"])
    return reservation


@atomic_with_retry
def reservation_cancel(*, reservation_id: uuid.UUID, user_id: int | None) -> Reservation:
    """Cancel a live hold (seat freed) or a confirmed ticket before the show (seat freed, points refunded).
    `user_id=None` is an operator acting on anyone's reservation."""
    from payments.services import payment_refund_for_reservation  # payments depends on us; import late

    now = clock.now()
    reservation = _locked_reservation(reservation_id=reservation_id, user_id=user_id)
    status = reservation_status_now(reservation, now=now)
    if status == ReservationStatus.CONFIRMED:
        if reservation.schedule.starts_at <= now:
            raise ReservationNotCancellable("The show has started; this ticket can no longer be refunded.")
        concert_services.seat_release(seat_id=reservation.seat_id, reservation_id=reservation.pk, now=now)
        payment_refund_for_reservation(reservation=reservation, now=now)
    elif status == ReservationStatus.PENDING:
        concert_services.seat_release(seat_id=reservation.seat_id, reservation_id=reservation.pk, now=now)
    else:
        raise ReservationNotCancellable()
    reservation.status = ReservationStatus.CANCELLED
    reservation.cancelled_at = now
    reservation.save(update_fields=["status", "cancelled_at", "updated_at"])
    return reservation


def reservation_release_hold(*, reservation_id: uuid.UUID) -> Reservation:
    """Operator: free a pending hold now (an unpaid hold blocking a seat). Refuses anything else."""
    return _release_hold(reservation_id=reservation_id)


@atomic_with_retry
def _release_hold(*, reservation_id: uuid.UUID) -> Reservation:
    now = clock.now()
    reservation = _locked_reservation(reservation_id=reservation_id, user_id=None)
    if reservation_status_now(reservation, now=now) != ReservationStatus.PENDING:
        raise ReservationNotCancellable("Only a live, unpaid hold can be released.")
    concert_services.seat_release(seat_id=reservation.seat_id, reservation_id=reservation.pk, now=now)
    reservation.status = ReservationStatus.CANCELLED
    reservation.cancelled_at = now
    reservation.save(update_fields=["status", "cancelled_at", "updated_at"])
    return reservation


def reservations_expire_overdue(*, now: datetime | None = None) -> int:
    """Sweep job: mark lapsed holds EXPIRED and free their seats. Reads never depend on it having run;
    it is idempotent and safe to run concurrently (every write is guarded)."""
    now = now or clock.now()
    expired = 0
    while True:
        batch = _expire_batch(now=now)
        expired += batch
        if batch < SWEEP_BATCH:
            break
    _release_lapsed_seats(now=now)
    return expired


@atomic_with_retry
def _expire_batch(*, now: datetime) -> int:
    ids = list(
        Reservation.objects.filter(status=ReservationStatus.PENDING, expires_at__lte=now).values_list(
            "pk", flat=True
        )[:SWEEP_BATCH]
    )
    if not ids:
        return 0
    return Reservation.objects.filter(
        pk__in=ids, status=ReservationStatus.PENDING, expires_at__lte=now
    ).update(status=ReservationStatus.EXPIRED)


@atomic_with_retry
def _release_lapsed_seats(*, now: datetime) -> int:
    return concert_services.seats_release_lapsed(now=now)
