"""Prometheus metrics: the objects the code increments, and the `/metrics` view that exposes them.

Booking code imports the counters and increments them where the event happens (after the commit):

    from config import metrics
    metrics.HOLDS_CREATED.inc()

Queue gauges are computed at scrape time: the queue app registers a provider once (e.g. in its
AppConfig.ready):

    metrics.register_queue_stats_provider(lambda: {concert_id: (waiting, active), ...})

Multi-process mode: when PROMETHEUS_MULTIPROC_DIR is set in the environment *before the process starts*
(gunicorn with several workers, a prefork Celery worker), prometheus_client keeps every counter and
histogram in files in that directory and a scrape sums the files of every process. The directory must
be empty when the server starts (see config/gunicorn_conf.py and docs/operations.md). The queue gauges
are not stored: whichever process answers the scrape computes them.
"""

from __future__ import annotations

import contextlib
import hmac
import logging
import os
from collections.abc import Callable, Iterable, Iterator

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.registry import Collector

logger = logging.getLogger(__name__)

# --- HTTP ----------------------------------------------------------------------------------------
REQUEST_LATENCY = Histogram(
    "http_request_duration_seconds",
    "Time to answer an HTTP request, by method, resolved route name and status class.",
    ["method", "route", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)

# --- Booking -------------------------------------------------------------------------------------
HOLDS_CREATED = Counter("ticketing_holds_created", "Seat holds (PENDING reservations) created.")
PAYMENTS_COMPLETED = Counter("ticketing_payments_completed", "Payments completed.")
PAYMENTS_FAILED = Counter(
    "ticketing_payments_failed", "Payment attempts refused or failed (any error, nothing was charged)."
)
API_PROBLEMS = Counter(
    "ticketing_api_problems",
    "API errors answered as problem documents, by HTTP status and problem code (a sale's refusals: "
    "not_enough_seats, seat_unavailable, hold_limit_reached ...).",
    ["status", "code"],
)
IDEMPOTENT_REPLAYS = Counter(
    "ticketing_idempotent_replays", "Requests answered from a stored Idempotency-Key response."
)

# --- Clock guard (config/clock_guard.py) ----------------------------------------------------------
# Per process: in multi-process mode a live process's last measurement, labelled with its pid.
CLOCK_OFFSET = Gauge(
    "ticketing_clock_offset_seconds",
    "This process's clock minus the reference clock (PostgreSQL or Redis) at the last measurement.",
    multiprocess_mode="liveall",
)
CLOCK_IN_BOUNDS = Gauge(
    "ticketing_clock_in_bounds",
    "1 while the clock is within CLOCK_MAX_OFFSET_MS of the reference; 0 while it refuses time-dependent "
    "writes (the lowest of the live processes).",
    multiprocess_mode="livemin",
)
CLOCK_REFUSALS = Counter(
    "ticketing_clock_refusals", "Time-dependent writes refused (503) because the clock was out of bounds."
)

# --- Celery --------------------------------------------------------------------------------------
CELERY_TASK_FAILURES = Counter(
    "ticketing_celery_task_failures", "Celery task runs that raised, by task name.", ["task"]
)

# --- Queue gauges (computed at scrape time) ------------------------------------------------------
QueueStats = dict[int, tuple[int, int]]
_queue_stats_provider: Callable[[], QueueStats] | None = None


def register_queue_stats_provider(fn: Callable[[], QueueStats] | None) -> None:
    """Set the function the scrape calls for {concert_id: (waiting, active)}; None removes it.
    The last registration wins. It runs on every scrape; the queue app's costs one query for the concert
    ids plus, per concert, one Redis pipeline or four queries (docs/operations.md)."""
    global _queue_stats_provider
    _queue_stats_provider = fn


class QueueStatsCollector(Collector):
    def describe(self) -> Iterable[Metric]:
        # Without describe(), registering would call collect() (and the provider) at import time.
        return [
            GaugeMetricFamily("ticketing_queue_waiting", "Waiting queue tokens.", labels=["concert_id"]),
            GaugeMetricFamily("ticketing_queue_active", "Active queue tokens.", labels=["concert_id"]),
            GaugeMetricFamily("ticketing_queue_stats_up", "1 when the queue stats provider answered."),
        ]

    def collect(self) -> Iterator[Metric]:
        provider = _queue_stats_provider
        if provider is None:
            return
        up = GaugeMetricFamily("ticketing_queue_stats_up", "1 when the queue stats provider answered.")
        try:
            stats = provider()
        except Exception:
            logger.warning("metrics: the queue stats provider failed", exc_info=True)
            up.add_metric([], 0)
            yield up
            return
        waiting = GaugeMetricFamily("ticketing_queue_waiting", "Waiting queue tokens.", labels=["concert_id"])
        active = GaugeMetricFamily("ticketing_queue_active", "Active queue tokens.", labels=["concert_id"])
        for concert_id, (n_waiting, n_active) in sorted(stats.items()):
            waiting.add_metric([str(concert_id)], n_waiting)
            active.add_metric([str(concert_id)], n_active)
        up.add_metric([], 1)
        yield waiting
        yield active
        yield up


QUEUE_STATS_COLLECTOR = QueueStatsCollector()


def multiprocess_dir() -> str | None:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


if multiprocess_dir() is None:
    REGISTRY.register(QUEUE_STATS_COLLECTOR)


def build_registry(*, include_queue_stats: bool = True) -> CollectorRegistry:
    """The registry a scrape renders: this process's metrics, or every process's in multi-process mode.
    The Celery worker leaves the queue gauges to the web scrape (else they would be counted twice)."""
    if multiprocess_dir() is None:
        if not include_queue_stats:
            with contextlib.suppress(KeyError):
                REGISTRY.unregister(QUEUE_STATS_COLLECTOR)
        return REGISTRY
    from prometheus_client import multiprocess

    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    if include_queue_stats:
        registry.register(QUEUE_STATS_COLLECTOR)
    return registry


def render_metrics() -> bytes:
    return generate_latest(build_registry())


# --- Helpers for the middleware ------------------------------------------------------------------
_KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def observe_request(method: str, route: str, status_code: int, seconds: float) -> None:
    REQUEST_LATENCY.labels(
        method if method in _KNOWN_METHODS else "OTHER", route, f"{status_code // 100}xx"
    ).observe(seconds)


# --- The view ------------------------------------------------------------------------------------
def metrics_view(request: HttpRequest) -> HttpResponse:
    """GET /metrics: the Prometheus text exposition. With METRICS_TOKEN set, it needs
    `Authorization: Bearer <METRICS_TOKEN>` (403 otherwise)."""
    token = getattr(settings, "METRICS_TOKEN", "")
    if token:
        given = request.headers.get("Authorization", "")
        if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
            from config.exceptions import problem_response

            return problem_response(403, "permission_denied", "A valid metrics token is required.")
    if request.method not in ("GET", "HEAD"):
        from config.exceptions import problem_response

        return problem_response(405, "method_not_allowed", f'Method "{request.method}" not allowed.')
    return HttpResponse(render_metrics(), content_type=CONTENT_TYPE_LATEST)
