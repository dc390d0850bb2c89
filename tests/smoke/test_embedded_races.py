"""The embedded mode under real concurrency: a gunicorn server (2 processes x 4 threads) on a SQLite file,
hammered over HTTP. Races must end exactly as on PostgreSQL, and "database is locked" must never reach
a client as a 500."""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.embedded


@pytest.fixture(scope="module")
def embedded_server(tmp_path_factory):
    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3":
        pytest.skip("runs in the embedded (SQLite) stage of make test")
    folder = tmp_path_factory.mktemp("embedded")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL"}}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.local",
        DEBUG="false",
        DATABASE_URL=f"sqlite:///{folder / 'db.sqlite3'}",
        RATE_LIMITS_ENABLED="false",
        QUEUE_PROMOTION_BATCH_SIZE="100",
    )
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "migrate", "--noinput"], cwd=ROOT, env=env, check=True, capture_output=True)
    subprocess.run(
        [*manage, "seed_concerts", "--concerts", "1", "--schedules", "1", "--seats", "10"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    log = (folder / "server.log").open("w")
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "config.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
            "--worker-class",
            "gthread",
            "--threads",
            "4",
            "--no-control-socket",
            "--log-level",
            "warning",
            "--env",
            "DJANGO_SETTINGS_MODULE=config.settings.local",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(base + "/healthz", timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        yield base, env
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()


def call(base: str, method: str, path: str, body: dict | None = None, **headers: str) -> tuple[int, dict]:
    request = urllib.request.Request(
        base + path, data=json.dumps(body).encode() if body is not None else None, method=method
    )
    request.add_header("Content-Type", "application/json")
    for name, value in headers.items():
        request.add_header(name, value)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def fan(base: str, n: int) -> dict[str, str]:
    email = f"race{n}-{time.monotonic_ns()}@example.com"
    status, _ = call(
        base,
        "POST",
        "/api/v1/users",
        {"name": f"Racer {n}", "email": email, "password": "a-long-passphrase-9"},
    )
    assert status == 201
    _, token = call(base, "POST", "/api/v1/auth/token", {"email": email, "password": "a-long-passphrase-9"})
    return {"Authorization": f"Bearer {token['access_token']}"}


def test_races_end_exactly_with_no_server_errors(embedded_server):
    base, env = embedded_server
    with ThreadPoolExecutor(max_workers=16) as pool:
        fans = list(pool.map(lambda n: fan(base, n), range(30)))
    concert_id = call(base, "GET", "/api/v1/concerts")[1]["results"][0]["id"]
    schedule = call(base, "GET", f"/api/v1/concerts/{concert_id}/schedules")[1]["results"][0]
    tokens = [
        call(base, "POST", "/api/v1/queue/tokens", {"concert_id": concert_id}, **auth)[1]["token"]
        for auth in fans
    ]
    subprocess.run(
        [sys.executable, "manage.py", "promote_queue"], cwd=ROOT, env=env, check=True, capture_output=True
    )

    # 30 fans, one seat, all at once: exactly one hold.
    hold = {"schedule_id": schedule["id"], "seat_number": 1}
    with ThreadPoolExecutor(max_workers=30) as pool:
        holds = list(
            pool.map(
                lambda i: call(
                    base, "POST", "/api/v1/reservations", hold, **fans[i], **{"X-Queue-Token": tokens[i]}
                ),
                range(30),
            )
        )
    statuses = Counter(status for status, _ in holds)
    assert statuses == {201: 1, 409: 29}, statuses

    # 40 concurrent charges to one wallet: the exact sum, one ledger row each.
    with ThreadPoolExecutor(max_workers=20) as pool:
        charges = list(
            pool.map(
                lambda i: call(base, "POST", "/api/v1/points/charge", {"amount": i + 1}, **fans[0]), range(40)
            )
        )
    assert Counter(status for status, _ in charges) == {200: 40}
    assert call(base, "GET", "/api/v1/points", **fans[0])[1]["balance"] == sum(range(1, 41))
    history = call(base, "GET", "/api/v1/points/history?page_size=100", **fans[0])[1]
    assert history["count"] == 40

    # The winner pays ten times at once: one payment, one debit.
    winner = next(i for i, (status, _) in enumerate(holds) if status == 201)
    reservation_id = holds[winner][1]["id"]
    call(base, "POST", "/api/v1/points/charge", {"amount": 1_000_000}, **fans[winner])
    before = call(base, "GET", "/api/v1/points", **fans[winner])[1]["balance"]
    with ThreadPoolExecutor(max_workers=10) as pool:
        payments = list(
            pool.map(
                lambda _: call(
                    base,
                    "POST",
                    "/api/v1/payments",
                    {"reservation_id": reservation_id},
                    **fans[winner],
                    **{"X-Queue-Token": tokens[winner]},
                ),
                range(10),
            )
        )
    outcomes = Counter(status for status, _ in payments)
    assert outcomes[201] == 1 and all(status < 500 for status in outcomes), outcomes
    after = call(base, "GET", "/api/v1/points", **fans[winner])[1]["balance"]
    assert before - after == holds[winner][1]["price"]
