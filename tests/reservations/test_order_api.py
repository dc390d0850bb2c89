"""Orders over HTTP: paid once, cancelled whole or seat by seat with refunds given once, the queue token
kept while something is left to pay, and nobody else's order reachable."""

import uuid

import pytest
from django.db.models import Sum

from concerts.models import Seat, SeatStatus
from payments.models import Payment, PaymentStatus
from points.models import LedgerEntry
from points.services import points_charge
from reservations.models import Order, Reservation, ReservationStatus
from tests.booking import booker_for, on_sale_schedule
from tests.problems import assert_problem

pytestmark = pytest.mark.django_db


def queue_status(fan) -> dict:
    return fan.client.get("/api/v1/queue/status", HTTP_X_QUEUE_TOKEN=fan.token).json()


def balance(fan) -> int:
    return fan.client.get("/api/v1/points").json()["balance"]


def seat_statuses(schedule, numbers) -> list[str]:
    return [Seat.objects.get(schedule=schedule, number=n).status for n in numbers]


@pytest.mark.embedded
def test_an_order_is_paid_once_with_one_ledger_row_of_its_total(django_capture_on_commit_callbacks):
    schedule = on_sale_schedule(price=150)
    fan = booker_for(schedule)
    points_charge(user_id=fan.user.pk, amount=1000)
    order = fan.order(schedule, quantity=3).json()
    with django_capture_on_commit_callbacks(execute=True):
        response = fan.pay_order(order["id"])
    assert response.status_code == 201, response.json()
    paid = response.json()
    assert paid["order_id"] == order["id"] and paid["amount"] == 450 and paid["status"] == "COMPLETED"
    assert paid["reservation_id"] is None  # several seats
    assert sorted(paid["reservation_ids"]) == sorted(s["reservation_id"] for s in order["seats"])
    assert seat_statuses(schedule, [1, 2, 3]) == [SeatStatus.SOLD] * 3
    assert set(Reservation.objects.filter(order_id=order["id"]).values_list("status", flat=True)) == {
        ReservationStatus.CONFIRMED
    }
    assert fan.client.get(f"/api/v1/orders/{order['id']}").json()["status"] == "CONFIRMED"
    payments = LedgerEntry.objects.filter(wallet_id=fan.user.pk, kind="PAYMENT")
    assert [e.amount for e in payments] == [-450]
    assert balance(fan) == 550
    assert queue_status(fan)["status"] == "EXPIRED" and queue_status(fan)["expired_reason"] == "PAID"
    listed = fan.client.get("/api/v1/payments").json()["results"]
    assert listed[0]["id"] == paid["id"] and sorted(listed[0]["reservation_ids"]) == sorted(
        paid["reservation_ids"]
    )
    assert_problem(fan.pay_order(order["id"]), 403, "queue_token_not_active")  # the token's job is done


def test_paying_by_one_reservation_pays_its_whole_order():
    schedule = on_sale_schedule(price=100)
    fan = booker_for(schedule)
    points_charge(user_id=fan.user.pk, amount=500)
    order = fan.order(schedule, seat_numbers=[5, 6]).json()
    response = fan.pay(order["seats"][1]["reservation_id"])
    assert response.status_code == 201, response.json()
    assert response.json()["order_id"] == order["id"] and response.json()["amount"] == 200
    assert seat_statuses(schedule, [5, 6]) == [SeatStatus.SOLD] * 2
    assert Payment.objects.count() == 1


@pytest.mark.embedded
def test_a_fan_holding_two_seats_separately_pays_both(django_capture_on_commit_callbacks):
    """The first payment used to end the queue token, and the second seat was lost."""
    schedule = on_sale_schedule(price=100)
    fan = booker_for(schedule)
    points_charge(user_id=fan.user.pk, amount=1000)
    first, second = fan.hold(schedule, 1).json(), fan.hold(schedule, 2).json()
    assert first["order_id"] != second["order_id"]  # a single-seat hold is an order of one
    with django_capture_on_commit_callbacks(execute=True):
        paid = fan.pay(first["id"])
    assert paid.status_code == 201 and paid.json()["reservation_id"] == first["id"]
    assert queue_status(fan)["status"] == "ACTIVE"  # something is left to pay
    with django_capture_on_commit_callbacks(execute=True):
        assert fan.pay(second["id"]).status_code == 201
    token = queue_status(fan)
    assert (token["status"], token["expired_reason"]) == ("EXPIRED", "PAID")
    assert seat_statuses(schedule, [1, 2]) == [SeatStatus.SOLD] * 2
    assert balance(fan) == 800


def test_a_failed_order_payment_changes_nothing():
    schedule = on_sale_schedule(price=300)
    fan = booker_for(schedule)
    points_charge(user_id=fan.user.pk, amount=599)
    order = fan.order(schedule, quantity=2).json()
    assert_problem(fan.pay_order(order["id"]), 409, "insufficient_points")
    assert seat_statuses(schedule, [1, 2]) == [SeatStatus.HELD] * 2
    assert Order.objects.get(pk=order["id"]).status == ReservationStatus.PENDING
    assert not Payment.objects.exists() and balance(fan) == 599
    assert queue_status(fan)["status"] == "ACTIVE"


def test_an_expired_order_cannot_be_paid_and_reads_expired(clock, settings):
    schedule = on_sale_schedule(price=10)
    fan = booker_for(schedule)
    points_charge(user_id=fan.user.pk, amount=100)
    order = fan.order(schedule, quantity=2).json()
    clock.advance(settings.RESERVATION_HOLD_SECONDS)
    assert fan.client.get(f"/api/v1/orders/{order['id']}").json()["status"] == "EXPIRED"
    assert fan.client.get(f"/api/v1/orders/{order['id']}").json()["seats"][0]["status"] == "EXPIRED"
    listed = fan.client.get(f"/api/v1/schedules/{schedule.pk}/seats").json()["results"]
    assert {s["status"] for s in listed if s["number"] in (1, 2)} == {"AVAILABLE"}


@pytest.mark.embedded
def test_cancelling_a_held_order_frees_every_seat():
    schedule = on_sale_schedule()
    fan = booker_for(schedule)
    order = fan.order(schedule, seat_numbers=[3, 4]).json()
    response = fan.client.post(f"/api/v1/orders/{order['id']}/cancel")
    assert response.status_code == 200 and response.json()["status"] == "CANCELLED"
    assert [s["seat_number"] for s in response.json()["seats"]] == [3, 4]  # the seats it had
    assert seat_statuses(schedule, [3, 4]) == [SeatStatus.AVAILABLE] * 2
    assert_problem(fan.client.post(f"/api/v1/orders/{order['id']}/cancel"), 409, "order_not_cancellable")
    assert not LedgerEntry.objects.filter(kind="REFUND").exists()


@pytest.mark.embedded
def test_a_paid_order_is_refunded_seat_by_seat_and_whole_never_twice():
    schedule = on_sale_schedule(price=100)
    Seat.objects.filter(schedule=schedule, number=3).update(price=250)
    fan = booker_for(schedule)
    points_charge(user_id=fan.user.pk, amount=1000)
    order = fan.order(schedule, seat_numbers=[1, 2, 3]).json()
    assert order["total"] == 450
    assert fan.pay_order(order["id"]).status_code == 201
    assert balance(fan) == 550

    # One seat alone: its price back; the order keeps the others.
    third = order["seats"][2]["reservation_id"]
    response = fan.client.post(f"/api/v1/reservations/{third}/cancel")
    assert response.status_code == 200 and response.json()["status"] == "CANCELLED"
    assert balance(fan) == 800
    after = fan.client.get(f"/api/v1/orders/{order['id']}").json()
    assert after["status"] == "CONFIRMED" and [s["seat_number"] for s in after["seats"]] == [1, 2]
    assert after["total"] == 200
    assert_problem(
        fan.client.post(f"/api/v1/reservations/{third}/cancel"), 409, "reservation_not_cancellable"
    )

    # The rest of the order: one REFUND row of what was still paid.
    response = fan.client.post(f"/api/v1/orders/{order['id']}/cancel")
    assert response.status_code == 200 and response.json()["status"] == "CANCELLED"
    assert balance(fan) == 1000
    refunds = LedgerEntry.objects.filter(kind="REFUND").order_by("id")
    assert [e.amount for e in refunds] == [250, 200]
    payment = Payment.objects.get(order_id=order["id"])
    assert (payment.status, payment.refunded_amount, payment.amount) == (PaymentStatus.REFUNDED, 450, 450)
    assert seat_statuses(schedule, [1, 2, 3]) == [SeatStatus.AVAILABLE] * 3
    assert_problem(fan.client.post(f"/api/v1/orders/{order['id']}/cancel"), 409, "order_not_cancellable")
    total = LedgerEntry.objects.filter(wallet_id=fan.user.pk).aggregate(s=Sum("amount"))["s"]
    assert total == balance(fan) == 1000


def test_cancelling_the_last_seat_of_an_order_cancels_the_order():
    schedule = on_sale_schedule()
    fan = booker_for(schedule)
    order = fan.order(schedule, seat_numbers=[1, 2]).json()
    for seat in order["seats"]:
        assert fan.client.post(f"/api/v1/reservations/{seat['reservation_id']}/cancel").status_code == 200
    after = fan.client.get(f"/api/v1/orders/{order['id']}").json()
    assert after["status"] == "CANCELLED" and [s["seat_number"] for s in after["seats"]] == [2]


def test_orders_are_listed_newest_first_and_nobody_elses_are_reachable():
    schedule = on_sale_schedule()
    fan, stranger = booker_for(schedule), booker_for(schedule)
    points_charge(user_id=stranger.user.pk, amount=1000)
    first = fan.order(schedule, quantity=1).json()
    second = fan.order(schedule, seat_numbers=[7, 8]).json()
    listed = fan.client.get("/api/v1/orders").json()
    assert listed["count"] == 2 and [o["id"] for o in listed["results"]] == [second["id"], first["id"]]
    assert stranger.client.get("/api/v1/orders").json()["count"] == 0
    assert_problem(stranger.client.get(f"/api/v1/orders/{first['id']}"), 404, "not_found")
    assert_problem(stranger.client.post(f"/api/v1/orders/{first['id']}/cancel"), 404, "not_found")
    assert_problem(stranger.pay_order(first["id"]), 404, "not_found")
    assert_problem(fan.client.get(f"/api/v1/orders/{uuid.uuid4()}"), 404, "not_found")
    assert Order.objects.get(pk=first["id"]).status == ReservationStatus.PENDING


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({}, 400, "invalid"),
        ({"order_id": str(uuid.uuid4()), "reservation_id": str(uuid.uuid4())}, 400, "invalid"),
        ({"order_id": 12}, 400, "invalid"),
        ({"order_id": str(uuid.uuid4())}, 404, "not_found"),
    ],
)
def test_a_payment_names_exactly_one_order_or_reservation(body, status, code):
    schedule = on_sale_schedule()
    fan = booker_for(schedule)
    response = fan.client.post("/api/v1/payments", body, format="json", HTTP_X_QUEUE_TOKEN=fan.token)
    assert_problem(response, status, code)


def test_orders_and_their_payments_accept_an_idempotency_key():
    schedule = on_sale_schedule(price=100)
    fan = booker_for(schedule)
    points_charge(user_id=fan.user.pk, amount=1000)
    first = fan.order(schedule, quantity=2, HTTP_IDEMPOTENCY_KEY="two-seats")
    again = fan.order(schedule, quantity=2, HTTP_IDEMPOTENCY_KEY="two-seats")
    assert first.status_code == again.status_code == 201 and first.json() == again.json()
    assert Order.objects.count() == 1
    assert_problem(
        fan.order(schedule, quantity=1, HTTP_IDEMPOTENCY_KEY="two-seats"), 422, "idempotency_key_reused"
    )
    order_id = first.json()["id"]
    paid = fan.pay_order(order_id, HTTP_IDEMPOTENCY_KEY="pay-two")
    replay = fan.pay_order(order_id, HTTP_IDEMPOTENCY_KEY="pay-two")
    assert paid.status_code == replay.status_code == 201 and paid.json() == replay.json()
    assert LedgerEntry.objects.filter(kind="PAYMENT").count() == 1 and balance(fan) == 800


def test_an_order_selling_the_last_seats_sells_out_and_its_cancellation_reopens(
    api_client, django_capture_on_commit_callbacks
):
    schedule = on_sale_schedule(seats=3, price=10)
    fan = booker_for(schedule)
    points_charge(user_id=fan.user.pk, amount=100)
    concert_url = f"/api/v1/concerts/{schedule.concert_id}"
    with django_capture_on_commit_callbacks(execute=True):
        order = fan.order(schedule, quantity=3).json()
        assert api_client.get(concert_url).json()["sold_out"] is False  # held seats are not sold
        assert fan.pay_order(order["id"]).status_code == 201
    assert api_client.get(concert_url).json()["sold_out"] is True
    assert api_client.get(f"{concert_url}/queue").json()["state"] == "SOLD_OUT"
    with django_capture_on_commit_callbacks(execute=True):
        assert fan.client.post(f"/api/v1/orders/{order['id']}/cancel").status_code == 200
    assert api_client.get(concert_url).json()["sold_out"] is False
    assert api_client.get(f"{concert_url}/queue").json()["state"] == "OPEN"
