"""Admin actions under the booking's concurrency rules, on PostgreSQL with real threads: an operator
releases a hold from admin while its owner pays for it. Exactly one of them wins, every time."""

import time

import pytest
from django.db.models import Sum
from django.test import Client

from concerts.models import Schedule, Seat, SeatStatus
from payments.models import Payment
from points.models import LedgerEntry, Wallet
from reservations.models import Reservation, ReservationStatus
from tests.booking import Booker, booker_for, on_sale_schedule
from tests.concurrency.runner import run_concurrently

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.postgres_only("race tests need PostgreSQL"),
]

ROUNDS = 10


def race_once(operator, fan: Booker, schedule: Schedule, number: int, pay_delay: float) -> str:
    reservation_id = fan.hold(schedule, number).json()["id"]
    operator_browser = Client()
    operator_browser.force_login(operator)

    def release() -> int:
        return operator_browser.post(
            "/admin/reservations/reservation/",
            {"action": "release_holds", "_selected_action": [reservation_id]},
        ).status_code

    def pay() -> int:
        time.sleep(pay_delay)  # the admin request does more before its write: give it a head start
        return fan.pay(reservation_id).status_code

    release_status, pay_status = run_concurrently([release, pay])
    assert release_status == 302, release_status  # the action ran (and may have been refused)
    reservation = Reservation.objects.get(pk=reservation_id)
    seat = Seat.objects.get(schedule=schedule, number=number)
    debits = LedgerEntry.objects.filter(
        kind="PAYMENT", reference=f"order:{Reservation.objects.get(pk=reservation_id).order_id}"
    ).count()
    payments = Payment.objects.filter(reservation_id=reservation_id).count()
    if pay_status == 201:
        assert reservation.status == ReservationStatus.CONFIRMED
        assert (seat.status, seat.reservation_id) == (SeatStatus.SOLD, reservation.pk)
        assert (debits, payments) == (1, 1)
        return "paid"
    assert pay_status == 409, pay_status  # reservation_not_pending: the release came first
    assert reservation.status == ReservationStatus.CANCELLED
    assert (seat.status, seat.reservation_id) == (SeatStatus.AVAILABLE, None)
    assert (debits, payments) == (0, 0)
    return "released"


def test_release_from_admin_racing_the_owners_payment_ends_in_one_state(operator):
    schedule = on_sale_schedule(seats=ROUNDS, price=100)
    fan = booker_for(schedule)
    fan.client.post("/api/v1/points/charge", {"amount": 100 * ROUNDS}, format="json")
    outcomes = []
    for number in range(1, ROUNDS + 1):
        # Vary who reaches the database first; the outcome must be whole either way.
        outcomes.append(race_once(operator, fan, schedule, number, pay_delay=0.004 * (number % 5)))
        if outcomes[-1] == "paid" and number < ROUNDS:  # every seat sold: the concert is sold out
            fan = booker_for(schedule, fan.user)  # a payment expires the queue token
    balance = Wallet.objects.get(pk=fan.user.pk).balance
    ledger_total = LedgerEntry.objects.filter(wallet_id=fan.user.pk).aggregate(s=Sum("amount"))["s"]
    assert balance == ledger_total == 100 * ROUNDS - 100 * outcomes.count("paid"), outcomes
    assert Seat.objects.filter(schedule=schedule, status=SeatStatus.SOLD).count() == outcomes.count("paid")
    print("outcomes:", outcomes)
