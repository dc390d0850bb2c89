"""Plain Django views for the hottest endpoints, with the contract of the DRF ones.

DRF's request cycle (negotiation, parsers, authentication and permission classes, serializers, the
renderer) costs about a third of a request here, as much as a Redis round trip. The few endpoints whose
throughput is the product (queue polls and token issue, seat holds) are plain views built from these
pieces instead: the same Bearer authentication, the same rate limits, the same problem documents (every
error goes through config.exceptions), and they stay in /api/schema/ through `documented()`.
"""

from __future__ import annotations

import io
import logging
import math
from collections.abc import Callable, Mapping
from datetime import datetime
from functools import cache, wraps
from typing import Any, cast

import orjson
from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions as drf
from rest_framework import serializers
from rest_framework.authentication import BaseAuthentication
from rest_framework.fields import SkipField, empty
from rest_framework.parsers import BaseParser
from rest_framework.settings import api_settings
from rest_framework.utils.mediatypes import media_type_matches
from rest_framework.views import APIView

from config import clock
from config.api.throttling import request_ident
from config.exceptions import exception_to_problem, problem_response
from config.ratelimit import rate_hit, rate_limit

logger = logging.getLogger(__name__)

# The project's Bearer authentication, named by DRF's DEFAULT_AUTHENTICATION_CLASSES (config imports no app).
_bearer = cast("list[type[BaseAuthentication]]", api_settings.DEFAULT_AUTHENTICATION_CLASSES)[0]()
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
        headers["WWW-Authenticate"] = _bearer.authenticate_header(None) or "Bearer"  # type: ignore[arg-type]
    extra = {k: v for k, v in body.items() if k not in _STANDARD_KEYS}
    return problem_response(status, body["code"], body["detail"], headers=headers, **extra)


def plain_endpoint(method: str) -> Callable[[View], View]:
    """One method (GET answers HEAD too, as DRF views do), CSRF-exempt (Bearer-authenticated API), every
    error as a problem document."""
    allowed = (method, "HEAD") if method == "GET" else (method,)

    def decorate(func: View) -> View:
        @csrf_exempt
        @wraps(func)
        def view(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            try:
                if request.method not in allowed:
                    raise drf.MethodNotAllowed(request.method or "")
                return func(request, *args, **kwargs)
            except Exception as exc:
                response = problem_for(exc)
                if isinstance(exc, drf.MethodNotAllowed):
                    response["Allow"] = ", ".join(allowed)
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
    """The request body as DRF's request.data would give it to a view: no body (Content-Length 0) is {}
    whatever the content type, a body of another media type is 415, and the configured parser (strict
    JSON, the charset of the Content-Type) decodes the rest."""
    meta = request.META
    try:
        length = int(meta.get("CONTENT_LENGTH", meta.get("HTTP_CONTENT_LENGTH", 0)))
    except (ValueError, TypeError):
        length = 0
    if length == 0:
        return {}
    content_type = meta.get("CONTENT_TYPE", meta.get("HTTP_CONTENT_TYPE", ""))
    parser = next((p for p in _parsers() if media_type_matches(p.media_type, content_type)), None)
    if parser is None:
        raise drf.UnsupportedMediaType(content_type)
    context = {"encoding": request.encoding or settings.DEFAULT_CHARSET}
    return parser.parse(io.BytesIO(request.body), content_type, context)


@cache
def _parsers() -> list[BaseParser]:
    return [
        parser_class() for parser_class in cast("list[type[BaseParser]]", api_settings.DEFAULT_PARSER_CLASSES)
    ]


def json_response(
    body: Mapping[str, Any], *, status: int = 200, headers: Mapping[str, str] | None = None
) -> HttpResponse:
    """A JSON answer written by orjson, compact as DRF's renderer writes it (bodies hold JSON types only:
    datetimes already as `iso_datetime` strings)."""
    return HttpResponse(orjson.dumps(body), status=status, headers=headers, content_type="application/json")


def require_rate(request: HttpRequest, scope: str) -> None:
    """The rate limit a DRF view's `throttle(scope)` applies, on the same counter (429 with Retry-After)."""
    wait = rate_hit(rate_limit(scope), ident=request_ident(request, per="user"), now=clock.now())
    if wait:
        raise drf.Throttled(wait=wait)


class _InputRules:
    """A serializer's input rules, checked field by field on fields bound once (no serializer per request).

    Each field runs its own `run_validation`, so values, limits and messages are DRF's by construction.
    One shortcut: a JSON integer already inside an IntegerField's bounds is what run_validation would
    return, so it is taken as it is. A serializer's own `validate(attrs)` then runs on one instance bound
    once, its errors shaped as Serializer.run_validation shapes them. What a per-field check cannot
    reproduce (a body that is not an object, `validate_<field>` hooks, serializer validators, dotted
    sources) goes through the serializer itself."""

    def __init__(self, serializer_class: type[serializers.Serializer]) -> None:
        self.serializer_class = serializer_class
        bound = serializer_class()  # its fields and its validate() hook, bound once
        self.fields = [
            (name, field, _int_bounds(field)) for name, field in bound.fields.items() if not field.read_only
        ]
        hooks = any(hasattr(serializer_class, f"validate_{name}") for name, _, _ in self.fields)
        overridden = serializer_class.validate is not serializers.Serializer.validate
        self.whole = bound if overridden else None
        self.field_by_field = (
            not hooks and not bound.validators and all(f.source == n for n, f, _ in self.fields)
        )

    def validate(self, data: Any) -> dict[str, Any]:
        if not self.field_by_field or not isinstance(data, Mapping):
            serializer = self.serializer_class(data=data)
            serializer.is_valid(raise_exception=True)
            return dict(serializer.validated_data)
        values: dict[str, Any] = {}
        errors: dict[str, Any] = {}
        plain = type(data) is dict  # a JSON object; request.GET (a QueryDict) asks each field
        for name, field, bounds in self.fields:
            value = data.get(name, empty) if plain else field.get_value(data)
            if bounds is not None and type(value) is int and bounds[0] <= value <= bounds[1]:
                values[name] = value
                continue
            try:
                values[name] = field.run_validation(value)
            except drf.ValidationError as exc:
                errors[name] = exc.detail
            except SkipField:
                pass
        if errors:
            raise drf.ValidationError(errors)
        if self.whole is not None:
            try:
                values = self.whole.validate(values)
            except (drf.ValidationError, DjangoValidationError) as exc:
                raise drf.ValidationError(detail=serializers.as_serializer_error(exc)) from exc
        return values


def _int_bounds(field: serializers.Field) -> tuple[float, float] | None:
    """(min, max) of a plain IntegerField whose only validators are its bounds, else None; binds the
    field's validators now rather than lazily in the first concurrent requests."""
    validators = field.validators
    if type(field) is not serializers.IntegerField:
        return None
    low = field.min_value if field.min_value is not None else -math.inf
    high = field.max_value if field.max_value is not None else math.inf
    for validator in validators:
        if not (
            (type(validator) is MinValueValidator and validator.limit_value == field.min_value)
            or (type(validator) is MaxValueValidator and validator.limit_value == field.max_value)
        ):
            return None
    return low, high


@cache
def _input_rules(serializer_class: type[serializers.Serializer]) -> _InputRules:
    return _InputRules(serializer_class)


def validated(data: Any, serializer_class: type[serializers.Serializer]) -> dict[str, Any]:
    """`data` (a parsed JSON body or request.GET) checked by the serializer that documents the view:
    its validated_data, or the ValidationError `serializer_class(data=data).is_valid(raise_exception=True)`
    would raise, at a fraction of the cost."""
    return _input_rules(serializer_class).validate(data)


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
