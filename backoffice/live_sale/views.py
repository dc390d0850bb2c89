"""The live sale page's three views: the page, the JSON it polls and the CSV export. Each is mounted by
LiveSaleAdmin behind the admin site's staff check and the page's own permission check."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse

from backoffice.live_sale import selectors
from backoffice.models import LiveSale
from config import clock

REFRESH_SECONDS = 5
DEFAULT_WINDOW_MINUTES = 24 * 60


def _window_minutes(request: HttpRequest) -> int:
    """?minutes=N (1 .. the retention), else the last 24 hours."""
    raw = request.GET.get("minutes", "")
    limit = settings.SALE_SNAPSHOT_RETENTION_DAYS * 24 * 60
    if raw.isascii() and raw.isdigit() and int(raw) > 0:
        return min(int(raw), limit)
    return min(DEFAULT_WINDOW_MINUTES, limit)


def live_sale_page(request: HttpRequest, concert_id: int, context: dict[str, Any]) -> HttpResponse:
    concert = get_object_or_404(LiveSale, pk=concert_id)
    window = _window_minutes(request)
    return TemplateResponse(
        request,
        "admin/backoffice/live_sale.html",
        {
            **context,
            "title": f"Live sale: {concert.name}",
            "concert": concert,
            "window_minutes": window,
            "refresh_seconds": REFRESH_SECONDS,
            "data_url": f"{reverse('admin:backoffice_livesale_data', args=[concert.pk])}?minutes={window}",
            "csv_url": reverse("admin:backoffice_livesale_csv", args=[concert.pk]),
            "queue_url": reverse("admin:queue_app_concertqueue_change", args=[concert.pk]),
        },
    )


def live_sale_data(request: HttpRequest, concert_id: int) -> JsonResponse:
    concert = get_object_or_404(LiveSale, pk=concert_id)
    data = selectors.live_sale_data(concert_id=concert.pk, window_minutes=_window_minutes(request))
    return JsonResponse(data)  # the admin site's wrapper marks it never-cache


class _Echo:
    """csv.writer's file: hands each line back instead of storing it."""

    def write(self, value: str) -> str:
        return value


def live_sale_csv(request: HttpRequest, concert_id: int) -> StreamingHttpResponse:
    concert = get_object_or_404(LiveSale, pk=concert_id)
    writer = csv.writer(_Echo())
    lines: Iterator[str] = (
        writer.writerow(row) for row in selectors.sale_snapshot_csv_rows(concert_id=concert.pk)
    )
    filename = f"sale-{concert.pk}-snapshots-{clock.now():%Y%m%d-%H%M}.csv"
    return StreamingHttpResponse(
        lines,
        content_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
