"""Reservations in admin: read-only rows with filters (status now, concert, schedule, show date, user,
created date) and search; every change is an action that goes through a service, in one transaction with
the admin history entry that records who did it.

ReservationAdminBase holds the list and the actions that stay within reservations (release a hold);
booking.admin registers it with the action that moves money too (cancel and refund)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.models import CHANGE, LogEntry
from django.db.models import QuerySet
from django.http import HttpRequest

from config import clock
from config.api.auth import request_user_id
from config.db import atomic_with_retry
from config.exceptions import DomainError
from reservations import services
from reservations.models import Reservation, ReservationStatus
from reservations.selectors import reservation_status_at, reservation_status_now


class StatusNowFilter(admin.SimpleListFilter):
    """By the status a reader sees now: a PENDING hold past its deadline is EXPIRED, job or no job."""

    title = "status"
    parameter_name = "status_now"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(s.value, s.label) for s in ReservationStatus]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Reservation]) -> QuerySet[Reservation]:
        value = self.value()
        if value not in ReservationStatus.values:
            return queryset
        return queryset.annotate(status_at_now=reservation_status_at(now=clock.now())).filter(
            status_at_now=value
        )


class UserEmailFilter(admin.SimpleListFilter):
    """A text box: the reservations of one user, by email (case-insensitive) or user id."""

    title = "user (email or id)"
    parameter_name = "user"
    template = "admin/reservations/input_filter.html"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("", "")]  # the filter is shown only when it has lookups; the template draws a text box

    def choices(self, changelist: Any) -> Any:
        # The rest of the query (other filters, search, ordering) rides along as hidden fields.
        hidden = [(k, v) for k, v in changelist.params.items() if k not in (self.parameter_name, "p")]
        yield {"value": self.value() or "", "hidden": hidden, "parameter_name": self.parameter_name}

    def queryset(self, request: HttpRequest, queryset: QuerySet[Reservation]) -> QuerySet[Reservation]:
        value = (self.value() or "").strip()
        if not value:
            return queryset
        if value.isdigit():
            return queryset.filter(user_id=int(value))
        return queryset.filter(user__email__iexact=value)


class ReservationAdminBase(admin.ModelAdmin):
    """Read-only rows; every change is an action that goes through a service (registered by booking.admin,
    which adds the cancel-and-refund action)."""

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

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        # The change permission is what the actions need; a reservation's own page is view-only.
        return obj is None and super().has_change_permission(request)

    def get_readonly_fields(self, request: HttpRequest, obj: object = None) -> list[str]:
        return [f.name for f in Reservation._meta.fields]

    @admin.display(description="status", ordering="status")
    def status_now(self, obj: Reservation) -> str:
        return reservation_status_now(reservation=obj, now=clock.now())

    def apply_action(
        self,
        request: HttpRequest,
        queryset: QuerySet[Reservation],
        action: Callable[[Reservation], Reservation],
        verb: str,
    ) -> None:
        done, refused = 0, []
        for reservation in queryset.select_related("user", "schedule__concert"):
            try:
                self._act_and_log(request, reservation, action, verb)
            except DomainError as exc:
                refused.append(f"{reservation.pk}: {exc.detail}")
                continue
            done += 1
        if done:
            self.message_user(request, f"{verb}: {done} reservation(s).", messages.SUCCESS)
        for line in refused:
            self.message_user(request, f"Not {verb.lower()}: {line}", messages.WARNING)

    def _act_and_log(
        self,
        request: HttpRequest,
        reservation: Reservation,
        action: Callable[[Reservation], Reservation],
        verb: str,
    ) -> None:
        """The service's change and its history entry commit together (the service joins this
        transaction; a deadlock retries both)."""

        def run() -> None:
            changed = action(reservation)
            LogEntry.objects.log_actions(
                user_id=request_user_id(request),
                queryset=[changed],
                action_flag=CHANGE,
                change_message=f"{verb} by operator (now {changed.status})",
                single_object=True,
            )

        atomic_with_retry(run)()

    @admin.action(description="Release selected holds (free the seats)", permissions=["change"])
    def release_holds(self, request: HttpRequest, queryset: QuerySet[Reservation]) -> None:
        self.apply_action(
            request, queryset, lambda r: services.reservation_release_hold(reservation_id=r.pk), "Released"
        )
