from django.conf import settings
from django.db import models
from django.db.models import Q

from concerts.models import Concert


class QueueToken(models.Model):
    """A waiting-queue token of the database backend (the Redis backend keeps none of these).

    The stored status is only what the last write said: readers compute the live status from
    `expires_at` and `last_seen_at` (queue_app/backends/database.py), whatever the jobs have tidied.
    """

    class Status(models.TextChoices):
        WAITING = "WAITING"
        ACTIVE = "ACTIVE"
        EXPIRED = "EXPIRED"

    token = models.CharField(max_length=64, unique=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    concert = models.ForeignKey(Concert, on_delete=models.CASCADE, related_name="+")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.WAITING)
    issued_at = models.DateTimeField()
    last_seen_at = models.DateTimeField(help_text="Last poll; a waiting token not seen for a while leaves.")
    expires_at = models.DateTimeField(null=True, blank=True)
    queue_number = models.PositiveBigIntegerField(default=0, help_text="Join number within the concert.")
    order_key = models.PositiveBigIntegerField(
        default=0, help_text="Admission order: the draw rank for the drawn pre-queue, else the queue number."
    )
    expired_reason = models.CharField(max_length=10, blank=True, default="")

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "concert"],
                condition=Q(status__in=["WAITING", "ACTIVE"]),
                name="queue_token_one_live_per_user_and_concert",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["WAITING", "ACTIVE", "EXPIRED"]), name="queue_token_status_known"
            ),
            models.CheckConstraint(
                condition=Q(status="WAITING") | Q(expires_at__isnull=False),
                name="queue_token_admitted_or_ended_has_expiry",
            ),
        ]
        indexes = [
            models.Index(fields=["concert", "status", "order_key"], name="queue_token_order"),
            models.Index(fields=["concert", "status", "last_seen_at"], name="queue_token_last_seen"),
            models.Index(fields=["concert", "status", "expires_at"], name="queue_token_expiry"),
            models.Index(fields=["status", "concert"], name="queue_token_status_concert"),
        ]

    def __str__(self) -> str:
        return f"{self.token[:8]}… ({self.status})"


class ConcertQueueState(models.Model):
    """The database backend's per-concert queue state (the Redis backend keeps it in q:{c}:sale)."""

    concert = models.OneToOneField(Concert, on_delete=models.CASCADE, primary_key=True, related_name="+")
    sequence = models.PositiveBigIntegerField(default=0, help_text="The last queue number given out.")
    sold_out = models.BooleanField(null=True, help_text="As last published (null: never).")
    seat_available = models.BooleanField(default=True)
    paused = models.BooleanField(default=False)
    rate = models.FloatField(null=True, help_text="Achieved admission pace, tokens per second.")
    last_round_at = models.DateTimeField(null=True)
    rounds = models.JSONField(default=list, help_text="Recent rounds [ms, admitted, room], newest first.")
    admitted_total = models.PositiveBigIntegerField(default=0)
    abandoned_total = models.PositiveBigIntegerField(default=0)

    def __str__(self) -> str:
        return f"queue state of concert {self.concert_id}"


class ConcertQueue(Concert):
    """The concert seen as a queue, for the admin's per-concert queue page (no table of its own)."""

    class Meta:
        proxy = True
        verbose_name = "concert queue"
        verbose_name_plural = "concert queues"
