"""The queue's two hot endpoints as plain Django views: no DRF request cycle, no SQL with Redis.

Input is validated with the serializer, errors become the contract's problem documents through
config.exceptions, and the Bearer JWT is verified by signature only (no user row). The OpenAPI schema
comes from the documentation classes in api/schema.py attached to these views.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions as drf

from config.exceptions import exception_to_problem, problem_response
from queue_app import services
from queue_app.errors import QueueTokenRequired
from users.authentication import BearerTokenAuthentication

logger = logging.getLogger(__name__)

_bearer = BearerTokenAuthentication()
_STANDARD_KEYS = {"type", "title", "status", "detail", "code"}


def _iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def token_body(view: services.QueueTokenView) -> dict[str, Any]:
    return {
        "token": view.token,
        "concert_id": view.concert_id,
        "status": view.status,
        "position": view.position,
        "estimated_wait_seconds": view.estimated_wait_seconds,
        "expires_at": _iso(view.expires_at),
        "issued_at": _iso(view.issued_at),
    }


def _problem(exc: Exception) -> HttpResponse:
    mapped = exception_to_problem(exc)
    if mapped is None:
        logger.exception("unhandled error in a queue view")
        return problem_response(500, "internal_error", "Internal server error.")
    status, body, headers = mapped
    if getattr(exc, "retry_after", None):
        headers["Retry-After"] = str(exc.retry_after)  # type: ignore[attr-defined]
    if isinstance(exc, drf.NotAuthenticated | drf.AuthenticationFailed):
        headers["WWW-Authenticate"] = _bearer.authenticate_header(None)  # type: ignore[arg-type]
    extra = {k: v for k, v in body.items() if k not in _STANDARD_KEYS}
    return problem_response(status, body["code"], body["detail"], headers=headers, **extra)


def plain_endpoint(
    method: str,
) -> Callable[[Callable[[HttpRequest], HttpResponse]], Callable[..., HttpResponse]]:
    """One method, CSRF-exempt (Bearer-authenticated API), every error as a problem document."""

    def decorate(func: Callable[[HttpRequest], HttpResponse]) -> Callable[..., HttpResponse]:
        @csrf_exempt
        @wraps(func)
        def view(request: HttpRequest) -> HttpResponse:
            try:
                if request.method != method:
                    raise drf.MethodNotAllowed(request.method or "")
                return func(request)
            except Exception as exc:
                response = _problem(exc)
                if isinstance(exc, drf.MethodNotAllowed):
                    response["Allow"] = method
                return response

        return view

    return decorate


def _user_id(request: HttpRequest, *, required: bool) -> int | None:
    authenticated = _bearer.authenticate(request)  # type: ignore[arg-type]  # reads only META
    if authenticated is None:
        if required:
            raise drf.NotAuthenticated()
        return None
    return int(authenticated[0].pk)


def _json_body(request: HttpRequest) -> Any:
    if request.content_type != "application/json":
        raise drf.UnsupportedMediaType(request.content_type)
    if not request.body:
        return {}
    try:
        return json.loads(request.body)
    except (ValueError, RecursionError) as exc:  # RecursionError: absurdly deep nesting
        raise drf.ParseError(f"JSON parse error - {exc}") from exc


_MAX_ID = 2**63 - 1


def _concert_id(body: Any) -> int:
    """The body is `{"concert_id": <integer >= 1>}` (what QueueTokenIssueInput documents), checked by hand:
    a serializer costs as much as the rest of this view's Python."""
    if not isinstance(body, dict):
        raise drf.ValidationError({"non_field_errors": ["Expected a JSON object."]})
    if "concert_id" not in body:
        raise drf.ValidationError({"concert_id": ["This field is required."]})
    value = body["concert_id"]
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 19:
        value = int(value)  # "12" is accepted, as DRF's IntegerField would
    if not isinstance(value, int) or isinstance(value, bool):
        raise drf.ValidationError({"concert_id": ["A valid integer is required."]})
    if not 1 <= value <= _MAX_ID:
        raise drf.ValidationError({"concert_id": [f"Must be between 1 and {_MAX_ID}."]})
    return value


@plain_endpoint("POST")
def queue_token_issue(request: HttpRequest) -> HttpResponse:
    user_id = _user_id(request, required=True)
    view, created = services.queue_token_issue(
        user_id=user_id,  # type: ignore[arg-type]  # required=True
        concert_id=_concert_id(_json_body(request)),
        rate_limited=True,
    )
    return JsonResponse(token_body(view), status=201 if created else 200)


@plain_endpoint("GET")
def queue_status(request: HttpRequest) -> HttpResponse:
    token = request.headers.get("X-Queue-Token", "").strip()
    if not token:
        raise QueueTokenRequired()
    user_id = _user_id(request, required=False)
    view = services.queue_token_status(token=token, user_id=user_id, rate_limited=True)
    response = JsonResponse(token_body(view))
    response["Cache-Control"] = "no-store"
    return response
