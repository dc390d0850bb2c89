from django.urls import path

from booking.api import views

urlpatterns = [
    path("payments", views.PaymentListCreateView.as_view(), name="payment-list"),
    path("orders/<uuid:order_id>/cancel", views.OrderCancelView.as_view(), name="order-cancel"),
    path(
        "reservations/<uuid:reservation_id>/cancel",
        views.ReservationCancelView.as_view(),
        name="reservation-cancel",
    ),
]
