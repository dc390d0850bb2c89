"""POST /reservations (a plain view) answers as a DRF view built from ReservationCreateInput and
ReservationOutput would."""

import json

import pytest
from rest_framework.request import Request
from rest_framework.response import Response

from config.api.throttling import throttle
from reservations import services
from reservations.api import hot
from reservations.api.serializers import ReservationCreateInput, ReservationOutput
from reservations.api.views import ReservationListCreateView
from tests.booking import booker_for, lapse, on_sale_schedule
from tests.conftest import limit_rate
from tests.parity.harness import FIELD_VALUES, RAW_BODIES, both, masked, rendered, request, value_for

pytestmark = pytest.mark.django_db


class ReservationCreateReference(ReservationListCreateView):
    throttle_classes = [throttle("booking")]

    def post(self, request: Request) -> Response:
        wanted = ReservationCreateInput(data=request.data)
        wanted.is_valid(raise_exception=True)
        reservation = services.reservation_hold(
            user_id=request.user.pk,
            schedule_id=wanted.validated_data["schedule_id"],
            seat_number=wanted.validated_data["seat_number"],
            queue_token=request.headers.get("X-Queue-Token"),
        )
        return Response(ReservationOutput(reservation).data, status=201)


reference = ReservationCreateReference.as_view()


def hold_pair(fan, body: bytes, *, content_type: str = "application/json", **headers: str):
    headers = {"HTTP_AUTHORIZATION": fan.client._credentials["HTTP_AUTHORIZATION"], **headers}
    make = request("POST", "/api/v1/reservations", body=body, content_type=content_type, **headers)
    plain, drf = both(hot.reservation_hold_view, reference, make, undo_redis=False)
    return masked(plain, "id", "order_id"), masked(drf, "id", "order_id")


@pytest.fixture
def fan_and_schedule():
    schedule = on_sale_schedule(seats=3, price=70)
    return booker_for(schedule), schedule


def test_the_hold_body_is_reservation_output(fan_and_schedule):
    fan, schedule = fan_and_schedule
    response = fan.hold(schedule, 2)
    assert response.status_code == 201
    reservation = services.Reservation.objects.get(pk=response.json()["id"])
    assert rendered(hot.reservation_body(reservation)) == rendered(ReservationOutput(reservation).data)
    assert response.json() == rendered(ReservationOutput(reservation).data)
    lapse(reservation.pk)  # a lapsed hold reads EXPIRED in both
    reservation.refresh_from_db()
    assert rendered(hot.reservation_body(reservation)) == rendered(ReservationOutput(reservation).data)
    assert hot.reservation_body(reservation)["status"] == "EXPIRED"


@pytest.mark.parametrize("field", ["schedule_id", "seat_number"])
@pytest.mark.parametrize("kind", [*FIELD_VALUES, "missing"], ids=repr)
def test_hold_treats_every_field_value_as_drf_does(field, kind, fan_and_schedule):
    fan, schedule = fan_and_schedule
    body = {"schedule_id": schedule.pk, "seat_number": 1}
    if kind == "missing":
        del body[field]
    else:
        body[field] = value_for(kind, body[field])
    plain, drf = hold_pair(fan, json.dumps(body).encode(), HTTP_X_QUEUE_TOKEN=fan.token)
    assert plain == drf
    assert plain.status in (201, 400, 404)


@pytest.mark.parametrize(
    "body", [*RAW_BODIES, b"{}", b'{"schedule_id": 1, "seat_number": 1, "x": 1}'], ids=repr
)
def test_hold_treats_every_body_as_drf_does(body, fan_and_schedule):
    fan, _ = fan_and_schedule
    plain, drf = hold_pair(fan, body, HTTP_X_QUEUE_TOKEN=fan.token)
    assert plain == drf
    assert plain.status in (400, 404)


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("text/plain", b'{"schedule_id": 1, "seat_number": 1}'),
        ("application/x-www-form-urlencoded", b"schedule_id=1&seat_number=1"),
        ("text/plain", b""),
        ("application/json; charset=latin-1", b'{"schedule_id": "\xe9", "seat_number": 1}'),
    ],
)
def test_hold_treats_content_types_as_drf_does(content_type, body, fan_and_schedule):
    fan, _ = fan_and_schedule
    plain, drf = hold_pair(fan, body, content_type=content_type, HTTP_X_QUEUE_TOKEN=fan.token)
    assert plain == drf


@pytest.mark.parametrize(
    "headers", [{}, {"HTTP_X_QUEUE_TOKEN": "forged"}, {"HTTP_AUTHORIZATION": "Bearer nonsense"}]
)
def test_hold_refusals_before_the_seat_match_drf(headers, fan_and_schedule):
    fan, schedule = fan_and_schedule
    body = json.dumps({"schedule_id": schedule.pk, "seat_number": 1}).encode()
    plain, drf = hold_pair(fan, body, **headers)
    assert plain == drf
    assert plain.status in (401, 403)


def test_hold_throttles_as_drf_does(settings, fan_and_schedule):
    limit_rate(settings, "booking", "1/minute")
    fan, schedule = fan_and_schedule
    assert fan.hold(schedule, 3).status_code == 201  # the minute's one request
    body = json.dumps({"schedule_id": schedule.pk, "seat_number": 1}).encode()
    plain, drf = hold_pair(fan, body, HTTP_X_QUEUE_TOKEN=fan.token)
    assert plain == drf
    assert plain.status == 429
