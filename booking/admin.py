"""Admin for the cross-app flows: the reservations and orders lists with the operators' cancel-and-refund
actions (booking.services.reservation_cancel and order_cancel free the seats, count the refund on the
payment and give the points back in one transaction with the admin history entry)."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from booking import services
from reservations.admin import OrderAdminBase, ReservationAdminBase
from reservations.models import Order, Reservation


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


@admin.register(Order)
class OrderAdmin(OrderAdminBase):
    actions = ["cancel_and_refund"]

    @admin.action(description="Cancel selected orders (refund what is still paid)", permissions=["change"])
    def cancel_and_refund(self, request: HttpRequest, queryset: QuerySet[Order]) -> None:
        self.apply_action(
            request,
            queryset,
            lambda o: services.order_cancel(order_id=o.pk, user_id=None),
            "Cancelled",
        )
