"""The API of the cross-app flows: pay an order (POST /payments, with the list of payments on GET) and
cancel an order or one seat of it (POST /orders/{id}/cancel, POST /reservations/{id}/cancel).
Serializers stay with the data they describe."""

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from booking import services
from config.api.auth import request_user_id
from config.api.lists import paginated_response
from config.api.schema import problem_responses
from config.api.throttling import throttle
from idempotency.api import IDEMPOTENCY_KEY_PARAMETER, run_idempotent
from payments import selectors as payment_selectors
from payments.api.serializers import PAYMENT_CREATE_REQUEST, PaymentCreateInput, PaymentOutput
from reservations import selectors as reservation_selectors
from reservations.api.serializers import OrderOutput, ReservationOutput
from reservations.api.views import QUEUE_TOKEN_PARAMETER


class PaymentListCreateView(GenericAPIView):
    serializer_class = PaymentOutput

    def get_throttles(self):  # type: ignore[no-untyped-def]
        return [throttle("booking")()] if self.request.method == "POST" else []

    @extend_schema(
        responses={
            200: PaymentOutput(many=True),
            **problem_responses(401, (404, "`not_found`: no such page"), 503),
        },
        operation_id="payments_list",
    )
    def get(self, request: Request) -> Response:
        return paginated_response(
            self, payment_selectors.payment_list(user_id=request_user_id(request)), PaymentOutput
        )

    @extend_schema(
        request=PAYMENT_CREATE_REQUEST,
        responses={
            201: PaymentOutput,
            **problem_responses(
                400,
                (401, "`not_authenticated`, `authentication_failed`, or `queue_token_required`"),
                (403, "`queue_token_not_active`: waiting, expired, another concert's or another user's"),
                (404, "`not_found`: no such order or reservation of this user"),
                (
                    409,
                    "`reservation_expired`, `reservation_not_pending`, `insufficient_points` or "
                    "`request_in_progress`",
                ),
                415,
                422,
                429,
                503,
            ),
        },
        parameters=[QUEUE_TOKEN_PARAMETER, IDEMPOTENCY_KEY_PARAMETER],
        operation_id="payments_create",
    )
    def post(self, request: Request) -> Response:
        data = PaymentCreateInput(data=request.data)
        data.is_valid(raise_exception=True)

        def pay() -> tuple[int, dict]:
            payment = services.payment_create(
                user_id=request_user_id(request),
                order_id=data.validated_data.get("order_id"),
                reservation_id=data.validated_data.get("reservation_id"),
                queue_token=request.headers.get("X-Queue-Token"),
            )
            return status.HTTP_201_CREATED, PaymentOutput(payment).data

        return run_idempotent(request, pay)


class ReservationCancelView(GenericAPIView):
    serializer_class = ReservationOutput

    @extend_schema(
        request=None,
        responses={
            200: ReservationOutput,
            **problem_responses(
                401,
                (404, "`not_found`: no such reservation of this user"),
                (409, "`reservation_not_cancellable`"),
                503,
            ),
        },
        operation_id="reservations_cancel",
    )
    def post(self, request: Request, reservation_id) -> Response:  # type: ignore[no-untyped-def]
        reservation = services.reservation_cancel(
            reservation_id=reservation_id, user_id=request_user_id(request)
        )
        return Response(ReservationOutput(reservation).data)


class OrderCancelView(GenericAPIView):
    serializer_class = OrderOutput

    @extend_schema(
        request=None,
        responses={
            200: OrderOutput,
            **problem_responses(
                401,
                (404, "`not_found`: no such order of this user"),
                (409, "`order_not_cancellable`"),
                503,
            ),
        },
        operation_id="orders_cancel",
    )
    def post(self, request: Request, order_id) -> Response:  # type: ignore[no-untyped-def]
        user_id = request_user_id(request)
        order = services.order_cancel(order_id=order_id, user_id=user_id)
        return Response(OrderOutput(reservation_selectors.order_get(user_id=user_id, order_id=order.pk)).data)
