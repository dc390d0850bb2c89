"""The seat map's Redis cache: served without SQL, invalidated by committed writes, expired by the
earliest hold deadline, and never serving a body rendered from an older version."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from concerts import seat_map_cache
from concerts.selectors import seat_map_json
from config.redis import get_redis
from points.services import points_charge
from tests.booking import booker_for, on_sale_schedule

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _cache_on(settings):
    if not settings.REDIS_URL:
        pytest.skip("the seat map cache lives in Redis")
    settings.SEAT_MAP_CACHE_ENABLED = True


def statuses(client, schedule):
    return {
        s["number"]: s["status"]
        for s in client.get(f"/api/v1/schedules/{schedule.pk}/seats").json()["results"]
    }


def test_a_cached_map_is_served_without_sql(api_client):
    schedule = on_sale_schedule(seats=5)
    first = api_client.get(f"/api/v1/schedules/{schedule.pk}/seats")
    with CaptureQueriesContext(connection) as queries:
        second = api_client.get(f"/api/v1/schedules/{schedule.pk}/seats")
    assert second.status_code == 200 and second.content == first.content
    assert len(queries) == 0
    assert second.json()["count"] == 5


def test_holds_and_payments_invalidate_once_committed(api_client, django_capture_on_commit_callbacks):
    schedule = on_sale_schedule(seats=3, price=10)
    fan = booker_for(schedule)
    assert statuses(api_client, schedule) == {1: "AVAILABLE", 2: "AVAILABLE", 3: "AVAILABLE"}
    with django_capture_on_commit_callbacks(execute=True):
        held = fan.hold(schedule, 2).json()
    assert statuses(api_client, schedule)[2] == "HELD"
    points_charge(user_id=fan.user.pk, amount=10)
    with django_capture_on_commit_callbacks(execute=True):
        assert fan.pay(held["id"]).status_code == 201
    assert statuses(api_client, schedule)[2] == "SOLD"
    filtered = api_client.get(f"/api/v1/schedules/{schedule.pk}/seats?status=AVAILABLE").json()
    assert [s["number"] for s in filtered["results"]] == [1, 3]


def test_a_body_showing_a_hold_expires_at_the_hold_deadline(
    api_client, django_capture_on_commit_callbacks, clock
):
    schedule = on_sale_schedule(seats=2)
    fan = booker_for(schedule)
    with django_capture_on_commit_callbacks(execute=True):
        held = fan.hold(schedule, 1).json()
    clock.advance(seat_map_cache.WRITE_LEASE_MS / 1000)  # past the hold's write intent: maps are stored
    api_client.get(f"/api/v1/schedules/{schedule.pk}/seats")
    redis = get_redis()
    keys = list(redis.scan_iter(seat_map_cache.body_pattern(schedule.pk)))
    assert len(keys) == 1
    deadline_ms = (
        __import__("datetime").datetime.fromisoformat(held["expires_at"])
        - __import__("django").utils.timezone.now()
    ).total_seconds() * 1000
    assert 0 < redis.pttl(keys[0]) <= deadline_ms + 50


def test_a_body_rendered_before_a_change_is_never_served_after_it():
    schedule = on_sale_schedule(seats=1)
    version, body = seat_map_cache.lookup(schedule_id=schedule.pk, variant="ALL")
    assert body is None
    seat_map_cache.invalidate(schedule_ids=[schedule.pk])  # a write commits meanwhile
    seat_map_cache.store(
        schedule_id=schedule.pk, version=version, variant="ALL", body=b"stale", ttl_ms=60_000
    )
    assert seat_map_json(schedule_id=schedule.pk) != b"stale"


def test_the_map_is_served_from_the_database_while_redis_is_away(api_client, settings):
    schedule = on_sale_schedule(seats=2)
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    get_redis.cache_clear()
    seat_map_cache._lookup_script.cache_clear()
    try:
        response = api_client.get(f"/api/v1/schedules/{schedule.pk}/seats")
        assert response.status_code == 200 and response.json()["count"] == 2
    finally:
        get_redis.cache_clear()
        seat_map_cache._lookup_script.cache_clear()


@pytest.fixture
def redis_queue(settings):
    settings.QUEUE_BACKEND = "redis"


def version_of(schedule):
    key = seat_map_cache.version_key(concert_id=schedule.concert_id, schedule_id=schedule.pk)
    return get_redis().hget(key, "v")


def test_a_hold_costs_one_redis_call_and_one_sql_statement(
    api_client, redis_queue, round_trips, django_capture_on_commit_callbacks, settings
):
    settings.RATE_LIMITS_ENABLED = False  # the `booking` rate limit's counter is a cache call of its own
    schedule = on_sale_schedule(seats=3)
    fan = booker_for(schedule)
    api_client.get(f"/api/v1/schedules/{schedule.pk}/seats")  # cached, and the schedule's concert known
    round_trips.clear()
    with CaptureQueriesContext(connection) as queries, django_capture_on_commit_callbacks(execute=True):
        assert fan.hold(schedule, 2).status_code == 201
    assert (len(round_trips), len(queries)) == (1, 1)
    assert statuses(api_client, schedule)[2] == "HELD"  # the token check made the cached map unreachable


def test_a_map_rendered_while_a_hold_may_be_committing_is_served_but_not_stored(redis_queue, clock):
    from queue_app.services import queue_token_require_active

    schedule = on_sale_schedule(seats=2)
    fan = booker_for(schedule)
    seat_map_json(schedule_id=schedule.pk)
    assert seat_map_cache.lookup(schedule_id=schedule.pk, variant="ALL")[1] is not None
    mark = seat_map_cache.version_key(concert_id=schedule.concert_id, schedule_id=schedule.pk)
    queue_token_require_active(token=fan.token, user_id=fan.user.pk, concert_id=None, mark=mark)

    assert seat_map_json(schedule_id=schedule.pk)  # rendered from the database, as the hold may not be in it
    assert seat_map_cache.lookup(schedule_id=schedule.pk, variant="ALL") == (None, None)
    clock.advance(seat_map_cache.WRITE_LEASE_MS / 1000)
    version, body = seat_map_cache.lookup(schedule_id=schedule.pk, variant="ALL")
    assert (version, body) == (version_of(schedule), None)  # nothing was stored under the new version


def test_only_an_active_token_records_a_write_intent(redis_queue):
    from queue_app.errors import QueueTokenNotActive
    from queue_app.services import queue_token_issue, queue_token_require_active
    from tests.factories import UserFactory

    schedule = on_sale_schedule(seats=1)
    user = UserFactory()
    waiting, _ = queue_token_issue(user_id=user.pk, concert_id=schedule.concert_id)
    mark = seat_map_cache.version_key(concert_id=schedule.concert_id, schedule_id=schedule.pk)
    with pytest.raises(QueueTokenNotActive):
        queue_token_require_active(token=waiting.token, user_id=user.pk, concert_id=None, mark=mark)
    assert version_of(schedule) is None


def test_a_hold_committed_late_bumps_the_map_again_after_commit(
    redis_queue, monkeypatch, django_capture_on_commit_callbacks
):
    schedule = on_sale_schedule(seats=2)
    fan = booker_for(schedule)
    monkeypatch.setattr(seat_map_cache, "INTENT_MARGIN_SECONDS", -1.0)  # every hold counts as late
    with django_capture_on_commit_callbacks(execute=True):
        assert fan.hold(schedule, 1).status_code == 201
    assert version_of(schedule) == "2"  # the intent, then the bump after commit


def _stored_body_key(schedule) -> str:
    (key,) = list(get_redis().scan_iter(seat_map_cache.body_pattern(schedule.pk)))
    return key


def test_a_reader_holding_the_current_body_is_answered_without_it(api_client):
    schedule = on_sale_schedule(seats=3)
    rendered = api_client.get(f"/api/v1/schedules/{schedule.pk}/seats").content  # renders and stores
    key = _stored_body_key(schedule)
    tag = get_redis().get(key)[: seat_map_cache.TAG_LENGTH]
    prefix = seat_map_cache._prefix(schedule.concert_id, schedule.pk)
    ver_key = seat_map_cache.version_key(concert_id=schedule.concert_id, schedule_id=schedule.pk)
    script = seat_map_cache._lookup_script()
    assert script(keys=[ver_key], args=[prefix, "ALL", tag])[2] == 1
    assert script(keys=[ver_key], args=[prefix, "ALL", "0" * seat_map_cache.TAG_LENGTH])[2] == (
        tag + rendered.decode()
    )
    # And the reader serves its own copy, byte for byte the body it rendered.
    assert api_client.get(f"/api/v1/schedules/{schedule.pk}/seats").content == rendered


def test_a_copy_in_memory_is_never_served_once_redis_no_longer_holds_it(api_client):
    schedule = on_sale_schedule(seats=2)
    assert statuses(api_client, schedule) == {1: "AVAILABLE", 2: "AVAILABLE"}  # rendered, stored, kept
    get_redis().delete(_stored_body_key(schedule))  # e.g. Redis restarted without its data
    schedule.seats.filter(number=2).update(status="BLOCKED")  # a change whose bump was lost with it
    assert statuses(api_client, schedule) == {1: "AVAILABLE", 2: "SOLD"}  # what fans see of BLOCKED
