"""Celery signal handlers: the request id travels with each task, failures are counted, and the worker
logs through Django's LOGGING (JSON in production) instead of Celery's own format.

Connected by importing this module (config/celery_app.py does). Nothing here needs Django settings at
import time: config/celery_app.py is imported while the settings themselves load.
"""

from __future__ import annotations

import logging
import logging.config
import os
from contextvars import Token
from typing import Any

from celery import signals

from config.logging import get_request_id, reset_request_id, sane_request_id, set_request_id

logger = logging.getLogger(__name__)

REQUEST_ID_HEADER = "x_request_id"  # a message header; Celery exposes it as task.request.x_request_id

# task id -> token to restore the caller's request id after the run (eager tasks run inside a request).
_tokens: dict[str, Token[str | None]] = {}


@signals.before_task_publish.connect(weak=False)
def _put_request_id_in_headers(headers: dict[str, Any] | None = None, **_: Any) -> None:
    request_id = get_request_id()
    if request_id and headers is not None and REQUEST_ID_HEADER not in headers:
        headers[REQUEST_ID_HEADER] = request_id


@signals.task_prerun.connect(weak=False)
def _restore_request_id(task_id: str | None = None, task: Any = None, **_: Any) -> None:
    sent = sane_request_id(getattr(getattr(task, "request", None), REQUEST_ID_HEADER, None))
    # No header: a task published by beat, or run eagerly inside a request (keep that request's id).
    request_id = sent or get_request_id() or task_id
    if task_id:
        _tokens[task_id] = set_request_id(request_id)


@signals.task_postrun.connect(weak=False)
def _clear_request_id(task_id: str | None = None, **_: Any) -> None:
    token = _tokens.pop(task_id, None) if task_id else None
    if token is not None:
        reset_request_id(token)


@signals.task_failure.connect(weak=False)
def _count_task_failure(sender: Any = None, task_id: str | None = None, **_: Any) -> None:
    from config import metrics

    metrics.CELERY_TASK_FAILURES.labels(getattr(sender, "name", None) or "unknown").inc()


@signals.setup_logging.connect(weak=False)
def _use_django_logging(**_: Any) -> None:
    """Connected, this stops Celery from configuring logging itself: the worker and beat log through
    settings.LOGGING (LOG_FORMAT, LOG_LEVEL), with the request id on every line."""
    from django.conf import settings

    logging.config.dictConfig(settings.LOGGING)


@signals.worker_init.connect(weak=False)
def _serve_worker_metrics(**_: Any) -> None:
    """With CELERY_METRICS_PORT set, the worker's main process serves its own /metrics (task failures
    counted in pool processes; set PROMETHEUS_MULTIPROC_DIR for a prefork pool)."""
    port = os.environ.get("CELERY_METRICS_PORT")
    if not port:
        return
    from prometheus_client import start_http_server

    from config import metrics

    addr = os.environ.get("CELERY_METRICS_ADDR", "0.0.0.0")  # noqa: S104 (inside a container)
    start_http_server(int(port), addr=addr, registry=metrics.build_registry(include_queue_stats=False))
    logger.info("worker metrics on port %s", port)
