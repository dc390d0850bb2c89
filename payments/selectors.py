from django.db.models import QuerySet

from payments.models import Payment


def payment_list(*, user_id: int) -> QuerySet[Payment]:
    return Payment.objects.filter(user_id=user_id).order_by("-created_at", "-id")
