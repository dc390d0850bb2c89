"""The flows that span apps: pay a hold, cancel with a refund (the fan's and the operator's).

Each flow is one transaction over the primitives of the apps below it (reservations, concerts through
reservations, payments, points, the queue): everything changes together or nothing does. Lock order:
reservation row -> seat row -> payment row -> wallet row, the same in every flow."""

from __future__ import annotations

import uuid
from datetime import datetime

from django.db import transaction

from config import clock, metrics
from config.db import atomic_with_retry
from config.exceptions import DomainError
from payments.models import Payment
from payments.services import payment_mark_refunded, payment_record, payment_reference
from points.services import points_debit, points_refund
from queue_app.errors import QueueTokenRequired
from queue_app.services import queue_token_expire_with_transaction, queue_token_require_active
from reservations import selectors as reservation_selectors
from reservations.models import Reservation, ReservationStatus
from reservations.services import reservation_confirm_for_payment, reservation_mark_cancelled


def payment_create(*, user_id: int, reservation_id: uuid.UUID, queue_token: str | None) -> Payment:
    """Pay a hold with points. One transaction: hold checked and confirmed, seat SOLD, points debited,
    payment written, queue token expired (with the Redis queue: right after the commit). Any failure
    changes nothing."""
    if not queue_token:
        raise QueueTokenRequired()
    reservation = reservation_selectors.reservation_get(user_id=user_id, reservation_id=reservation_id)  # 404
    queue_token_require_active(token=queue_token, user_id=user_id, concert_id=reservation.concert_id)
    try:
        payment = _pay(
            user_id=user_id, reservation_id=reservation.pk, queue_token=queue_token, now=clock.now()
        )
    except DomainError:
        metrics.PAYMENTS_FAILED.inc()
        raise
    transaction.on_commit(metrics.PAYMENTS_COMPLETED.inc)
    return payment


@atomic_with_retry
def _pay(*, user_id: int, reservation_id: uuid.UUID, queue_token: str, now: datetime) -> Payment:
    reservation = reservation_confirm_for_payment(reservation_id=reservation_id, user_id=user_id, now=now)
    points_debit(
        user_id=user_id, amount=reservation.price, reference=payment_reference(reservation_id=reservation.pk)
    )
    payment = payment_record(
        user_id=user_id, reservation_id=reservation.pk, amount=reservation.price, now=now
    )
    queue_token_expire_with_transaction(token=queue_token)  # the token's job is done
    return payment


@atomic_with_retry
def reservation_cancel(*, reservation_id: uuid.UUID, user_id: int | None) -> Reservation:
    """Cancel a live hold (seat freed) or a confirmed ticket before the show (seat freed, points refunded).
    `user_id=None` is an operator acting on anyone's reservation."""
    now = clock.now()
    reservation, was = reservation_mark_cancelled(reservation_id=reservation_id, user_id=user_id, now=now)
    if was == ReservationStatus.CONFIRMED:
        payment = payment_mark_refunded(reservation_id=reservation.pk, now=now)
        if payment is not None:
            points_refund(
                user_id=reservation.user_id,
                amount=payment.amount,
                reference=payment_reference(reservation_id=reservation.pk),
            )
    return reservation
