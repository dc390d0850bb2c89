from django.urls import path

from config.api.plain import documented
from reservations.api import hot, views

urlpatterns = [
    # GET is the DRF list view, POST (a hold, a hot path) a plain view; the schema documents both.
    path(
        "reservations",
        documented(hot.reservations_collection, views.ReservationListCreateView),
        name="reservation-list",
    ),
    path(
        "reservations/<uuid:reservation_id>", views.ReservationDetailView.as_view(), name="reservation-detail"
    ),
    path("orders", documented(hot.orders_collection, views.OrderListCreateView), name="order-list"),
    path("orders/<uuid:order_id>", views.OrderDetailView.as_view(), name="order-detail"),
]
