from django.urls import path

from concerts.api import views

urlpatterns = [
    path("concerts", views.ConcertListView.as_view(), name="concert-list"),
    path("concerts/<int:concert_id>", views.ConcertDetailView.as_view(), name="concert-detail"),
    path("concerts/<int:concert_id>/schedules", views.ScheduleListView.as_view(), name="schedule-list"),
    path("schedules/<int:schedule_id>/seats", views.SeatListView.as_view(), name="seat-list"),
]
