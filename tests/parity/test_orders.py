"""POST /orders (a plain view) answers as a DRF view built from OrderCreateInput and OrderOutput would."""

import json
from typing import Any

import pytest
from rest_framework.request import Request
from rest_framework.response import Response

from booking import services as booking_services
from config.api.throttling import throttle
from reservations import selectors, services
from reservations.api import hot
from reservations.api.serializers import OrderCreateInput, OrderOutput
from reservations.api.views import OrderListCreateView
from tests.booking import booker_for, lapse_order, on_sale_schedule
from tests.conftest import limit_rate
from tests.parity.harness import FIELD_VALUES, RAW_BODIES, Answer, both, rendered, request, value_for

pytestmark = pytest.mark.django_db


class OrderCreateReference(OrderListCreateView):
    throttle_classes = [throttle("booking")]

    def post(self, request: Request) -> Response:
        wanted = OrderCreateInput(data=request.data)
        wanted.is_valid(raise_exception=True)
        order = services.order_hold(
            user_id=request.user.pk,
            schedule_id=wanted.validated_data["schedule_id"],
            seat_numbers=wanted.validated_data.get("seat_numbers"),
            quantity=wanted.validated_data.get("quantity"),
            grade=wanted.validated_data.get("grade"),
            queue_token=request.headers.get("X-Queue-Token"),
        )
        return Response(OrderOutput(order).data, status=201)


reference = OrderCreateReference.as_view()


def _masked(answer: Answer) -> Answer:
    """New ids (the order's, its reservations') replaced by their type."""
    body: Any = answer.body
    if isinstance(body, dict) and "seats" in body:
        seats = [{**seat, "reservation_id": type(seat["reservation_id"]).__name__} for seat in body["seats"]]
        body = {**body, "id": type(body["id"]).__name__, "seats": seats}
    return Answer(answer.status, answer.content_type, body, answer.headers)


def order_pair(fan, body: bytes | dict, *, content_type: str = "application/json", **headers: str):
    raw = json.dumps(body).encode() if isinstance(body, dict) else body
    headers = {"HTTP_AUTHORIZATION": fan.client._credentials["HTTP_AUTHORIZATION"], **headers}
    make = request("POST", "/api/v1/orders", body=raw, content_type=content_type, **headers)
    plain, drf = both(hot.order_create_view, reference, make, undo_redis=False)
    return _masked(plain), _masked(drf)


@pytest.fixture
def fan_and_schedule():
    schedule = on_sale_schedule(seats=6, price=70)
    return booker_for(schedule), schedule


def _as_read(order_id) -> Any:
    """The order as GET /orders/{id} reads it from the database."""
    return selectors.order_get(user_id=selectors.Order.objects.get(pk=order_id).user_id, order_id=order_id)


@pytest.mark.parametrize(
    "wanted", [{"seat_numbers": [4, 2]}, {"quantity": 3}, {"quantity": 1, "grade": "R"}], ids=repr
)
def test_the_order_body_is_order_output(wanted, fan_and_schedule):
    fan, schedule = fan_and_schedule
    response = fan.order(schedule, **wanted)
    assert response.status_code == 201
    order = _as_read(response.json()["id"])
    assert response.json() == rendered(OrderOutput(order).data)
    assert rendered(hot.order_body(order)) == rendered(OrderOutput(order).data)
    expected = len(wanted["seat_numbers"]) if "seat_numbers" in wanted else wanted["quantity"]
    assert len(response.json()["seats"]) == expected


def test_lapsed_and_cancelled_orders_read_alike(fan_and_schedule):
    fan, schedule = fan_and_schedule
    lapsed = fan.order(schedule, seat_numbers=[1, 2]).json()["id"]
    lapse_order(lapsed)
    order = _as_read(lapsed)
    assert hot.order_body(order)["status"] == "EXPIRED"
    assert rendered(hot.order_body(order)) == rendered(OrderOutput(order).data)
    cancelled = fan.order(schedule, seat_numbers=[3, 4]).json()["id"]
    booking_services.order_cancel(user_id=fan.user.pk, order_id=cancelled)
    order = _as_read(cancelled)
    assert hot.order_body(order)["status"] == "CANCELLED" and len(hot.order_body(order)["seats"]) == 2
    assert rendered(hot.order_body(order)) == rendered(OrderOutput(order).data)


SEAT_LISTS: list[Any] = [
    [1],
    [1, 1],
    [0],
    [],
    [1, "2"],
    [1, 2.0],
    [1, None],
    [1, 2, 3, 4, 5],
    "1",
    1,
    None,
    {},
]


@pytest.mark.parametrize(
    ("field", "kind"),
    [
        *((f, k) for f in ("schedule_id", "quantity") for k in [*FIELD_VALUES, "missing"]),
        *(("seat_numbers", k) for k in [*SEAT_LISTS, "missing"]),
        *(("grade", k) for k in ["R", "VIP", "", None, 1, "x" * 21, [], "missing"]),
    ],
    ids=repr,
)
def test_order_treats_every_field_value_as_drf_does(field, kind, fan_and_schedule):
    fan, schedule = fan_and_schedule
    body: dict[str, Any] = {"schedule_id": schedule.pk}
    if field == "seat_numbers":
        body[field] = kind
    elif field == "grade":
        body.update(quantity=2, grade=kind)
    else:
        body["quantity"] = 2
        body[field] = value_for(kind, body[field])
    if kind == "missing":
        del body[field]
    plain, drf = order_pair(fan, body, HTTP_X_QUEUE_TOKEN=fan.token)
    assert plain == drf
    assert plain.status in (201, 400, 404, 409)


@pytest.mark.parametrize(
    "body",
    [
        *RAW_BODIES,
        b"{}",
        b'{"schedule_id": 1}',
        b'{"schedule_id": 1, "quantity": 2, "seat_numbers": [1, 2]}',
        b'{"schedule_id": 1, "seat_numbers": [1], "grade": "S"}',
        b'{"schedule_id": 1, "quantity": 2, "x": 1}',
    ],
    ids=repr,
)
def test_order_treats_every_body_as_drf_does(body, fan_and_schedule):
    fan, _ = fan_and_schedule
    plain, drf = order_pair(fan, body, HTTP_X_QUEUE_TOKEN=fan.token)
    assert plain == drf
    assert plain.status in (400, 404)


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("text/plain", b'{"schedule_id": 1, "quantity": 1}'),
        ("application/x-www-form-urlencoded", b"schedule_id=1&quantity=1"),
        ("text/plain", b""),
    ],
)
def test_order_treats_content_types_as_drf_does(content_type, body, fan_and_schedule):
    fan, _ = fan_and_schedule
    plain, drf = order_pair(fan, body, content_type=content_type, HTTP_X_QUEUE_TOKEN=fan.token)
    assert plain == drf


@pytest.mark.parametrize(
    "headers", [{}, {"HTTP_X_QUEUE_TOKEN": "forged"}, {"HTTP_AUTHORIZATION": "Bearer nonsense"}]
)
def test_order_refusals_before_the_seats_match_drf(headers, fan_and_schedule):
    fan, schedule = fan_and_schedule
    plain, drf = order_pair(fan, {"schedule_id": schedule.pk, "quantity": 2}, **headers)
    assert plain == drf
    assert plain.status in (401, 403)


@pytest.mark.parametrize(
    "wanted", [{"seat_numbers": [2, 3]}, {"quantity": 3}, {"seat_numbers": [1, 2, 3, 4]}], ids=repr
)
def test_order_refusals_over_seats_match_drf(wanted, fan_and_schedule):
    fan, schedule = fan_and_schedule
    rival = booker_for(schedule)
    assert rival.order(schedule, seat_numbers=[3, 4, 6]).status_code == 201  # seats 1 and 2 remain
    assert fan.order(schedule, seat_numbers=[5]).status_code == 201  # the fan holds one already
    plain, drf = order_pair(fan, {"schedule_id": schedule.pk, **wanted}, HTTP_X_QUEUE_TOKEN=fan.token)
    assert plain == drf
    assert plain.status == 409
    codes = {"seat_numbers": ("seat_unavailable", "hold_limit_reached"), "quantity": ("not_enough_seats",)}
    assert plain.body["code"] in codes[next(iter(wanted))]


def test_order_throttles_as_drf_does(settings, fan_and_schedule):
    limit_rate(settings, "booking", "1/minute")
    fan, schedule = fan_and_schedule
    assert fan.order(schedule, quantity=1).status_code == 201  # the minute's one request
    plain, drf = order_pair(fan, {"schedule_id": schedule.pk, "quantity": 1}, HTTP_X_QUEUE_TOKEN=fan.token)
    assert plain == drf
    assert plain.status == 429
