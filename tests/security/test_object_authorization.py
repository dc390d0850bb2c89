"""Object-level authorization: another user's reservation, payment, wallet, history and queue token are
404 (or simply absent from lists) and nothing of them leaks into the answer."""

import json
import uuid

import pytest

from concerts.models import Seat, SeatStatus
from payments.models import Payment
from points.selectors import wallet_balance
from reservations.models import Reservation, ReservationStatus
from tests.booking import booker_for, on_sale_schedule
from tests.factories.points import wallet_fund
from tests.factories.queue import active_queue_token
from tests.problems import assert_problem

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner_and_thief():
    """The owner holds seat 1 of a schedule; the thief is another fan with an ACTIVE token for it."""
    schedule = on_sale_schedule(price=100)
    owner, thief = booker_for(schedule), booker_for(schedule)
    wallet_fund(user_id=owner.user.pk, amount=1000)
    wallet_fund(user_id=thief.user.pk, amount=1000)
    held = owner.hold(schedule, 1)
    assert held.status_code == 201, held.content
    return schedule, owner, thief, held.json()


def assert_no_leak(response, *secrets: object) -> None:
    text = response.content.decode()
    for secret in secrets:
        assert str(secret) not in text, (secret, text)


def test_another_users_reservation_is_404_and_shows_nothing(owner_and_thief):
    _, owner, thief, held = owner_and_thief
    response = thief.client.get(f"/api/v1/reservations/{held['id']}")
    assert_problem(response, 404, "not_found")
    assert_no_leak(response, held["id"], held["seat_id"], held["expires_at"], owner.user.email)
    # Indistinguishable from an id that does not exist.
    unknown = thief.client.get(f"/api/v1/reservations/{uuid.uuid4()}")
    assert unknown.json() == response.json()
    assert held["id"] not in json.dumps(thief.client.get("/api/v1/reservations").json())


def test_another_users_reservation_cannot_be_cancelled(owner_and_thief):
    schedule, _, thief, held = owner_and_thief
    response = thief.client.post(f"/api/v1/reservations/{held['id']}/cancel")
    assert_problem(response, 404, "not_found")
    assert_no_leak(response, held["seat_id"])
    assert Reservation.objects.get(pk=held["id"]).status == ReservationStatus.PENDING
    assert Seat.objects.get(schedule=schedule, number=1).status == SeatStatus.HELD


def test_another_users_reservation_cannot_be_paid(owner_and_thief):
    _, owner, thief, held = owner_and_thief
    response = thief.pay(held["id"])
    assert_problem(response, 404, "not_found")
    assert_no_leak(response, held["seat_id"], held["price"])
    assert Reservation.objects.get(pk=held["id"]).status == ReservationStatus.PENDING
    assert Payment.objects.count() == 0
    assert wallet_balance(user_id=thief.user.pk) == 1000
    assert wallet_balance(user_id=owner.user.pk) == 1000


def test_another_users_payments_wallet_and_history_are_invisible(owner_and_thief):
    _, owner, thief, held = owner_and_thief
    paid = owner.pay(held["id"])
    assert paid.status_code == 201, paid.content
    owner.client.post("/api/v1/points/charge", {"amount": 777}, format="json")

    assert thief.client.get("/api/v1/payments").json()["count"] == 0
    assert thief.client.get("/api/v1/points").json() == {"balance": 1000}
    history = thief.client.get("/api/v1/points/history").json()
    assert [entry["amount"] for entry in history["results"]] == [1000]
    assert_no_leak(thief.client.get("/api/v1/points/history"), 777)
    assert thief.client.get("/api/v1/users/me").json()["email"] == thief.user.email
    # The owner still sees all of theirs.
    assert owner.client.get("/api/v1/payments").json()["count"] == 1
    assert owner.client.get("/api/v1/points").json() == {"balance": 1000 - 100 + 777}


def test_no_endpoint_takes_a_user_id_from_the_query(owner_and_thief):
    _, owner, thief, _ = owner_and_thief
    for path in ("/api/v1/reservations", "/api/v1/payments", "/api/v1/points", "/api/v1/points/history"):
        mine = thief.client.get(path).json()
        for param in ("user", "user_id", "owner"):
            assert thief.client.get(path, {param: owner.user.pk}).json() == mine, (path, param)


def test_another_users_queue_token_is_not_found_when_polled_with_my_authorization(owner_and_thief):
    _, owner, thief, _ = owner_and_thief
    response = thief.client.get("/api/v1/queue/status", HTTP_X_QUEUE_TOKEN=owner.token)
    assert_problem(response, 404, "queue_token_not_found")
    assert_no_leak(response, owner.token, "ACTIVE", "expires_at")
    # The owner, with or without Authorization, still sees it.
    assert owner.client.get("/api/v1/queue/status", HTTP_X_QUEUE_TOKEN=owner.token).status_code == 200


def test_another_users_queue_token_does_not_open_booking(owner_and_thief):
    schedule, owner, thief, _ = owner_and_thief
    response = thief.client.post(
        "/api/v1/reservations",
        {"schedule_id": schedule.pk, "seat_number": 2},
        format="json",
        HTTP_X_QUEUE_TOKEN=owner.token,
    )
    assert_problem(response, 403, "queue_token_not_active")
    assert not Reservation.objects.filter(user_id=thief.user.pk).exists()


def test_a_token_for_another_concert_does_not_open_booking(owner_and_thief):
    _, _, thief, _ = owner_and_thief
    elsewhere = on_sale_schedule()
    response = thief.hold(elsewhere, 1)  # thief's ACTIVE token is for the first concert only
    assert_problem(response, 403, "queue_token_not_active")
    assert active_queue_token(user=thief.user, concert=elsewhere.concert)  # a token of its own works


def test_an_idempotency_key_never_replays_another_users_answer(owner_and_thief):
    _, owner, thief, _ = owner_and_thief
    first = owner.client.post(
        "/api/v1/points/charge", {"amount": 5}, format="json", HTTP_IDEMPOTENCY_KEY="shared-key"
    )
    assert first.json() == {"balance": 1005}
    second = thief.client.post(
        "/api/v1/points/charge", {"amount": 5}, format="json", HTTP_IDEMPOTENCY_KEY="shared-key"
    )
    assert second.status_code == 200 and second.json() == {"balance": 1005}  # the thief's own balance
    assert "Idempotent-Replayed" not in second
    assert wallet_balance(user_id=thief.user.pk) == 1005
