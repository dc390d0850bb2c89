from django.urls import path

from booking.api import views

urlpatterns = [
    path("payments", views.PaymentListCreateView.as_view(), name="payment-list"),
    path(
        "reservations/<uuid:reservation_id>/cancel",
        views.ReservationCancelView.as_view(),
        name="reservation-cancel",
    ),
]
