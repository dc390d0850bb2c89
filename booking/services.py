"""The flows that span apps: pay an order, cancel with a refund (the fan's and the operator's).

Each flow is one transaction over the primitives of the apps below it (reservations, concerts through
reservations, payments, points, the queue): everything changes together or nothing does. Lock order:
order row -> reservation rows -> seat rows -> payment row -> wallet row, the same in every flow."""

from __future__ import annotations

import uuid
from datetime import datetime

from django.db import transaction

from config import clock, metrics
from config.db import atomic_with_retry
from config.exceptions import DomainError
from payments.models import Payment
from payments.services import payment_record, payment_reference, payment_refund, seat_refund_reference
from points.services import points_debit, points_refund
from queue_app.errors import QueueTokenRequired
from queue_app.services import queue_token_expire_with_transaction, queue_token_require_active
from reservations import selectors as reservation_selectors
from reservations.models import Order, Reservation
from reservations.services import (
    Cancellation,
    order_confirm_for_payment,
    order_mark_cancelled,
    reservation_mark_cancelled,
)


def payment_create(
    *,
    user_id: int,
    queue_token: str | None,
    order_id: uuid.UUID | None = None,
    reservation_id: uuid.UUID | None = None,
) -> Payment:
    """Pay an order with points (named by `order_id`, or by `reservation_id`: a reservation's payment
    pays its whole order). One transaction: every held seat SOLD, every reservation CONFIRMED, one
    PAYMENT ledger row of the total, the payment written, and the queue token expired when the user has
    no other unpaid hold in the concert (with the Redis queue: right after the commit). Any failure
    changes nothing."""
    if not queue_token:
        raise QueueTokenRequired()
    if order_id is None:
        assert reservation_id is not None
        order_id = reservation_selectors.order_id_of_reservation(
            user_id=user_id, reservation_id=reservation_id
        )
    order = reservation_selectors.order_of_user(user_id=user_id, order_id=order_id)  # 404
    queue_token_require_active(token=queue_token, user_id=user_id, concert_id=order.concert_id)
    try:
        payment = _pay(user_id=user_id, order_id=order.pk, queue_token=queue_token, now=clock.write_now())
    except DomainError:
        metrics.PAYMENTS_FAILED.inc()
        raise
    transaction.on_commit(metrics.PAYMENTS_COMPLETED.inc)
    return payment


@atomic_with_retry
def _pay(*, user_id: int, order_id: uuid.UUID, queue_token: str, now: datetime) -> Payment:
    order = order_confirm_for_payment(order_id=order_id, user_id=user_id, now=now)
    paid = order.seats
    amount = sum(r.price for r in paid)
    points_debit(user_id=user_id, amount=amount, reference=payment_reference(order_id=order.pk))
    payment = payment_record(
        user_id=user_id,
        order_id=order.pk,
        reservation_id=paid[0].pk if len(paid) == 1 else None,
        amount=amount,
        now=now,
    )
    payment.reservation_ids = [r.pk for r in paid]  # type: ignore[attr-defined]
    # The token's job is done only when nothing is left to pay in this concert.
    if not reservation_selectors.reservation_has_pending_in_concert(
        user_id=user_id, concert_id=order.concert_id, now=now
    ):
        queue_token_expire_with_transaction(token=queue_token)
    return payment


def _refund(cancellation: Cancellation, *, reference: str, now: datetime) -> None:
    """Give back what the cancelled seats had been paid, once: the payment counts what went back (never
    more than it took) and the ledger row's reference is unique per refund."""
    amount = sum(r.price for r in cancellation.paid)
    if amount == 0:
        return
    if payment_refund(order_id=cancellation.order.pk, amount=amount, now=now) is not None:
        points_refund(user_id=cancellation.order.user_id, amount=amount, reference=reference)


@atomic_with_retry
def order_cancel(*, order_id: uuid.UUID, user_id: int | None) -> Order:
    """Cancel every seat an order still has: a held order (seats freed), or a paid one before the show
    (seats freed, one REFUND ledger row of what was still paid). `user_id=None` is an operator acting on
    anyone's order."""
    now = clock.now()
    cancellation = order_mark_cancelled(order_id=order_id, user_id=user_id, now=now)
    _refund(cancellation, reference=payment_reference(order_id=order_id), now=now)
    return cancellation.order


@atomic_with_retry
def reservation_cancel(*, reservation_id: uuid.UUID, user_id: int | None) -> Reservation:
    """Cancel one seat: a live hold (seat freed) or a paid ticket before the show (seat freed, its price
    refunded). Its order keeps its other seats. `user_id=None` is an operator acting on anyone's."""
    now = clock.now()
    cancellation = reservation_mark_cancelled(reservation_id=reservation_id, user_id=user_id, now=now)
    _refund(cancellation, reference=seat_refund_reference(reservation_id=reservation_id), now=now)
    return cancellation.cancelled[0]
