"""The queue's two hot endpoints as plain Django views: no DRF request cycle, no SQL with Redis.

Built from config.api.plain: the body is checked by the fields of QueueTokenIssueInput, errors become
the contract's problem documents through config.exceptions, and the Bearer JWT is verified by signature
only (no user row). The OpenAPI schema comes from the documentation classes in api/schema.py attached
to these views.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from drf_spectacular.utils import extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api.plain import (
    authenticated_user_id,
    iso_datetime,
    json_body,
    json_response,
    plain_endpoint,
    validated,
)
from config.api.schema import problem_responses
from queue_app import selectors, services
from queue_app.api.serializers import QueueOverviewOutput, QueueTokenIssueInput
from queue_app.errors import QueueTokenRequired

OVERVIEW_MAX_AGE_SECONDS = 1


def token_body(view: services.QueueTokenView) -> dict[str, Any]:
    return {
        "token": view.token,
        "concert_id": view.concert_id,
        "queue_number": view.queue_number,
        "status": view.status,
        "position": view.position,
        "estimated_wait_seconds": view.estimated_wait_seconds,
        "expires_at": iso_datetime(view.expires_at),
        "issued_at": iso_datetime(view.issued_at),
        "expired_reason": view.expired_reason,
    }


@plain_endpoint("POST")
def queue_token_issue(request: HttpRequest) -> HttpResponse:
    user_id = authenticated_user_id(request, required=True)
    view, created = services.queue_token_issue(
        user_id=user_id,  # type: ignore[arg-type]  # required=True
        concert_id=validated(json_body(request), QueueTokenIssueInput)["concert_id"],
        rate_limited=True,
    )
    return json_response(token_body(view), status=201 if created else 200)


@plain_endpoint("GET")
def queue_status(request: HttpRequest) -> HttpResponse:
    user_id = authenticated_user_id(
        request, required=False
    )  # a bad Authorization is refused first, as DRF does
    token = request.headers.get("X-Queue-Token", "").strip()
    if not token:
        raise QueueTokenRequired()
    view = services.queue_token_status(token=token, user_id=user_id, rate_limited=True)
    response = json_response(token_body(view))
    response["Cache-Control"] = "no-store"
    return response


class QueueOverviewView(APIView):
    """GET /concerts/{id}/queue: public, cheap, cacheable for a second."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="concerts_queue_retrieve",
        summary="A concert's sale and queue at a glance",
        description="The state of the sale (SCHEDULED, OPEN, PAUSED, SOLD_OUT), the queue's counts, the "
        "honest wait for a token taken now and the verifiable draw (commitment now, seed once drawn). "
        "Reading it at or after the opening performs the draw if nobody has. May be cached for a second.",
        responses={200: QueueOverviewOutput, **problem_responses((404, "`not_found`: no such concert"), 503)},
        tags=["queue"],
    )
    def get(self, request: Request, concert_id: int) -> Response:
        overview = selectors.queue_overview(concert_id=concert_id)
        response = Response(QueueOverviewOutput(overview).data)
        response["Cache-Control"] = f"public, max-age={OVERVIEW_MAX_AGE_SECONDS}"
        return response
