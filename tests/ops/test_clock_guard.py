"""The clock guard on real PostgreSQL and Redis: one process's clock skewed by an injected offset (the
guard's `local_time`), no sleeping. Skewed, it reports not ready and refuses time-dependent writes with
503 + Retry-After while reads are served; once the offset is gone it serves again by itself."""

import dataclasses
import time

import pytest

from config import clock, clock_guard
from config.exceptions import ClockOutOfBounds
from queue_app import tasks as queue_tasks
from reservations import tasks as reservation_tasks
from tests.booking import booker_for, on_sale_schedule
from tests.conftest import client_for
from tests.factories import UserFactory
from tests.problems import assert_problem

pytestmark = pytest.mark.postgres_only("the guard measures against a shared clock: PostgreSQL (and Redis)")


@pytest.fixture
def skew(monkeypatch, settings):
    """`skew(seconds)`: this process's clock runs that far off from now on; the guard measures on the
    next call (CLOCK_CHECK_SECONDS=0)."""
    settings.CLOCK_CHECK_SECONDS = 0
    settings.CLOCK_MAX_OFFSET_MS = 500

    def set_offset(seconds: float) -> None:
        monkeypatch.setattr(clock_guard, "local_time", lambda: time.time() + seconds)

    return set_offset


def test_a_clock_in_bounds_is_ready_and_measured_against_the_shared_clock(api_client, db, skew):
    skew(0)
    ready = api_client.get("/readyz")
    assert ready.status_code == 200
    body = ready.json()
    assert body["checks"]["clock"] is True
    assert body["clock"]["max_offset_ms"] == 500
    assert body["clock"]["reference"] in ("postgresql", "redis")
    assert abs(body["clock"]["offset_ms"]) < 500


@pytest.mark.parametrize("seconds", [30, -30])
def test_a_skewed_clock_refuses_holds_but_serves_reads_and_recovers_by_itself(db, skew, seconds):
    schedule = on_sale_schedule(seats=3)
    booker = booker_for(schedule)
    before = booker.hold(schedule, 1)
    assert before.status_code == 201

    skew(seconds)
    ready = client_for(UserFactory()).get("/readyz")
    assert ready.status_code == 503
    assert ready["Retry-After"]
    assert ready.json()["checks"]["clock"] is False
    assert ready.json()["clock"]["offset_ms"] == pytest.approx(seconds * 1000, abs=400)

    refused = booker.hold(schedule, 2)
    assert_problem(refused, 503, "service_unavailable")
    assert int(refused["Retry-After"]) > 0
    assert booker.pay(before.json()["id"]).status_code == 503
    assert booker.client.get(f"/api/v1/reservations/{before.json()['id']}").status_code == 200
    assert booker.client.get(f"/api/v1/schedules/{schedule.pk}/seats").status_code == 200
    assert booker.client.get("/api/v1/queue/status", HTTP_X_QUEUE_TOKEN=booker.token).status_code == 200

    skew(0)  # the clock is back: the next measurement lets the node serve again
    assert booker.hold(schedule, 2).status_code == 201
    assert client_for(UserFactory()).get("/readyz").status_code == 200


def test_token_issue_refused_while_skewed(db, skew):
    schedule = on_sale_schedule(seats=1)
    client = client_for(UserFactory())
    skew(5)
    refused = client.post("/api/v1/queue/tokens", {"concert_id": schedule.concert_id}, format="json")
    assert_problem(refused, 503, "service_unavailable")
    assert refused["Retry-After"]


def test_jobs_skip_their_round_while_skewed(db, skew, caplog):
    skew(-2)
    with pytest.raises(ClockOutOfBounds):
        clock.write_now()
    assert queue_tasks.queue_promote_all() == {}
    assert reservation_tasks.reservations_expire_overdue() == 0
    assert "admission round skipped" in caplog.text
    assert "expiry sweep skipped" in caplog.text


def test_an_offset_within_the_bound_is_served(db, skew):
    skew(0.3)
    assert clock.write_now() is not None
    assert clock_guard.current().in_bounds


def test_the_guard_says_so_in_a_log_line_and_a_metric(db, skew, caplog):
    from prometheus_client import REGISTRY

    skew(10)
    with pytest.raises(ClockOutOfBounds):
        clock.write_now()
    assert "refusing time-dependent writes" in caplog.text
    assert REGISTRY.get_sample_value("ticketing_clock_in_bounds") == 0
    assert REGISTRY.get_sample_value("ticketing_clock_offset_seconds") == pytest.approx(10, abs=0.4)
    refusals = REGISTRY.get_sample_value("ticketing_clock_refusals_total")
    with pytest.raises(ClockOutOfBounds):
        clock.write_now()
    assert REGISTRY.get_sample_value("ticketing_clock_refusals_total") == refusals + 1

    skew(0)
    clock.write_now()
    assert "serving writes again" in caplog.text
    assert REGISTRY.get_sample_value("ticketing_clock_in_bounds") == 1


def test_between_measurements_a_write_costs_no_round_trip(db, settings, django_assert_num_queries):
    """The hot paths' price: a fresh verdict is read from memory."""
    settings.CLOCK_CHECK_SECONDS = 60
    clock_guard.current(measure=True)
    with django_assert_num_queries(0):
        for _ in range(100):
            clock.write_now()


def test_a_refusing_process_measures_again_within_a_second(db, skew, settings):
    """In bounds a verdict holds CLOCK_CHECK_SECONDS; while refusing, a second: recovery is prompt."""
    skew(10)
    settings.CLOCK_CHECK_SECONDS = 60
    assert not clock_guard.current(measure=True).in_bounds
    skew(0)
    with pytest.raises(ClockOutOfBounds):  # the verdict is a moment old: still refusing
        clock.write_now()
    verdict = clock_guard._verdict
    clock_guard._verdict = dataclasses.replace(verdict, checked_at=verdict.checked_at - 1.01)
    clock.write_now()  # a second later the refused write measures, and is served
    assert clock_guard.current().in_bounds
