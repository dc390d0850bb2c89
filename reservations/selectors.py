"""Reservation reads. A PENDING reservation past `expires_at` reads EXPIRED, whatever the sweep did."""

import uuid
from datetime import datetime

from django.db.models import Case, CharField, F, QuerySet, Value, When

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
