"""Plain Django views for the hottest endpoints, with the contract of the DRF ones.

DRF's request cycle (negotiation, parsers, authentication and permission classes, serializers, the
renderer) costs about a third of a request here, as much as a Redis round trip. The few endpoints whose
throughput is the product (queue polls and token issue, seat holds) are plain views built from these
pieces instead: the same Bearer authentication, the same rate limits, the same problem documents (every
error goes through config.exceptions), and they stay in /api/schema/ through `documented()`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import datetime
from functools import wraps
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions as drf
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from config.api.throttling import throttle
from config.exceptions import exception_to_problem, problem_response

logger = logging.getLogger(__name__)

# The project's Bearer authentication, named by DRF's DEFAULT_AUTHENTICATION_CLASSES (config imports no app).
_bearer = api_settings.DEFAULT_AUTHENTICATION_CLASSES[0]()
_STANDARD_KEYS = {"type", "title", "status", "detail", "code"}
View = Callable[..., HttpResponse]


def problem_for(exc: Exception) -> HttpResponse:
    """The problem document for any exception (a logged, opaque 500 for unexpected ones)."""
    mapped = exception_to_problem(exc)
    if mapped is None:
        logger.exception("unhandled error in a plain view")
        return problem_response(500, "internal_error", "Internal server error.")
    status, body, headers = mapped
    if getattr(exc, "retry_after", None):
        headers["Retry-After"] = str(exc.retry_after)  # type: ignore[attr-defined]
    if isinstance(exc, drf.NotAuthenticated | drf.AuthenticationFailed):
        headers["WWW-Authenticate"] = _bearer.authenticate_header(None)  # type: ignore[arg-type]
    extra = {k: v for k, v in body.items() if k not in _STANDARD_KEYS}
    return problem_response(status, body["code"], body["detail"], headers=headers, **extra)


def plain_endpoint(method: str) -> Callable[[View], View]:
    """One method, CSRF-exempt (Bearer-authenticated API), every error as a problem document."""

    def decorate(func: View) -> View:
        @csrf_exempt
        @wraps(func)
        def view(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            try:
                if request.method != method:
                    raise drf.MethodNotAllowed(request.method or "")
                return func(request, *args, **kwargs)
            except Exception as exc:
                response = problem_for(exc)
                if isinstance(exc, drf.MethodNotAllowed):
                    response["Allow"] = method
                return response

        return view

    return decorate


def authenticated_user_id(request: HttpRequest, *, required: bool) -> int | None:
    """The user id of a valid Bearer token (signature and expiry only: no database query)."""
    authenticated = _bearer.authenticate(request)  # type: ignore[arg-type]  # reads only META
    if authenticated is None:
        if required:
            raise drf.NotAuthenticated()
        return None
    request.user = authenticated[0]  # type: ignore[assignment]  # for the rate limits
    return int(authenticated[0].pk)


def json_body(request: HttpRequest) -> Any:
    if request.content_type != "application/json":
        raise drf.UnsupportedMediaType(request.content_type)
    if not request.body:
        return {}
    try:
        return json.loads(request.body)
    except (ValueError, RecursionError) as exc:  # RecursionError: absurdly deep nesting
        raise drf.ParseError(f"JSON parse error - {exc}") from exc


def require_rate(request: HttpRequest, scope: str) -> None:
    """The same per-user rate limit a DRF view's `throttle(scope)` applies (429 with Retry-After)."""
    if not settings.RATE_LIMITS_ENABLED:
        return
    limiter = throttle(scope)()
    if not limiter.allow_request(request, None):  # type: ignore[arg-type]
        raise drf.Throttled(wait=limiter.wait())


def positive_ints(body: Any, limits: dict[str, int]) -> dict[str, int]:
    """A JSON object of whole numbers 1..limit, every bad field listed (what a serializer of
    IntegerField(min_value=1, max_value=limit) fields would say), for views that skip serializers."""
    if not isinstance(body, dict):
        raise drf.ValidationError({"non_field_errors": ["Expected a JSON object."]})
    values: dict[str, int] = {}
    errors: dict[str, list[str]] = {}
    for name, limit in limits.items():
        value = body.get(name)
        if name not in body:
            errors[name] = ["This field is required."]
        elif isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 19:
            values[name] = int(value)  # "12" is accepted, as DRF's IntegerField would
        elif isinstance(value, int) and not isinstance(value, bool):
            values[name] = value
        else:
            errors[name] = ["A valid integer is required."]
        if name in values and not 1 <= values[name] <= limit:
            errors[name] = [f"Must be between 1 and {limit}."]
    if errors:
        raise drf.ValidationError(errors)
    return values


def iso_datetime(moment: datetime | None) -> str | None:
    """A datetime as DRF's DateTimeField writes it (ISO 8601 in UTC, "Z" for +00:00), so plain views and
    DRF views answer alike."""
    if moment is None:
        return None
    text = timezone.localtime(moment).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def documented(view: View, doc: type[APIView]) -> View:
    """Lists a plain view in /api/schema/ with the operations `doc` describes: drf-spectacular reads a
    URL's callback `.cls` and `.initkwargs`, as APIView.as_view() sets them; requests never enter DRF."""
    view.cls = doc  # type: ignore[attr-defined]
    view.initkwargs = {}  # type: ignore[attr-defined]
    return view
