"""Request id, access log and request latency metric: one outermost middleware, no I/O of its own.

- X-Request-ID: taken from the request when it is a sane value (config.logging.sane_request_id),
  otherwise generated; stored in a contextvar for the logs (and Celery tasks published meanwhile);
  returned in the X-Request-ID response header.
- One access-log line per request at INFO on the `access` logger: method, path, status, duration_ms,
  route, request_id (as JSON fields in the json format).
- The latency histogram labelled by method, resolved route name (bounded; never the raw path) and
  status class.
- Every problem document answered, counted by status and code (wherever it was made: a DRF view, a
  plain view, an error handler, a stored answer replayed), once per response.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import orjson
from django.http import HttpRequest, HttpResponse, HttpResponseBase

from config import metrics
from config.exceptions import PROBLEM_CONTENT_TYPE
from config.logging import new_request_id, reset_request_id, sane_request_id, set_request_id

access_logger = logging.getLogger("access")

REQUEST_ID_HEADER = "X-Request-ID"
UNMATCHED_ROUTE = "<unmatched>"  # no URL pattern matched (404s, static files served by WhiteNoise)


def route_name(request: HttpRequest) -> str:
    """The resolved URL pattern's name ("namespace:name"), else its route, else a fixed marker."""
    match = getattr(request, "resolver_match", None)
    if match is None:
        return UNMATCHED_ROUTE
    return match.view_name or match.route or UNMATCHED_ROUTE


def _count_problem(response: HttpResponseBase) -> None:
    """metrics.API_PROBLEMS for an answered problem document (errors only: never on a 2xx's path)."""
    if not isinstance(response, HttpResponse) or not response.get("Content-Type", "").startswith(
        PROBLEM_CONTENT_TYPE
    ):
        return
    try:
        code = orjson.loads(response.content).get("code")
    except (orjson.JSONDecodeError, AttributeError):
        return
    if isinstance(code, str):
        metrics.API_PROBLEMS.labels(str(response.status_code), code).inc()


class RequestIdMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        started = time.perf_counter()
        request_id = sane_request_id(request.META.get("HTTP_X_REQUEST_ID")) or new_request_id()
        request.request_id = request_id  # type: ignore[attr-defined]
        token = set_request_id(request_id)
        try:
            response = self.get_response(request)
            response[REQUEST_ID_HEADER] = request_id
            duration = time.perf_counter() - started
            route = route_name(request)
            metrics.observe_request(request.method or "", route, response.status_code, duration)
            if response.status_code >= 400:
                _count_problem(response)
            if access_logger.isEnabledFor(logging.INFO):
                duration_ms = round(duration * 1000, 2)
                access_logger.info(
                    "%s %s %s %.2fms",
                    request.method,
                    request.path,
                    response.status_code,
                    duration_ms,
                    extra={
                        "method": request.method,
                        "path": request.path,
                        "status": response.status_code,
                        "duration_ms": duration_ms,
                        "route": route,
                    },
                )
            return response
        finally:
            reset_request_id(token)
