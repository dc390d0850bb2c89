import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from prometheus_client import REGISTRY

from config import metrics

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def queue_provider():
    """Registers a provider for one test, then puts back whatever the queue app had registered."""
    previous = metrics._queue_stats_provider
    yield metrics.register_queue_stats_provider
    metrics.register_queue_stats_provider(previous)


def latency_count(method: str, route: str, status: str) -> float:
    labels = {"method": method, "route": route, "status": status}
    return REGISTRY.get_sample_value("http_request_duration_seconds_count", labels) or 0.0


def test_metrics_exposes_the_request_latency_histogram(client):
    before = latency_count("GET", "healthz", "2xx")
    client.get("/healthz")
    assert latency_count("GET", "healthz", "2xx") == before + 1

    response = client.get("/metrics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    text = response.content.decode()
    assert "# TYPE http_request_duration_seconds histogram" in text
    assert (
        'http_request_duration_seconds_bucket{le="0.005",method="GET",route="healthz",status="2xx"}' in text
    )
    for name in (
        "ticketing_holds_created_total",
        "ticketing_payments_completed_total",
        "ticketing_payments_failed_total",
        "ticketing_idempotent_replays_total",
        "# TYPE ticketing_celery_task_failures_total counter",
    ):
        assert name in text


def test_routes_are_pattern_names_not_raw_paths(client, db):
    client.get("/no/such/page/12345")
    client.get("/api/v1/concerts/987654")
    text = client.get("/metrics").content.decode()
    # Only label values can carry a path (a sample's value may hold any digits by chance).
    labels = re.findall(r'="([^"]*)"', text)
    assert not [v for v in labels if "12345" in v or "987654" in v]
    assert 'route="<unmatched>",status="4xx"' in text
    assert latency_count("GET", "concert-detail", "4xx") >= 1


def test_unknown_methods_share_one_label(client):
    before = latency_count("OTHER", "healthz", "2xx")
    client.generic("BREW", "/healthz")
    assert latency_count("OTHER", "healthz", "2xx") == before + 1


def test_queue_gauges_come_from_the_registered_provider(client, queue_provider):
    queue_provider(lambda: {7: (3, 2), 12: (0, 10)})
    text = client.get("/metrics").content.decode()
    assert 'ticketing_queue_waiting{concert_id="7"} 3.0' in text
    assert 'ticketing_queue_active{concert_id="7"} 2.0' in text
    assert 'ticketing_queue_waiting{concert_id="12"} 0.0' in text
    assert 'ticketing_queue_active{concert_id="12"} 10.0' in text
    assert "ticketing_queue_stats_up 1.0" in text


def test_a_failing_provider_does_not_break_the_scrape(client, queue_provider):
    def broken() -> dict[int, tuple[int, int]]:
        raise ConnectionError("redis is down")

    queue_provider(broken)
    response = client.get("/metrics")
    assert response.status_code == 200
    text = response.content.decode()
    assert "ticketing_queue_stats_up 0.0" in text
    assert "ticketing_queue_waiting{" not in text


def test_booking_counters_count(client):
    before = REGISTRY.get_sample_value("ticketing_holds_created_total") or 0.0
    metrics.HOLDS_CREATED.inc()
    text = client.get("/metrics").content.decode()
    assert f"ticketing_holds_created_total {before + 1}" in text


def test_metrics_token_is_enforced_when_set(client, settings):
    settings.METRICS_TOKEN = "scrape-secret"
    missing = client.get("/metrics")
    assert missing.status_code == 403
    assert missing.json()["code"] == "permission_denied"
    assert missing["Content-Type"] == "application/problem+json"
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 403
    assert client.get("/metrics", HTTP_AUTHORIZATION="scrape-secret").status_code == 403
    ok = client.get("/metrics", HTTP_AUTHORIZATION="Bearer scrape-secret")
    assert ok.status_code == 200
    assert b"http_request_duration_seconds" in ok.content


def test_metrics_is_open_without_a_token(client, settings):
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics").status_code == 200


def test_metrics_is_not_in_the_api_schema(client, db):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    assert not any("metrics" in p for p in schema["paths"])


_CHILD = """
import sys
from config import metrics
if sys.argv[1] == "inc":
    metrics.HOLDS_CREATED.inc(int(sys.argv[2]))
    metrics.CELERY_TASK_FAILURES.labels("t.x").inc()
else:
    metrics.register_queue_stats_provider(lambda: {1: (5, 1)})
    sys.stdout.write(metrics.render_metrics().decode())
"""


def test_multiprocess_mode_sums_every_process(tmp_path):
    """What gunicorn workers do with PROMETHEUS_MULTIPROC_DIR: each process writes, any one renders all."""
    env = {
        **os.environ,
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
    }

    def run(*args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-c", _CHILD, *args],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    run("inc", "2")
    run("inc", "3")
    text = run("render")
    assert "ticketing_holds_created_total 5.0" in text
    assert 'ticketing_celery_task_failures_total{task="t.x"} 2.0' in text
    assert 'ticketing_queue_waiting{concert_id="1"} 5.0' in text


def test_gunicorn_empties_the_multiprocess_dir_at_start(tmp_path, monkeypatch):
    from config import gunicorn_conf

    (tmp_path / "counter_123.db").write_bytes(b"old run")
    (tmp_path / "keep.txt").write_text("not ours")
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    gunicorn_conf.on_starting(server=None)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.txt"]
    assert gunicorn_conf.worker_class == "gthread" and gunicorn_conf.control_socket_disable is True


def problems(status: str, code: str) -> float:
    return REGISTRY.get_sample_value("ticketing_api_problems_total", {"status": status, "code": code}) or 0.0


def test_problem_answers_are_counted_by_status_and_code(db):
    """A refusal over the plain order view and one over a DRF view: each counted once, under its code."""
    from tests.booking import booker_for, on_sale_schedule

    schedule = on_sale_schedule(seats=2)
    fan = booker_for(schedule)
    before = problems("409", "not_enough_seats"), problems("404", "not_found")
    assert fan.order(schedule, quantity=3).json()["code"] == "not_enough_seats"
    assert fan.client.get("/api/v1/orders/00000000-0000-0000-0000-000000000000").status_code == 404
    assert (problems("409", "not_enough_seats"), problems("404", "not_found")) == (
        before[0] + 1,
        before[1] + 1,
    )


def test_a_refusal_under_an_idempotency_key_is_counted_once(db):
    """Refused before the work began (an inactive queue token), the refusal passes through the
    idempotency service and then the view: one answer, one count."""
    from tests.booking import booker_for, on_sale_schedule

    schedule = on_sale_schedule(seats=2)
    fan = booker_for(schedule)
    before = problems("403", "queue_token_not_active")
    response = fan.client.post(
        "/api/v1/orders",
        {"schedule_id": schedule.pk, "quantity": 1},
        format="json",
        HTTP_X_QUEUE_TOKEN="not-a-token",
        HTTP_IDEMPOTENCY_KEY="refused-once",
    )
    assert response.status_code == 403 and response.json()["code"] == "queue_token_not_active"
    assert problems("403", "queue_token_not_active") == before + 1
