"""`run_idempotent(request, handler)` for POST views that accept an Idempotency-Key header.

The handler validates the input and calls one service, returning (status, body); it raises a
DomainError or ValidationError to refuse. Example:

    def post(self, request):
        def handler():
            data = ChargeInput(data=request.data)
            data.is_valid(raise_exception=True)
            balance = services.points_charge(user_id=request_user_id(request), **data.validated_data)
            return 200, {"balance": balance}
        return run_idempotent(request, handler)
"""

from typing import Any

from drf_spectacular.utils import OpenApiParameter
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from config import metrics
from config.api.auth import request_user_id
from config.exceptions import PROBLEM_CONTENT_TYPE
from idempotency.services import Handler, idempotency_fingerprint, idempotent_call

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
MAX_KEY_LENGTH = 255

# For @extend_schema(parameters=[...]) on the views that use run_idempotent.
IDEMPOTENCY_KEY_PARAMETER = OpenApiParameter(
    HEADER,
    {"type": "string", "minLength": 1, "maxLength": MAX_KEY_LENGTH},
    OpenApiParameter.HEADER,
    description="1..255 characters. A repeat by the same user within 24 hours replays the first answer "
    "(header Idempotent-Replayed: true); another body with the same key is 422 idempotency_key_reused; "
    "a repeat while the first still runs is 409 request_in_progress.",
)


def idempotent_answer(
    *, user_id: int, key: str | None, method: str, path: str, body: object, handler: Handler
) -> tuple[int, dict[str, Any], dict[str, str]]:
    """(status, body, headers) of a request that may carry an Idempotency-Key; for DRF and plain views.
    `body` is the parsed request body (malformed JSON never gets here, so it is never stored)."""
    if key is None:
        status, answer = handler()
        return status, answer, {}
    if not 1 <= len(key) <= MAX_KEY_LENGTH:
        raise ValidationError({HEADER: [f"Must be 1 to {MAX_KEY_LENGTH} characters long."]})
    fingerprint = idempotency_fingerprint(method=method, path=path, body=body)
    status, answer, replayed = idempotent_call(
        user_id=user_id, key=key, fingerprint=fingerprint, handler=handler
    )
    if replayed:
        metrics.IDEMPOTENT_REPLAYS.inc()
    return status, answer, ({REPLAYED_HEADER: "true"} if replayed else {})


def run_idempotent(request: Request, handler: Handler) -> Response:
    status, body, headers = idempotent_answer(
        user_id=request_user_id(request),
        key=request.headers.get(HEADER),
        method=request.method or "",
        path=request.path,
        body=request.data if HEADER in request.headers else None,
        handler=handler,
    )
    content_type = PROBLEM_CONTENT_TYPE if status >= 400 else None
    return Response(body, status=status, headers=headers, content_type=content_type)
