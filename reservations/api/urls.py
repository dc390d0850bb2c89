from django.urls import path

from reservations.api import views

urlpatterns = [
    path("reservations", views.ReservationListCreateView.as_view(), name="reservation-list"),
    path(
        "reservations/<uuid:reservation_id>", views.ReservationDetailView.as_view(), name="reservation-detail"
    ),
    path(
        "reservations/<uuid:reservation_id>/cancel",
        views.ReservationCancelView.as_view(),
        name="reservation-cancel",
    ),
]
