"""Payment records: written when an order is paid, refunded seat by seat or whole when it is cancelled.

These primitives join the caller's transaction (booking.services: pay an order, cancel with a refund),
so the record is written together with the seats, the reservations and the ledger row, or not at all.
This app knows nothing of reservations, seats or wallets beyond the ids."""

from __future__ import annotations

import uuid
from datetime import datetime

from django.db.models import Case, F, Value, When

from payments.models import Payment, PaymentStatus


def payment_reference(*, order_id: uuid.UUID) -> str:
    """The ledger reference of an order's PAYMENT row, and of the REFUND row of a whole-order cancel
    (unique per kind: one payment, one such refund)."""
    return f"order:{order_id}"


def seat_refund_reference(*, reservation_id: uuid.UUID) -> str:
    """The ledger reference of the REFUND row of one seat cancelled on its own (unique: once per seat)."""
    return f"reservation:{reservation_id}"


def payment_record(
    *, user_id: int, order_id: uuid.UUID, reservation_id: uuid.UUID | None, amount: int, now: datetime
) -> Payment:
    """A COMPLETED payment of an order (one per order: a unique constraint). `reservation_id` names the
    seat when the order has one, else None."""
    return Payment.objects.create(
        user_id=user_id,
        order_id=order_id,
        reservation_id=reservation_id,
        amount=amount,
        status=PaymentStatus.COMPLETED,
        created_at=now,
    )


def payment_refund(*, order_id: uuid.UUID, amount: int, now: datetime) -> Payment | None:
    """Inside the caller's transaction: count `amount` more points refunded on the order's payment, in one
    guarded statement (never more than was paid: the guard and a check constraint); REFUNDED once all went
    back. Returns the payment (the caller credits the points in the same transaction), or None when there
    is no payment or not that much left to refund."""
    refunded = Payment.objects.filter(
        order_id=order_id, status=PaymentStatus.COMPLETED, refunded_amount__lte=F("amount") - amount
    ).update(
        refunded_amount=F("refunded_amount") + amount,
        refunded_at=now,
        # Evaluated on the row before the update: REFUNDED when this refund gives back the rest.
        status=Case(
            When(amount=F("refunded_amount") + amount, then=Value(PaymentStatus.REFUNDED.value)),
            default=Value(PaymentStatus.COMPLETED.value),
        ),
    )
    if not refunded:
        return None
    return Payment.objects.get(order_id=order_id)
