from django.contrib import admin

from config.admin_readonly import ReadOnlyAdminMixin
from payments.models import Payment


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Payments are a record: read-only. Refunds happen by cancelling the order or one of its seats."""

    list_display = ("id", "user", "order", "amount", "refunded_amount", "status", "created_at", "refunded_at")
    list_filter = ("status", "created_at")
    search_fields = ("user__email", "=order__id", "=reservation__id")
    list_select_related = ("user", "order")
    date_hierarchy = "created_at"
