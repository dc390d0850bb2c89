"""What a scrape of /metrics costs, as docs/operations.md states it: the queue gauges read the concert ids
in one query, then each concert's counts (one Redis pipeline, or on the database the sale's opening and
state and two counting queries)."""

import pytest

from tests.factories import ConcertFactory

CONCERTS = 3


@pytest.mark.django_db
@pytest.mark.parametrize(("queue_backend", "queries"), [("database", 1 + 4 * CONCERTS), ("redis", 1)])
def test_a_scrape_costs_the_documented_queries(
    queue_backend, queries, settings, client, django_assert_num_queries
):
    if queue_backend == "redis" and not settings.REDIS_URL:
        pytest.skip("the Redis queue needs REDIS_URL")
    settings.QUEUE_BACKEND = queue_backend
    concerts = ConcertFactory.create_batch(CONCERTS)

    with django_assert_num_queries(queries):
        body = client.get("/metrics").content.decode()

    for concert in concerts:
        assert f'ticketing_queue_waiting{{concert_id="{concert.pk}"}} 0.0' in body
    assert "ticketing_queue_stats_up 1.0" in body
