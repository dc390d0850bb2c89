"""Seat holds and their life: hold, confirm (for a payment), mark cancelled, release, expire.

The flows that also move money (pay a hold, cancel with a refund) live one layer up, in booking.services,
and call these primitives inside their own transaction. Lock order everywhere: reservation row -> seat
row -> payment row -> wallet row. Seat changes are guarded single statements in concerts.services; the
row count decides who won.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, connection, transaction

from concerts import seat_map_cache
from concerts import selectors as concert_selectors
from concerts import services as concert_services
from concerts.errors import ScheduleNotFound
from concerts.models import Schedule, Seat
from config import clock, metrics
from config.db import atomic_with_retry, bound_cursor, statement_with_retry
from config.exceptions import DomainError
from queue_app.errors import QueueTokenNotActive
from queue_app.services import (
    queue_marks_write_intents,
    queue_token_concert,
    queue_token_require_active,
)
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
from users.errors import AccountGone

SWEEP_BATCH = 1000


@dataclass(frozen=True)
class HoldRequest:
    user_id: int
    concert_id: int  # the concert of the user's ACTIVE queue token
    schedule_id: int
    seat_number: int
    reservation_id: uuid.UUID
    now: datetime
    expires_at: datetime


def reservation_hold(
    *, user_id: int, schedule_id: int, seat_number: int, queue_token: str | None
) -> Reservation:
    """Hold one seat for RESERVATION_HOLD_SECONDS. Needs the user's ACTIVE token for the concert.

    One round trip to each store: the token check also records the hold's seat-map write intent
    (concerts/seat_map_cache.py), so no version bump follows the commit unless the commit came late."""
    intent = _seat_map_intent(queue_token=queue_token, schedule_id=schedule_id)
    started = time.monotonic()
    token = queue_token_require_active(token=queue_token, user_id=user_id, concert_id=None, mark=intent)
    now = clock.now()
    request = HoldRequest(
        user_id=int(user_id),
        concert_id=token.concert_id,
        schedule_id=schedule_id,
        seat_number=seat_number,
        reservation_id=uuid.uuid4(),
        now=now,
        expires_at=now + timedelta(seconds=settings.RESERVATION_HOLD_SECONDS),
    )
    reservation = _hold_implementation()(request)
    if intent is None:
        _invalidate_seat_map_on_commit(reservation)
    else:
        transaction.on_commit(lambda: _invalidate_if_late(schedule_id=schedule_id, started=started))
    transaction.on_commit(metrics.HOLDS_CREATED.inc)
    return reservation


def _seat_map_intent(*, queue_token: str | None, schedule_id: int) -> str | None:
    """The seat-map key the token check marks with this hold's write intent, or None when the backend
    cannot (the database queue) or there is no cache: then the hold bumps the map after commit."""
    if not seat_map_cache.enabled() or not queue_marks_write_intents():
        return None
    concert_id = queue_token_concert(token=queue_token)
    if concert_id is None:
        return None
    return seat_map_cache.version_key(concert_id=concert_id, schedule_id=schedule_id)


def _invalidate_if_late(*, schedule_id: int, started: float) -> None:
    """On commit: readers stop refusing to store maps WRITE_LEASE_MS after the intent; a commit later than
    the margin bumps the version again, so no map rendered before it can be stored as current."""
    if time.monotonic() - started > seat_map_cache.INTENT_MARGIN_SECONDS:
        concert_services.seat_map_invalidate(schedule_id=schedule_id)


def _hold_implementation() -> Callable[[HoldRequest], Reservation]:
    """PostgreSQL holds in one call, other databases statement by statement; the hold rule tests run
    every case against both on PostgreSQL by replacing this choice."""
    return _hold_in_one_call if connection.vendor == "postgresql" else _hold_portable


_HOLD_REFUSALS: dict[str, type[DomainError]] = {
    "schedule_not_found": ScheduleNotFound,
    "token_other_concert": QueueTokenNotActive,
    "schedule_closed": ScheduleClosed,
    "hold_limit_reached": HoldLimitReached,
    "seat_unavailable": SeatUnavailable,
    "seat_not_found": SeatNotFound,
}


@contextmanager
def _account_must_exist() -> Iterator[None]:
    """The hold's insert names the user: a token outliving its deleted account fails the foreign key."""
    try:
        yield
    except IntegrityError as exc:
        if "user_id" in str(getattr(getattr(exc.__cause__, "diag", None), "constraint_name", "") or ""):
            raise AccountGone() from exc
        raise


HOLD_SQL = "SELECT outcome, seat_id, price FROM reservations_hold_seat(%s, %s, %s, %s, %s, %s, %s, %s)"
# The same call, its transaction committing without waiting for the disk: set_config(..., true) lasts
# until that transaction ends (this statement's own commit, or the caller's atomic block), so every
# other transaction on the connection still commits synchronously. Why a hold may: a crash can lose only
# the last fraction of a second of holds, each whole (seat and reservation are one transaction), and a
# payment's synchronous commit flushes the WAL up to itself, so no paid hold can be among them.
HOLD_ASYNC_COMMIT_SQL = HOLD_SQL + ", set_config('synchronous_commit', 'off', true)"


@statement_with_retry
def _hold_in_one_call(request: HoldRequest) -> Reservation:
    """PostgreSQL: the rules of _hold_portable in one round trip (reservations_hold_seat(), migration
    0002). It writes concerts_seat directly: the one place another app's rows change outside its
    services, because a hold must cost one round trip under sale-day load."""
    with bound_cursor() as cursor, _account_must_exist():
        cursor.execute(
            HOLD_ASYNC_COMMIT_SQL if settings.RESERVATION_HOLD_ASYNC_COMMIT else HOLD_SQL,
            [
                request.user_id,
                request.concert_id,
                request.schedule_id,
                request.seat_number,
                request.reservation_id,
                request.now,
                request.expires_at,
                settings.MAX_HOLDS_PER_USER,
            ],
        )
        outcome, seat_id, price = cursor.fetchone()
    if outcome != "held":
        raise _HOLD_REFUSALS[outcome]()
    return _held_reservation(request, seat_id=seat_id, price=price)


@atomic_with_retry
def _hold_portable(request: HoldRequest) -> Reservation:
    """Any database (SQLite in embedded mode): the same rules, statement by statement."""
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
    if reservation_pending_count(user_id=request.user_id, now=request.now) >= settings.MAX_HOLDS_PER_USER:
        raise HoldLimitReached()
    seat_id = (
        Seat.objects.filter(schedule_id=request.schedule_id, number=request.seat_number)
        .values_list("pk", flat=True)
        .first()
    )
    if seat_id is None:
        raise SeatNotFound()
    # A lapsed hold on this seat gives way: its reservation becomes EXPIRED before the seat is retaken,
    # so the one-live-reservation-per-seat constraint holds (reservation before seat: the lock order).
    Reservation.objects.filter(
        seat_id=seat_id, status=ReservationStatus.PENDING, expires_at__lte=request.now
    ).update(status=ReservationStatus.EXPIRED)
    taken = concert_services.seat_take_for_hold(
        schedule_id=request.schedule_id,
        seat_number=request.seat_number,
        reservation_id=request.reservation_id,
        held_until=request.expires_at,
        now=request.now,
    )
    if taken is None:
        raise SeatUnavailable()
    seat_id, price = taken
    reservation = _held_reservation(request, seat_id=seat_id, price=price)
    reservation.save(force_insert=True)
    return reservation


def _held_reservation(request: HoldRequest, *, seat_id: int, price: int) -> Reservation:
    reservation = Reservation(
        id=request.reservation_id,
        user_id=request.user_id,
        concert_id=request.concert_id,
        schedule_id=request.schedule_id,
        seat_id=seat_id,
        seat_number=request.seat_number,
        price=price,
        status=ReservationStatus.PENDING,
        expires_at=request.expires_at,
        created_at=request.now,
        updated_at=request.now,
    )
    reservation._state.adding = False  # the row exists (or is saved by the caller)
    return reservation


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
    status = reservation_status_now(reservation=reservation, now=now)
    if status == ReservationStatus.EXPIRED:
        raise ReservationExpired()
    if status != ReservationStatus.PENDING:
        raise ReservationNotPending()
    if not concert_services.seat_sell(seat_id=reservation.seat_id, reservation_id=reservation.pk, now=now):
        raise ReservationExpired()  # the seat's hold lapsed at this very instant
    reservation.status = ReservationStatus.CONFIRMED
    reservation.confirmed_at = now
    reservation.save(update_fields=["status", "confirmed_at", "updated_at"])
    _invalidate_seat_map_on_commit(reservation)
    return reservation


def _release_seat(reservation: Reservation, *, now: datetime) -> None:
    """The seat of a live hold or sale goes back on sale. It must still be this reservation's: if the
    guarded update matches nothing, the transaction is refused rather than the mismatch hidden."""
    if not concert_services.seat_release(seat_id=reservation.seat_id, reservation_id=reservation.pk, now=now):
        raise ReservationNotCancellable("The seat changed meanwhile; try again.")


def _invalidate_seat_map_on_commit(reservation: Reservation) -> None:
    schedule_id = reservation.schedule_id
    transaction.on_commit(lambda: concert_services.seat_map_invalidate(schedule_id=schedule_id))


def reservation_mark_cancelled(
    *, reservation_id: uuid.UUID, user_id: int | None, now: datetime
) -> tuple[Reservation, str]:
    """Inside the caller's transaction: lock the reservation, free its seat and mark it CANCELLED.
    A live hold or a confirmed ticket before the show may be cancelled; anything else is refused before
    changing anything. Returns the reservation and its status before the change (CONFIRMED: the caller
    refunds the payment in the same transaction). `user_id=None` is an operator acting on anyone's."""
    reservation = _locked_reservation(reservation_id=reservation_id, user_id=user_id)
    status = reservation_status_now(reservation=reservation, now=now)
    if status == ReservationStatus.CONFIRMED:
        if reservation.schedule.starts_at <= now:
            raise ReservationNotCancellable("The show has started; this ticket can no longer be refunded.")
    elif status != ReservationStatus.PENDING:
        raise ReservationNotCancellable()
    _release_seat(reservation, now=now)
    reservation.status = ReservationStatus.CANCELLED
    reservation.cancelled_at = now
    reservation.save(update_fields=["status", "cancelled_at", "updated_at"])
    _invalidate_seat_map_on_commit(reservation)
    return reservation, status


def reservation_release_hold(*, reservation_id: uuid.UUID) -> Reservation:
    """Operator: free a pending hold now (an unpaid hold blocking a seat). Refuses anything else."""
    return _release_hold(reservation_id=reservation_id)


@atomic_with_retry
def _release_hold(*, reservation_id: uuid.UUID) -> Reservation:
    now = clock.now()
    reservation = _locked_reservation(reservation_id=reservation_id, user_id=None)
    if reservation_status_now(reservation=reservation, now=now) != ReservationStatus.PENDING:
        raise ReservationNotCancellable("Only a live, unpaid hold can be released.")
    _release_seat(reservation, now=now)
    reservation.status = ReservationStatus.CANCELLED
    reservation.cancelled_at = now
    reservation.save(update_fields=["status", "cancelled_at", "updated_at"])
    _invalidate_seat_map_on_commit(reservation)
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
