from django.db import models
from django.db.models import F, Q


class Concert(models.Model):
    name = models.CharField(max_length=200)
    venue = models.CharField(max_length=200, blank=True)
    description = models.TextField(blank=True)
    price = models.PositiveIntegerField(help_text="Base ticket price in points; new seats default to it.")
    queue_max_active = models.PositiveIntegerField(
        null=True, blank=True, help_text="At most this many ACTIVE queue tokens at once (blank: no cap)."
    )
    queue_paused = models.BooleanField(default=False, help_text="While set, no waiting token is admitted.")
    queue_batch_size = models.PositiveIntegerField(
        null=True, blank=True, help_text="Tokens admitted per round (blank: the global setting)."
    )
    queue_interval_seconds = models.PositiveIntegerField(
        null=True, blank=True, help_text="Seconds between admission rounds (blank: the global setting)."
    )
    # The sale opening. Before it, tokens join the pre-queue; at it, the pre-queue is drawn once in the
    # order of sha256(f"{draw_seed}:{queue_number}"). The commitment (sha256 of the seed) is public from
    # the moment the sale is scheduled, the seed only once the draw is done.
    sales_open_at = models.DateTimeField(
        null=True, blank=True, help_text="When the queue starts admitting (blank: open now)."
    )
    draw_seed = models.CharField(max_length=64, blank=True, default="", editable=False)
    draw_commitment = models.CharField(max_length=64, blank=True, default="", editable=False)
    drawn_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class Schedule(models.Model):
    """One performance of a concert: a date and time, a sales window and its own seats."""

    concert = models.ForeignKey(Concert, on_delete=models.CASCADE, related_name="schedules")
    starts_at = models.DateTimeField()
    sales_open_at = models.DateTimeField(help_text="Holds are accepted from this moment.")
    sales_close_at = models.DateTimeField(
        null=True, blank=True, help_text="Holds stop at this moment (blank: when the show starts)."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["starts_at", "id"]
        indexes = [models.Index(fields=["concert", "starts_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(sales_open_at__lt=F("starts_at")), name="schedule_sales_open_before_start"
            ),
            models.CheckConstraint(
                condition=Q(sales_close_at__isnull=True)
                | (Q(sales_close_at__lte=F("starts_at")) & Q(sales_close_at__gt=F("sales_open_at"))),
                name="schedule_sales_close_in_window",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.concert.name} @ {self.starts_at:%Y-%m-%d %H:%M}"


class SeatStatus(models.TextChoices):
    AVAILABLE = "AVAILABLE"
    HELD = "HELD"
    SOLD = "SOLD"
    BLOCKED = "BLOCKED"  # taken off sale by an operator; shown to fans as not bookable


class Seat(models.Model):
    """A seat of one schedule. HELD is only HELD until `held_until`: readers treat a lapsed hold as
    AVAILABLE, and the guarded hold statement takes it over, whether or not the sweep job has run."""

    # No index of its own: the unique (schedule, number) index serves every lookup by schedule.
    schedule = models.ForeignKey(Schedule, on_delete=models.CASCADE, related_name="seats", db_index=False)
    number = models.PositiveIntegerField()
    grade = models.CharField(max_length=20, default="R")
    price = models.PositiveIntegerField()
    status = models.CharField(max_length=10, choices=SeatStatus.choices, default=SeatStatus.AVAILABLE)
    held_until = models.DateTimeField(null=True, blank=True)
    reservation_id = models.UUIDField(
        null=True, blank=True, help_text="The reservation holding or owning it."
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["schedule_id", "number"]
        constraints = [
            models.UniqueConstraint(fields=["schedule", "number"], name="seat_number_unique_in_schedule"),
            models.CheckConstraint(condition=Q(number__gte=1), name="seat_number_positive"),
            models.CheckConstraint(
                condition=~Q(status=SeatStatus.HELD)
                | Q(held_until__isnull=False, reservation_id__isnull=False),
                name="seat_held_has_deadline_and_reservation",
            ),
            models.CheckConstraint(
                condition=~Q(status=SeatStatus.SOLD) | Q(reservation_id__isnull=False),
                name="seat_sold_has_reservation",
            ),
            models.CheckConstraint(
                condition=Q(status__in=[s.value for s in SeatStatus]), name="seat_status_known"
            ),
        ]
        # No index may cover status, held_until or reservation_id: a hold, a sale or a release then changes
        # no indexed column, so PostgreSQL updates the row in place (HOT) without touching any index.
        # (Migration 0003 also leaves free space in each page for those in-place updates.)

    def __str__(self) -> str:
        return f"seat {self.number} ({self.grade})"
