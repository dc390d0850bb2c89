"""The production-like stack for the benchmark, as child processes on free loopback ports.

PostgreSQL and Redis are started from their binaries by the shared process management (bench/stackbase.py,
which the fault tests' stack uses too), then gunicorn (gthread, one worker per core, 4 threads each) and
one Celery worker with an embedded beat. Everything is stopped and the scratch directory removed on exit,
on Ctrl-C and on SIGTERM.
"""

from __future__ import annotations

import os
import shutil
import subprocess

from bench.stackbase import ServiceStack, ensure_services, is_root

# Sane settings for a 2-core, few-GB box running OLTP. fsync and synchronous_commit stay on: production-like.
PG_SETTINGS = {
    "listen_addresses": "127.0.0.1",
    "max_connections": "200",
    "shared_buffers": "512MB",
    "effective_cache_size": "2GB",
    "work_mem": "8MB",
    "maintenance_work_mem": "256MB",
    "wal_buffers": "16MB",
    "max_wal_size": "4GB",
    "checkpoint_timeout": "15min",
    "random_page_cost": "1.1",
    "jit": "off",
    "log_min_messages": "warning",
    # statement counts per scenario (bench/probes.py); its overhead is a few per cent at most
    "shared_preload_libraries": "pg_stat_statements",
    "pg_stat_statements.track": "top",
    "pg_stat_statements.track_utility": "on",
}


def ensure_binaries() -> None:
    """PostgreSQL and Redis via .ci/ensure-services; wrk via apt when missing (as root)."""
    ensure_services()
    if shutil.which("wrk") is None:
        if not is_root():
            raise SystemExit("bench: wrk is missing; install it (apt-get install -y wrk)")
        print("bench: installing wrk with apt", flush=True)
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
        subprocess.run(
            ["apt-get", "install", "-y", "-qq", "wrk"], check=True, env=env, stdout=subprocess.DEVNULL
        )


class Stack(ServiceStack):
    name = "bench"
    pg_settings = PG_SETTINGS
    redis_append_only = False
    redis_start_timeout = 5.0
    web_args = ("--log-level=warning", "--timeout=60")
    web_ready = "/healthz"
    web_ready_timeout = 30.0

    def __init__(self) -> None:
        super().__init__()
        self.web_workers = os.cpu_count() or 2
        # experiments only, e.g. BENCH_WEB_THREADS=8 (the default is the deployment's: 4 per worker)
        self.web_threads = int(os.environ.get("BENCH_WEB_THREADS", self.web_threads))

    def env_settings(self) -> dict[str, str]:
        return {
            "DEBUG": "false",
            "ALLOWED_HOSTS": "127.0.0.1",
            "RATE_LIMITS_ENABLED": "false",
            # Waiting tokens seeded once are polled again in later repetitions (and the scaling queues
            # are not polled at all between them): none may be abandoned meanwhile.
            "QUEUE_ABANDON_SECONDS": "3600",
            # Celery's broker in another Redis database, so the queue's memory is measured alone.
            "CELERY_BROKER_URL": f"redis://127.0.0.1:{self.redis_port}/1",
        }

    def postgres_settings(self) -> dict[str, str]:
        settings = super().postgres_settings()
        # experiments only, e.g. BENCH_PG_SETTINGS="synchronous_commit=off,shared_buffers=1GB"
        for item in filter(None, os.environ.get("BENCH_PG_SETTINGS", "").split(",")):
            key, _, value = item.partition("=")
            settings[key.strip()] = value.strip()
        return settings

    def start_app(self) -> None:
        """The Celery worker with one embedded beat, and gunicorn (after migrations and seeding)."""
        self.spawn_celery(
            "celery",
            "worker",
            "--beat",
            "--concurrency=1",
            "--loglevel=WARNING",
            f"--schedule={self.work / 'celerybeat-schedule'}",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        )
        self.start_web()
