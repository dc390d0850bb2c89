"""The catalog in admin: concerts with their schedules, a schedule page with its seat map summary, seat
generation and blocking, and the seats themselves (the sales dashboard, which also reads payments, is in
backoffice).

Seat status is never edited: blocking and unblocking go through concerts.services (guarded statements)
inside one transaction with the admin history entry that records who did it."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.models import CHANGE, LogEntry
from django.db import transaction
from django.db.models import Count, QuerySet
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.html import format_html

from concerts import selectors, services
from concerts.models import Concert, Schedule, Seat, SeatStatus
from concerts.seat_rules import seat_hold_is_live
from config import clock
from config.api.auth import request_user_id
from config.db import atomic_with_retry
from config.exceptions import InvalidInput

MAX_SEAT_NUMBERS = services.MAX_SEATS_PER_GENERATION


def parse_seat_numbers(text: str) -> list[int]:
    """'1-10, 15 20' -> [1..10, 15, 20]. Raises forms.ValidationError on anything else."""
    numbers: set[int] = set()
    for part in filter(None, re.split(r"[,\s]+", text.strip())):
        match = re.fullmatch(r"(\d+)(?:-(\d+))?", part)
        if not match:
            raise forms.ValidationError(f"Not a seat number or range: {part!r} (write e.g. 1-10, 15).")
        low = int(match[1])
        high = int(match[2] or low)
        if low < 1 or high < low:
            raise forms.ValidationError(f"Not a valid range: {part!r}.")
        if high - low + 1 + len(numbers) > MAX_SEAT_NUMBERS:
            raise forms.ValidationError(f"At most {MAX_SEAT_NUMBERS} seats at once.")
        numbers.update(range(low, high + 1))
    return sorted(numbers)


def _numbers_text(numbers: list[int]) -> str:
    """[1, 2, 3, 7] -> '1-3, 7' (for messages and the admin history)."""
    parts: list[str] = []
    start = prev = None
    for n in [*sorted(numbers), None]:
        if n is not None and prev is not None and n == prev + 1:
            prev = n
            continue
        if start is not None:
            parts.append(str(start) if start == prev else f"{start}-{prev}")
        start = prev = n
    return ", ".join(parts)


def change_seat_statuses(
    request: HttpRequest, *, seat_ids: list[int], block: bool
) -> services.SeatStatusChange:
    """Block or unblock seats through the service and record each changed seat in the admin history,
    in one transaction (retried as a whole on a deadlock)."""

    def run() -> services.SeatStatusChange:
        if block:
            result = services.seats_block(seat_ids=seat_ids)
        else:
            result = services.seats_unblock(seat_ids=seat_ids)
        if result.changed:
            LogEntry.objects.log_actions(
                user_id=request_user_id(request),
                queryset=list(Seat.objects.filter(pk__in=result.changed).select_related("schedule__concert")),
                action_flag=CHANGE,
                change_message="Blocked (taken off sale)" if block else "Unblocked (back on sale)",
            )
        return result

    return atomic_with_retry(run)()


def report_seat_change(
    model_admin: admin.ModelAdmin, request: HttpRequest, result: services.SeatStatusChange, *, block: bool
) -> None:
    verb = "Blocked" if block else "Unblocked"
    if result.changed:
        numbers = list(Seat.objects.filter(pk__in=result.changed).values_list("number", flat=True))
        model_admin.message_user(
            request, f"{verb} {len(numbers)} seat(s): {_numbers_text(numbers)}.", messages.SUCCESS
        )
    for reason in list(result.refused.values())[:20]:
        model_admin.message_user(request, f"Not {verb.lower()}: {reason}.", messages.WARNING)
    if len(result.refused) > 20:
        model_admin.message_user(
            request, f"... and {len(result.refused) - 20} more seat(s) not {verb.lower()}.", messages.WARNING
        )


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
    ordering = ("name", "id")  # explicit: a GROUP BY query drops the model's default ordering
    # Admission (pause, cap) changes on the queue page, through concert_set_queue_admission.
    readonly_fields = ("queue_paused", "queue_max_active", "queue_page", "created_at", "updated_at")
    fields = ("name", "venue", "description", "price", "queue_page", "queue_paused", "queue_max_active")
    inlines = [ScheduleInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Concert]:
        return super().get_queryset(request).annotate(schedule_count=Count("schedules"))

    @admin.display(description="schedules", ordering="schedule_count")
    def schedule_count(self, obj: Concert) -> int:
        return obj.schedule_count  # type: ignore[attr-defined]

    def save_model(self, request: HttpRequest, obj: Concert, form: Any, change: bool) -> None:
        if not change:
            super().save_model(request, obj, form, change)
            return
        # Only the columns the operator edited: a pause, a cap or the draw committed while the form was
        # open stays as it is (Django would rewrite the whole row from what it read).
        services.concert_update(
            concert_id=obj.pk, changes={name: form.cleaned_data[name] for name in form.changed_data}
        )

    @admin.display(description="waiting queue")
    def queue_page(self, obj: Concert) -> str:
        if obj.pk is None:
            return "Pause and the cap on active users are set on the queue page once the concert exists."
        url = reverse("admin:queue_app_concertqueue_change", args=[obj.pk])
        live = reverse("admin:backoffice_livesale_change", args=[obj.pk])
        return format_html(
            '<a href="{}">Queue page: sale opening, pace, pause/resume, cap, admit now</a> &middot; '
            '<a href="{}">Live sale page (charts)</a>',
            url,
            live,
        )


class ScheduleForm(forms.ModelForm):
    """The schedule form plus steps that generate N seats of one grade and price, and block or unblock
    seats by number."""

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
    block_numbers = forms.CharField(
        required=False,
        label="Block seats",
        help_text="Numbers or ranges, e.g. 1-10, 15. Only available seats (or lapsed holds) are blocked.",
    )
    unblock_numbers = forms.CharField(
        required=False, label="Unblock seats", help_text="Blocked seats go back on sale."
    )

    class Meta:
        model = Schedule
        fields = ("concert", "starts_at", "sales_open_at", "sales_close_at")

    def clean_block_numbers(self) -> list[int]:
        return parse_seat_numbers(self.cleaned_data.get("block_numbers") or "")

    def clean_unblock_numbers(self) -> list[int]:
        return parse_seat_numbers(self.cleaned_data.get("unblock_numbers") or "")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if set(data.get("block_numbers") or []) & set(data.get("unblock_numbers") or []):
            raise forms.ValidationError("A seat cannot be blocked and unblocked at once.")
        return data


@admin.register(Schedule)
class ScheduleAdmin(admin.ModelAdmin):
    form = ScheduleForm
    list_display = ("__str__", "concert", "starts_at", "sales_open_at", "seat_total")
    list_filter = ("concert",)
    search_fields = ("concert__name",)
    date_hierarchy = "starts_at"
    autocomplete_fields = ("concert",)
    ordering = ("starts_at", "id")
    readonly_fields = ("seat_summary",)
    fieldsets = (
        (None, {"fields": ("concert", "starts_at", "sales_open_at", "sales_close_at", "seat_summary")}),
        ("Generate seats", {"fields": ("generate_count", "generate_grade", "generate_price")}),
        ("Block or unblock seats", {"fields": ("block_numbers", "unblock_numbers")}),
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
        by_grade = selectors.seat_counts_by_grade_and_status(schedule=obj)
        statuses = [s.value for s in SeatStatus]
        return render_to_string(
            "admin/concerts/seat_map.html",
            {
                "statuses": statuses,
                "rows": [
                    (grade, [counts[s] for s in statuses], sum(counts.values()))
                    for grade, counts in by_grade.items()
                ],
                "totals": [(s.lower(), sum(c[s] for c in by_grade.values())) for s in statuses],
                "total": sum(sum(c.values()) for c in by_grade.values()),
                "seats_url": reverse("admin:concerts_seat_changelist") + f"?schedule__id__exact={obj.pk}",
            },
        )

    def save_related(self, request: HttpRequest, form: ScheduleForm, formsets, change: bool) -> None:  # type: ignore[no-untyped-def, override]
        super().save_related(request, form, formsets, change)
        schedule = form.instance
        count = form.cleaned_data.get("generate_count")
        if count:
            try:
                seats = services.seats_generate(
                    schedule=schedule,
                    count=count,
                    grade=form.cleaned_data.get("generate_grade") or "R",
                    price=form.cleaned_data.get("generate_price"),
                )
            except InvalidInput as exc:
                self.message_user(request, f"Seats not generated: {exc}", messages.ERROR)
            else:
                text = f"Generated {len(seats)} seats ({_numbers_text([s.number for s in seats])})."
                self.log_change(request, schedule, text)
                self.message_user(request, text, messages.SUCCESS)
        for field, block in (("block_numbers", True), ("unblock_numbers", False)):
            numbers = form.cleaned_data.get(field) or []
            if not numbers:
                continue
            by_number = dict(
                Seat.objects.filter(schedule=schedule, number__in=numbers).values_list("number", "pk")
            )
            missing = sorted(set(numbers) - set(by_number))
            if missing:
                self.message_user(
                    request, f"No such seat(s) in this schedule: {_numbers_text(missing)}.", messages.WARNING
                )
            result = change_seat_statuses(request, seat_ids=sorted(by_number.values()), block=block)
            if result.changed:
                changed = [n for n, pk in by_number.items() if pk in set(result.changed)]
                verb = "Blocked" if block else "Unblocked"
                self.log_change(request, schedule, f"{verb} seats {_numbers_text(changed)}.")
            report_seat_change(self, request, result, block=block)


@admin.register(Seat)
class SeatAdmin(admin.ModelAdmin):
    list_display = ("number", "schedule", "grade", "price", "status_now", "held_until")
    list_filter = ("status", "grade", "schedule__concert")
    search_fields = ("schedule__concert__name", "=number")
    list_select_related = ("schedule__concert",)
    readonly_fields = ("status", "held_until", "reservation_id", "updated_at")
    raw_id_fields = ("schedule",)
    actions = ["block_seats", "unblock_seats"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        # A seat's place (schedule, number) is fixed once it exists; status only moves through actions.
        if obj is not None:
            return ("schedule", "number", *self.readonly_fields)
        return self.readonly_fields

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # a seat may carry reservations; take it off sale by blocking it

    def save_model(self, request: HttpRequest, obj: Seat, form: Any, change: bool) -> None:
        if change:
            # Grade and price only, in one UPDATE of those columns: a hold or a sale committed while the
            # form was open keeps the seat (the service also refreshes the cached seat map).
            edits = {name: form.cleaned_data[name] for name in form.changed_data}
            services.seat_update(seat_id=obj.pk, grade=edits.get("grade"), price=edits.get("price"))
            return
        super().save_model(request, obj, form, change)
        # A new seat must show in the cached seat map at once.
        schedule_id = obj.schedule_id
        transaction.on_commit(lambda: services.seat_map_invalidate(schedule_id=schedule_id))

    @admin.display(description="status", ordering="status")
    def status_now(self, obj: Seat) -> str:
        live = seat_hold_is_live(status=obj.status, held_until=obj.held_until, now=clock.now())
        if obj.status == SeatStatus.HELD and not live:
            return "AVAILABLE (hold lapsed)"
        return str(obj.status)

    @admin.action(description="Block selected seats (take off sale)", permissions=["change"])
    def block_seats(self, request: HttpRequest, queryset: QuerySet[Seat]) -> None:
        result = change_seat_statuses(
            request, seat_ids=list(queryset.values_list("pk", flat=True)), block=True
        )
        report_seat_change(self, request, result, block=True)

    @admin.action(description="Unblock selected seats (back on sale)", permissions=["change"])
    def unblock_seats(self, request: HttpRequest, queryset: QuerySet[Seat]) -> None:
        result = change_seat_statuses(
            request, seat_ids=list(queryset.values_list("pk", flat=True)), block=False
        )
        report_seat_change(self, request, result, block=False)
