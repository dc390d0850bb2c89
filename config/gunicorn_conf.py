"""gunicorn settings for every server of the product: `make run` (Procfile) and the compose stack.

    gunicorn config.wsgi:application -c config/gunicorn_conf.py

Command-line flags override what is set here. Sizing: gthread workers, one process per CPU the server may
use (at least two) with four threads each, the measured best on small machines; a listen backlog deep
enough that a burst of simultaneous clients waits in the kernel's queue instead of being reset. This file
also holds what flags cannot: the logging config (gunicorn's own lines in the same format as the app's)
and the Prometheus multi-process hooks.
"""

import os
from pathlib import Path

# Read before anything imports the `config` package (config/celery_app.py would default to local).
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")

from config.logging import build_logging_config


def _cpus() -> int:
    """The CPUs this process may run on (a container's or taskset's share, not the whole host's)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


bind = f"0.0.0.0:{os.environ.get('PORT', '8000')}"
worker_class = "gthread"
workers = int(os.environ.get("WEB_CONCURRENCY") or max(2, _cpus()))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
# Connections waiting to be accepted; the kernel caps it at net.core.somaxconn (4096 on current Linux).
backlog = int(os.environ.get("GUNICORN_BACKLOG", "2048"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 20
keepalive = 5
control_socket_disable = True
# The app writes one access-log line per request, with the request id (config/middleware.py).
accesslog = None
# Trust X-Forwarded-* only from the reverse proxy in front of the stack.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
# The same default as the settings module the server runs: json in production, plain otherwise.
_default_format = "json" if os.environ["DJANGO_SETTINGS_MODULE"].endswith(".production") else "plain"
logconfig_dict = build_logging_config(
    os.environ.get("LOG_FORMAT", _default_format), os.environ.get("LOG_LEVEL", "INFO")
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
