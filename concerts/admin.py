from django import forms
from django.contrib import admin, messages
from django.db.models import Count, QuerySet
from django.http import HttpRequest
from django.utils.html import format_html_join
from rest_framework.exceptions import ValidationError

from concerts import selectors, services
from concerts.models import Concert, Schedule, Seat


class ScheduleInline(admin.TabularInline):
    model = Schedule
    extra = 0
    fields = ("starts_at", "sales_open_at", "sales_close_at")
    show_change_link = True


@admin.register(Concert)
class ConcertAdmin(admin.ModelAdmin):
    list_display = ("name", "venue", "price", "schedule_count", "queue_max_active", "queue_paused")
    search_fields = ("name", "venue")
    list_filter = ("queue_paused",)
    readonly_fields = ("created_at", "updated_at")
    inlines = [ScheduleInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Concert]:
        return super().get_queryset(request).annotate(schedule_count=Count("schedules"))

    @admin.display(description="schedules", ordering="schedule_count")
    def schedule_count(self, obj: Concert) -> int:
        return obj.schedule_count  # type: ignore[attr-defined]


class ScheduleForm(forms.ModelForm):
    """The schedule form plus one step that generates N seats of one grade and price."""

    generate_count = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=services.MAX_SEATS_PER_GENERATION,
        label="Generate seats: how many",
    )
    generate_grade = forms.CharField(required=False, max_length=20, initial="R", label="Grade")
    generate_price = forms.IntegerField(
        required=False, min_value=0, label="Price", help_text="Blank: the concert's price."
    )

    class Meta:
        model = Schedule
        fields = ("concert", "starts_at", "sales_open_at", "sales_close_at")


@admin.register(Schedule)
class ScheduleAdmin(admin.ModelAdmin):
    form = ScheduleForm
    list_display = ("__str__", "concert", "starts_at", "sales_open_at", "seat_total")
    list_filter = ("concert",)
    search_fields = ("concert__name",)
    date_hierarchy = "starts_at"
    autocomplete_fields = ("concert",)
    readonly_fields = ("seat_summary",)
    fieldsets = (
        (None, {"fields": ("concert", "starts_at", "sales_open_at", "sales_close_at", "seat_summary")}),
        ("Generate seats", {"fields": ("generate_count", "generate_grade", "generate_price")}),
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[Schedule]:
        return super().get_queryset(request).select_related("concert").annotate(seat_total=Count("seats"))

    @admin.display(description="seats", ordering="seat_total")
    def seat_total(self, obj: Schedule) -> int:
        return obj.seat_total  # type: ignore[attr-defined]

    @admin.display(description="seat map")
    def seat_summary(self, obj: Schedule) -> str:
        if obj.pk is None:
            return "-"
        counts = selectors.seat_counts_by_status(schedule=obj)
        return format_html_join(", ", "{}: {}", counts.items())

    def save_related(self, request: HttpRequest, form: ScheduleForm, formsets, change: bool) -> None:  # type: ignore[no-untyped-def, override]
        super().save_related(request, form, formsets, change)
        count = form.cleaned_data.get("generate_count")
        if not count:
            return
        try:
            seats = services.seats_generate(
                schedule=form.instance,
                count=count,
                grade=form.cleaned_data.get("generate_grade") or "R",
                price=form.cleaned_data.get("generate_price"),
            )
        except ValidationError as exc:
            self.message_user(request, f"Seats not generated: {exc.detail}", messages.ERROR)
            return
        self.message_user(request, f"Generated {len(seats)} seats.", messages.SUCCESS)


@admin.register(Seat)
class SeatAdmin(admin.ModelAdmin):
    list_display = ("number", "schedule", "grade", "price", "status", "held_until")
    list_filter = ("status", "grade", "schedule__concert")
    search_fields = ("schedule__concert__name", "=number")
    list_select_related = ("schedule__concert",)
    readonly_fields = ("status", "held_until", "reservation_id", "updated_at")
    raw_id_fields = ("schedule",)
