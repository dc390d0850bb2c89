"""The chaos stack: PostgreSQL and Redis from their binaries, gunicorn (production settings, gthread), one
Celery worker and one beat, each a child process on a free loopback port, each stoppable and killable.

The process management is the benchmark's (bench/stackbase.py); this adds what only the fault tests need:
short clocks, rate limits on, a separate worker and beat (and a second beat), a PostgreSQL restart,
signals to pause a process, and finding the gunicorn worker that serves a connection. Redis runs in the
foreground with an append-only file, as in docker-compose.yml, so a restart keeps the queue.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from bench.stackbase import REPO, ensure_services, http_status, wait_until
from tests.chaos.cluster import ClusterStack

__all__ = [
    "ACTIVE_TTL_SECONDS",
    "HOLD_SECONDS",
    "REPO",
    "Stack",
    "http_status",
    "wait_until",
]

# Short clocks so a fault can outlast a hold and a token within seconds (the API contract is unchanged).
HOLD_SECONDS = 6
ACTIVE_TTL_SECONDS = 10
PROMOTION_INTERVAL_SECONDS = 1
SWEEP_SECONDS = 2
WEB_WORKERS = 2
WEB_THREADS = 4


class Stack(ClusterStack):
    name = "chaos"
    # fsync stays on: "no committed payment is lost" is asked of a production-like server.
    pg_settings = {"listen_addresses": "127.0.0.1", "max_connections": "200"}
    pg_ctl_timeout = 30
    redis_append_only = True
    redis_start_timeout = 10.0
    env_drop_prefixes = ("DJANGO_", "CELERY_")
    web_workers = WEB_WORKERS
    web_threads = WEB_THREADS
    web_args = ("--config=config/gunicorn_conf.py", "--timeout=30")

    def __init__(self) -> None:
        super().__init__()
        (self.work / "prometheus").mkdir()  # every Django process of the stack writes its metrics here

    def env_settings(self) -> dict[str, str]:
        lots = "1000000/minute"  # rate limits stay on (their Redis path is exercised) but never bite
        return {
            **self.cluster_env(),  # REDIS_URL on the cluster once the stack has switched to it
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "RATE_LIMITS_ENABLED": "true",
            "RATE_LIMIT_QUEUE_ISSUE": lots,
            "RATE_LIMIT_QUEUE_STATUS": lots,
            "RATE_LIMIT_BOOKING": lots,
            "RESERVATION_HOLD_SECONDS": str(HOLD_SECONDS),
            "QUEUE_ACTIVE_TTL_SECONDS": str(ACTIVE_TTL_SECONDS),
            "QUEUE_PROMOTION_INTERVAL_SECONDS": str(PROMOTION_INTERVAL_SECONDS),
            "QUEUE_PROMOTION_BATCH_SIZE": "50",
            "RESERVATION_EXPIRY_SWEEP_SECONDS": str(SWEEP_SECONDS),
            "LOG_FORMAT": "json",
            "PROMETHEUS_MULTIPROC_DIR": str(self.work / "prometheus"),
        }

    @property
    def queue_redis_url(self) -> str:
        """Where the queue lives: the standalone Redis, or a node of the cluster once switched to it."""
        return self.cluster_env().get("REDIS_URL", self.redis_url)

    # --- lifecycle -------------------------------------------------------------------------------
    def start_services(self) -> None:
        ensure_services()
        super().start_services()

    def pg_restart_fast(self) -> None:
        """`pg_ctl restart -m fast` as the postgres user: every session is cut, the server comes back."""
        self.pg_ctl("restart", *self._pg_wait(), "-m", "fast")

    def start_worker(self) -> None:
        self.spawn_celery(
            "worker",
            "--quiet",
            "worker",
            "--loglevel=WARNING",
            "--concurrency=2",
            "--without-gossip",
            "--without-mingle",
            "--hostname=chaos@%h",
        )

    def start_beat(self, name: str = "beat") -> None:
        bdir = self.work / name
        bdir.mkdir(exist_ok=True)
        self.spawn_celery(
            name,
            "--quiet",
            "beat",
            "--loglevel=WARNING",
            f"--schedule={bdir / 'celerybeat-schedule'}",
        )

    def signal(self, name: str, sig: int) -> None:
        """Signal one process (e.g. SIGSTOP/SIGCONT to pause Redis)."""
        os.kill(self.procs[name].pid, sig)

    def web_worker_serving(self, client_port: int) -> int | None:
        """The gunicorn worker holding the accepted socket of a client connection from `client_port`:
        the socket's inode from /proc/net/tcp, then the worker with a descriptor on it."""
        inode = None
        with contextlib.suppress(OSError):
            for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
                fields = line.split()
                local, remote, state = fields[1], fields[2], fields[3]
                if (
                    state == "01"  # ESTABLISHED
                    and int(local.split(":")[1], 16) == self.http_port
                    and int(remote.split(":")[1], 16) == client_port
                ):
                    inode = fields[9]
        if inode is None:
            return None
        for pid in self.web_worker_pids():
            with contextlib.suppress(OSError):
                for fd in os.scandir(f"/proc/{pid}/fd"):
                    with contextlib.suppress(OSError):
                        if os.readlink(fd.path) == f"socket:[{inode}]":
                            return pid
        return None
