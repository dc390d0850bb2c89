"""The production-like stack for the benchmark, as child processes on free loopback ports.

PostgreSQL and Redis are started from their binaries (the approach of .ci/with-services), then gunicorn
(gthread, one worker per core, 4 threads each) and one Celery worker with an embedded beat. Everything is
stopped and the scratch directory removed on exit, on Ctrl-C and on SIGTERM.
"""

from __future__ import annotations

import atexit
import contextlib
import glob
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent

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


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def is_root() -> bool:
    return os.geteuid() == 0


def ensure_binaries() -> None:
    """PostgreSQL and Redis via .ci/ensure-services; wrk via apt when missing (as root)."""
    subprocess.run([str(REPO / ".ci" / "ensure-services")], check=True)
    if shutil.which("wrk") is None:
        if not is_root():
            raise SystemExit("bench: wrk is missing; install it (apt-get install -y wrk)")
        print("bench: installing wrk with apt", flush=True)
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
        subprocess.run(
            ["apt-get", "install", "-y", "-qq", "wrk"], check=True, env=env, stdout=subprocess.DEVNULL
        )


def pg_bin() -> Path:
    dirs = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[-2]))
    if not dirs:
        raise SystemExit("bench: PostgreSQL binaries not found under /usr/lib/postgresql")
    return Path(dirs[-1])


def wait_http(url: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=1) as resp:
                if resp.status == 200:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"{url} did not answer 200 within {timeout:.0f}s")
        time.sleep(0.1)


@dataclass
class Stack:
    workers: int = field(default_factory=lambda: os.cpu_count() or 2)
    threads: int = 4
    work: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="ticketing-bench.")))
    pg_port: int = field(default_factory=free_port)
    redis_port: int = field(default_factory=free_port)
    http_port: int = field(default_factory=free_port)
    secret_key: str = field(default_factory=lambda: secrets.token_urlsafe(48))
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    _pg_started: bool = False
    _stopped: bool = False

    # --- environment -----------------------------------------------------------------------------
    @property
    def database_url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.pg_port}/app"

    @property
    def redis_url(self) -> str:
        return f"redis://127.0.0.1:{self.redis_port}/0"

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    def app_env(self, **extra: str) -> dict[str, str]:
        """The environment of every Django process of the stack (and of the orchestrator's Django)."""
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.production",
            "SECRET_KEY": self.secret_key,
            "DEBUG": "false",
            "ALLOWED_HOSTS": "127.0.0.1",
            "SECURE_SSL_REDIRECT": "false",
            "SECURE_HSTS_SECONDS": "0",
            "RATE_LIMITS_ENABLED": "false",
            "DATABASE_URL": self.database_url,
            "REDIS_URL": self.redis_url,
            # Celery's broker in another Redis database, so the queue's memory is measured alone.
            "CELERY_BROKER_URL": f"redis://127.0.0.1:{self.redis_port}/1",
            "LOG_LEVEL": "WARNING",
            "PYTHONDONTWRITEBYTECODE": "1",
        }
        env.update(extra)
        return env

    # --- lifecycle -------------------------------------------------------------------------------
    def _as_postgres(self, args: list[str]) -> list[str]:
        return ["runuser", "-u", "postgres", "--", *args] if is_root() else args

    def start_services(self) -> None:
        atexit.register(self.stop)
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, self._on_signal)
        self.work.chmod(0o755)
        (self.work / "logs").mkdir()
        self._start_postgres()
        self._start_redis()

    def _on_signal(self, signum: int, frame: object) -> None:
        print(f"\nbench: signal {signum}, stopping the stack", file=sys.stderr, flush=True)
        self.stop()
        raise SystemExit(128 + signum)

    def _start_postgres(self) -> None:
        pgdir = self.work / "pg"
        pgdir.mkdir()
        if is_root():
            shutil.chown(pgdir, "postgres", "postgres")
        bin_ = pg_bin()
        subprocess.run(
            self._as_postgres(
                [
                    str(bin_ / "initdb"),
                    "-D",
                    str(pgdir / "data"),
                    "-U",
                    "postgres",
                    "--auth=trust",
                    "-E",
                    "UTF8",
                    "--locale=C.UTF-8",
                ]
            ),
            check=True,
            stdout=subprocess.DEVNULL,
        )
        settings = dict(PG_SETTINGS)
        # experiments only, e.g. BENCH_PG_SETTINGS="synchronous_commit=off,shared_buffers=1GB"
        for item in filter(None, os.environ.get("BENCH_PG_SETTINGS", "").split(",")):
            key, _, value = item.partition("=")
            settings[key.strip()] = value.strip()
        opts = " ".join(f"-c {k}={v}" for k, v in settings.items())
        opts += f" -p {self.pg_port} -k {pgdir}"
        subprocess.run(
            self._as_postgres(
                [
                    str(bin_ / "pg_ctl"),
                    "-D",
                    str(pgdir / "data"),
                    "-l",
                    str(pgdir / "log"),
                    "-w",
                    "-o",
                    opts,
                    "start",
                ]
            ),
            check=True,
            stdout=subprocess.DEVNULL,
        )
        self._pg_started = True
        subprocess.run(
            [str(bin_ / "createdb"), "-h", "127.0.0.1", "-p", str(self.pg_port), "-U", "postgres", "app"],
            check=True,
        )

    def _start_redis(self) -> None:
        subprocess.run(
            [
                "redis-server",
                "--port",
                str(self.redis_port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "yes",
                "--pidfile",
                str(self.work / "redis.pid"),
                "--logfile",
                str(self.work / "logs" / "redis.log"),
                "--dir",
                str(self.work),
            ],
            check=True,
        )
        for _ in range(100):
            ok = subprocess.run(
                ["redis-cli", "-p", str(self.redis_port), "ping"], capture_output=True, check=False
            )
            if ok.returncode == 0:
                return
            time.sleep(0.05)
        raise RuntimeError("redis did not start")

    def _spawn(self, name: str, args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        log = open(self.work / "logs" / f"{name}.log", "wb")  # noqa: SIM115 - lives as long as the process
        proc = subprocess.Popen(
            args, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        self.procs[name] = proc
        return proc

    def start_app(self) -> None:
        """gunicorn and the Celery worker with one embedded beat (after migrations and seeding)."""
        self._spawn(
            "gunicorn",
            [
                str(VENV_BIN / "gunicorn"),
                "config.wsgi:application",
                "--bind",
                f"127.0.0.1:{self.http_port}",
                "--worker-class",
                "gthread",
                "--workers",
                str(self.workers),
                "--threads",
                str(self.threads),
                "--no-control-socket",
                "--log-level",
                "warning",
                "--timeout",
                "60",
            ],
            self.app_env(),
        )
        self._spawn(
            "celery",
            [
                str(VENV_BIN / "celery"),
                "-A",
                "config",
                "worker",
                "--beat",
                "--concurrency=1",
                "--loglevel=WARNING",
                f"--schedule={self.work / 'celerybeat-schedule'}",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ],
            self.app_env(),
        )
        try:
            wait_http(f"{self.base_url}/healthz", timeout=30)
        except RuntimeError:
            print(self.log_tail("gunicorn"), file=sys.stderr)
            raise

    def gunicorn_worker_pids(self) -> list[int]:
        master = self.procs["gunicorn"].pid
        out = subprocess.run(["pgrep", "-P", str(master)], capture_output=True, text=True, check=False)
        return [int(p) for p in out.stdout.split()]

    def log_tail(self, name: str, lines: int = 40) -> str:
        path = self.work / "logs" / f"{name}.log"
        if not path.exists():
            return ""
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, signal.SIG_DFL)
        for proc in self.procs.values():
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + 10
        for proc in self.procs.values():
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        pidfile = self.work / "redis.pid"
        if pidfile.exists():
            with contextlib.suppress(ProcessLookupError, ValueError):
                os.kill(int(pidfile.read_text().strip()), signal.SIGTERM)
        if self._pg_started:
            subprocess.run(
                self._as_postgres(
                    [
                        str(pg_bin() / "pg_ctl"),
                        "-D",
                        str(self.work / "pg" / "data"),
                        "-m",
                        "immediate",
                        "-w",
                        "stop",
                    ]
                ),
                check=False,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        if os.environ.get("BENCH_KEEP_WORKDIR"):
            print(f"bench: kept {self.work}", file=sys.stderr)
        else:
            shutil.rmtree(self.work, ignore_errors=True)
