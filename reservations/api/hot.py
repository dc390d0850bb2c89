"""POST /api/v1/reservations as a plain view: the seat rush's hot path (see config.api.plain).

Same contract as a DRF view would give (Bearer auth, the `booking` rate limit, Idempotency-Key, problem
documents), without DRF's request cycle: the body is checked by the fields of ReservationCreateInput (the
serializer that documents it) and answered with ReservationOutput's fields; tests/parity proves both.
GET on the same path stays the DRF list view.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

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
from reservations.api.serializers import ReservationCreateInput
from reservations.api.views import ReservationListCreateView
from reservations.models import Reservation
from reservations.selectors import reservation_status_now

_list_view = ReservationListCreateView.as_view()


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


@plain_endpoint("POST")
def reservation_hold_view(request: HttpRequest) -> HttpResponse:
    user_id = authenticated_user_id(request, required=True)
    assert user_id is not None  # required=True raises instead
    require_rate(request, "booking")
    body = json_body(request)
    wanted = validated(body, ReservationCreateInput)

    def hold() -> tuple[int, dict[str, Any]]:
        reservation = services.reservation_hold(
            user_id=user_id,
            schedule_id=wanted["schedule_id"],
            seat_number=wanted["seat_number"],
            queue_token=request.headers.get("X-Queue-Token"),
        )
        return 201, reservation_body(reservation)

    status, answer, headers = idempotent_answer(
        user_id=user_id,
        key=request.headers.get(IDEMPOTENCY_HEADER),
        method="POST",
        path=request.path,
        body=body,
        handler=hold,
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
