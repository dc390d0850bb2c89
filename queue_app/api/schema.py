"""OpenAPI documentation for the plain queue views.

drf-spectacular lists a URL when its callback has `.cls` (an APIView) and `.initkwargs`, as
`APIView.as_view()` sets them. `documented()` attaches a documentation-only APIView to a plain view,
so /api/schema/ describes the real endpoints while requests never enter DRF.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api.schema import PROBLEM
from config.api.schema import problem as _problem
from queue_app.api.serializers import QueueTokenIssueInput, QueueTokenOutput


class _DocumentationOnly(APIView):
    def _served_elsewhere(self) -> Response:
        raise NotImplementedError("served by the plain view in queue_app/api/views.py")


class QueueTokenIssueDoc(_DocumentationOnly):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="queue_token_issue",
        summary="Join a concert's waiting queue",
        description="201 with a new token at the back of the queue, or 200 with the user's live token for "
        "that concert (asking again never moves you back). Throttled per user (`queue_issue`).",
        request=QueueTokenIssueInput,
        responses={
            201: QueueTokenOutput,
            200: QueueTokenOutput,
            (400, PROBLEM): _problem("`invalid`: bad body"),
            (401, PROBLEM): _problem("`not_authenticated` / `authentication_failed`"),
            (404, PROBLEM): _problem("`not_found`: no such concert"),
            (409, PROBLEM): _problem("`sold_out`: the concert is sold out (no new token)"),
            (415, PROBLEM): _problem("`unsupported_media_type`: the body is not application/json"),
            (429, PROBLEM): _problem("`throttled`, with Retry-After"),
            (503, PROBLEM): _problem("`service_unavailable`, with Retry-After"),
        },
        tags=["queue"],
    )
    def post(self, request: Request) -> Response:
        return self._served_elsewhere()


class QueueStatusDoc(_DocumentationOnly):
    permission_classes = [AllowAny]  # Authorization is optional: it only narrows to the user's own token

    @extend_schema(
        operation_id="queue_status",
        summary="Poll a queue token",
        description="Polling keeps a waiting token in the queue (it leaves after QUEUE_ABANDON_SECONDS "
        "without a poll). Throttled per token owner (`queue_status`).",
        parameters=[
            OpenApiParameter(
                "X-Queue-Token", str, OpenApiParameter.HEADER, required=True, description="The token value."
            )
        ],
        responses={
            200: QueueTokenOutput,
            (401, PROBLEM): _problem("`queue_token_required`: no X-Queue-Token header"),
            (404, PROBLEM): _problem("`queue_token_not_found`: unknown, or Authorization names another user"),
            (429, PROBLEM): _problem("`throttled`, with Retry-After"),
            (503, PROBLEM): _problem("`service_unavailable`, with Retry-After"),
        },
        tags=["queue"],
    )
    def get(self, request: Request) -> Response:
        return self._served_elsewhere()
