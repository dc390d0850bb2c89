"""Concurrent admission rounds (and the management command) against real PostgreSQL and Redis, with
real threads released together: no token is admitted twice and the cap is never passed."""

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection, connections

from queue_app import selectors
from queue_app.models import QueueToken
from queue_app.services import queue_promote, queue_token_issue, queue_token_status
from tests.factories import UserFactory
from tests.queue_app.conftest import on_sale_concert

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _real_server(backend: str) -> None:
    if backend == "database" and connection.vendor != "postgresql":
        pytest.skip("row locks under concurrency are tested on PostgreSQL")


def all_at_once(calls: list[Callable[[], Any]]) -> list[Any]:
    """Run every call in its own thread, released by one barrier; each thread closes its connection."""
    barrier = threading.Barrier(len(calls))

    def run(call: Callable[[], Any]) -> Any:
        try:
            barrier.wait(timeout=10)
            return call()
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return [f.result(timeout=60) for f in [pool.submit(run, call) for call in calls]]


def waiting_tokens(concert, count: int) -> list[str]:  # type: ignore[no-untyped-def]
    return [
        queue_token_issue(user_id=u.pk, concert_id=concert.pk)[0].token
        for u in UserFactory.create_batch(count)
    ]


def active_count(tokens: list[str]) -> int:
    return sum(queue_token_status(token=t).status == "ACTIVE" for t in tokens)


def test_concurrent_rounds_never_pass_the_cap(settings):  # type: ignore[no-untyped-def]
    settings.QUEUE_PROMOTION_BATCH_SIZE = 5
    concert = on_sale_concert(queue_max_active=7)
    tokens = waiting_tokens(concert, 30)

    admitted = all_at_once([lambda: queue_promote(concert_id=concert.pk)] * 8)

    assert sum(admitted) == 7
    assert active_count(tokens) == 7
    assert selectors.queue_counts(concert_id=concert.pk).active == 7
    statuses = [queue_token_status(token=t).status for t in tokens]
    assert statuses[:7] == ["ACTIVE"] * 7 and set(statuses[7:]) == {"WAITING"}  # FIFO kept


def test_concurrent_rounds_never_admit_a_token_twice(settings):  # type: ignore[no-untyped-def]
    settings.QUEUE_PROMOTION_BATCH_SIZE = 4
    concert = on_sale_concert()
    tokens = waiting_tokens(concert, 18)

    admitted = all_at_once([lambda: queue_promote(concert_id=concert.pk)] * 6)

    assert sorted(admitted) == [0, 2, 4, 4, 4, 4]  # 18 tokens: four full rounds, one partial, one empty
    assert active_count(tokens) == 18


def test_the_beat_round_and_the_command_at_once(settings, capsys):  # type: ignore[no-untyped-def]
    settings.QUEUE_PROMOTION_BATCH_SIZE = 3
    concert = on_sale_concert(queue_max_active=4)
    tokens = waiting_tokens(concert, 10)

    results = all_at_once(
        [
            lambda: queue_promote(concert_id=concert.pk),
            lambda: call_command("promote_queue", concert=concert.pk),
            lambda: queue_promote(concert_id=concert.pk),
        ]
    )

    from_command = int(capsys.readouterr().out.split("admitted ")[1].split()[0])
    assert results[0] + from_command + results[2] == 4
    assert active_count(tokens) == 4


def test_one_user_asking_many_times_at_once_gets_one_token(backend):  # type: ignore[no-untyped-def]
    concert = on_sale_concert()
    user = UserFactory()

    results = all_at_once([lambda: queue_token_issue(user_id=user.pk, concert_id=concert.pk)] * 8)

    assert len({view.token for view, _ in results}) == 1
    assert [created for _, created in results].count(True) == 1
    if backend == "database":
        assert QueueToken.objects.filter(user=user, concert=concert).count() == 1


def test_concurrent_first_polls_after_the_opening_draw_once(backend, clock, monkeypatch):  # type: ignore[no-untyped-def]
    from concerts.models import Concert
    from queue_app.backends import database_draw, redis_draw
    from queue_app.draw import draw_order
    from queue_app.services import sale_schedule

    concert = on_sale_concert()
    sale_schedule(concert_id=concert.pk, opens_at=clock.now() + timedelta(seconds=60))
    views = [queue_token_issue(user_id=u.pk, concert_id=concert.pk)[0] for u in UserFactory.create_batch(16)]
    clock.advance(60)
    draws = []

    def counted(**kwargs):  # type: ignore[no-untyped-def]
        draws.append(kwargs)
        return draw_order(**kwargs)

    monkeypatch.setattr(redis_draw if backend == "redis" else database_draw, "draw_order", counted)

    polled = all_at_once([lambda v=v: queue_token_status(token=v.token) for v in views[:8]])

    assert len(draws) == 1
    seed = Concert.objects.get(pk=concert.pk).draw_seed
    by_number = {v.queue_number: v.token for v in views}
    order = [by_number[n] for n in draw_order(seed=seed, queue_numbers=by_number)]
    assert [p.position for p in polled] == [order.index(v.token) + 1 for v in views[:8]]
