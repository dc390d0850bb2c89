"""Orders and their seats' life: hold (reservations.hold), confirm (for a payment), mark cancelled (a
whole order or one seat), release, expire.

The flows that also move money (pay an order, cancel with a refund) live one layer up, in
booking.services, and call these primitives inside their own transaction. Lock order everywhere: order
row -> reservation rows (by id) -> seat rows (by id) -> payment row -> wallet row. Seat changes are
guarded statements in concerts.services; the row count decides who won.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction

from concerts import seat_map_cache
from concerts import services as concert_services
from config import clock, metrics
from config.db import atomic_with_retry
from config.exceptions import DomainError, InvalidInput
from queue_app.services import (
    queue_marks_write_intents,
    queue_token_concert,
    queue_token_require_active,
)
from reservations import hold
from reservations.errors import (
    OrderNotCancellable,
    OrderNotFound,
    ReservationExpired,
    ReservationNotCancellable,
    ReservationNotFound,
    ReservationNotPending,
)
from reservations.hold import OrderRequest
from reservations.models import LIVE_STATUSES, Order, Reservation, ReservationStatus
from reservations.selectors import order_status_now, reservation_status_now

SWEEP_BATCH = 1000


def order_hold(
    *,
    user_id: int,
    schedule_id: int,
    queue_token: str | None,
    seat_numbers: list[int] | None = None,
    quantity: int | None = None,
    grade: str | None = None,
) -> Order:
    """Hold several seats of one schedule together, all or none, for RESERVATION_HOLD_SECONDS: the
    chosen `seat_numbers`, or `quantity` seats best available (of `grade`). Needs the user's ACTIVE
    token for the concert; `order.seats` are its reservations, by number.

    One round trip to each store: the token check also records the hold's seat-map write intent
    (concerts/seat_map_cache.py; one schedule, so one intent covers every seat), so no version bump
    follows the commit unless the commit came late."""
    wanted = order_size(seat_numbers=seat_numbers, quantity=quantity, grade=grade)
    intent = _seat_map_intent(queue_token=queue_token, schedule_id=schedule_id)
    started = time.monotonic()
    token = queue_token_require_active(token=queue_token, user_id=user_id, concert_id=None, mark=intent)
    now = clock.write_now()
    request = OrderRequest(
        user_id=int(user_id),
        concert_id=token.concert_id,
        schedule_id=schedule_id,
        seat_numbers=tuple(seat_numbers) if seat_numbers is not None else None,
        quantity=wanted,
        grade=grade if seat_numbers is None else None,
        order_id=uuid.uuid4(),
        now=now,
        expires_at=now + timedelta(seconds=settings.RESERVATION_HOLD_SECONDS),
    )
    order = hold.hold_implementation()(request)
    if intent is None:
        transaction.on_commit(lambda: concert_services.seat_map_invalidate(schedule_id=schedule_id))
    else:
        transaction.on_commit(lambda: _invalidate_if_late(schedule_id=schedule_id, started=started))
    transaction.on_commit(lambda: metrics.HOLDS_CREATED.inc(wanted))
    return order


def reservation_hold(
    *, user_id: int, schedule_id: int, seat_number: int, queue_token: str | None
) -> Reservation:
    """Hold one seat: an order of that one seat. Returns its reservation."""
    order = order_hold(
        user_id=user_id, schedule_id=schedule_id, queue_token=queue_token, seat_numbers=[seat_number]
    )
    return order.seats[0]


def order_size(*, seat_numbers: list[int] | None, quantity: int | None, grade: str | None) -> int:
    """How many seats an order asks for: chosen `seat_numbers` or a `quantity` (best available, maybe of
    a `grade`), 1 to MAX_HOLDS_PER_USER of them; InvalidInput otherwise. The API's serializer checks a
    body with this same rule."""
    limit = settings.MAX_HOLDS_PER_USER
    if (seat_numbers is None) == (quantity is None):
        raise InvalidInput(
            {"non_field_errors": ["Give either seat_numbers (chosen seats) or quantity (best available)."]}
        )
    if seat_numbers is not None:
        if grade is not None:
            raise InvalidInput({"grade": ["Only with quantity (best available)."]})
        if not 1 <= len(seat_numbers) <= limit:
            raise InvalidInput({"seat_numbers": [f"1 to {limit} seats per order."]})
        if any(type(n) is not int or n < 1 for n in seat_numbers):
            raise InvalidInput({"seat_numbers": ["Seat numbers are whole numbers from 1."]})
        if len(set(seat_numbers)) != len(seat_numbers):
            raise InvalidInput({"seat_numbers": ["Each seat number once."]})
        return len(seat_numbers)
    if type(quantity) is not int or not 1 <= quantity <= limit:
        raise InvalidInput({"quantity": [f"1 to {limit} seats per order."]})
    return quantity


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


def _locked_order(*, order_id: uuid.UUID, user_id: int | None) -> Order:
    """The order row, locked: every flow that changes an order or its seats locks it first."""
    qs = Order.objects.select_for_update().filter(pk=order_id)
    if user_id is not None:
        qs = qs.filter(user_id=user_id)
    order = qs.first()
    if order is None:
        raise OrderNotFound()
    return order


def _locked_reservations(*, order: Order, statuses: Sequence[str]) -> list[Reservation]:
    """The order's reservations of these statuses, locked in id order (after the order: the lock order)."""
    return list(
        Reservation.objects.select_for_update()
        .filter(order_id=order.pk, status__in=statuses)
        .select_related("schedule")
        .order_by("id")
    )


def order_confirm_for_payment(*, order_id: uuid.UUID, user_id: int, now: datetime) -> Order:
    """Inside the payment's transaction: lock the order and its held seats, check them, sell every seat
    and mark the order and its reservations CONFIRMED. `order.seats` are the reservations paid for.
    Raises before changing anything when the order is not payable."""
    order = _locked_order(order_id=order_id, user_id=user_id)
    status = order_status_now(order=order, now=now)
    if status == ReservationStatus.EXPIRED:
        raise ReservationExpired()
    if status != ReservationStatus.PENDING:
        raise ReservationNotPending()
    seats = _locked_reservations(order=order, statuses=[ReservationStatus.PENDING, ReservationStatus.EXPIRED])
    if any(r.status == ReservationStatus.EXPIRED for r in seats):
        raise ReservationExpired()  # the deadline passed and another hold took a seat over
    held = seats
    if not held:
        raise ReservationNotPending()
    sold = concert_services.seats_sell(
        seats={r.seat_id: r.pk for r in held}, now=now, schedule_id=order.schedule_id
    )
    if sold != len(held):
        raise ReservationExpired()  # a seat's hold lapsed at this very instant
    Reservation.objects.filter(pk__in=[r.pk for r in held]).update(
        status=ReservationStatus.CONFIRMED, confirmed_at=now, updated_at=now
    )
    for reservation in held:
        reservation.status, reservation.confirmed_at = ReservationStatus.CONFIRMED, now
    _order_set_status(order, ReservationStatus.CONFIRMED, now=now)
    order.seats = held
    _invalidate_seat_map_on_commit(order.schedule_id)
    return order


def _order_set_status(order: Order, status: str, *, now: datetime) -> None:
    order.status = status
    fields = ["status", "updated_at"]
    if status == ReservationStatus.CONFIRMED:
        order.confirmed_at = now
        fields.append("confirmed_at")
    elif status == ReservationStatus.CANCELLED:
        order.cancelled_at = now
        fields.append("cancelled_at")
    order.save(update_fields=fields)


def _invalidate_seat_map_on_commit(schedule_id: int) -> None:
    transaction.on_commit(lambda: concert_services.seat_map_invalidate(schedule_id=schedule_id))


@dataclass(frozen=True)
class Cancellation:
    """What a cancellation did: the order after it, and the reservations cancelled that had been paid
    (the caller refunds their prices in the same transaction)."""

    order: Order
    cancelled: list[Reservation]
    paid: list[Reservation]


def _cancel_reservations(order: Order, reservations: list[Reservation], *, now: datetime) -> Cancellation:
    """Free the seats of these locked, live reservations of the locked `order` and mark them CANCELLED;
    the order reads CANCELLED once none of its seats is left. The seats must still be theirs: a guarded
    update that matches fewer refuses the whole transaction rather than hide the mismatch."""
    paid = [r for r in reservations if r.status == ReservationStatus.CONFIRMED]
    released = concert_services.seats_release(
        seats={r.seat_id: r.pk for r in reservations}, now=now, schedule_id=order.schedule_id
    )
    if released != len(reservations):
        raise ReservationNotCancellable("A seat changed meanwhile; try again.")
    Reservation.objects.filter(pk__in=[r.pk for r in reservations]).update(
        status=ReservationStatus.CANCELLED, cancelled_at=now, updated_at=now
    )
    for reservation in reservations:
        reservation.status, reservation.cancelled_at = ReservationStatus.CANCELLED, now
    if not Reservation.objects.filter(order_id=order.pk, status__in=LIVE_STATUSES).exists():
        _order_set_status(order, ReservationStatus.CANCELLED, now=now)
    _invalidate_seat_map_on_commit(order.schedule_id)
    return Cancellation(order=order, cancelled=reservations, paid=paid)


def _check_cancellable(
    status: str, *, schedule_starts_at: datetime, now: datetime, error: type[DomainError]
) -> None:
    """A live hold, or a paid ticket before the show, may be cancelled; anything else is refused."""
    if status == ReservationStatus.CONFIRMED:
        if schedule_starts_at <= now:
            raise error("The show has started; this ticket can no longer be refunded.")
    elif status != ReservationStatus.PENDING:
        raise error()


def order_mark_cancelled(*, order_id: uuid.UUID, user_id: int | None, now: datetime) -> Cancellation:
    """Inside the caller's transaction: cancel every seat the order still has (a PENDING order, or a
    CONFIRMED one before the show). `user_id=None` is an operator acting on anyone's order."""
    order = _locked_order(order_id=order_id, user_id=user_id)
    _check_cancellable(
        order_status_now(order=order, now=now),
        schedule_starts_at=order.schedule.starts_at,
        now=now,
        error=OrderNotCancellable,
    )
    live = _locked_reservations(order=order, statuses=LIVE_STATUSES)
    if not live:
        raise OrderNotCancellable()
    return _cancel_reservations(order, live, now=now)


def reservation_mark_cancelled(
    *, reservation_id: uuid.UUID, user_id: int | None, now: datetime
) -> Cancellation:
    """Inside the caller's transaction: cancel one seat (of its order: the order keeps its other seats).
    A live hold or a confirmed ticket before the show may be cancelled; anything else is refused before
    changing anything. `user_id=None` is an operator acting on anyone's."""
    qs = Reservation.objects.filter(pk=reservation_id)
    if user_id is not None:
        qs = qs.filter(user_id=user_id)
    order_id = qs.values_list("order_id", flat=True).first()
    if order_id is None:
        raise ReservationNotFound()
    order = _locked_order(order_id=order_id, user_id=None)
    reservation = Reservation.objects.select_for_update().select_related("schedule").get(pk=reservation_id)
    _check_cancellable(
        reservation_status_now(reservation=reservation, now=now),
        schedule_starts_at=reservation.schedule.starts_at,
        now=now,
        error=ReservationNotCancellable,
    )
    return _cancel_reservations(order, [reservation], now=now)


def reservation_release_hold(*, reservation_id: uuid.UUID) -> Reservation:
    """Operator: free a pending hold now (an unpaid hold blocking a seat). Refuses anything else."""
    return _release_hold(reservation_id=reservation_id)


@atomic_with_retry
def _release_hold(*, reservation_id: uuid.UUID) -> Reservation:
    now = clock.now()
    status = Reservation.objects.filter(pk=reservation_id).values_list("status", "expires_at").first()
    if status is None:
        raise ReservationNotFound()
    if status[0] != ReservationStatus.PENDING or status[1] <= now:
        raise ReservationNotCancellable("Only a live, unpaid hold can be released.")
    cancellation = reservation_mark_cancelled(reservation_id=reservation_id, user_id=None, now=now)
    if cancellation.paid:  # paid between the read above and the lock
        raise ReservationNotCancellable("Only a live, unpaid hold can be released.")
    return cancellation.cancelled[0]


def reservations_expire_overdue(*, now: datetime | None = None) -> int:
    """Sweep job: mark lapsed orders and their holds EXPIRED and free their seats. Reads never depend on
    it having run; it is idempotent and safe to run concurrently (every write is guarded). Orders go
    first, then reservations: the lock order (order before reservation before seat)."""
    now = now or clock.write_now()
    while _expire_batch(Order, now=now) == SWEEP_BATCH:
        pass
    expired = 0
    while True:
        batch = _expire_batch(Reservation, now=now)
        expired += batch
        if batch < SWEEP_BATCH:
            break
    _release_lapsed_seats(now=now)
    return expired


@atomic_with_retry
def _expire_batch(model: type[Order] | type[Reservation], *, now: datetime) -> int:
    lapsed = model.objects.filter(status=ReservationStatus.PENDING, expires_at__lte=now)  # type: ignore[attr-defined]
    ids = list(lapsed.values_list("pk", flat=True)[:SWEEP_BATCH])
    if not ids:
        return 0
    return int(lapsed.filter(pk__in=ids).update(status=ReservationStatus.EXPIRED, updated_at=now))


@atomic_with_retry
def _release_lapsed_seats(*, now: datetime) -> int:
    return concert_services.seats_release_lapsed(now=now)
