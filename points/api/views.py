from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api.auth import request_user_id
from config.api.lists import paginated_response
from config.api.schema import problem_responses
from config.api.throttling import throttle
from idempotency.api import IDEMPOTENCY_KEY_PARAMETER, run_idempotent
from points import selectors, services
from points.api.serializers import BalanceOutput, LedgerEntryOutput, PointsChargeInput


class PointsBalanceView(APIView):
    @extend_schema(
        responses={200: BalanceOutput, **problem_responses(401, 503)}, operation_id="points_balance"
    )
    def get(self, request: Request) -> Response:
        return Response(
            BalanceOutput({"balance": selectors.wallet_balance(user_id=request_user_id(request))}).data
        )


class PointsChargeView(APIView):
    throttle_classes = [throttle("booking")]

    @extend_schema(
        request=PointsChargeInput,
        responses={200: BalanceOutput, **problem_responses(400, 401, 409, 415, 422, 429, 503)},
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
        operation_id="points_charge",
    )
    def post(self, request: Request) -> Response:
        # Validated before the Idempotency-Key is looked at: a 400 is not stored, so the corrected body
        # can be sent again with the same key.
        data = PointsChargeInput(data=request.data)
        data.is_valid(raise_exception=True)

        def handler() -> tuple[int, dict[str, Any]]:
            balance = services.points_charge(
                user_id=request_user_id(request), amount=data.validated_data["amount"]
            )
            return 200, BalanceOutput({"balance": balance}).data

        return run_idempotent(request, handler)


class PointsHistoryView(GenericAPIView):
    serializer_class = LedgerEntryOutput

    @extend_schema(
        responses={
            200: LedgerEntryOutput(many=True),
            **problem_responses(401, (404, "`not_found`: no such page"), 503),
        },
        operation_id="points_history",
    )
    def get(self, request: Request) -> Response:
        return paginated_response(
            self, selectors.ledger_list(user_id=request_user_id(request)), LedgerEntryOutput
        )
