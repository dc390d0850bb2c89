"""The hot paths' Redis client keeps one connection per thread, and still recovers from a lost one.

Needs REDIS_URL (run under .ci/with-services); on a cluster the shared client is used as it is."""

import threading

import pytest
from redis.cluster import RedisCluster

from config.redis import get_redis, get_thread_redis
from queue_app.services import queue_token_issue, queue_token_status
from tests.queue_app.conftest import on_sale_concert

pytestmark = [pytest.mark.django_db]


@pytest.fixture(autouse=True)
def _single_redis_backend(settings):
    if not settings.REDIS_URL:
        pytest.skip("needs REDIS_URL (run under .ci/with-services)")
    if isinstance(get_redis(), RedisCluster):
        pytest.skip("a cluster client routes each command itself")
    settings.QUEUE_BACKEND = "redis"


def _client_id() -> int:
    return int(get_thread_redis().client_id())


def test_a_thread_reuses_its_connection_and_other_threads_have_their_own():
    mine = _client_id()
    assert _client_id() == mine
    theirs: list[int] = []
    worker = threading.Thread(target=lambda: theirs.append(_client_id()))
    worker.start()
    worker.join()
    assert theirs and theirs[0] != mine
    # Both came from the shared pool and return to it when their clients go.
    assert get_thread_redis().connection_pool is get_redis().connection_pool


def test_a_replaced_shared_client_gives_the_thread_a_new_connection():
    before = get_thread_redis()
    get_redis.cache_clear()
    try:
        assert get_thread_redis() is not before
        assert get_thread_redis().connection_pool is get_redis().connection_pool
    finally:
        get_redis.cache_clear()


def test_a_killed_connection_is_replaced_on_the_next_call():
    concert = on_sale_concert()
    state, _ = queue_token_issue(user_id=1, concert_id=concert.pk)
    killed = _client_id()
    get_redis().client_kill_filter(_id=killed)
    # The request after the server dropped the thread's connection is answered, on a new connection.
    assert queue_token_status(token=state.token).position == 1
    assert _client_id() != killed
