"""Liveness and readiness probes: plain Django views, no auth, no DRF."""

import logging

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse

from config import clock_guard

logger = logging.getLogger(__name__)


def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


def _check_database() -> bool:
    """Whether the database answers now. A kept connection the server dropped (a database restart)
    fails once and is retried on a fresh one: it says nothing of the database, and a probe that hits
    such a thread would otherwise report a ready node as not ready."""
    for attempt in (1, 2):
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
            return True
        except Exception:
            if attempt == 1:
                connection.close()
                continue
            logger.warning("readiness: database unreachable", exc_info=True)
    return False


def _check_redis() -> bool | None:
    if not settings.REDIS_URL:
        return None
    from config.redis import ping_all

    try:
        return ping_all()  # every master, on a cluster
    except Exception:
        logger.warning("readiness: redis unreachable", exc_info=True)
        return False


def _check_clock() -> dict[str, object]:
    """This process's clock against the shared one, measured now (config/clock_guard.py)."""
    verdict = clock_guard.current(measure=True)
    return {
        "in_bounds": verdict.in_bounds,
        "offset_ms": verdict.offset_ms,
        "reference": verdict.reference,
        "max_offset_ms": clock_guard.max_offset_ms(),
    }


def readyz(request: HttpRequest) -> JsonResponse:
    checks = {"database": _check_database()}
    redis_ok = _check_redis()
    if redis_ok is not None:
        checks["redis"] = redis_ok
    clock = _check_clock()
    checks["clock"] = bool(clock["in_bounds"])
    ready = all(checks.values())
    response = JsonResponse(
        {"status": "ok" if ready else "unavailable", "checks": checks, "clock": clock},
        status=200 if ready else 503,
    )
    if not ready:
        response["Retry-After"] = "5"
    return response
