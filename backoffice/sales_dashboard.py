"""The operators' sales dashboard: per schedule, seats sold / held / available / blocked and revenue
(COMPLETED payments). It reads the catalog and the money, which is why it lives here and not in either."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse

from concerts import selectors as concert_selectors
from concerts.models import Concert
from config.admin_readonly import ReadOnlyAdminMixin
from payments import selectors as payment_selectors


class SalesDashboardAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """One page, two queries whatever the number of schedules (concerts.selectors, payments.selectors)."""

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        include_past = request.GET.get("past") == "1"
        concert_id = request.GET.get("concert")
        concert_id_int = int(concert_id) if concert_id and concert_id.isdigit() else None
        schedules = list(
            concert_selectors.schedule_sales_overview(concert_id=concert_id_int, include_past=include_past)
        )
        revenue = payment_selectors.revenue_by_schedule(schedule_ids=[s.pk for s in schedules])
        rows = []
        for schedule in schedules:
            total = schedule.seats_total  # type: ignore[attr-defined]
            sold = schedule.seats_sold  # type: ignore[attr-defined]
            rows.append(
                {
                    "schedule": schedule,
                    "sold": sold,
                    "held": schedule.seats_held,  # type: ignore[attr-defined]
                    "available": schedule.seats_available,  # type: ignore[attr-defined]
                    "blocked": schedule.seats_blocked,  # type: ignore[attr-defined]
                    "total": total,
                    "sold_pct": round(100 * sold / total) if total else 0,
                    "revenue": revenue.get(schedule.pk, 0),
                    "url": reverse("admin:concerts_schedule_change", args=[schedule.pk]),
                }
            )
        totals = {
            key: sum(row[key] for row in rows)
            for key in ("sold", "held", "available", "blocked", "total", "revenue")
        }
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Sales dashboard",
            "rows": rows,
            "totals": totals,
            "include_past": include_past,
            "concert_id": concert_id_int,
            "concerts": Concert.objects.order_by("name").values_list("pk", "name"),
            **(extra_context or {}),
        }
        return TemplateResponse(request, "admin/backoffice/sales_dashboard.html", context)
