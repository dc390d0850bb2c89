from django.conf import settings
from django.db import models
from django.db.models import F, Q


class PaymentStatus(models.TextChoices):
    COMPLETED = "COMPLETED"
    REFUNDED = "REFUNDED"  # every seat was cancelled before the show and all the points went back


class Payment(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="payments")
    # One payment per order: the database refuses a second one whatever the code does.
    order = models.OneToOneField("reservations.Order", on_delete=models.PROTECT, related_name="payment")
    # The seat's reservation when the order has one seat (null for several); one payment per reservation.
    reservation = models.OneToOneField(
        "reservations.Reservation", on_delete=models.PROTECT, related_name="payment", null=True, blank=True
    )
    amount = models.PositiveIntegerField()
    refunded_amount = models.PositiveIntegerField(
        default=0, help_text="Points given back so far (a seat cancelled alone refunds its price)."
    )
    status = models.CharField(max_length=10, choices=PaymentStatus.choices, default=PaymentStatus.COMPLETED)
    created_at = models.DateTimeField()
    refunded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "-created_at"])]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=0), name="payment_amount_not_negative"),
            models.CheckConstraint(
                condition=Q(status__in=[s.value for s in PaymentStatus]), name="payment_status_known"
            ),
            # Never more back than was paid; REFUNDED exactly when everything went back.
            models.CheckConstraint(
                condition=Q(refunded_amount__lte=F("amount")), name="payment_refund_within_amount"
            ),
            models.CheckConstraint(
                condition=Q(status=PaymentStatus.REFUNDED, refunded_amount=F("amount"))
                | (Q(status=PaymentStatus.COMPLETED) & Q(refunded_amount__lt=F("amount")))
                | Q(status=PaymentStatus.COMPLETED, amount=0),
                name="payment_refunded_iff_all_back",
            ),
        ]

    def __str__(self) -> str:
        return f"payment {self.pk}: {self.amount} ({self.status})"
