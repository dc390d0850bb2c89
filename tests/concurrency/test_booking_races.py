"""Races on PostgreSQL with real threads: seats, money and payments must come out exact."""

from collections import Counter
from datetime import timedelta

import pytest
from django.db.models import Sum

from booking.services import payment_create
from concerts.models import Seat, SeatStatus
from payments.models import Payment
from points.models import LedgerEntry, Wallet
from points.services import points_charge
from reservations.errors import ReservationExpired
from reservations.models import Reservation, ReservationStatus
from reservations.services import reservation_hold, reservations_expire_overdue
from tests.booking import on_sale_schedule
from tests.concurrency.runner import run_concurrently
from tests.factories import UserFactory
from tests.factories.queue import active_queue_token

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.postgres_only("race tests need PostgreSQL"),
]


def assert_ledger_matches_balances() -> None:
    for wallet in Wallet.objects.all():
        total = LedgerEntry.objects.filter(wallet_id=wallet.user_id).aggregate(s=Sum("amount"))["s"] or 0
        assert total == wallet.balance, (wallet.user_id, total, wallet.balance)


def test_fifty_concurrent_charges_sum_exactly():
    user = UserFactory()
    results = run_concurrently(
        [(lambda i=i: points_charge(user_id=user.pk, amount=i + 1)) for i in range(50)]
    )
    assert not [r for r in results if isinstance(r, Exception)]
    assert Wallet.objects.get(user=user).balance == sum(range(1, 51))
    assert LedgerEntry.objects.filter(wallet_id=user.pk, kind="CHARGE").count() == 50
    assert_ledger_matches_balances()


def test_ten_concurrent_payments_of_one_hold_debit_once():
    schedule = on_sale_schedule(seats=2, price=100)
    user = UserFactory()
    token = active_queue_token(user=user, concert=schedule.concert)
    points_charge(user_id=user.pk, amount=1000)
    held = reservation_hold(user_id=user.pk, schedule_id=schedule.pk, seat_number=1, queue_token=token)
    results = run_concurrently(
        [
            (lambda: payment_create(user_id=user.pk, reservation_id=held.pk, queue_token=token))
            for _ in range(10)
        ]
    )
    paid = [r for r in results if isinstance(r, Payment)]
    assert len(paid) == 1, Counter(type(r).__name__ for r in results)
    assert all(not isinstance(r, Exception) or getattr(r, "status_code", 500) < 500 for r in results)
    assert Wallet.objects.get(user=user).balance == 900
    assert LedgerEntry.objects.filter(kind="PAYMENT").count() == 1
    assert Payment.objects.count() == 1
    assert Seat.objects.get(schedule=schedule, number=1).status == SeatStatus.SOLD
    assert_ledger_matches_balances()


@pytest.mark.parametrize("attempt", range(5))
def test_payment_racing_expiry_ends_in_exactly_one_state(attempt, clock):
    schedule = on_sale_schedule(seats=2, price=100)
    user, rival = UserFactory(), UserFactory()
    token = active_queue_token(user=user, concert=schedule.concert)
    rival_token = active_queue_token(user=rival, concert=schedule.concert)
    points_charge(user_id=user.pk, amount=100)
    held = reservation_hold(user_id=user.pk, schedule_id=schedule.pk, seat_number=1, queue_token=token)
    deadline = held.expires_at
    # Each thread sees its own clock: the payer a microsecond before the deadline, the sweep at it, and a
    # rival's hold of the same seat a microsecond after it. All three run at the same instant.

    def acting_at(offset_us: int, call):
        def run():
            clock.set_for_this_thread(deadline + timedelta(microseconds=offset_us))
            return call()

        return run

    results = run_concurrently(
        [
            acting_at(-1, lambda: payment_create(user_id=user.pk, reservation_id=held.pk, queue_token=token)),
            acting_at(0, lambda: reservations_expire_overdue()),
            acting_at(
                1,
                lambda: reservation_hold(
                    user_id=rival.pk, schedule_id=schedule.pk, seat_number=1, queue_token=rival_token
                ),
            ),
        ]
    )
    payment_result = results[0]
    held.refresh_from_db()
    seat = Seat.objects.get(schedule=schedule, number=1)
    wallet = Wallet.objects.get(user=user)
    if isinstance(payment_result, Payment):
        assert held.status == ReservationStatus.CONFIRMED
        assert seat.status == SeatStatus.SOLD and seat.reservation_id == held.pk
        assert wallet.balance == 0 and Payment.objects.count() == 1
        assert not Reservation.objects.filter(user=rival, status=ReservationStatus.PENDING).exists()
    else:
        assert isinstance(payment_result, ReservationExpired), payment_result
        assert held.status in {ReservationStatus.PENDING, ReservationStatus.EXPIRED}
        assert wallet.balance == 100 and not Payment.objects.exists()
        assert seat.status != SeatStatus.SOLD
    assert_ledger_matches_balances()
