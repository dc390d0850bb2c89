"""GET /api/v1/concerts/{id}/queue, the new token fields and the concert detail's sale fields."""

import hashlib
from datetime import timedelta

import pytest

from queue_app.api.serializers import QueueOverviewOutput, QueueTokenOutput
from queue_app.draw import draw_order
from queue_app.services import queue_promote, queue_token_expire, sale_schedule
from tests.conftest import client_for
from tests.factories import UserFactory
from tests.problems import assert_problem
from tests.queue_app.conftest import on_sale_concert

pytestmark = pytest.mark.django_db


def overview(api_client, concert_id: int):  # type: ignore[no-untyped-def]
    return api_client.get(f"/api/v1/concerts/{concert_id}/queue")


@pytest.mark.embedded
def test_the_overview_of_an_open_concert(api_client):  # type: ignore[no-untyped-def]
    concert = on_sale_concert(queue_max_active=40)
    for user in UserFactory.create_batch(3):
        client_for(user).post("/api/v1/queue/tokens", {"concert_id": concert.pk}, format="json")
    response = overview(api_client, concert.pk)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == set(QueueOverviewOutput().fields)
    assert body["state"] == "OPEN" and (body["waiting"], body["active"], body["max_active"]) == (3, 0, 40)
    assert body["estimated_wait_seconds"] == 10  # position 4 at the configured 10 per 10 s
    assert (body["sales_open_at"], body["draw_commitment"], body["draw_seed"], body["drawn_at"]) == (
        None,
    ) * 4
    assert response["Cache-Control"] == "public, max-age=1"


def test_the_overview_of_an_unknown_concert_is_not_found(api_client):  # type: ignore[no-untyped-def]
    assert_problem(overview(api_client, 987654), 404, "not_found")


def test_the_overview_shows_the_draw_once_the_sale_opens(api_client, clock):  # type: ignore[no-untyped-def]
    concert = on_sale_concert()
    sale_schedule(concert_id=concert.pk, opens_at=clock.now() + timedelta(minutes=10))
    tokens = [
        client_for(u).post("/api/v1/queue/tokens", {"concert_id": concert.pk}, format="json").json()
        for u in UserFactory.create_batch(5)
    ]
    before = overview(api_client, concert.pk).json()
    assert (before["state"], before["draw_seed"], before["estimated_wait_seconds"]) == (
        "SCHEDULED",
        None,
        None,
    )
    assert before["sales_open_at"] == (clock.now() + timedelta(minutes=10)).isoformat().replace("+00:00", "Z")
    clock.advance(600)
    after = overview(api_client, concert.pk).json()  # no job ran: reading it draws
    assert after["state"] == "OPEN" and after["drawn_at"] is not None
    assert hashlib.sha256(after["draw_seed"].encode()).hexdigest() == before["draw_commitment"]
    numbers = {t["queue_number"]: t["token"] for t in tokens}
    order = [numbers[n] for n in draw_order(seed=after["draw_seed"], queue_numbers=numbers)]
    positions = {
        t["token"]: api_client.get("/api/v1/queue/status", HTTP_X_QUEUE_TOKEN=t["token"]).json()["position"]
        for t in tokens
    }
    assert sorted(positions, key=positions.__getitem__) == order


def test_token_bodies_carry_queue_number_and_expired_reason(auth_client):  # type: ignore[no-untyped-def]
    concert = on_sale_concert()
    body = auth_client.post("/api/v1/queue/tokens", {"concert_id": concert.pk}, format="json").json()
    assert set(body) == set(QueueTokenOutput().fields)
    assert (body["queue_number"], body["expired_reason"]) == (1, None)
    queue_promote(concert_id=concert.pk)
    queue_token_expire(token=body["token"], reason="PAID")
    polled = auth_client.get("/api/v1/queue/status", HTTP_X_QUEUE_TOKEN=body["token"]).json()
    assert (polled["status"], polled["expired_reason"], polled["queue_number"]) == ("EXPIRED", "PAID", 1)


def test_issuing_for_a_sold_out_concert_is_409(auth_client, settings):  # type: ignore[no-untyped-def]
    from concerts.models import Seat
    from queue_app.services import queue_inventory_publish

    concert = on_sale_concert(seats=1)
    Seat.objects.filter(schedule__concert=concert).update(status="BLOCKED")
    queue_inventory_publish(concert_id=concert.pk)
    response = auth_client.post("/api/v1/queue/tokens", {"concert_id": concert.pk}, format="json")
    assert_problem(response, 409, "sold_out")


def test_the_concert_detail_shows_its_opening_and_sold_out(api_client, clock):  # type: ignore[no-untyped-def]
    from concerts.models import Seat

    concert = on_sale_concert(seats=2)
    body = api_client.get(f"/api/v1/concerts/{concert.pk}").json()
    assert (body["sales_open_at"], body["sold_out"]) == (None, False)
    sale_schedule(concert_id=concert.pk, opens_at=clock.now() + timedelta(days=1))
    Seat.objects.filter(schedule__concert=concert).update(status="BLOCKED")
    body = api_client.get(f"/api/v1/concerts/{concert.pk}").json()
    assert body["sold_out"] is True and body["sales_open_at"] is not None
