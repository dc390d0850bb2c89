from django.contrib import admin
from django.http import HttpRequest

from payments.models import Payment


@admin.register(Payment)
class PaymentAdmin(admin.ModelAdmin):
    """Payments are a record: read-only. Refunds happen by cancelling the reservation."""

    list_display = ("id", "user", "reservation", "amount", "status", "created_at", "refunded_at")
    list_filter = ("status", "created_at")
    search_fields = ("user__email", "=reservation__id")
    list_select_related = ("user", "reservation")
    date_hierarchy = "created_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
