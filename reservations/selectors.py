"""Reservation reads. A PENDING reservation past `expires_at` reads EXPIRED, whatever the sweep did."""

import uuid
from datetime import datetime

from django.db.models import Case, CharField, Count, F, Q, QuerySet, Value, When

from reservations.errors import ReservationNotFound
from reservations.models import Reservation, ReservationStatus


def reservation_list(*, user_id: int) -> QuerySet[Reservation]:
    return Reservation.objects.filter(user_id=user_id).order_by("-created_at", "-id")


def reservation_get(*, user_id: int, reservation_id: uuid.UUID) -> Reservation:
    """The user's own reservation; another user's is indistinguishable from a missing one."""
    reservation = reservation_list(user_id=user_id).filter(pk=reservation_id).first()
    if reservation is None:
        raise ReservationNotFound()
    return reservation


def reservation_pending_count(*, user_id: int, now: datetime) -> int:
    return Reservation.objects.filter(
        user_id=user_id, status=ReservationStatus.PENDING, expires_at__gt=now
    ).count()


def reservation_status_now(*, reservation: Reservation, now: datetime) -> str:
    """The status a reader sees at `now`: a PENDING hold past its deadline is EXPIRED, job or no job.
    Its SQL twin for querysets is reservation_status_at() just below."""
    if reservation.status == ReservationStatus.PENDING and reservation.expires_at <= now:
        return ReservationStatus.EXPIRED.value
    return str(reservation.status)


def reservation_status_at(*, now: datetime) -> Case:
    """reservation_status_now() as a queryset annotation (filter and sort lists by the status now)."""
    return Case(
        When(
            status=ReservationStatus.PENDING, expires_at__lte=now, then=Value(ReservationStatus.EXPIRED.value)
        ),
        default=F("status"),
        output_field=CharField(),
    )


def reservation_counts_by_concert(*, concert_ids: list[int], now: datetime) -> dict[int, tuple[int, int]]:
    """{concert id: (live holds, sold tickets)} in one query. A pending hold past `expires_at` is not
    live; a sold ticket is a CONFIRMED reservation (a refunded one is CANCELLED)."""
    rows = (
        Reservation.objects.filter(concert_id__in=concert_ids)
        .values("concert_id")
        .annotate(
            holds=Count("pk", filter=Q(status=ReservationStatus.PENDING, expires_at__gt=now)),
            sold=Count("pk", filter=Q(status=ReservationStatus.CONFIRMED)),
        )
        .order_by()
    )
    return {row["concert_id"]: (row["holds"], row["sold"]) for row in rows}
