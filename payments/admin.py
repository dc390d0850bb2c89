from django.contrib import admin

from config.admin_readonly import ReadOnlyAdminMixin
from payments.models import Payment


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Payments are a record: read-only. Refunds happen by cancelling the reservation."""

    list_display = ("id", "user", "reservation", "amount", "status", "created_at", "refunded_at")
    list_filter = ("status", "created_at")
    search_fields = ("user__email", "=reservation__id")
    list_select_related = ("user", "reservation")
    date_hierarchy = "created_at"
