"""POST /api/v1/reservations and POST /api/v1/orders as plain views: the seat rush's hot paths (see
config.api.plain).

Same contract as a DRF view would give (Bearer auth, the `booking` rate limit, Idempotency-Key, problem
documents), without DRF's request cycle: a body is checked by the serializer that documents it
(ReservationCreateInput, OrderCreateInput) and answered with the fields of ReservationOutput or
OrderOutput; tests/parity proves both. GET on the same paths stays the DRF list views.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from rest_framework.serializers import Serializer

from config import clock
from config.api.plain import (
    authenticated_user_id,
    iso_datetime,
    json_body,
    json_response,
    plain_endpoint,
    require_rate,
    validated,
)
from config.exceptions import PROBLEM_CONTENT_TYPE
from idempotency.api import HEADER as IDEMPOTENCY_HEADER
from idempotency.api import idempotent_answer
from reservations import services
from reservations.api.serializers import OrderCreateInput, ReservationCreateInput
from reservations.api.views import OrderListCreateView, ReservationListCreateView
from reservations.models import Order, Reservation
from reservations.selectors import order_seats, order_status_now, order_total, reservation_status_now

_list_view = ReservationListCreateView.as_view()
_order_list_view = OrderListCreateView.as_view()


def reservation_body(reservation: Reservation) -> dict[str, Any]:
    """ReservationOutput(reservation).data, built by hand for speed (tests/parity keeps the two identical)."""
    return {
        "id": str(reservation.pk),
        "order_id": str(reservation.order_id),
        "schedule_id": reservation.schedule_id,
        "concert_id": reservation.concert_id,
        "seat_id": reservation.seat_id,
        "seat_number": reservation.seat_number,
        "price": reservation.price,
        "status": reservation_status_now(reservation=reservation, now=clock.now()),
        "expires_at": iso_datetime(reservation.expires_at),
        "created_at": iso_datetime(reservation.created_at),
    }


def order_body(order: Order) -> dict[str, Any]:
    """OrderOutput(order).data, built by hand for speed (tests/parity keeps the two identical)."""
    now = clock.now()
    seats = [
        {
            "reservation_id": str(seat.pk),
            "seat_id": seat.seat_id,
            "seat_number": seat.seat_number,
            "grade": seat.grade,  # type: ignore[attr-defined]  # set by the hold, or annotated by the selector
            "price": seat.price,
            "status": reservation_status_now(reservation=seat, now=now),
        }
        for seat in order_seats(order)
    ]
    return {
        "id": str(order.pk),
        "schedule_id": order.schedule_id,
        "concert_id": order.concert_id,
        "status": order_status_now(order=order, now=now),
        "seats": seats,
        "total": order_total(order),
        "expires_at": iso_datetime(order.expires_at),
        "created_at": iso_datetime(order.created_at),
    }


@plain_endpoint("POST")
def reservation_hold_view(request: HttpRequest) -> HttpResponse:
    def hold(user_id: int, wanted: dict[str, Any]) -> dict[str, Any]:
        reservation = services.reservation_hold(
            user_id=user_id,
            schedule_id=wanted["schedule_id"],
            seat_number=wanted["seat_number"],
            queue_token=request.headers.get("X-Queue-Token"),
        )
        return reservation_body(reservation)

    return _booking_post(request, ReservationCreateInput, hold)


@plain_endpoint("POST")
def order_create_view(request: HttpRequest) -> HttpResponse:
    def hold(user_id: int, wanted: dict[str, Any]) -> dict[str, Any]:
        order = services.order_hold(
            user_id=user_id,
            schedule_id=wanted["schedule_id"],
            seat_numbers=wanted.get("seat_numbers"),
            quantity=wanted.get("quantity"),
            grade=wanted.get("grade"),
            queue_token=request.headers.get("X-Queue-Token"),
        )
        return order_body(order)

    return _booking_post(request, OrderCreateInput, hold)


def _booking_post(
    request: HttpRequest,
    serializer_class: type[Serializer],
    create: Callable[[int, dict[str, Any]], dict[str, Any]],
) -> HttpResponse:
    """A booking POST: Bearer user, the `booking` rate limit, the body checked by `serializer_class`, then
    201 with what `create(user_id, validated body)` answers, or the answer stored under the request's
    Idempotency-Key."""
    user_id = authenticated_user_id(request, required=True)
    assert user_id is not None  # required=True raises instead
    require_rate(request, "booking")
    body = json_body(request)
    wanted = validated(body, serializer_class)
    status, answer, headers = idempotent_answer(
        user_id=user_id,
        key=request.headers.get(IDEMPOTENCY_HEADER),
        method="POST",
        path=request.path,
        body=body,
        handler=lambda: (201, create(user_id, wanted)),
    )
    response = json_response(answer, status=status, headers=headers)
    if status >= 400:  # a stored refusal, replayed
        response["Content-Type"] = PROBLEM_CONTENT_TYPE
    return response


@csrf_exempt
def reservations_collection(request: HttpRequest) -> HttpResponse:
    """/reservations: POST holds a seat (plain view), anything else is the DRF list view."""
    if request.method == "POST":
        return reservation_hold_view(request)
    return _list_view(request)


@csrf_exempt
def orders_collection(request: HttpRequest) -> HttpResponse:
    """/orders: POST holds seats together (plain view), anything else is the DRF list view."""
    if request.method == "POST":
        return order_create_view(request)
    return _order_list_view(request)
