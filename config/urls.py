from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from config import exceptions, health, metrics

# The back office names the product, not the framework.
admin.site.site_header = "Concert ticketing back office"
admin.site.site_title = "Concert ticketing"
admin.site.index_title = "Sales-day operations"

# Django tries patterns in order and a miss costs a regex each: the API comes first, and within it the
# hot paths (queue polls and issue, holds, the seat map) before the rest.
api_v1 = [
    path("", include("queue_app.api.urls")),
    path("", include("reservations.api.urls")),
    path("", include("concerts.api.urls")),
    path("", include("booking.api.urls")),  # pay a hold, cancel with a refund (the cross-app flows)
    path("", include("points.api.urls")),
    path("", include("users.api.urls")),
]

urlpatterns = [
    path("api/v1/", include(api_v1)),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", metrics.metrics_view, name="metrics"),  # plain Django view: not in the API schema
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    # Anything else under /api/ is a problem document, never Django's HTML page.
    re_path(r"^api/", exceptions.api_not_found),
]

handler404 = "config.exceptions.api_not_found"
handler500 = "config.exceptions.api_server_error"
