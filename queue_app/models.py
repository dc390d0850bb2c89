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
            models.Index(fields=["concert", "status", "id"], name="queue_token_fifo"),
            models.Index(fields=["concert", "status", "last_seen_at"], name="queue_token_last_seen"),
            models.Index(fields=["concert", "status", "expires_at"], name="queue_token_expiry"),
            models.Index(fields=["status", "concert"], name="queue_token_status_concert"),
        ]

    def __str__(self) -> str:
        return f"{self.token[:8]}… ({self.status})"


class ConcertQueue(Concert):
    """The concert seen as a queue, for the admin's per-concert queue page (no table of its own)."""

    class Meta:
        proxy = True
        verbose_name = "concert queue"
        verbose_name_plural = "concert queues"
