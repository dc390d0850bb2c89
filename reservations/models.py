import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q


class ReservationStatus(models.TextChoices):
    PENDING = "PENDING"  # holds its seat until expires_at; past it, every read says EXPIRED
    CONFIRMED = "CONFIRMED"
    CANCELLED = "CANCELLED"
    EXPIRED = "EXPIRED"


LIVE_STATUSES = [ReservationStatus.PENDING, ReservationStatus.CONFIRMED]


class Order(models.Model):
    """Seats of one schedule a user holds together and pays once. Every seat is a reservation of the
    order (a single-seat hold is an order of one); they share the order's one deadline. The status is
    read like a reservation's: PENDING past `expires_at` is EXPIRED, whatever the sweep did."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="orders", db_index=False
    )
    concert = models.ForeignKey(
        "concerts.Concert", on_delete=models.PROTECT, related_name="+", db_index=False
    )
    schedule = models.ForeignKey(
        "concerts.Schedule", on_delete=models.PROTECT, related_name="orders", db_index=False
    )
    status = models.CharField(
        max_length=10, choices=ReservationStatus.choices, default=ReservationStatus.PENDING
    )
    expires_at = models.DateTimeField(help_text="A pending order (every seat of it) lapses at this moment.")
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField(auto_now=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)

    # Not a column: the services that hold, pay or cancel an order set it to the reservations they wrote
    # (by seat number), so the answer needs no second read.
    seats: list["Reservation"]

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["user", "-created_at"]),
            models.Index(fields=["status", "expires_at"]),
            models.Index(fields=["concert", "created_at"]),  # the live sale page's orders per minute
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(expires_at__gt=F("created_at")), name="order_expires_after_creation"
            ),
            models.CheckConstraint(
                condition=Q(status__in=[s.value for s in ReservationStatus]), name="order_status_known"
            ),
        ]

    def __str__(self) -> str:
        return f"order {self.pk} ({self.status})"


class Reservation(models.Model):
    """A user's hold on one seat of one schedule, and after payment their ticket."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="reservations")
    # Each index costs every hold an insertion: the foreign keys lean on the composite and partial
    # indexes below (user) or go without (concert, schedule, seat: looked up by operators only).
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="reservations", db_index=False
    )
    concert = models.ForeignKey(
        "concerts.Concert", on_delete=models.PROTECT, related_name="+", db_index=False
    )
    schedule = models.ForeignKey(
        "concerts.Schedule", on_delete=models.PROTECT, related_name="reservations", db_index=False
    )
    seat = models.ForeignKey(
        "concerts.Seat", on_delete=models.PROTECT, related_name="reservations", db_index=False
    )
    seat_number = models.PositiveIntegerField()
    price = models.PositiveIntegerField(help_text="The seat's price when it was held; what payment charges.")
    status = models.CharField(
        max_length=10, choices=ReservationStatus.choices, default=ReservationStatus.PENDING
    )
    expires_at = models.DateTimeField(help_text="A pending hold lapses at this moment.")
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField(auto_now=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["user", "-created_at"]),
            models.Index(fields=["user", "status", "expires_at"]),
            models.Index(fields=["status", "expires_at"]),
        ]
        constraints = [
            # The last line of defence against selling one seat twice: one live reservation per seat.
            models.UniqueConstraint(
                fields=["seat"], condition=Q(status__in=LIVE_STATUSES), name="reservation_one_live_per_seat"
            ),
            models.CheckConstraint(
                condition=Q(expires_at__gt=F("created_at")), name="reservation_expires_after_creation"
            ),
            models.CheckConstraint(
                condition=Q(status__in=[s.value for s in ReservationStatus]), name="reservation_status_known"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.seat_number} @ {self.schedule_id} ({self.status})"
