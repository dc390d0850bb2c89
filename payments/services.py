"""Payment records: written when a hold is paid, marked REFUNDED when the ticket is cancelled.

These primitives join the caller's transaction (booking.services: pay a hold, cancel with a refund), so
the record is written together with the seat, the reservation and the ledger row, or not at all. This app
knows nothing of reservations, seats or wallets beyond the reservation's id."""

from __future__ import annotations

import uuid
from datetime import datetime

from payments.models import Payment, PaymentStatus


def payment_reference(*, reservation_id: uuid.UUID) -> str:
    """The ledger reference tying a PAYMENT/REFUND row to its reservation (unique per kind)."""
    return f"reservation:{reservation_id}"


def payment_record(*, user_id: int, reservation_id: uuid.UUID, amount: int, now: datetime) -> Payment:
    """A COMPLETED payment for a reservation (one per reservation: a unique constraint)."""
    return Payment.objects.create(
        user_id=user_id,
        reservation_id=reservation_id,
        amount=amount,
        status=PaymentStatus.COMPLETED,
        created_at=now,
    )


def payment_mark_refunded(*, reservation_id: uuid.UUID, now: datetime) -> Payment | None:
    """Inside the caller's transaction: lock the reservation's payment and mark a COMPLETED one REFUNDED.
    Returns it (the caller gives its amount back in the same transaction), or None when there is nothing
    to refund (no payment, or already refunded)."""
    payment = Payment.objects.select_for_update().filter(reservation_id=reservation_id).first()
    if payment is None or payment.status != PaymentStatus.COMPLETED:
        return None
    payment.status = PaymentStatus.REFUNDED
    payment.refunded_at = now
    payment.save(update_fields=["status", "refunded_at"])
    return payment
