from django.db.models import F, QuerySet, Sum

from payments.models import Payment, PaymentStatus

# What a payment still counts as revenue: what it took, less what went back.
_KEPT = Sum(F("amount") - F("refunded_amount"))


def payment_list(*, user_id: int) -> QuerySet[Payment]:
    """The user's payments, each with its order's reservations (payment_reservation_ids) fetched in two
    more queries."""
    return (
        Payment.objects.filter(user_id=user_id)
        .order_by("-created_at", "-id")
        .prefetch_related("order__reservations")
    )


def revenue_by_schedule(*, schedule_ids: list[int]) -> dict[int, int]:
    """{schedule id: what COMPLETED payments kept (less partial refunds)} in one query."""
    rows = (
        Payment.objects.filter(status=PaymentStatus.COMPLETED, order__schedule_id__in=schedule_ids)
        .values("order__schedule_id")
        .annotate(total=_KEPT)
        .order_by()
    )
    return {row["order__schedule_id"]: int(row["total"]) for row in rows}


def revenue_by_concert(*, concert_ids: list[int]) -> dict[int, int]:
    """{concert id: what COMPLETED payments kept (less partial refunds)} in one query."""
    rows = (
        Payment.objects.filter(status=PaymentStatus.COMPLETED, order__concert_id__in=concert_ids)
        .values("order__concert_id")
        .annotate(total=_KEPT)
        .order_by()
    )
    return {row["order__concert_id"]: int(row["total"]) for row in rows}


def payment_reservation_ids(payment: Payment) -> list:
    """The reservations a payment paid for: its order's seats that it confirmed, by seat number."""
    paid = getattr(payment, "reservation_ids", None)
    if paid is not None:  # set by the flow that just wrote the payment
        return list(paid)
    seats = [r for r in payment.order.reservations.all() if r.confirmed_at is not None]
    return [r.pk for r in sorted(seats, key=lambda r: r.seat_number)]
