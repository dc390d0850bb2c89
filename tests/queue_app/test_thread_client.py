"""The hot paths' Redis calls: one connection per thread that recovers from a lost one, and a pause
after a timeout.

Needs REDIS_URL (run under .ci/with-services); on a cluster the shared client is used as it is."""

import socket
import threading
import time

import pytest
from redis.cluster import RedisCluster

from config import redis_hot
from config.redis import get_redis
from config.redis_hot import get_thread_redis
from queue_app.services import queue_token_issue, queue_token_status
from tests.conftest import client_for
from tests.factories import UserFactory
from tests.problems import assert_problem
from tests.queue_app.conftest import on_sale_concert

STATUS = "/api/v1/queue/status"

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


def test_after_a_timeout_the_hot_paths_answer_503_at_once_for_a_moment_then_try_again(settings, monkeypatch):
    """A frozen Redis (it accepts connections and never answers): the first poll waits out the socket
    timeout, the next ones in the pause are refused without waiting, and after it Redis is tried again."""
    monkeypatch.setattr(redis_hot, "TIMEOUT_PAUSE_SECONDS", 0.3)
    concert = on_sale_concert()
    client = client_for(UserFactory())
    token = f"{concert.pk}.anything"

    def timed_poll() -> tuple[float, object]:
        started = time.monotonic()
        response = client.get(STATUS, HTTP_X_QUEUE_TOKEN=token)
        return time.monotonic() - started, response

    with socket.socket() as frozen:
        frozen.bind(("127.0.0.1", 0))
        frozen.listen(16)  # the kernel completes each connection; nothing ever reads or answers
        settings.REDIS_URL = f"redis://127.0.0.1:{frozen.getsockname()[1]}/0"
        get_redis.cache_clear()
        try:
            waited, first = timed_poll()
            refused, second = timed_poll()
            time.sleep(0.35)
            waited_again, third = timed_poll()
        finally:
            get_redis.cache_clear()
    for response in (first, second, third):
        assert_problem(response, 503, "service_unavailable")
        assert int(response["Retry-After"]) >= 1
    assert waited >= 0.9, waited  # the 1 s socket timeout
    assert refused < 0.3, refused
    assert waited_again >= 0.9, waited_again
