"""What the hot paths cost with Redis: SQL queries, Redis round trips, memory per waiting token, and
how an outage is answered. Needs REDIS_URL (run under .ci/with-services)."""

import socket
import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from config.redis import get_redis
from queue_app.backends import get_backend
from queue_app.services import queue_token_issue
from tests.conftest import client_for
from tests.factories import UserFactory
from tests.problems import assert_problem
from tests.queue_app.conftest import on_sale_concert

pytestmark = [pytest.mark.django_db]

TOKENS = "/api/v1/queue/tokens"
STATUS = "/api/v1/queue/status"
MAX_BYTES_PER_WAITING_TOKEN = 600


@pytest.fixture(autouse=True)
def _redis_backend(settings):
    if not settings.REDIS_URL:
        pytest.skip("needs REDIS_URL (run under .ci/with-services)")
    settings.QUEUE_BACKEND = "redis"


def test_a_poll_and_an_issue_touch_no_sql_and_make_one_redis_round_trip(round_trips):
    concert = on_sale_concert()
    first, second = UserFactory.create_batch(2)
    client, other = client_for(first), client_for(second)
    token = client.post(TOKENS, {"concert_id": concert.pk}, format="json").json()["token"]  # warms the cache
    client.get(STATUS, HTTP_X_QUEUE_TOKEN=token)  # loads the poll's script (a cold Redis: NOSCRIPT)

    round_trips.clear()
    with CaptureQueriesContext(connection) as queries:
        issued = other.post(TOKENS, {"concert_id": concert.pk}, format="json")
    assert issued.status_code == 201
    assert (len(queries), len(round_trips)) == (0, 1)

    round_trips.clear()
    with CaptureQueriesContext(connection) as queries:
        polled = client.get(
            STATUS, HTTP_X_QUEUE_TOKEN=token, HTTP_AUTHORIZATION=client._credentials["HTTP_AUTHORIZATION"]
        )
    assert polled.status_code == 200 and polled.json()["position"] == 1
    assert (len(queries), len(round_trips)) == (0, 1)


def test_memory_per_waiting_token_is_small(capsys):
    """Issues N tokens straight into one concert's queue and sums MEMORY USAGE over every queue key."""
    concert = on_sale_concert()
    count = 2000
    for user_id in range(1, count + 1):  # the Redis queue needs no user rows
        queue_token_issue(user_id=user_id, concert_id=concert.pk)
    redis = get_redis()
    keys = list(redis.scan_iter(match="q:*", count=1000))
    total = sum(redis.memory_usage(key, samples=0) or 0 for key in keys)
    per_token = total / count
    with capsys.disabled():
        print(
            f"\nRedis queue memory: {total} bytes in {len(keys)} keys for {count} waiting tokens"
            f" = {per_token:.0f} B/token"
        )
    assert len(keys) >= 2 * count  # a hash and a user key per token, plus the concert's sets
    assert per_token < MAX_BYTES_PER_WAITING_TOKEN


def test_issue_and_status_answer_503_fast_when_redis_is_down(settings):
    user = UserFactory()
    client = client_for(user)
    concert = on_sale_concert()
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    settings.REDIS_URL = f"redis://127.0.0.1:{closed_port}/0"
    get_redis.cache_clear()
    try:
        started = time.monotonic()
        issued = client.post(TOKENS, {"concert_id": concert.pk}, format="json")
        polled = client.get(STATUS, HTTP_X_QUEUE_TOKEN=f"{concert.pk}.anything")
        elapsed = time.monotonic() - started
    finally:
        get_redis.cache_clear()
    for response in (issued, polled):
        assert_problem(response, 503, "service_unavailable")
        assert int(response["Retry-After"]) >= 1
    assert elapsed < 5, f"two requests took {elapsed:.1f}s against a dead Redis"


def test_a_status_poll_reads_only_its_own_keys(round_trips):
    """The poll is one script whose work is O(log n): it never walks the queue, whatever its length."""
    concert = on_sale_concert()
    for user_id in range(1, 501):
        queue_token_issue(user_id=user_id, concert_id=concert.pk)
    last, _ = queue_token_issue(user_id=999_999, concert_id=concert.pk)
    redis = get_redis()
    redis.config_resetstat()
    state = get_backend().status(token=last.token, now=last.issued_at, abandon_seconds=300)
    assert state is not None and state.position == 501
    stats = redis.info("commandstats")
    scanned = {
        name: s["calls"]
        for name, s in stats.items()
        if name.split("_", 1)[1] in {"zrange", "zrangebyscore", "smembers", "scan", "keys", "hgetall"}
    }
    assert set(scanned) <= {"cmdstat_zrangebyscore"}  # the bounded abandonment sweep (LIMIT) only
    assert stats["cmdstat_zrank"]["calls"] == 1


def test_polls_closer_than_the_refresh_read_only_and_abandonment_still_comes_on_time(clock):
    from datetime import timedelta

    from queue_app.backends.redis_backend import SEEN_REFRESH_MS, key
    from queue_app.services import queue_token_status

    concert = on_sale_concert()
    view, _ = queue_token_issue(user_id=1, concert_id=concert.pk)
    seen = key(concert.pk, "seen")
    issued_ms = get_redis().zscore(seen, view.token)
    clock.advance(SEEN_REFRESH_MS / 1000 / 2)
    assert queue_token_status(token=view.token).status == "WAITING"
    assert get_redis().zscore(seen, view.token) == issued_ms  # a read: nothing written
    clock.advance(SEEN_REFRESH_MS / 1000)
    queue_token_status(token=view.token)
    polled_ms = get_redis().zscore(seen, view.token)
    assert polled_ms > issued_ms  # recorded
    clock.advance(300)
    expired = queue_token_status(token=view.token)  # not polled for 300 s: abandoned
    assert (expired.status, expired.expired_reason) == ("EXPIRED", "ABANDONED")
    assert expired.expires_at == view.issued_at + timedelta(milliseconds=polled_ms - issued_ms, seconds=300)
