"""Reservations and orders in admin: read-only rows with filters (status now, concert, schedule, show date,
user, created date) and search; every change is an action that goes through a service, in one transaction
with the admin history entry that records who did it.

ReservationAdminBase holds the list and the actions that stay within reservations (release a hold);
OrderAdminBase the orders' list and detail (seats inline, payment). booking.admin registers both with the
actions that move money too (cancel and refund)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.models import CHANGE, LogEntry
from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Prefetch, QuerySet
from django.http import HttpRequest

from config import clock
from config.admin_readonly import ReadOnlyAdminMixin
from config.api.auth import request_user_id
from config.db import atomic_with_retry
from config.exceptions import DomainError
from reservations import services
from reservations.models import Order, Reservation, ReservationStatus
from reservations.selectors import (
    order_seats,
    order_status_now,
    order_total,
    reservation_status_at,
    reservation_status_now,
)


class StatusNowFilter(admin.SimpleListFilter):
    """By the status a reader sees now: a PENDING hold past its deadline is EXPIRED, job or no job. Orders
    and reservations spell their status and deadline alike, so one filter serves both lists."""

    title = "status"
    parameter_name = "status_now"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(s.value, s.label) for s in ReservationStatus]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        if value not in ReservationStatus.values:
            return queryset
        return queryset.annotate(status_at_now=reservation_status_at(now=clock.now())).filter(
            status_at_now=value
        )


class UserEmailFilter(admin.SimpleListFilter):
    """A text box: the reservations (or orders) of one user, by email (case-insensitive) or user id."""

    title = "user (email or id)"
    parameter_name = "user"
    template = "admin/reservations/input_filter.html"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("", "")]  # the filter is shown only when it has lookups; the template draws a text box

    def choices(self, changelist: Any) -> Any:
        # The rest of the query (other filters, search, ordering) rides along as hidden fields.
        hidden = [(k, v) for k, v in changelist.params.items() if k not in (self.parameter_name, "p")]
        yield {"value": self.value() or "", "hidden": hidden, "parameter_name": self.parameter_name}

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = (self.value() or "").strip()
        if not value:
            return queryset
        if value.isdigit():
            return queryset.filter(user_id=int(value))
        return queryset.filter(user__email__iexact=value)


class ServiceActionAdmin(admin.ModelAdmin):
    """Read-only rows; every change is an action that goes through a service, logged in the admin history.
    `noun` names the rows in the action's messages."""

    noun = "row(s)"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        # The change permission is what the actions need; a row's own page is view-only.
        return obj is None and super().has_change_permission(request)

    def get_readonly_fields(self, request: HttpRequest, obj: object = None) -> list[str]:
        return [f.name for f in self.model._meta.fields]

    def apply_action(
        self,
        request: HttpRequest,
        queryset: QuerySet[Any],
        action: Callable[[Any], Any],
        verb: str,
    ) -> None:
        done, refused = 0, []
        for row in queryset.select_related("user", "schedule__concert"):
            try:
                self._act_and_log(request, row, action, verb)
            except DomainError as exc:
                refused.append(f"{row.pk}: {exc.detail}")
                continue
            done += 1
        if done:
            self.message_user(request, f"{verb}: {done} {self.noun}.", messages.SUCCESS)
        for line in refused:
            self.message_user(request, f"Not {verb.lower()}: {line}", messages.WARNING)

    def _act_and_log(
        self,
        request: HttpRequest,
        row: Any,
        action: Callable[[Any], Any],
        verb: str,
    ) -> None:
        """The service's change and its history entry commit together (the service joins this
        transaction; a deadlock retries both)."""

        def run() -> None:
            changed = action(row)
            LogEntry.objects.log_actions(
                user_id=request_user_id(request),
                queryset=[changed],
                action_flag=CHANGE,
                change_message=f"{verb} by operator (now {changed.status})",
                single_object=True,
            )

        atomic_with_retry(run)()


class ReservationAdminBase(ServiceActionAdmin):
    """Reservations (registered by booking.admin, which adds the cancel-and-refund action)."""

    noun = "reservation(s)"

    list_display = (
        "id",
        "user",
        "concert",
        "schedule",
        "seat_number",
        "price",
        "status_now",
        "expires_at",
        "created_at",
    )
    list_filter = (
        StatusNowFilter,
        "concert",
        ("schedule", admin.RelatedOnlyFieldListFilter),
        ("schedule__starts_at", admin.DateFieldListFilter),
        UserEmailFilter,
        "created_at",
    )
    search_fields = ("user__email", "=id", "concert__name", "=seat_number")
    list_select_related = ("user", "concert", "schedule__concert")
    date_hierarchy = "created_at"
    actions = ["release_holds"]

    @admin.display(description="status", ordering="status")
    def status_now(self, obj: Reservation) -> str:
        return reservation_status_now(reservation=obj, now=clock.now())

    @admin.action(description="Release selected holds (free the seats)", permissions=["change"])
    def release_holds(self, request: HttpRequest, queryset: QuerySet[Reservation]) -> None:
        self.apply_action(
            request, queryset, lambda r: services.reservation_release_hold(reservation_id=r.pk), "Released"
        )


class OrderSeatInline(ReadOnlyAdminMixin, admin.TabularInline):
    """An order's seats: every reservation it was placed with, a seat cancelled on its own included."""

    model = Reservation
    fields = ("seat_number", "price", "status_now", "confirmed_at", "cancelled_at")
    readonly_fields = fields
    ordering = ("seat_number",)
    extra = 0
    can_delete = False
    show_change_link = True

    @admin.display(description="status")
    def status_now(self, obj: Reservation) -> str:
        return reservation_status_now(reservation=obj, now=clock.now())


class OrderAdminBase(ServiceActionAdmin):
    """Orders (registered by booking.admin, which adds the cancel-and-refund action). The list reads each
    page's orders, users, schedules and seats in a fixed number of queries, however many rows it shows."""

    noun = "order(s)"

    list_display = ("id", "user", "seat_numbers", "total", "status_now", "concert", "schedule", "created_at")
    list_filter = (StatusNowFilter, "concert", UserEmailFilter, "created_at")
    search_fields = ("user__email", "=id")
    list_select_related = ("user", "concert", "schedule__concert", "payment")
    date_hierarchy = "created_at"
    inlines = [OrderSeatInline]
    fields = (
        "id",
        "user",
        "concert",
        "schedule",
        "status_now",
        "seat_numbers",
        "total",
        "expires_at",
        "created_at",
        "confirmed_at",
        "cancelled_at",
        "payment_amount",
        "payment_refunded_amount",
        "payment_status",
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[Order]:
        # No select_related here: the changelist applies list_select_related only to a queryset without.
        seats = Prefetch("reservations", queryset=Reservation.objects.order_by("seat_number"))
        return super().get_queryset(request).prefetch_related(seats)

    def get_readonly_fields(self, request: HttpRequest, obj: object = None) -> list[str]:
        return list(self.fields)

    @admin.display(description="status", ordering="status")
    def status_now(self, obj: Order) -> str:
        return order_status_now(order=obj, now=clock.now())

    @admin.display(description="seats")
    def seat_numbers(self, obj: Order) -> str:
        return ", ".join(str(r.seat_number) for r in order_seats(obj))

    @admin.display(description="total")
    def total(self, obj: Order) -> int:
        return order_total(obj)

    @admin.display(description="paid")
    def payment_amount(self, obj: Order) -> str:
        return self._payment_field(obj, "amount")

    @admin.display(description="refunded")
    def payment_refunded_amount(self, obj: Order) -> str:
        return self._payment_field(obj, "refunded_amount")

    @admin.display(description="payment status")
    def payment_status(self, obj: Order) -> str:
        return self._payment_field(obj, "status")

    def _payment_field(self, order: Order, name: str) -> str:
        """A field of the order's payment, or the empty mark while it is unpaid (the payment row points
        at the order; Django remembers a missing one, so the three fields cost one query at most)."""
        try:
            payment = order.payment  # type: ignore[attr-defined]
        except ObjectDoesNotExist:
            return self.get_empty_value_display()
        return str(getattr(payment, name))
