"""The server `make run` starts, started the same way: the Procfile's `web` command, run by a shell from
the repository root as honcho runs it, in both modes (embedded: a SQLite file; full: PostgreSQL and Redis).
Bursts of simultaneous clients must all be answered: none reset, none left without an answer, no 5xx."""

from __future__ import annotations

import json
import os
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
import urllib.parse
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]
BURST = 200
RACERS = 40
MODE_VARIABLES = {"DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "DJANGO_SETTINGS_MODULE"}


def procfile_web_command() -> str:
    """The Procfile's `web` line. It names the project's `.venv`; the suite may run from another
    virtualenv with the same pinned packages, so its bin folder stands in for `.venv/bin`."""
    for line in (ROOT / "Procfile").read_text().splitlines():
        name, sep, command = line.partition(":")
        if sep and name.strip() == "web":
            return command.strip().replace(".venv/bin/", f"{Path(sys.executable).parent}/")
    raise AssertionError("the Procfile has no web process")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def manage(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


@contextmanager
def procfile_web(env: dict[str, str], log_path: Path) -> Iterator[int]:
    """Start the Procfile's web command as honcho does (a shell, its own session) and stop its whole
    process group after."""
    port = free_port()
    with log_path.open("w") as log:
        server = subprocess.Popen(  # noqa: S602 - the Procfile line is ours, run as honcho runs it
            procfile_web_command(),
            shell=True,
            cwd=ROOT,
            env={**env, "PORT": str(port)},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            deadline = time.monotonic() + 60
            while True:
                assert server.poll() is None, log_path.read_text()[-3000:]
                try:
                    status, _ = http(port, "GET", "/healthz")
                    if status == 200:
                        break
                except OSError:
                    pass
                assert time.monotonic() < deadline, log_path.read_text()[-3000:]
                time.sleep(0.2)
            yield port
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait(timeout=10)


def raw_request(
    method: str, path: str, body: dict | None = None, headers: dict[str, str] | None = None
) -> bytes:
    payload = json.dumps(body).encode() if body is not None else b""
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    if body is not None:
        lines += ["Content-Type: application/json", f"Content-Length: {len(payload)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + payload


def retransmissions(conn: socket.socket) -> int:
    """Segments this connection had to send again (Linux tcp_info.tcpi_total_retrans). On loopback any
    retransmission means the server's accept queue overflowed and dropped the handshake: a client of a
    server that queues its bursts never sees one."""
    info = conn.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 104)
    return int(struct.unpack_from("I", info, 100)[0])


def exchange(port: int, request: bytes, *, retransmitted: list[int] | None = None) -> tuple[int, bytes]:
    with socket.create_connection(("127.0.0.1", port), timeout=30) as conn:
        conn.sendall(request)
        chunks = []
        while chunk := conn.recv(65536):
            chunks.append(chunk)
        if retransmitted is not None:
            retransmitted.append(retransmissions(conn))
    answer = b"".join(chunks)
    if not answer:
        raise ConnectionAbortedError("closed without an answer")
    head, _, content = answer.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), content


def http(port: int, method: str, path: str, body: dict | None = None, **headers: str) -> tuple[int, dict]:
    status, content = exchange(port, raw_request(method, path, body, headers))
    return status, json.loads(content or b"{}") if content.startswith((b"{", b"[")) else {}


def burst(port: int, requests: list[bytes]) -> Counter[str]:
    """Every request on its own connection, all connecting at the same moment. Returns the outcomes:
    the status code (marked when the connection needed retransmissions), or how the connection failed."""
    gate = threading.Barrier(len(requests))

    def one(request: bytes) -> str:
        gate.wait()
        retransmitted: list[int] = []
        try:
            status = str(exchange(port, request, retransmitted=retransmitted)[0])
        except ConnectionResetError:
            return "reset"
        except OSError as error:
            return f"failed: {type(error).__name__}"
        return f"{status} after a dropped handshake" if retransmitted[0] else status

    with ThreadPoolExecutor(max_workers=len(requests)) as pool:
        return Counter(pool.map(one, requests))


def catalog_burst_is_all_answered(port: int) -> None:
    outcomes = burst(port, [raw_request("GET", "/api/v1/concerts")] * BURST)
    assert outcomes == {"200": BURST}, outcomes


def seat_race_has_one_winner(port: int, env: dict[str, str]) -> None:
    """RACERS fans, each ACTIVE in the queue, all asking for the same seat at the same moment."""
    concert_id = http(port, "GET", "/api/v1/concerts")[1]["results"][0]["id"]
    schedule_id = http(port, "GET", f"/api/v1/concerts/{concert_id}/schedules")[1]["results"][0]["id"]

    # Accounts straight in the database (registering 40 over HTTP would mostly time password hashing),
    # bearer tokens signed by the server's own settings, queue tokens over HTTP.
    script = (
        "import json, uuid; from users.models import User; "
        "from rest_framework_simplejwt.tokens import AccessToken; "
        f"users = [User.objects.create(email=f'fan{{n}}-{{uuid.uuid4().hex}}@example.com', name='Fan') "
        f"for n in range({RACERS})]; "
        "print(json.dumps([str(AccessToken.for_user(u)) for u in users]))"
    )
    bearers = json.loads(manage(env, "shell", "-c", script).strip().splitlines()[-1])

    def fan(bearer: str) -> dict[str, str]:
        auth = {"Authorization": f"Bearer {bearer}"}
        token = http(port, "POST", "/api/v1/queue/tokens", {"concert_id": concert_id}, **auth)[1]["token"]
        return {**auth, "X-Queue-Token": token}

    with ThreadPoolExecutor(max_workers=8) as pool:
        fans = list(pool.map(fan, bearers))
    manage(env, "promote_queue", "--concert", str(concert_id))
    hold = {"schedule_id": schedule_id, "seat_number": 1}
    outcomes = burst(port, [raw_request("POST", "/api/v1/reservations", hold, headers) for headers in fans])
    assert outcomes == {"201": 1, "409": RACERS - 1}, outcomes


def server_env(**mode: str) -> dict[str, str]:
    """The environment `make run` would see: none of the suite's settings; rate limits off only so that
    one address may queue the racing fans."""
    env = {k: v for k, v in os.environ.items() if k not in MODE_VARIABLES}
    env.update(RATE_LIMITS_ENABLED="false", QUEUE_PROMOTION_BATCH_SIZE=str(RACERS), **mode)
    return env


@pytest.mark.embedded
def test_make_run_answers_every_client_of_a_burst_in_embedded_mode(tmp_path):
    env = server_env(DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}")
    manage(env, "migrate", "--noinput")
    manage(env, "seed_concerts", "--concerts", "2", "--schedules", "1", "--seats", "10")
    with procfile_web(env, tmp_path / "server.log") as port:
        catalog_burst_is_all_answered(port)
        seat_race_has_one_winner(port, env)
        # Admin's static files come from the app server itself.
        assert exchange(port, raw_request("GET", "/static/admin/css/base.css"))[0] == 200


@pytest.fixture
def full_mode_env() -> Iterator[dict[str, str]]:
    """A database of its own on the suite's PostgreSQL (the suite's test database stays untouched) and a
    Redis database of its own on the suite's Redis."""
    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql" or not settings.REDIS_URL:
        pytest.skip("needs the suite's PostgreSQL and Redis (make test)")
    import psycopg
    import redis

    url = urllib.parse.urlsplit(os.environ["DATABASE_URL"])
    name = f"serving_{uuid.uuid4().hex[:12]}"
    admin_url = url._replace(path="/postgres").geturl()
    redis_url = urllib.parse.urlsplit(settings.REDIS_URL)._replace(path="/15").geturl()
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield server_env(DATABASE_URL=url._replace(path=f"/{name}").geturl(), REDIS_URL=redis_url)
    finally:
        redis.Redis.from_url(redis_url).flushdb()
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


def test_make_run_answers_every_client_of_a_burst_on_postgresql_and_redis(full_mode_env, tmp_path):
    manage(full_mode_env, "migrate", "--noinput")
    manage(full_mode_env, "seed_concerts", "--concerts", "2", "--schedules", "1", "--seats", "10")
    with procfile_web(full_mode_env, tmp_path / "server.log") as port:
        catalog_burst_is_all_answered(port)
        seat_race_has_one_winner(port, full_mode_env)
