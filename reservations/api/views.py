from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from config.api.auth import request_user_id
from config.api.lists import paginated_response
from config.api.schema import problem_responses
from idempotency.api import IDEMPOTENCY_KEY_PARAMETER
from reservations import selectors
from reservations.api.serializers import (
    ORDER_CREATE_REQUEST,
    OrderOutput,
    ReservationCreateInput,
    ReservationOutput,
)

QUEUE_TOKEN_PARAMETER = OpenApiParameter(
    "X-Queue-Token", str, OpenApiParameter.HEADER, required=True, description="An ACTIVE queue token."
)


class ReservationListCreateView(GenericAPIView):
    serializer_class = ReservationOutput

    @extend_schema(
        responses={
            200: ReservationOutput(many=True),
            **problem_responses(401, (404, "`not_found`: no such page"), 503),
        },
        operation_id="reservations_list",
    )
    def get(self, request: Request) -> Response:
        return paginated_response(
            self, selectors.reservation_list(user_id=request_user_id(request)), ReservationOutput
        )

    @extend_schema(
        request=ReservationCreateInput,
        responses={
            201: ReservationOutput,
            **problem_responses(
                400,
                (401, "`not_authenticated`, `authentication_failed`, or `queue_token_required`"),
                (403, "`queue_token_not_active`: waiting, expired, another concert's or another user's"),
                (404, "`not_found`: no such schedule or seat"),
                (409, "`seat_unavailable`, `hold_limit_reached`, `schedule_closed` or `request_in_progress`"),
                415,
                422,
                429,
                503,
            ),
        },
        parameters=[QUEUE_TOKEN_PARAMETER, IDEMPOTENCY_KEY_PARAMETER],
        operation_id="reservations_create",
    )
    def post(self, request: Request) -> Response:
        # Documentation only: POST is served by reservations.api.hot.reservation_hold_view, which the
        # URL routes to before this view is reached.
        raise NotImplementedError("POST /reservations is served by reservations.api.hot")


class ReservationDetailView(GenericAPIView):
    serializer_class = ReservationOutput

    @extend_schema(
        responses={
            200: ReservationOutput,
            **problem_responses(401, (404, "`not_found`: no such reservation of this user"), 503),
        },
        operation_id="reservations_retrieve",
    )
    def get(self, request: Request, reservation_id) -> Response:  # type: ignore[no-untyped-def]
        reservation = selectors.reservation_get(
            user_id=request_user_id(request), reservation_id=reservation_id
        )
        return Response(ReservationOutput(reservation).data)


class OrderListCreateView(GenericAPIView):
    serializer_class = OrderOutput

    @extend_schema(
        responses={
            200: OrderOutput(many=True),
            **problem_responses(401, (404, "`not_found`: no such page"), 503),
        },
        operation_id="orders_list",
    )
    def get(self, request: Request) -> Response:
        return paginated_response(self, selectors.order_list(user_id=request_user_id(request)), OrderOutput)

    @extend_schema(
        request=ORDER_CREATE_REQUEST,
        responses={
            201: OrderOutput,
            **problem_responses(
                400,
                (401, "`not_authenticated`, `authentication_failed`, or `queue_token_required`"),
                (403, "`queue_token_not_active`: waiting, expired, another concert's or another user's"),
                (404, "`not_found`: no such schedule, or no such seat number in it"),
                (
                    409,
                    "`seat_unavailable` (with `unavailable_seats`: the numbers held or sold), "
                    "`not_enough_seats` (fewer takeable seats remain than asked for), `hold_limit_reached`, "
                    "`schedule_closed` or `request_in_progress`",
                ),
                415,
                422,
                429,
                503,
            ),
        },
        parameters=[QUEUE_TOKEN_PARAMETER, IDEMPOTENCY_KEY_PARAMETER],
        operation_id="orders_create",
        description="Hold several seats of one schedule together, all or none: the chosen `seat_numbers`, "
        "or `quantity` seats best available (the lowest-numbered run of adjacent takeable seats, else the "
        "lowest-numbered takeable seats). They share one deadline and are paid once.",
    )
    def post(self, request: Request) -> Response:
        # Documentation only: POST is served by reservations.api.hot.order_create_view, which the URL
        # routes to before this view is reached.
        raise NotImplementedError("POST /orders is served by reservations.api.hot")


class OrderDetailView(GenericAPIView):
    serializer_class = OrderOutput

    @extend_schema(
        responses={
            200: OrderOutput,
            **problem_responses(401, (404, "`not_found`: no such order of this user"), 503),
        },
        operation_id="orders_retrieve",
    )
    def get(self, request: Request, order_id) -> Response:  # type: ignore[no-untyped-def]
        order = selectors.order_get(user_id=request_user_id(request), order_id=order_id)
        return Response(OrderOutput(order).data)
