"""The back office's own rows (per-minute snapshots of each sale) and its admin pages' proxy models."""

from django.db import models

from concerts.models import Concert, Schedule


class SaleSnapshot(models.Model):
    """One concert's sale as it stood at one minute, recorded by the beat (backoffice.tasks)."""

    concert = models.ForeignKey(Concert, on_delete=models.CASCADE, related_name="+")
    taken_at = models.DateTimeField(help_text="The minute it was taken (seconds zeroed).")
    waiting = models.PositiveIntegerField()
    active = models.PositiveIntegerField()
    admitted_total = models.PositiveIntegerField(help_text="Tokens admitted since the queue began.")
    abandoned_total = models.PositiveIntegerField(help_text="Waiting tokens that left without being polled.")
    holds = models.PositiveIntegerField(help_text="Live holds (pending, not lapsed).")
    sales = models.PositiveIntegerField(help_text="Sold tickets (confirmed reservations).")
    revenue = models.BigIntegerField(help_text="Points of completed payments.")

    class Meta:
        ordering = ["concert_id", "taken_at"]
        constraints = [
            # The job may run twice in a minute (a retry, two beats): the second row is refused.
            models.UniqueConstraint(fields=["concert", "taken_at"], name="sale_snapshot_one_per_minute"),
        ]
        indexes = [models.Index(fields=["taken_at"], name="sale_snapshot_taken_at")]  # retention

    def __str__(self) -> str:
        return f"{self.concert_id} @ {self.taken_at:%Y-%m-%d %H:%M}"


class LiveSale(Concert):
    """Concerts seen as the live sale page (admin only; no table of its own)."""

    class Meta:
        proxy = True
        verbose_name = "live sale"
        verbose_name_plural = "live sales"


class SalesDashboard(Schedule):
    """Schedules seen as the operators' sales dashboard (admin only; no table of its own)."""

    class Meta:
        proxy = True
        verbose_name = "sales dashboard"
        verbose_name_plural = "sales dashboard"
