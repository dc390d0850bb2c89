"""Operators' view of the queue: a page per concert (counts, the sale opening and its draw, admission
settings, actions) and, for the database backend, the token rows read-only. Every action goes through a
service and is recorded in the concert queue's admin history in the same transaction; a refusal is an
error message on the page."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone

from concerts.services import concert_set_queue_admission
from config.admin_readonly import ReadOnlyAdminMixin
from config.exceptions import DomainError
from queue_app import selectors, services
from queue_app.backends.base import QueueCounts
from queue_app.conf import queue_settings
from queue_app.models import ConcertQueue, QueueToken
from users.models import User


def _find_user(value: str) -> User | None:
    value = value.strip()
    if value.isdigit():
        return User.objects.filter(pk=int(value)).first()
    return User.objects.filter(email__iexact=value).first() if value else None


@admin.register(ConcertQueue)
class ConcertQueueAdmin(admin.ModelAdmin):
    """Each concert's waiting queue; the change page is the queue page."""

    list_display = ("name", "waiting", "active", "queue_paused", "queue_max_active")
    list_filter = ("queue_paused",)
    search_fields = ("name",)
    actions = ["pause_admission", "resume_admission", "admit_batch_now"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def _counts(self, obj: ConcertQueue) -> QueueCounts:
        # One backend read per row, shared by the two columns.
        cached: QueueCounts | None = getattr(obj, "_queue_counts", None)
        if cached is None:
            cached = selectors.queue_counts(concert_id=obj.pk)
            obj._queue_counts = cached  # type: ignore[attr-defined]
        return cached

    @admin.display(description="waiting")
    def waiting(self, obj: ConcertQueue) -> int:
        return self._counts(obj).waiting

    @admin.display(description="active")
    def active(self, obj: ConcertQueue) -> int:
        return self._counts(obj).active

    @admin.action(description="Pause admission")
    def pause_admission(self, request: HttpRequest, queryset: QuerySet[ConcertQueue]) -> None:
        for concert in queryset:
            with transaction.atomic():
                concert_set_queue_admission(concert=concert, paused=True)
                self.log_change(request, concert, "Paused admission")
        self.message_user(request, f"Paused admission for {queryset.count()} concert(s).")

    @admin.action(description="Resume admission")
    def resume_admission(self, request: HttpRequest, queryset: QuerySet[ConcertQueue]) -> None:
        for concert in queryset:
            with transaction.atomic():
                concert_set_queue_admission(concert=concert, paused=False)
                self.log_change(request, concert, "Resumed admission")
        self.message_user(request, f"Resumed admission for {queryset.count()} concert(s).")

    @admin.action(description="Admit a batch now")
    def admit_batch_now(self, request: HttpRequest, queryset: QuerySet[ConcertQueue]) -> None:
        admitted = 0
        for concert in queryset:
            count = services.queue_promote(concert_id=concert.pk)
            self.log_change(request, concert, f"Admitted {count} token(s) now")
            admitted += count
        self.message_user(request, f"Admitted {admitted} token(s).")

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        concert = get_object_or_404(ConcertQueue, pk=object_id)
        if not self.has_view_or_change_permission(request, concert):
            raise PermissionDenied
        if request.method == "POST":
            if not self.has_change_permission(request, concert):
                raise PermissionDenied
            self._act(request, concert)
            return HttpResponseRedirect(request.path)
        conf = queue_settings()
        overview = selectors.queue_overview(concert_id=concert.pk)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": f"Queue: {concert.name}",
            "concert": concert,
            "counts": selectors.queue_counts(concert_id=concert.pk),
            "overview": overview,
            "opens_at_value": _local_input_value(overview.sales_open_at),
            "batch": concert.queue_batch_size or conf.batch,
            "interval_seconds": concert.queue_interval_seconds or conf.interval_seconds,
            "conf": conf,
            "backend": settings.QUEUE_BACKEND,
            "can_change": self.has_change_permission(request, concert),
            "live_sale_url": reverse("admin:backoffice_livesale_change", args=[concert.pk]),
        }
        return TemplateResponse(request, "admin/queue_app/concert_queue.html", context)

    def _apply(self, request: HttpRequest, concert: ConcertQueue, change: Callable[[], str]) -> bool:
        """Run one change (a service call returning the history message) and record it in the admin
        history in the same transaction; a refusal becomes an error message and changes nothing."""
        try:
            with transaction.atomic():
                message = change()
                self.log_change(request, concert, message)
        except DomainError as refusal:
            self.message_user(request, f"Refused: {refusal}", messages.ERROR)
            return False
        self.message_user(request, f"{message}.")
        return True

    def _act(self, request: HttpRequest, concert: ConcertQueue) -> None:
        """Each action goes through a service and is recorded in the admin history of the concert's queue."""
        action = request.POST.get("action")
        if action in ("pause", "resume"):

            def pause() -> str:
                concert_set_queue_admission(concert=concert, paused=action == "pause")
                return "Paused admission" if action == "pause" else "Resumed admission"

            self._apply(request, concert, pause)
        elif action == "cap":
            cap = _whole_number(request.POST.get("max_active", ""))
            if cap is None:
                self.message_user(request, "The cap must be a whole number (blank: no cap).", messages.ERROR)
                return

            def set_cap() -> str:
                concert_set_queue_admission(concert=concert, max_active=cap)
                return f"Set the cap on active users to {concert.queue_max_active or 'no cap'}"

            self._apply(request, concert, set_cap)
        elif action == "pace":
            batch = _whole_number(request.POST.get("batch_size", ""))
            interval = _whole_number(request.POST.get("interval_seconds", ""))
            if batch is None or interval is None:
                self.message_user(
                    request,
                    "Batch and interval must be whole numbers (blank: the global setting).",
                    messages.ERROR,
                )
                return

            def set_pace() -> str:
                concert_set_queue_admission(concert=concert, batch_size=batch, interval_seconds=interval)
                size, every = concert.queue_batch_size, concert.queue_interval_seconds
                return (
                    f"Set the batch to {size or 'the global setting'} and the interval to "
                    f"{f'{every} s' if every else 'the global setting'}"
                )

            self._apply(request, concert, set_pace)
        elif action == "schedule_sale":
            self._schedule_sale(request, concert)
        elif action == "promote":
            admitted = services.queue_promote(concert_id=concert.pk)
            self.log_change(request, concert, f"Admitted {admitted} token(s) now")
            self.message_user(request, f"Admitted {admitted} token(s).")
        elif action == "expire":
            user = _find_user(request.POST.get("user", ""))
            token = user and selectors.queue_live_token_for_user(user_id=user.pk, concert_id=concert.pk)
            if user is None or not token:
                self.message_user(request, "That user has no live token for this concert.", messages.WARNING)
                return
            services.queue_token_expire(token=token)
            self.log_change(request, concert, f"Expired the queue token of {user} (user {user.pk})")
            self.message_user(request, f"Expired the queue token of {user}.")
        else:
            self.message_user(request, "Unknown action.", messages.ERROR)

    def _schedule_sale(self, request: HttpRequest, concert: ConcertQueue) -> None:
        try:
            opens_at = forms.DateTimeField(required=False).clean(request.POST.get("opens_at", "").strip())
        except ValidationError:
            self.message_user(
                request, "The opening must be a date and time, e.g. 2030-06-01 10:00 (UTC).", messages.ERROR
            )
            return

        def schedule() -> str:
            scheduled = services.sale_schedule(concert_id=concert.pk, opens_at=opens_at)
            when = f"for {scheduled.sales_open_at:%Y-%m-%d %H:%M:%S %Z}" if scheduled.sales_open_at else "now"
            return f"Scheduled the sale opening {when} (draw commitment {scheduled.draw_commitment})"

        self._apply(request, concert, schedule)


def _whole_number(raw: str) -> int | None:
    """A form's count: blank is 0 (no cap / the global setting); None when it is not a whole number."""
    raw = raw.strip()
    if not raw:
        return 0
    if raw.isascii() and raw.isdigit() and len(raw) <= 10:
        return int(raw)
    return None


def _local_input_value(moment: datetime | None) -> str:
    """A datetime-local input's value in the site's time zone."""
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M") if moment else ""


@admin.register(QueueToken)
class QueueTokenAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Rows of the database backend (empty with Redis). Read-only: change states through the queue page."""

    list_display = ("short_token", "concert", "user", "status", "issued_at", "last_seen_at", "expires_at")
    list_filter = ("status", "concert")
    search_fields = ("=token", "user__email")
    list_select_related = ("concert", "user")
    readonly_fields = ("token", "user", "concert", "status", "issued_at", "last_seen_at", "expires_at")
    date_hierarchy = "issued_at"

    @admin.display(description="token")
    def short_token(self, obj: QueueToken) -> str:
        return f"{obj.token[:8]}…"
