"""Paying a hold with points. One transaction: hold checked and confirmed, seat SOLD, points debited,
payment written, queue token expired (with the Redis queue: right after the commit). Any failure
changes nothing."""

from __future__ import annotations

import uuid
from datetime import datetime

from django.db import transaction

from config import clock, metrics
from config.db import atomic_with_retry
from config.exceptions import DomainError
from payments.models import Payment, PaymentStatus
from points.services import points_debit, points_refund
from queue_app.errors import QueueTokenRequired
from queue_app.services import queue_token_expire_with_transaction, queue_token_require_active
from reservations import selectors as reservation_selectors
from reservations.models import Reservation
from reservations.services import reservation_confirm_for_payment


def payment_reference(*, reservation_id: uuid.UUID) -> str:
    """The ledger reference tying a PAYMENT/REFUND row to its reservation (unique per kind)."""
    return f"reservation:{reservation_id}"


def payment_create(*, user_id: int, reservation_id: uuid.UUID, queue_token: str | None) -> Payment:
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
    payment = Payment.objects.create(
        user_id=user_id,
        reservation=reservation,
        amount=reservation.price,
        status=PaymentStatus.COMPLETED,
        created_at=now,
    )
    queue_token_expire_with_transaction(token=queue_token)  # the token's job is done
    return payment


def payment_refund_for_reservation(*, reservation: Reservation, now: datetime) -> Payment | None:
    """Inside the cancel's transaction: give the points back and mark the payment REFUNDED."""
    payment = Payment.objects.select_for_update().filter(reservation=reservation).first()
    if payment is None or payment.status != PaymentStatus.COMPLETED:
        return payment
    points_refund(
        user_id=reservation.user_id,
        amount=payment.amount,
        reference=payment_reference(reservation_id=reservation.pk),
    )
    payment.status = PaymentStatus.REFUNDED
    payment.refunded_at = now
    payment.save(update_fields=["status", "refunded_at"])
    return payment
