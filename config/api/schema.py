"""OpenAPI helpers: one `Problem` component for every error answer, and the error responses of an operation.

Every 4xx/5xx body is an RFC 9457 problem document (`application/problem+json`). A view lists
the errors it can answer next to its success response:

    @extend_schema(responses={200: ConcertOutput, **problem_responses(401, (404, "`not_found`: no concert"))})

A bare status takes the standard description below; `(status, "description")` names the codes that
operation answers. 429 and 503 answers document their `Retry-After` header (ApiAutoSchema).
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiResponse, PolymorphicProxySerializer
from rest_framework import serializers

from config.exceptions import PROBLEM_CONTENT_TYPE

PROBLEM = PROBLEM_CONTENT_TYPE

STANDARD_DESCRIPTIONS: dict[int, str] = {
    400: "`invalid`: a malformed body, parameter or header; `fields` names each problem.",
    401: "`not_authenticated` (no Bearer token) or `authentication_failed` (a bad or expired token).",
    403: "`permission_denied`.",
    404: "`not_found`.",
    409: "`request_in_progress`: a request with the same Idempotency-Key is still running.",
    415: "`unsupported_media_type`: the body is not `application/json`.",
    422: "`idempotency_key_reused`: the Idempotency-Key was already used with another body.",
    429: "`throttled`: too many requests; `Retry-After` says when to try again.",
    503: "`service_unavailable`: a backing service is down; `Retry-After` says when to try again.",
}

RETRY_AFTER_STATUSES = ("429", "503")


class Problem(serializers.Serializer):
    """RFC 9457 problem document with the contract's `code` (snake_case)."""

    type = serializers.CharField()
    title = serializers.CharField()
    status = serializers.IntegerField()
    detail = serializers.CharField()
    code = serializers.CharField()
    # A field named `fields`: DRF's metaclass moves declared fields out of the class attributes, so it never
    # shadows Serializer.fields at run time; the stubs cannot know that.
    fields = serializers.DictField(  # type: ignore[assignment]
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text="Only on `invalid` (400): messages per field of the request.",
    )


def problem(description: str) -> OpenApiResponse:
    return OpenApiResponse(response=Problem, description=description)


def problem_responses(*statuses: int | tuple[int, str]) -> dict[tuple[int, str], OpenApiResponse]:
    """`{(status, "application/problem+json"): OpenApiResponse(Problem)}` for each status given."""
    responses: dict[tuple[int, str], OpenApiResponse] = {}
    for item in statuses:
        status, description = item if isinstance(item, tuple) else (item, STANDARD_DESCRIPTIONS[item])
        responses[(status, PROBLEM)] = problem(description)
    return responses


class ApiAutoSchema(AutoSchema):
    """drf-spectacular's AutoSchema, plus the `Retry-After` header that every 429 and 503 answer carries,
    and a required body for a request documented as one of several shapes (each has required fields)."""

    def _get_request_for_media_type(self, serializer: Any, direction: str = "request") -> tuple[Any, bool]:
        schema, required = super()._get_request_for_media_type(serializer, direction)
        if isinstance(serializer, PolymorphicProxySerializer):
            required = True
        return schema, required

    def get_operation(self, *args: Any, **kwargs: Any) -> dict[str, Any] | None:
        operation = super().get_operation(*args, **kwargs)
        if operation is None:
            return None
        for status, response in operation.get("responses", {}).items():
            if status in RETRY_AFTER_STATUSES:
                response.setdefault("headers", {})["Retry-After"] = {
                    "schema": {"type": "integer", "minimum": 1},
                    "required": True,
                    "description": "Seconds to wait before retrying.",
                }
        return operation
