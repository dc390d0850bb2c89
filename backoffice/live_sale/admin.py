"""The live sale page in admin: a list of concerts, and per concert the page, its JSON and its CSV.

Staff only (the admin site's check), and only for those who may view the catalog's concerts."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html

from backoffice.live_sale import views
from backoffice.models import LiveSale
from config.admin_readonly import ReadOnlyAdminMixin

VIEW_PERMISSION = "concerts.view_concert"


class LiveSaleAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("name", "sales_open_at", "queue_paused", "live_page")
    search_fields = ("name",)
    ordering = ("name", "id")

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self.has_view_permission(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        user = request.user
        return bool(user.is_active and user.is_staff and user.has_perm(VIEW_PERMISSION))

    @admin.display(description="live sale page")
    def live_page(self, obj: LiveSale) -> str:
        url = reverse("admin:backoffice_livesale_change", args=[obj.pk])
        return format_html('<a href="{}">Charts</a>', url)

    def get_urls(self) -> list[URLPattern]:
        wrap = self.admin_site.admin_view
        extra = [
            path("<int:concert_id>/data/", wrap(self._data), name="backoffice_livesale_data"),
            path("<int:concert_id>/snapshots.csv", wrap(self._csv), name="backoffice_livesale_csv"),
        ]
        return extra + super().get_urls()

    def _check(self, request: HttpRequest) -> None:
        if not self.has_view_permission(request):
            raise PermissionDenied

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        self._check(request)
        if not object_id.isdigit():
            raise Http404
        context = {**self.admin_site.each_context(request), "opts": self.opts}
        return views.live_sale_page(request, int(object_id), context)

    def _data(self, request: HttpRequest, concert_id: int) -> HttpResponseBase:
        self._check(request)
        return views.live_sale_data(request, concert_id)

    def _csv(self, request: HttpRequest, concert_id: int) -> HttpResponseBase:
        self._check(request)
        return views.live_sale_csv(request, concert_id)
