import time

import pytest
from celery.contrib.testing.worker import start_worker
from prometheus_client import REGISTRY

from config import celery_app
from config.celery_signals import (
    REQUEST_ID_HEADER,
    _clear_request_id,
    _put_request_id_in_headers,
    _restore_request_id,
)
from config.logging import get_request_id, reset_request_id, set_request_id

seen: list[str | None] = []


@celery_app.task(name="tests.ops.record_request_id")
def record_request_id() -> str | None:
    seen.append(get_request_id())
    return get_request_id()


@celery_app.task(name="tests.ops.always_fails")
def always_fails() -> None:
    raise RuntimeError("task failed on purpose")


@pytest.fixture
def request_id():
    token = set_request_id("req-celery-1")
    yield "req-celery-1"
    reset_request_id(token)


def test_publishing_puts_the_request_id_in_the_headers(request_id):
    headers: dict[str, str] = {}
    _put_request_id_in_headers(headers=headers)
    assert headers[REQUEST_ID_HEADER] == request_id


def test_publishing_outside_a_request_adds_nothing():
    headers: dict[str, str] = {}
    _put_request_id_in_headers(headers=headers)
    assert headers == {}


def test_the_worker_restores_the_id_for_the_run_and_clears_it_after():
    class FakeTask:
        class request:
            x_request_id = "req-from-header"

    _restore_request_id(task_id="t-1", task=FakeTask())
    assert get_request_id() == "req-from-header"
    _clear_request_id(task_id="t-1")
    assert get_request_id() is None


def test_a_task_without_a_request_id_uses_its_task_id():
    _restore_request_id(task_id="beat-task-9", task=object())
    assert get_request_id() == "beat-task-9"
    _clear_request_id(task_id="beat-task-9")
    assert get_request_id() is None


def test_an_eager_task_sees_the_request_id_and_leaves_it_in_place(request_id):
    assert record_request_id.delay().get() == request_id
    assert get_request_id() == request_id


def test_the_request_id_reaches_a_task_run_by_a_real_worker(request_id, settings):
    """Published through the broker (in-memory transport) and run in a worker thread, which has its own
    empty context: the id can only arrive through the message headers."""
    seen.clear()
    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    try:
        with start_worker(celery_app, perform_ping_check=False, shutdown_timeout=10):
            record_request_id.delay()
            deadline = time.monotonic() + 10
            while not seen and time.monotonic() < deadline:
                time.sleep(0.05)
    finally:
        celery_app.conf.task_always_eager = eager
    assert seen == [request_id]


def test_task_failures_are_counted():
    labels = {"task": "tests.ops.always_fails"}
    before = REGISTRY.get_sample_value("ticketing_celery_task_failures_total", labels) or 0.0
    # Eager tasks that propagate their error skip Celery's failure handling; a worker's run (and
    # apply() without throw) goes through it and sends task_failure.
    result = always_fails.apply(throw=False)
    assert result.failed()
    assert REGISTRY.get_sample_value("ticketing_celery_task_failures_total", labels) == before + 1
