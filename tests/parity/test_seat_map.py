"""GET /schedules/{id}/seats (a plain view serving a cached body) answers as a DRF view built from
SeatListQuery and SeatOutput would."""

import pytest
from rest_framework.request import Request
from rest_framework.response import Response

from concerts import selectors
from concerts.api import views
from concerts.api.serializers import SeatListQuery, SeatOutput
from concerts.errors import ScheduleNotFound
from concerts.models import Schedule, Seat
from config import clock
from config.api.lists import paginated_response
from tests.booking import booker_for, on_sale_schedule
from tests.parity.harness import both, request

pytestmark = pytest.mark.django_db


class SeatListReference(views.SeatListView):
    def get(self, request: Request, schedule_id: int) -> Response:
        query = SeatListQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        if not Schedule.objects.filter(pk=schedule_id).exists():
            raise ScheduleNotFound()
        seats = (
            Seat.objects.filter(schedule_id=schedule_id)
            .annotate(public_status=selectors.seat_public_status(now=clock.now()))
            .order_by("number")
        )
        if "status" in query.validated_data:
            seats = seats.filter(public_status=query.validated_data["status"])
        return paginated_response(self, seats, SeatOutput)


reference = SeatListReference.as_view()


@pytest.fixture
def schedule():
    schedule = on_sale_schedule(seats=4, price=40)
    Seat.objects.filter(schedule=schedule, number=4).update(price=90, grade="VIP")
    assert booker_for(schedule).hold(schedule, 2).status_code == 201
    return schedule


@pytest.mark.parametrize(
    "query",
    [
        "",
        "?status=AVAILABLE",
        "?status=HELD",
        "?status=SOLD",
        "?status=held",
        "?status=",
        "?status=BLOCKED",
        "?x=1",
    ],
)
def test_seat_map_answers_as_drf_does(query, schedule):
    make = request("GET", f"/api/v1/schedules/{schedule.pk}/seats{query}")
    plain, drf = both(views.seat_map_view, reference, make, undo_redis=False, schedule_id=schedule.pk)
    assert plain == drf
    assert plain.status in (200, 400)


def test_unknown_schedule_and_wrong_method_answer_as_drf_does(schedule):
    make = request("GET", "/api/v1/schedules/987654/seats")
    plain, drf = both(views.seat_map_view, reference, make, undo_redis=False, schedule_id=987654)
    assert plain == drf and plain.status == 404
    make = request("POST", f"/api/v1/schedules/{schedule.pk}/seats", body=b"{}")
    plain, drf = both(views.seat_map_view, reference, make, undo_redis=False, schedule_id=schedule.pk)
    assert plain == drf and plain.status == 405


def test_head_answers_as_drf_does(schedule):
    make = request("HEAD", f"/api/v1/schedules/{schedule.pk}/seats")
    plain, drf = both(views.seat_map_view, reference, make, undo_redis=False, schedule_id=schedule.pk)
    assert plain == drf and plain.status == 200
