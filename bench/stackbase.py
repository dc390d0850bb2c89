"""The process management both test stacks share: the benchmark's (bench/stack.py) and the fault tests'
(tests/chaos/stack.py).

PostgreSQL and Redis are started from their binaries (the approach of .ci/with-services) on free loopback
ports, in a scratch directory; gunicorn and Celery are spawned each in its own process group. Every
process started is stopped, and the scratch directory removed, in `stop()` (also on SIGINT, SIGTERM,
SIGHUP and at exit). What differs between the two stacks is a class attribute or a method they override:
PostgreSQL's settings, Redis's persistence, the Django environment, which processes run.
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
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def is_root() -> bool:
    return os.geteuid() == 0


def ensure_services() -> None:
    """PostgreSQL and Redis binaries via .ci/ensure-services."""
    subprocess.run([str(REPO / ".ci" / "ensure-services")], check=True)


def pg_bin() -> Path:
    dirs = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[-2]))
    if not dirs:
        raise SystemExit("PostgreSQL binaries not found under /usr/lib/postgresql")
    return Path(dirs[-1])


def as_postgres(args: list[str]) -> list[str]:
    """initdb and pg_ctl refuse to run as root: run them as the postgres user."""
    return ["runuser", "-u", "postgres", "--", *args] if is_root() else args


def http_status(url: str, timeout: float = 2.0) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return int(resp.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
    except OSError:
        return None


def wait_until(predicate: Callable[[], object], timeout: float, interval: float = 0.1) -> bool:
    """Poll `predicate` until it is true or `timeout` seconds pass; returns its last verdict."""
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)


def children_of(pid: int) -> list[int]:
    """The direct children of `pid`, read from /proc (no procps needed)."""
    children = []
    for stat in glob.glob("/proc/[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = Path(stat).read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == pid:  # ppid
                children.append(int(stat.split("/")[2]))
    return sorted(children)


class ServiceStack:
    """PostgreSQL, Redis and the app's processes as children of this process, on free loopback ports."""

    name = "stack"  # prefixes messages; `<NAME>_KEEP_WORKDIR=1` keeps the scratch directory
    pg_settings: dict[str, str] = {"listen_addresses": "127.0.0.1"}
    pg_ctl_timeout: int | None = None  # pg_ctl -t on start and restart (None: its own default, 60 s)
    redis_append_only = False  # True: an append-only file, fsync every second (a restart keeps the data)
    redis_start_timeout = 10.0
    env_drop_prefixes: tuple[str, ...] = ()  # variables of this process the stack's processes do not inherit
    web_workers = 2
    web_threads = 4
    web_args: tuple[str, ...] = ()  # more gunicorn flags
    web_ready = "/readyz"  # the path that answers 200 once gunicorn serves
    web_ready_timeout = 60.0

    def __init__(self) -> None:
        self.work = Path(tempfile.mkdtemp(prefix=f"ticketing-{self.name}."))
        self.work.chmod(0o755)
        self.logs = self.work / "logs"
        self.logs.mkdir()
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

    def env_settings(self) -> dict[str, str]:
        """What a stack sets on top of the common environment (its own settings)."""
        return {}

    def app_env(self, **extra: str) -> dict[str, str]:
        """The environment of every Django process of the stack, the orchestrator's own included."""
        inherited = {k: v for k, v in os.environ.items() if not k.startswith(self.env_drop_prefixes)}
        return {
            **inherited,
            "DJANGO_SETTINGS_MODULE": "config.settings.production",
            "SECRET_KEY": self.secret_key,
            "SECURE_SSL_REDIRECT": "false",
            "SECURE_HSTS_SECONDS": "0",
            "DATABASE_URL": self.database_url,
            "REDIS_URL": self.redis_url,
            "LOG_LEVEL": "WARNING",
            "PYTHONDONTWRITEBYTECODE": "1",
            **self.env_settings(),
            **extra,
        }

    # --- services --------------------------------------------------------------------------------
    def start_services(self) -> None:
        atexit.register(self.stop)
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, self._on_signal)
        self._start_postgres()
        self.start_redis()

    def _on_signal(self, signum: int, frame: object) -> None:
        print(f"\n{self.name}: signal {signum}, stopping the stack", file=sys.stderr, flush=True)
        self.stop()
        raise SystemExit(128 + signum)

    def postgres_settings(self) -> dict[str, str]:
        return dict(self.pg_settings)

    def _start_postgres(self) -> None:
        pgdir = self.work / "pg"
        pgdir.mkdir()
        if is_root():
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
        opts = " ".join(f"-c {k}={v}" for k, v in self.postgres_settings().items())
        opts += f" -p {self.pg_port} -k {pgdir}"
        self.pg_ctl("start", *self._pg_wait(), "-l", str(pgdir / "log"), "-o", opts)
        self._pg_started = True
        subprocess.run(
            [str(bin_ / "createdb"), "-h", "127.0.0.1", "-p", str(self.pg_port), "-U", "postgres", "app"],
            check=True,
        )

    def pg_ctl(self, action: str, *args: str, check: bool = True) -> None:
        """`pg_ctl -D <data> -w <args> <action>` as the postgres user; quiet and unchecked if not `check`."""
        data = str(self.work / "pg" / "data")
        subprocess.run(
            as_postgres([str(pg_bin() / "pg_ctl"), "-D", data, "-w", *args, action]),
            check=check,
            stdout=subprocess.DEVNULL,
            stderr=None if check else subprocess.DEVNULL,
        )

    def _pg_wait(self) -> list[str]:
        return ["-t", str(self.pg_ctl_timeout)] if self.pg_ctl_timeout else []

    def start_redis(self) -> None:
        rdir = self.work / "redis"
        rdir.mkdir(exist_ok=True)
        if self.redis_append_only:
            persistence = ["--appendonly", "yes", "--appendfsync", "everysec"]
        else:
            persistence = ["--appendonly", "no"]
        self.spawn(
            "redis",
            [
                "redis-server",
                *("--port", str(self.redis_port), "--bind", "127.0.0.1", "--save", ""),
                *persistence,
                *("--dir", str(rdir)),
            ],
            env=dict(os.environ),
        )
        if not wait_until(self.redis_ping, self.redis_start_timeout):
            raise RuntimeError("redis did not start:\n" + self.log_tail("redis"))

    def redis_ping(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.redis_port), timeout=0.5) as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop_redis(self) -> None:
        """SIGTERM: Redis writes its append-only file (if any) and exits (a clean `redis-cli shutdown`)."""
        self.stop_process("redis", signal.SIGTERM, timeout=10)

    # --- the app's processes ---------------------------------------------------------------------
    def spawn(self, name: str, args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        """Start `name` in its own process group (so a stop reaches its children), logging to logs/."""
        log = open(self.logs / f"{name}.log", "ab")  # noqa: SIM115 - the child keeps its own descriptor
        proc = subprocess.Popen(
            args, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        log.close()
        self.procs[name] = proc
        return proc

    def spawn_celery(self, name: str, *args: str) -> subprocess.Popen[bytes]:
        return self.spawn(name, [str(VENV_BIN / "celery"), "--app=config", *args], self.app_env())

    def manage(self, *args: str, timeout: float | None = 180, **env: str) -> str:
        """`manage.py <args>` with the stack's environment (plus `env`); its output, or RuntimeError."""
        done = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=REPO,
            env=self.app_env(**env),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
        return done.stdout

    def start_web(
        self, name: str = "gunicorn", port: int | None = None, ready_path: str | None = None, **env: str
    ) -> None:
        """gunicorn (gthread, `web_workers` x `web_threads`, plus `web_args`) as process `name` on `port`
        (default: `http_port`), with `env` on top of the stack's environment; waits until `ready_path`
        (default `web_ready`) answers 200 (within `web_ready_timeout` seconds) and every worker is forked."""
        port = port or self.http_port
        self.spawn(
            name,
            [
                str(VENV_BIN / "gunicorn"),
                "config.wsgi:application",
                *self.web_args,
                f"--bind=127.0.0.1:{port}",
                "--worker-class=gthread",
                f"--workers={self.web_workers}",
                f"--threads={self.web_threads}",
                "--no-control-socket",
            ],
            self.app_env(**env),
        )
        ready = f"http://127.0.0.1:{port}{ready_path or self.web_ready}"
        if not wait_until(lambda: http_status(ready) == 200, self.web_ready_timeout, 0.2):
            raise RuntimeError(f"{name} did not answer 200 on {ready}:\n" + self.log_tail(name))
        wait_until(lambda: len(self.web_worker_pids(name)) == self.web_workers, 30)

    def web_worker_pids(self, name: str = "gunicorn") -> list[int]:
        """The gunicorn master's children."""
        proc = self.procs.get(name)
        return [] if proc is None else children_of(proc.pid)

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

    def log_tail(self, name: str, lines: int = 40) -> str:
        path = self.logs / f"{name}.log"
        if not path.exists():
            return ""
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        """Everything this stack started: the app's processes, then Redis, then PostgreSQL."""
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
            self.stop_redis()
        if self._pg_started:
            self.pg_ctl("stop", "-m", "immediate", check=False)
        if os.environ.get(f"{self.name.upper()}_KEEP_WORKDIR"):
            print(f"{self.name}: kept {self.work}", file=sys.stderr)
        else:
            shutil.rmtree(self.work, ignore_errors=True)
