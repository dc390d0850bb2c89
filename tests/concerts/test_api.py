from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from concerts.models import Seat, SeatStatus
from tests.factories import ConcertFactory, ScheduleFactory, schedule_with_seats
from tests.problems import assert_problem

pytestmark = pytest.mark.django_db


@pytest.mark.embedded
def test_concert_list_shows_next_schedule(api_client):
    concert = ConcertFactory(name="Alpha", price=120)
    soon = ScheduleFactory(concert=concert, starts_at=timezone.now() + timedelta(days=2))
    ScheduleFactory(concert=concert, starts_at=timezone.now() + timedelta(days=9))
    ConcertFactory(name="Beta")

    body = api_client.get("/api/v1/concerts").json()
    assert body["count"] == 2 and body["next"] is None and body["previous"] is None
    alpha = body["results"][0]
    assert alpha["id"] == concert.id and alpha["name"] == "Alpha" and alpha["price"] == 120
    assert alpha["next_schedule_at"].startswith(soon.starts_at.strftime("%Y-%m-%dT%H:%M"))
    assert body["results"][1]["next_schedule_at"] is None


def test_concert_list_paginates(api_client):
    ConcertFactory.create_batch(5)
    body = api_client.get("/api/v1/concerts?page_size=2&page=2").json()
    assert body["count"] == 5 and len(body["results"]) == 2
    assert body["next"] and body["previous"]
    assert len(api_client.get("/api/v1/concerts?page_size=1000").json()["results"]) == 5
    assert_problem(api_client.get("/api/v1/concerts?page=99"), 404, "not_found")


def test_concert_detail_and_404(api_client):
    concert = ConcertFactory()
    assert api_client.get(f"/api/v1/concerts/{concert.id}").json()["id"] == concert.id
    assert_problem(api_client.get("/api/v1/concerts/999999"), 404, "not_found")
    assert_problem(api_client.get("/api/v1/concerts/abc"), 404, "not_found")


def test_schedules_are_only_the_bookable_ones_soonest_first(api_client):
    now = timezone.now()
    concert = ConcertFactory()
    later = schedule_with_seats(3, concert=concert, starts_at=now + timedelta(days=10))
    sooner = schedule_with_seats(3, concert=concert, starts_at=now + timedelta(days=3))
    schedule_with_seats(
        3, concert=concert, starts_at=now - timedelta(days=1), sales_open_at=now - timedelta(days=5)
    )
    schedule_with_seats(3, concert=concert, sales_open_at=now + timedelta(days=1))  # sales not open yet
    schedule_with_seats(3, concert=concert, sales_close_at=now - timedelta(minutes=1))  # sales closed
    ScheduleFactory(concert=concert)  # no seats at all
    sold_out = schedule_with_seats(1, concert=concert)
    Seat.objects.filter(schedule=sold_out).update(status=SeatStatus.BLOCKED)

    body = api_client.get(f"/api/v1/concerts/{concert.id}/schedules").json()
    assert [s["id"] for s in body["results"]] == [sooner.id, later.id]
    first = body["results"][0]
    assert first["concert_id"] == concert.id
    assert first["available_seats"] == 3 and first["total_seats"] == 3


def test_lapsed_hold_counts_as_available_without_any_job(api_client):
    schedule = schedule_with_seats(2)
    now = timezone.now()
    import uuid

    Seat.objects.filter(schedule=schedule, number=1).update(
        status=SeatStatus.HELD, held_until=now - timedelta(seconds=1), reservation_id=uuid.uuid4()
    )
    Seat.objects.filter(schedule=schedule, number=2).update(
        status=SeatStatus.HELD, held_until=now + timedelta(minutes=5), reservation_id=uuid.uuid4()
    )
    seats = api_client.get(f"/api/v1/schedules/{schedule.id}/seats").json()["results"]
    assert [(s["number"], s["status"]) for s in seats] == [(1, "AVAILABLE"), (2, "HELD")]
    schedules = api_client.get(f"/api/v1/concerts/{schedule.concert_id}/schedules").json()["results"]
    assert schedules[0]["available_seats"] == 1


def test_schedules_filter_by_date(api_client):
    concert = ConcertFactory()
    day = (timezone.now() + timedelta(days=4)).replace(hour=12)
    on_day = schedule_with_seats(1, concert=concert, starts_at=day)
    schedule_with_seats(1, concert=concert, starts_at=day + timedelta(days=1))
    body = api_client.get(f"/api/v1/concerts/{concert.id}/schedules?date={day:%Y-%m-%d}").json()
    assert [s["id"] for s in body["results"]] == [on_day.id]


@pytest.mark.parametrize("bad", ["2026-13-01", "tomorrow", "2026/01/01"])
def test_schedules_bad_date_is_invalid(api_client, bad):
    concert = ConcertFactory()
    body = assert_problem(
        api_client.get(f"/api/v1/concerts/{concert.id}/schedules?date={bad}"), 400, "invalid"
    )
    assert "date" in body["fields"]


def test_schedules_of_unknown_concert_is_404(api_client):
    assert_problem(api_client.get("/api/v1/concerts/424242/schedules"), 404, "not_found")


def test_schedule_list_query_count_does_not_grow_with_schedules(api_client):
    concert = ConcertFactory()
    for _ in range(6):
        schedule_with_seats(5, concert=concert)
    with CaptureQueriesContext(connection) as queries:
        response = api_client.get(f"/api/v1/concerts/{concert.id}/schedules")
    assert response.status_code == 200 and response.json()["count"] == 6
    assert len(queries) == 3  # concert, count, page


def test_concert_list_query_count_is_constant(api_client):
    for _ in range(5):
        ScheduleFactory()
    with CaptureQueriesContext(connection) as queries:
        assert api_client.get("/api/v1/concerts").json()["count"] == 5
    assert len(queries) == 2  # count, page


@pytest.mark.embedded
def test_seat_map_comes_whole_by_number(api_client):
    schedule = schedule_with_seats(150)
    with CaptureQueriesContext(connection) as queries:
        body = api_client.get(f"/api/v1/schedules/{schedule.id}/seats").json()
    assert body["count"] == 150 and len(body["results"]) == 150 and body["next"] is None
    assert [s["number"] for s in body["results"]] == list(range(1, 151))
    assert set(body["results"][0]) >= {"id", "number", "grade", "price", "status"}
    assert len(queries) <= 3


def test_seat_map_filters_by_status(api_client):
    schedule = schedule_with_seats(4)
    Seat.objects.filter(schedule=schedule, number__in=[1, 2]).update(
        status=SeatStatus.SOLD, reservation_id=__import__("uuid").uuid4()
    )
    Seat.objects.filter(schedule=schedule, number=3).update(status=SeatStatus.BLOCKED)
    available = api_client.get(f"/api/v1/schedules/{schedule.id}/seats?status=AVAILABLE").json()
    assert [s["number"] for s in available["results"]] == [4]
    sold = api_client.get(f"/api/v1/schedules/{schedule.id}/seats?status=SOLD").json()
    assert [s["number"] for s in sold["results"]] == [1, 2, 3]  # a blocked seat is not for sale
    body = assert_problem(
        api_client.get(f"/api/v1/schedules/{schedule.id}/seats?status=FREE"), 400, "invalid"
    )
    assert "status" in body["fields"]


def test_seat_map_of_unknown_schedule_is_404(api_client):
    assert_problem(api_client.get("/api/v1/schedules/987654/seats"), 404, "not_found")
