"""One error shape for the whole API: RFC 9457 problem documents with a `code` member.

Services raise `DomainError` subclasses (each app's errors.py); DRF's own exceptions and infrastructure
failures are mapped here. Views never build error bodies by hand.
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.db import DatabaseError, InterfaceError, OperationalError
from django.http import Http404, HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from redis.exceptions import ClusterError as RedisClusterError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from redis.exceptions import TryAgainError as RedisTryAgainError
from rest_framework import exceptions as drf
from rest_framework.response import Response
from rest_framework.views import set_rollback

logger = logging.getLogger(__name__)

PROBLEM_CONTENT_TYPE = "application/problem+json"
SERVICE_RETRY_AFTER_SECONDS = 5


class DomainError(Exception):
    """A business rule said no. Subclasses set `code` and `status_code`; `detail` is for humans."""

    code: str = "error"
    status_code: int = 400
    default_detail: str = "The request could not be completed."

    def __init__(self, detail: str | None = None, *, extra: dict[str, Any] | None = None) -> None:
        self.detail = detail or self.default_detail
        self.extra = extra or {}
        super().__init__(self.detail)


class NotFound(DomainError):
    code = "not_found"
    status_code = 404
    default_detail = "Not found."


class InvalidInput(DomainError):
    """A service refused its arguments: 400 `invalid` with per-field messages, as a serializer says it."""

    code = "invalid"
    status_code = 400
    default_detail = "The request is invalid."

    def __init__(self, fields: dict[str, list[str]]) -> None:
        self.fields = fields
        super().__init__(extra={"fields": fields})

    def __str__(self) -> str:
        return "; ".join(f"{name}: {' '.join(messages)}" for name, messages in self.fields.items())


class ServiceUnavailable(DomainError):
    code = "service_unavailable"
    status_code = 503
    default_detail = "A backing service is unavailable; try again shortly."


class ClockOutOfBounds(ServiceUnavailable):
    """This process's clock is too far off the shared one for a write that depends on time
    (config/clock_guard.py)."""

    default_detail = "This server's clock disagrees with the shared clock; try again shortly."


def problem_body(status: int, code: str, detail: str, **extra: Any) -> dict[str, Any]:
    title = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Error"
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
    }
    body.update(extra)
    return body


def problem_response(
    status: int, code: str, detail: str, *, headers: dict[str, str] | None = None, **extra: Any
) -> JsonResponse:
    """A plain Django response for code outside DRF views (hot paths, 404/500 handlers, middleware)."""
    response = JsonResponse(problem_body(status, code, detail, **extra), status=status)
    response["Content-Type"] = PROBLEM_CONTENT_TYPE
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def _validation_fields(detail: Any) -> dict[str, list[str]]:
    if isinstance(detail, dict):
        return {
            str(key): [str(m) for m in (value if isinstance(value, list) else [value])]
            for key, value in detail.items()
        }
    messages = detail if isinstance(detail, list) else [detail]
    return {"non_field_errors": [str(m) for m in messages]}


_DRF_CODES: list[tuple[type[Exception], str]] = [
    (drf.ParseError, "invalid"),
    (drf.NotAuthenticated, "not_authenticated"),
    (drf.AuthenticationFailed, "authentication_failed"),
    (drf.PermissionDenied, "permission_denied"),
    (drf.NotFound, "not_found"),
    (drf.MethodNotAllowed, "method_not_allowed"),
    (drf.NotAcceptable, "not_acceptable"),
    (drf.UnsupportedMediaType, "unsupported_media_type"),
    (drf.Throttled, "throttled"),
]


def exception_to_problem(exc: Exception) -> tuple[int, dict[str, Any], dict[str, str]] | None:
    """Map any exception to (status, body, headers); None means "unexpected" (a 500)."""
    headers: dict[str, str] = {}
    if isinstance(exc, DomainError):
        if isinstance(exc, ServiceUnavailable):
            headers["Retry-After"] = str(SERVICE_RETRY_AFTER_SECONDS)
        if getattr(exc, "retry_after", None):  # a domain-level throttle (429) says when to come back
            headers["Retry-After"] = str(exc.retry_after)  # type: ignore[attr-defined]
        return exc.status_code, problem_body(exc.status_code, exc.code, exc.detail, **exc.extra), headers
    if isinstance(exc, Http404):
        return 404, problem_body(404, "not_found", "Not found."), headers
    if isinstance(exc, PermissionDenied):
        return 403, problem_body(403, "permission_denied", "Permission denied."), headers
    if isinstance(exc, drf.ValidationError):
        body = problem_body(400, "invalid", "The request is invalid.", fields=_validation_fields(exc.detail))
        return 400, body, headers
    if isinstance(exc, RequestDataTooBig):  # over DATA_UPLOAD_MAX_MEMORY_SIZE; Django's own answer is 400 too
        detail = "The request body is too large."
        return 400, problem_body(400, "invalid", detail, fields={"body": [detail]}), headers
    if isinstance(exc, drf.ParseError):
        body = problem_body(400, "invalid", str(exc.detail), fields={"body": [str(exc.detail)]})
        return 400, body, headers
    if isinstance(exc, drf.APIException):
        code = next((c for cls, c in _DRF_CODES if isinstance(exc, cls)), "error")
        if isinstance(exc, drf.Throttled):
            wait = getattr(exc, "wait", None)
            headers["Retry-After"] = str(max(1, int(wait or 1)))
        detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
        return exc.status_code, problem_body(exc.status_code, code, str(detail)), headers
    # A Redis Cluster mid-failover or mid-resharding (CLUSTERDOWN, MASTERDOWN, TRYAGAIN) is an outage too;
    # an unreachable cluster is a ConnectionError already (config/redis.py).
    unavailable = (RedisConnectionError, RedisTimeoutError, RedisClusterError, RedisTryAgainError)
    if isinstance(exc, (OperationalError, InterfaceError, *unavailable)):
        logger.warning("backing service unavailable: %s", exc)
        headers["Retry-After"] = str(SERVICE_RETRY_AFTER_SECONDS)
        return 503, problem_body(503, "service_unavailable", ServiceUnavailable.default_detail), headers
    if isinstance(exc, DatabaseError):
        logger.exception("database error")
        return None
    return None


def problem_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's EXCEPTION_HANDLER."""
    mapped = exception_to_problem(exc)
    if mapped is None:
        logger.exception("unhandled error in %s", context.get("view"))
        set_rollback()
        status, body = 500, problem_body(500, "internal_error", "Internal server error.")
        headers: dict[str, str] = {}
    else:
        status, body, headers = mapped
        if status >= 500:
            set_rollback()
    # DRF sets `auth_header` on 401s; the challenge must reach the client.
    auth_header = getattr(exc, "auth_header", None)
    if auth_header:
        headers["WWW-Authenticate"] = auth_header
    return Response(body, status=status, headers=headers, content_type=PROBLEM_CONTENT_TYPE)


@csrf_exempt  # an unknown path is 404 for every method, never a CSRF refusal (403) for a POST
def api_not_found(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    """handler404: a problem document for every unknown path."""
    return problem_response(404, "not_found", "Not found.")


def api_server_error(request: HttpRequest) -> JsonResponse:
    """handler500: never a traceback, always the contract's shape."""
    return problem_response(500, "internal_error", "Internal server error.")
