"""`run_idempotent(request, handler)` for POST views that accept an Idempotency-Key header.

The handler validates the input and calls one service, returning (status, body); it raises a
DomainError or ValidationError to refuse. Example:

    def post(self, request):
        def handler():
            data = ChargeInput(data=request.data)
            data.is_valid(raise_exception=True)
            return 200, {"balance": services.points_charge(user_id=request.user.pk, **data.validated_data)}
        return run_idempotent(request, handler)
"""

from drf_spectacular.utils import OpenApiParameter
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from config import metrics
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


def run_idempotent(request: Request, handler: Handler) -> Response:
    key = request.headers.get(HEADER)
    if key is None:
        status, body = handler()
        return Response(body, status=status)
    if not 1 <= len(key) <= MAX_KEY_LENGTH:
        raise ValidationError({HEADER: [f"Must be 1 to {MAX_KEY_LENGTH} characters long."]})
    # request.data parses the body first: malformed JSON is a plain 400, never stored.
    fingerprint = idempotency_fingerprint(method=request.method or "", path=request.path, body=request.data)
    status, body, replayed = idempotent_call(
        user_id=request.user.pk, key=key, fingerprint=fingerprint, handler=handler
    )
    if replayed:
        metrics.IDEMPOTENT_REPLAYS.inc()
    headers = {REPLAYED_HEADER: "true"} if replayed else {}
    content_type = PROBLEM_CONTENT_TYPE if status >= 400 else None
    return Response(body, status=status, headers=headers, content_type=content_type)
