from django.db.models import QuerySet, Sum

from payments.models import Payment, PaymentStatus


def payment_list(*, user_id: int) -> QuerySet[Payment]:
    return Payment.objects.filter(user_id=user_id).order_by("-created_at", "-id")


def revenue_by_schedule(*, schedule_ids: list[int]) -> dict[int, int]:
    """{schedule id: sum of COMPLETED payments} in one query (refunded payments are not revenue)."""
    rows = (
        Payment.objects.filter(status=PaymentStatus.COMPLETED, reservation__schedule_id__in=schedule_ids)
        .values("reservation__schedule_id")
        .annotate(total=Sum("amount"))
        .order_by()
    )
    return {row["reservation__schedule_id"]: int(row["total"]) for row in rows}


def revenue_by_concert(*, concert_ids: list[int]) -> dict[int, int]:
    """{concert id: sum of COMPLETED payments} in one query (refunded payments are not revenue)."""
    rows = (
        Payment.objects.filter(status=PaymentStatus.COMPLETED, reservation__concert_id__in=concert_ids)
        .values("reservation__concert_id")
        .annotate(total=Sum("amount"))
        .order_by()
    )
    return {row["reservation__concert_id"]: int(row["total"]) for row in rows}
