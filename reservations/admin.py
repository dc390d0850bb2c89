from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from config.exceptions import DomainError
from reservations import services
from reservations.models import Reservation


@admin.register(Reservation)
class ReservationAdmin(admin.ModelAdmin):
    """Read-only rows; every change is an action that goes through the reservations services."""

    list_display = (
        "id",
        "user",
        "concert",
        "schedule",
        "seat_number",
        "price",
        "status",
        "expires_at",
        "created_at",
    )
    list_filter = ("status", "concert", "created_at")
    search_fields = ("user__email", "=id", "concert__name")
    list_select_related = ("user", "concert", "schedule__concert")
    date_hierarchy = "created_at"
    actions = ["release_holds", "cancel_and_refund"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def get_readonly_fields(self, request: HttpRequest, obj: object = None) -> list[str]:
        return [f.name for f in Reservation._meta.fields]

    def _apply(self, request: HttpRequest, queryset: QuerySet[Reservation], action, verb: str) -> None:  # type: ignore[no-untyped-def]
        done, refused = 0, []
        for reservation in queryset:
            try:
                action(reservation)
            except DomainError as exc:
                refused.append(f"{reservation.pk}: {exc.detail}")
                continue
            done += 1
            self.log_change(request, reservation, f"{verb} by operator")
        if done:
            self.message_user(request, f"{verb}: {done} reservation(s).", messages.SUCCESS)
        for line in refused:
            self.message_user(request, f"Not {verb.lower()}: {line}", messages.WARNING)

    @admin.action(description="Release selected holds (free the seats)", permissions=["change"])
    def release_holds(self, request: HttpRequest, queryset: QuerySet[Reservation]) -> None:
        self._apply(
            request, queryset, lambda r: services.reservation_release_hold(reservation_id=r.pk), "Released"
        )

    @admin.action(description="Cancel selected (refund confirmed tickets)", permissions=["change"])
    def cancel_and_refund(self, request: HttpRequest, queryset: QuerySet[Reservation]) -> None:
        self._apply(
            request,
            queryset,
            lambda r: services.reservation_cancel(reservation_id=r.pk, user_id=None),
            "Cancelled",
        )
