from django.urls import path

from points.api import views

urlpatterns = [
    path("points", views.PointsBalanceView.as_view(), name="points-balance"),
    path("points/charge", views.PointsChargeView.as_view(), name="points-charge"),
    path("points/history", views.PointsHistoryView.as_view(), name="points-history"),
]
