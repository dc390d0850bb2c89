"""The seat map's cache on the cluster: a schedule's keys share one slot with its concert's queue (its Lua
lookup reads the body key it builds; a hold's token check records the write intent in the same call),
concerts spread over the masters, and invalidating several at once crosses nodes."""

import pytest
from redis.cluster import RedisCluster

from concerts import seat_map_cache
from concerts.selectors import seat_map_json
from tests.booking import on_sale_schedule
from tests.cluster.conftest import master_of

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _cache_on(settings):
    settings.SEAT_MAP_CACHE_ENABLED = True


def test_a_concerts_seat_maps_share_its_queue_slot(cluster):
    version_key = seat_map_cache.version_key(concert_id=42, schedule_id=7)
    body_key = version_key.removesuffix("ver") + "3:AVAILABLE"
    assert cluster.keyslot(version_key) == cluster.keyslot(body_key) == cluster.keyslot("q:{42}:wait")
    other_concert = seat_map_cache.version_key(concert_id=43, schedule_id=7)
    assert cluster.keyslot(version_key) != cluster.keyslot(other_concert)


def test_maps_are_cached_and_invalidated_across_masters(cluster, api_client):
    schedules = [on_sale_schedule(seats=2) for _ in range(12)]
    masters = {
        master_of(cluster, seat_map_cache.version_key(concert_id=s.concert_id, schedule_id=s.pk))
        for s in schedules
    }
    assert len(masters) > 1
    first = {s.pk: api_client.get(f"/api/v1/schedules/{s.pk}/seats").content for s in schedules}
    for s in schedules:
        version, body = seat_map_cache.lookup(schedule_id=s.pk, variant="ALL")
        assert body == first[s.pk]  # served from the cluster
        assert list(cluster.scan_iter(seat_map_cache.body_pattern(s.pk)))
    seat_map_cache.invalidate(schedule_ids=[s.pk for s in schedules])  # one pipeline, several masters
    for s in schedules:
        version, body = seat_map_cache.lookup(schedule_id=s.pk, variant="ALL")
        assert (version, body) == ("1", None)


def test_a_stale_body_is_never_served_on_the_cluster(cluster):
    schedule = on_sale_schedule(seats=1)
    version, _ = seat_map_cache.lookup(schedule_id=schedule.pk, variant="ALL")
    seat_map_cache.invalidate(schedule_ids=[schedule.pk])
    seat_map_cache.store(
        schedule_id=schedule.pk, version=version, variant="ALL", body=b"stale", ttl_ms=60_000
    )
    assert seat_map_json(schedule_id=schedule.pk) != b"stale"


def test_flush_between_tests_reached_every_master(cluster):
    assert cluster.dbsize(target_nodes=RedisCluster.PRIMARIES) == 0  # summed over the masters
