"""Admin for the cross-app flows: the reservations list with the operators' cancel-and-refund action
(booking.services.reservation_cancel frees the seat, marks the payment REFUNDED and gives the points back
in one transaction with the admin history entry)."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from booking import services
from reservations.admin import ReservationAdminBase
from reservations.models import Reservation


@admin.register(Reservation)
class ReservationAdmin(ReservationAdminBase):
    actions = [*ReservationAdminBase.actions, "cancel_and_refund"]

    @admin.action(description="Cancel selected (refund confirmed tickets)", permissions=["change"])
    def cancel_and_refund(self, request: HttpRequest, queryset: QuerySet[Reservation]) -> None:
        self.apply_action(
            request,
            queryset,
            lambda r: services.reservation_cancel(reservation_id=r.pk, user_id=None),
            "Cancelled",
        )
