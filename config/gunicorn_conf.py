"""gunicorn settings for the web service (docker-compose.yml):

    gunicorn config.wsgi:application -c config/gunicorn_conf.py

Command-line flags override what is set here. This file holds what flags cannot: the logging config
(gunicorn's own lines in the same format as the app's) and the Prometheus multi-process hooks.
"""

import os
from pathlib import Path

# Read before anything imports the `config` package (config/celery_app.py would default to local).
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")

from config.logging import build_logging_config

bind = f"0.0.0.0:{os.environ.get('PORT', '8000')}"
worker_class = "gthread"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 20
keepalive = 5
control_socket_disable = True
# The app writes one access-log line per request, with the request id (config/middleware.py).
accesslog = None
# Trust X-Forwarded-* only from the reverse proxy in front of the stack.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
logconfig_dict = build_logging_config(
    os.environ.get("LOG_FORMAT", "json"), os.environ.get("LOG_LEVEL", "INFO")
)


def _multiproc_dir() -> Path | None:
    value = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    return Path(value) if value else None


def on_starting(server):  # type: ignore[no-untyped-def]
    """The metrics files of a previous run would be summed into this one's: start from an empty dir."""
    directory = _multiproc_dir()
    if directory is None:
        return
    directory.mkdir(parents=True, exist_ok=True)
    for path in directory.glob("*.db"):
        path.unlink()


def child_exit(server, worker):  # type: ignore[no-untyped-def]
    """A dead worker's live gauges must stop counting (its counters and histograms keep adding up)."""
    if _multiproc_dir() is None:
        return
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
