"""The chaos stack: PostgreSQL and Redis from their binaries, gunicorn (production settings, gthread), one
Celery worker and one beat, each a child process on a free loopback port, each stoppable and killable.

Everything started here is stopped in `stop()` (also on SIGINT/SIGTERM and at exit), and the scratch
directory removed. Redis runs in the foreground with an append-only file, as in docker-compose.yml, so a
restart keeps the queue.
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
import urllib.error
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent

# Short clocks so a fault can outlast a hold and a token within seconds (the API contract is unchanged).
HOLD_SECONDS = 6
ACTIVE_TTL_SECONDS = 10
PROMOTION_INTERVAL_SECONDS = 1
SWEEP_SECONDS = 2
WEB_WORKERS = 2
WEB_THREADS = 4


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def pg_bin() -> Path:
    dirs = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[-2]))
    if not dirs:
        raise SystemExit("chaos: PostgreSQL binaries not found under /usr/lib/postgresql")
    return Path(dirs[-1])


def as_postgres(args: list[str]) -> list[str]:
    """initdb and pg_ctl refuse to run as root: run them as the postgres user."""
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else args


def http_status(url: str, timeout: float = 2.0) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return int(resp.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
    except OSError:
        return None


def wait_until(predicate, timeout: float, interval: float = 0.1) -> bool:  # type: ignore[no-untyped-def]
    """Poll `predicate` until it is true or `timeout` seconds pass; returns its last verdict."""
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)


class Stack:
    def __init__(self) -> None:
        self.work = Path(tempfile.mkdtemp(prefix="ticketing-chaos."))
        self.work.chmod(0o755)
        self.logs = self.work / "logs"
        self.logs.mkdir()
        (self.work / "prometheus").mkdir()  # every Django process of the stack writes its metrics here
        self.pg_port = free_port()
        self.redis_port = free_port()
        self.http_port = free_port()
        self.secret_key = secrets.token_urlsafe(48)
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self._pg_started = False
        self._stopped = False

    # --- addresses and environment ---------------------------------------------------------------
    @property
    def database_url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.pg_port}/app"

    @property
    def redis_url(self) -> str:
        return f"redis://127.0.0.1:{self.redis_port}/0"

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    def app_env(self) -> dict[str, str]:
        """The environment of every Django process of the stack, the orchestrator's own included."""
        lots = "1000000/minute"  # rate limits stay on (their Redis path is exercised) but never bite
        return {
            **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "CELERY_"))},
            "DJANGO_SETTINGS_MODULE": "config.settings.production",
            "SECRET_KEY": self.secret_key,
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "SECURE_SSL_REDIRECT": "false",
            "SECURE_HSTS_SECONDS": "0",
            "DATABASE_URL": self.database_url,
            "REDIS_URL": self.redis_url,
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
            "LOG_LEVEL": "WARNING",
            "PROMETHEUS_MULTIPROC_DIR": str(self.work / "prometheus"),
            "PYTHONDONTWRITEBYTECODE": "1",
        }

    # --- lifecycle -------------------------------------------------------------------------------
    def start_services(self) -> None:
        atexit.register(self.stop)
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, self._on_signal)
        subprocess.run([str(REPO / ".ci" / "ensure-services")], check=True)
        self._start_postgres()
        self.start_redis()

    def _on_signal(self, signum: int, frame: object) -> None:
        print(f"\nchaos: signal {signum}, stopping the stack", file=sys.stderr, flush=True)
        self.stop()
        raise SystemExit(128 + signum)

    def _start_postgres(self) -> None:
        pgdir = self.work / "pg"
        pgdir.mkdir()
        if os.geteuid() == 0:
            shutil.chown(pgdir, "postgres", "postgres")
        bin_ = pg_bin()
        subprocess.run(
            as_postgres(
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
        # fsync stays on: "no committed payment is lost" is asked of a production-like server.
        opts = f"-c listen_addresses=127.0.0.1 -p {self.pg_port} -k {pgdir} -c max_connections=200"
        self._pg_ctl("start", "-l", str(pgdir / "log"), "-o", opts)
        self._pg_started = True
        subprocess.run(
            [str(bin_ / "createdb"), "-h", "127.0.0.1", "-p", str(self.pg_port), "-U", "postgres", "app"],
            check=True,
        )

    def _pg_ctl(self, action: str, *args: str) -> None:
        data = str(self.work / "pg" / "data")
        subprocess.run(
            as_postgres([str(pg_bin() / "pg_ctl"), "-D", data, "-w", "-t", "30", *args, action]),
            check=True,
            stdout=subprocess.DEVNULL,
        )

    def pg_restart_fast(self) -> None:
        """`pg_ctl restart -m fast` as the postgres user: every session is cut, the server comes back."""
        self._pg_ctl("restart", "-m", "fast")

    def start_redis(self) -> None:
        rdir = self.work / "redis"
        rdir.mkdir(exist_ok=True)
        self._spawn(
            "redis",
            [
                "redis-server",
                *("--port", str(self.redis_port), "--bind", "127.0.0.1", "--save", ""),
                *("--appendonly", "yes", "--appendfsync", "everysec", "--dir", str(rdir)),
            ],
            env=dict(os.environ),
        )
        if not wait_until(self.redis_ping, 10):
            raise RuntimeError("redis did not start:\n" + self.log_tail("redis"))

    def redis_ping(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.redis_port), timeout=0.5) as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop_redis(self) -> None:
        """SIGTERM: Redis writes its append-only file and exits (a clean `redis-cli shutdown`)."""
        self.stop_process("redis", signal.SIGTERM, timeout=10)

    def _spawn(self, name: str, args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        log = open(self.logs / f"{name}.log", "ab")  # noqa: SIM115 - lives as long as the process
        proc = subprocess.Popen(
            args, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        log.close()  # the child holds its own descriptor
        self.procs[name] = proc
        return proc

    def manage(self, *args: str, timeout: float = 180) -> str:
        done = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=REPO,
            env=self.app_env(),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
        return done.stdout

    def start_web(self) -> None:
        self._spawn(
            "gunicorn",
            [
                str(VENV_BIN / "gunicorn"),
                "config.wsgi:application",
                "--config=config/gunicorn_conf.py",
                f"--bind=127.0.0.1:{self.http_port}",
                "--worker-class=gthread",
                f"--workers={WEB_WORKERS}",
                f"--threads={WEB_THREADS}",
                "--no-control-socket",
                "--timeout=30",
            ],
            self.app_env(),
        )
        if not wait_until(lambda: http_status(f"{self.base_url}/readyz") == 200, 60, 0.2):
            raise RuntimeError("gunicorn did not become ready:\n" + self.log_tail("gunicorn"))
        wait_until(lambda: len(self.web_worker_pids()) == WEB_WORKERS, 30)

    def start_worker(self) -> None:
        self._spawn(
            "worker",
            [
                str(VENV_BIN / "celery"),
                "--app=config",
                "--quiet",
                "worker",
                "--loglevel=WARNING",
                "--concurrency=2",
                "--without-gossip",
                "--without-mingle",
                "--hostname=chaos@%h",
            ],
            self.app_env(),
        )

    def start_beat(self, name: str = "beat") -> None:
        bdir = self.work / name
        bdir.mkdir(exist_ok=True)
        self._spawn(
            name,
            [
                str(VENV_BIN / "celery"),
                "--app=config",
                "--quiet",
                "beat",
                "--loglevel=WARNING",
                f"--schedule={bdir / 'celerybeat-schedule'}",
            ],
            self.app_env(),
        )

    def running(self, name: str) -> bool:
        proc = self.procs.get(name)
        return proc is not None and proc.poll() is None

    def stop_process(self, name: str, sig: int = signal.SIGTERM, timeout: float = 15) -> None:
        """Signal the process group of `name` and wait; SIGKILL it after `timeout` seconds."""
        proc = self.procs.pop(name, None)
        if proc is None or proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
        if sig == signal.SIGKILL:  # orphaned children (a prefork pool) share the group: gone too
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)

    def signal(self, name: str, sig: int) -> None:
        os.kill(self.procs[name].pid, sig)

    def web_worker_pids(self) -> list[int]:
        """The gunicorn master's children, read from /proc (no procps needed)."""
        proc = self.procs.get("gunicorn")
        if proc is None:
            return []
        children = []
        for stat in glob.glob("/proc/[0-9]*/stat"):
            with contextlib.suppress(OSError, ValueError, IndexError):
                fields = Path(stat).read_text().rsplit(")", 1)[1].split()
                if int(fields[1]) == proc.pid:  # ppid
                    children.append(int(stat.split("/")[2]))
        return sorted(children)

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

    def log_tail(self, name: str, lines: int = 30) -> str:
        path = self.logs / f"{name}.log"
        if not path.exists():
            return ""
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, signal.SIG_DFL)
        for name in list(self.procs):
            if name != "redis":
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.procs[name].pid, signal.SIGCONT)  # a paused process cannot exit
        for name in [n for n in self.procs if n != "redis"]:
            self.stop_process(name, signal.SIGTERM, timeout=10)
        if "redis" in self.procs:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.procs["redis"].pid, signal.SIGCONT)
            self.stop_process("redis", signal.SIGTERM, timeout=10)
        if self._pg_started:
            subprocess.run(
                as_postgres(
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
        if os.environ.get("CHAOS_KEEP_WORKDIR"):
            print(f"chaos: kept {self.work}", file=sys.stderr)
        else:
            shutil.rmtree(self.work, ignore_errors=True)
