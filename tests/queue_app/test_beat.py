"""Which concerts the admission beat visits, and the Redis key layout (one cluster slot per concert)."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from config.redis import get_redis
from queue_app.services import queue_promote, queue_promote_all, queue_token_issue, queue_token_status
from tests.factories import UserFactory
from tests.queue_app.conftest import on_sale_concert

pytestmark = pytest.mark.django_db


@pytest.fixture
def redis_backend(settings):  # type: ignore[no-untyped-def]
    if not settings.REDIS_URL:
        pytest.skip("needs REDIS_URL (run under .ci/with-services)")
    settings.QUEUE_BACKEND = "redis"


def test_the_beat_never_reads_every_waiting_row_to_find_its_concerts(settings):  # type: ignore[no-untyped-def]
    """The database backend used to list concerts with a DISTINCT over every waiting row each beat."""
    settings.QUEUE_BACKEND = "database"
    concerts = [on_sale_concert(), on_sale_concert()]
    for concert in concerts:
        for user in UserFactory.create_batch(15):
            queue_token_issue(user_id=user.pk, concert_id=concert.pk)

    with CaptureQueriesContext(connection) as queries:
        assert set(queue_promote_all()) == {c.pk for c in concerts}

    token_queries = [q["sql"] for q in queries if "queue_app_queuetoken" in q["sql"]]
    assert token_queries
    per_concert = re.compile(r'WHERE .*"queue_app_queuetoken"\."concert_id" = \d+')
    assert [sql for sql in token_queries if not per_concert.search(sql)] == []


def test_a_deleted_concert_leaves_nothing_for_the_beat_to_visit(redis_backend):  # type: ignore[no-untyped-def]
    """Redis used to keep a global set of concerts with waiters: a deleted concert stayed in it forever."""
    concert, other = on_sale_concert(), on_sale_concert()
    for user in UserFactory.create_batch(3):
        queue_token_issue(user_id=user.pk, concert_id=concert.pk)
    deleted = concert.pk
    concert.delete()

    assert queue_promote_all() == {other.pk: 0}
    assert not get_redis().exists("q:concerts")
    tags = (f"q:{{{deleted}}}:", f"q:{{{other.pk}}}:")
    assert all(key.startswith(tags) for key in get_redis().scan_iter("*"))  # no global key


def test_every_key_of_a_concert_shares_its_hash_tag_and_tokens_carry_their_concert(  # type: ignore[no-untyped-def]
    redis_backend, settings
):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"queue_issue": "100/minute", "queue_status": "100/minute"},
    }
    concert = on_sale_concert()
    views = [
        queue_token_issue(user_id=u.pk, concert_id=concert.pk, rate_limited=True)[0]
        for u in UserFactory.create_batch(3)
    ]
    queue_token_status(token=views[0].token, rate_limited=True)
    queue_promote(concert_id=concert.pk)

    assert all(v.token.startswith(f"{concert.pk}.") for v in views)
    keys = list(get_redis().scan_iter("*"))
    assert keys and all(key.startswith(f"q:{{{concert.pk}}}:") for key in keys), keys
    assert any(":rl:queue_status:" in key for key in keys) and any(":rl:queue_issue:" in key for key in keys)
