"""Orders racing on PostgreSQL with real threads: every seat once, all or none, never a deadlock, and
best available failing only when too few seats remain."""

from collections import Counter

import pytest

from concerts.models import Seat, SeatStatus
from config.exceptions import DomainError
from reservations.errors import NotEnoughSeats, SeatUnavailable
from reservations.models import Order, Reservation, ReservationStatus
from reservations.services import order_hold, reservation_hold
from tests.booking import on_sale_schedule
from tests.concurrency.runner import run_concurrently
from tests.factories import UserFactory
from tests.factories.queue import active_queue_token

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.postgres_only("race tests need PostgreSQL"),
]


def fans(schedule, count: int) -> list[tuple[int, str]]:
    users = UserFactory.create_batch(count)
    return [(u.pk, active_queue_token(user=u, concert=schedule.concert)) for u in users]


def outcomes(results) -> Counter:
    return Counter(type(r).__name__ for r in results)


def assert_no_seat_twice(schedule) -> None:
    live = Reservation.objects.filter(schedule=schedule, status__in=["PENDING", "CONFIRMED"])
    seat_ids = list(live.values_list("seat_id", flat=True))
    assert len(seat_ids) == len(set(seat_ids))
    for seat in Seat.objects.filter(schedule=schedule, status=SeatStatus.HELD):
        assert live.filter(pk=seat.reservation_id, seat_id=seat.pk).exists(), seat


def assert_all_or_none() -> None:
    for order in Order.objects.all():
        statuses = set(order.reservations.values_list("status", flat=True))
        assert statuses == {ReservationStatus.PENDING}, (order.pk, statuses)


def test_fifty_fans_ordering_two_best_available_of_sixty_seats():
    schedule = on_sale_schedule(seats=60)
    buyers = fans(schedule, 50)
    results = run_concurrently(
        [
            (lambda u=u, t=t: order_hold(user_id=u, schedule_id=schedule.pk, queue_token=t, quantity=2))
            for u, t in buyers
        ]
    )
    got = outcomes(results)
    assert got == Counter({"Order": 30, "NotEnoughSeats": 20}), got
    assert Seat.objects.filter(schedule=schedule, status=SeatStatus.HELD).count() == 60
    assert Reservation.objects.count() == 60 and Order.objects.count() == 30
    assert_no_seat_twice(schedule)
    assert_all_or_none()


@pytest.mark.parametrize("attempt", range(5))
def test_overlapping_chosen_orders_one_wins_the_other_holds_nothing(attempt):
    schedule = on_sale_schedule(seats=4)
    (a, ta), (b, tb) = fans(schedule, 2)
    results = run_concurrently(
        [
            lambda: order_hold(user_id=a, schedule_id=schedule.pk, queue_token=ta, seat_numbers=[1, 2]),
            lambda: order_hold(user_id=b, schedule_id=schedule.pk, queue_token=tb, seat_numbers=[2, 3]),
        ]
    )
    assert outcomes(results) == Counter({"Order": 1, "SeatUnavailable": 1}), results
    refused = next(r for r in results if isinstance(r, SeatUnavailable))
    assert refused.extra["unavailable_seats"] == [2]
    loser = b if isinstance(results[1], SeatUnavailable) else a
    assert not Reservation.objects.filter(user_id=loser).exists()
    assert not Order.objects.filter(user_id=loser).exists()
    assert Seat.objects.filter(schedule=schedule, status=SeatStatus.HELD).count() == 2
    assert_no_seat_twice(schedule)


@pytest.mark.parametrize("attempt", range(5))
def test_an_order_and_a_single_hold_racing_for_one_seat_give_one_winner(attempt):
    schedule = on_sale_schedule(seats=3)
    (a, ta), (b, tb) = fans(schedule, 2)
    results = run_concurrently(
        [
            lambda: order_hold(user_id=a, schedule_id=schedule.pk, queue_token=ta, seat_numbers=[2, 3]),
            lambda: reservation_hold(user_id=b, schedule_id=schedule.pk, seat_number=2, queue_token=tb),
        ]
    )
    assert sum(isinstance(r, SeatUnavailable) for r in results) == 1, results
    assert sum(not isinstance(r, DomainError) for r in results) == 1, results
    assert Reservation.objects.filter(seat__number=2, status="PENDING").count() == 1
    assert_no_seat_twice(schedule)
    assert_all_or_none()


def test_many_overlapping_orders_never_deadlock_and_never_split():
    schedule = on_sale_schedule(seats=12)
    buyers = fans(schedule, 24)
    wanted = [[n, n + 1, n + 2] for n in range(1, 11)] * 3
    results = run_concurrently(
        [
            (
                lambda u=u, t=t, w=w: order_hold(
                    user_id=u, schedule_id=schedule.pk, queue_token=t, seat_numbers=w
                )
            )
            for (u, t), w in zip(buyers, wanted, strict=False)
        ]
    )
    assert set(outcomes(results)) <= {"Order", "SeatUnavailable"}, outcomes(results)
    held = sum(len(r.seats) for r in results if isinstance(r, Order))
    assert Seat.objects.filter(schedule=schedule, status=SeatStatus.HELD).count() == held
    assert_no_seat_twice(schedule)
    assert_all_or_none()


def test_best_available_racing_chosen_orders_fails_only_when_too_few_remain():
    schedule = on_sale_schedule(seats=20)
    buyers = fans(schedule, 14)
    calls = []
    for i, (u, t) in enumerate(buyers):
        if i % 2:
            calls.append(
                lambda u=u, t=t: order_hold(user_id=u, schedule_id=schedule.pk, queue_token=t, quantity=2)
            )
        else:
            number = 1 + (i // 2) * 2
            calls.append(
                lambda u=u, t=t, n=number: order_hold(
                    user_id=u, schedule_id=schedule.pk, queue_token=t, seat_numbers=[n, n + 1]
                )
            )
    results = run_concurrently(calls)
    assert set(outcomes(results)) <= {"Order", "SeatUnavailable", "NotEnoughSeats"}, outcomes(results)
    held = Seat.objects.filter(schedule=schedule, status=SeatStatus.HELD).count()
    if any(isinstance(r, NotEnoughSeats) for r in results):
        assert held >= 19, held  # refused only when fewer than two seats were left
    assert_no_seat_twice(schedule)
    assert_all_or_none()
