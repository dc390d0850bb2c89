from django.urls import path

from payments.api import views

urlpatterns = [path("payments", views.PaymentListCreateView.as_view(), name="payment-list")]
