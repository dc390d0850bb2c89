import uuid

import pytest

from concerts.models import Seat, SeatStatus
from payments.models import Payment
from points.models import LedgerEntry
from points.services import points_charge
from reservations.models import Reservation, ReservationStatus
from tests.booking import booker_for, lapse, on_sale_schedule
from tests.factories.queue import active_queue_token
from tests.problems import assert_problem

pytestmark = pytest.mark.django_db


def queue_status(client, token):
    return client.get("/api/v1/queue/status", HTTP_X_QUEUE_TOKEN=token).json()["status"]


@pytest.mark.embedded
def test_payment_confirms_sells_debits_and_expires_the_token(django_capture_on_commit_callbacks):
    schedule = on_sale_schedule(price=250)
    fan = booker_for(schedule)
    points_charge(user_id=fan.user.pk, amount=1000)
    held = fan.hold(schedule, 7).json()

    with django_capture_on_commit_callbacks(execute=True):  # the token is expired once the payment commits
        response = fan.pay(held["id"])
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["reservation_id"] == held["id"] and body["amount"] == 250 and body["status"] == "COMPLETED"
    assert fan.client.get(f"/api/v1/reservations/{held['id']}").json()["status"] == "CONFIRMED"
    assert Seat.objects.get(schedule=schedule, number=7).status == SeatStatus.SOLD
    assert fan.client.get("/api/v1/points").json()["balance"] == 750
    assert fan.client.get("/api/v1/points/history").json()["results"][0]["kind"] == "PAYMENT"
    assert queue_status(fan.client, fan.token) == "EXPIRED"
    listed = fan.client.get("/api/v1/payments").json()
    assert listed["count"] == 1 and listed["results"][0]["id"] == body["id"]


def test_insufficient_points_changes_nothing():
    schedule = on_sale_schedule(price=500)
    fan = booker_for(schedule)
    points_charge(user_id=fan.user.pk, amount=499)
    held = fan.hold(schedule, 1).json()
    assert_problem(fan.pay(held["id"]), 409, "insufficient_points")
    assert Reservation.objects.get(pk=held["id"]).status == ReservationStatus.PENDING
    assert Seat.objects.get(schedule=schedule, number=1).status == SeatStatus.HELD
    assert fan.client.get("/api/v1/points").json()["balance"] == 499
    assert not Payment.objects.exists()
    assert queue_status(fan.client, fan.token) == "ACTIVE"
    # Top up and pay: it works, once.
    points_charge(user_id=fan.user.pk, amount=1)
    assert fan.pay(held["id"]).status_code == 201
    assert LedgerEntry.objects.filter(kind="PAYMENT").count() == 1


def test_paying_an_expired_hold_is_refused():
    schedule = on_sale_schedule(price=10)
    fan = booker_for(schedule)
    points_charge(user_id=fan.user.pk, amount=100)
    held = fan.hold(schedule, 1).json()
    lapse(held["id"])
    assert_problem(fan.pay(held["id"]), 409, "reservation_expired")
    assert fan.client.get("/api/v1/points").json()["balance"] == 100
    assert not Payment.objects.exists()


def test_paying_twice_is_not_pending(django_capture_on_commit_callbacks):
    schedule = on_sale_schedule(price=10)
    fan = booker_for(schedule)
    points_charge(user_id=fan.user.pk, amount=100)
    held = fan.hold(schedule, 1).json()
    with django_capture_on_commit_callbacks(execute=True):
        assert fan.pay(held["id"]).status_code == 201
    assert_problem(fan.pay(held["id"]), 403, "queue_token_not_active")  # the payment expired the token
    fan.token = active_queue_token(user=fan.user, concert=schedule.concert)
    assert_problem(fan.pay(held["id"]), 409, "reservation_not_pending")
    assert fan.client.get("/api/v1/points").json()["balance"] == 90


def test_paying_a_cancelled_hold_is_not_pending():
    schedule = on_sale_schedule(price=10)
    fan = booker_for(schedule)
    points_charge(user_id=fan.user.pk, amount=100)
    held = fan.hold(schedule, 1).json()
    fan.client.post(f"/api/v1/reservations/{held['id']}/cancel")
    assert_problem(fan.pay(held["id"]), 409, "reservation_not_pending")


def test_payment_needs_an_active_token():
    schedule = on_sale_schedule(price=10)
    fan = booker_for(schedule)
    held = fan.hold(schedule, 1).json()
    response = fan.client.post("/api/v1/payments", {"reservation_id": held["id"]}, format="json")
    assert_problem(response, 401, "queue_token_required")
    fan.token = "not-a-real-token"
    assert_problem(fan.pay(held["id"]), 403, "queue_token_not_active")


def test_someone_elses_reservation_is_404():
    schedule = on_sale_schedule(price=10)
    owner, thief = booker_for(schedule), booker_for(schedule)
    points_charge(user_id=thief.user.pk, amount=100)
    held = owner.hold(schedule, 1).json()
    assert_problem(thief.pay(held["id"]), 404, "not_found")
    assert_problem(thief.pay(uuid.uuid4()), 404, "not_found")
    assert Reservation.objects.get(pk=held["id"]).status == ReservationStatus.PENDING
    assert thief.client.get("/api/v1/payments").json()["count"] == 0


@pytest.mark.parametrize(
    "body", [{}, {"reservation_id": "nope"}, {"reservation_id": 12}, {"reservation_id": None}]
)
def test_payment_bad_input_is_invalid(body):
    schedule = on_sale_schedule()
    fan = booker_for(schedule)
    response = fan.client.post("/api/v1/payments", body, format="json", HTTP_X_QUEUE_TOKEN=fan.token)
    assert_problem(response, 400, "invalid")


def test_payment_with_idempotency_key_debits_once():
    schedule = on_sale_schedule(price=40)
    fan = booker_for(schedule)
    points_charge(user_id=fan.user.pk, amount=100)
    held = fan.hold(schedule, 1).json()
    first = fan.pay(held["id"], HTTP_IDEMPOTENCY_KEY="pay-1")
    again = fan.pay(held["id"], HTTP_IDEMPOTENCY_KEY="pay-1")
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert fan.client.get("/api/v1/points").json()["balance"] == 60


def test_payments_list_needs_auth(api_client):
    assert_problem(api_client.get("/api/v1/payments"), 401, "not_authenticated")
