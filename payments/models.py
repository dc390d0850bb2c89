from django.conf import settings
from django.db import models
from django.db.models import Q


class PaymentStatus(models.TextChoices):
    COMPLETED = "COMPLETED"
    REFUNDED = "REFUNDED"  # the ticket was cancelled before the show and the points went back


class Payment(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="payments")
    # One payment per reservation: the database refuses a second one whatever the code does.
    reservation = models.OneToOneField(
        "reservations.Reservation", on_delete=models.PROTECT, related_name="payment"
    )
    amount = models.PositiveIntegerField()
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
        ]

    def __str__(self) -> str:
        return f"payment {self.pk}: {self.amount} ({self.status})"
