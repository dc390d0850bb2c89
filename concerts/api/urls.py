from django.urls import path

from concerts.api import views
from config.api.plain import documented

urlpatterns = [
    path("concerts", views.ConcertListView.as_view(), name="concert-list"),
    path("concerts/<int:concert_id>", views.ConcertDetailView.as_view(), name="concert-detail"),
    path("concerts/<int:concert_id>/schedules", views.ScheduleListView.as_view(), name="schedule-list"),
    # A plain view (the hottest catalog read); SeatListView documents it in the schema.
    path(
        "schedules/<int:schedule_id>/seats",
        documented(views.seat_map_view, views.SeatListView),
        name="seat-list",
    ),
]
