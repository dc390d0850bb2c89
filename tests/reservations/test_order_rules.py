"""Every rule of an order's hold (chosen seats, best available, all or none), run against both of its
spellings: the PostgreSQL function (`_hold_in_one_call`, reservations_hold_seats() from migration 0007)
and the portable path (`_hold_portable`, what SQLite runs), both on the same PostgreSQL database. SQLite
runs the portable path only."""

from datetime import timedelta

import pytest

from concerts.models import Seat, SeatStatus
from concerts.seat_rules import best_available
from concerts.services import seat_block
from reservations.models import Order, Reservation, ReservationStatus
from tests.booking import booker_for, lapse, on_sale_schedule
from tests.factories import schedule_with_seats
from tests.problems import assert_problem

# Each test runs once per spelling of the hold (tests/reservations/conftest.py).
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("hold_implementation")]


def statuses(schedule) -> dict[int, str]:
    return dict(Seat.objects.filter(schedule=schedule).values_list("number", "status"))


def taken_by_others(schedule, *numbers: int) -> None:
    """Hold these seats for another fan."""
    other = booker_for(schedule)
    for number in numbers:
        assert other.hold(schedule, number).status_code == 201


@pytest.mark.embedded
def test_chosen_seats_are_held_together_with_one_deadline(hold_implementation, settings):
    schedule = on_sale_schedule(price=120)
    Seat.objects.filter(schedule=schedule, number=4).update(price=200, grade="VIP")
    fan = booker_for(schedule)
    response = fan.order(schedule, seat_numbers=[4, 2])
    assert response.status_code == 201, response.json()
    assert hold_implementation
    body = response.json()
    assert body["status"] == "PENDING" and body["schedule_id"] == schedule.pk
    assert body["concert_id"] == schedule.concert_id
    assert [s["seat_number"] for s in body["seats"]] == [2, 4]  # by number
    assert [(s["grade"], s["price"]) for s in body["seats"]] == [("R", 120), ("VIP", 200)]
    assert body["total"] == 320
    order = Order.objects.get(pk=body["id"])
    reservations = list(Reservation.objects.filter(order=order).order_by("seat_number"))
    assert [str(r.pk) for r in reservations] == [s["reservation_id"] for s in body["seats"]]
    assert {r.expires_at for r in reservations} == {order.expires_at}
    assert order.expires_at - order.created_at == timedelta(seconds=settings.RESERVATION_HOLD_SECONDS)
    for reservation in reservations:
        seat = Seat.objects.get(pk=reservation.seat_id)
        assert seat.status == SeatStatus.HELD and seat.reservation_id == reservation.pk
        assert seat.held_until == order.expires_at
    # Each seat is a reservation of the order, listed as such.
    listed = fan.client.get("/api/v1/reservations").json()["results"]
    assert {r["order_id"] for r in listed} == {body["id"]} and len(listed) == 2


@pytest.mark.embedded
def test_chosen_seats_are_all_or_none():
    schedule = on_sale_schedule()
    taken_by_others(schedule, 3)
    seat_block(seat_id=Seat.objects.get(schedule=schedule, number=5).pk)
    fan = booker_for(schedule)
    body = assert_problem(fan.order(schedule, seat_numbers=[2, 3, 4, 5]), 409, "seat_unavailable")
    assert body["unavailable_seats"] == [3, 5]
    assert statuses(schedule)[2] == statuses(schedule)[4] == SeatStatus.AVAILABLE
    assert not Order.objects.filter(user=fan.user).exists()
    assert not Reservation.objects.filter(user=fan.user).exists()


def test_a_chosen_number_that_does_not_exist_is_not_found():
    schedule = on_sale_schedule(seats=5)
    fan = booker_for(schedule)
    assert_problem(fan.order(schedule, seat_numbers=[1, 6]), 404, "not_found")
    assert statuses(schedule)[1] == SeatStatus.AVAILABLE and not Order.objects.exists()


def test_chosen_lapsed_holds_give_way():
    schedule = on_sale_schedule()
    first = booker_for(schedule)
    held = first.hold(schedule, 1).json()
    lapse(held["id"])
    response = booker_for(schedule).order(schedule, seat_numbers=[1, 2])
    assert response.status_code == 201, response.json()
    assert Reservation.objects.get(pk=held["id"]).status == ReservationStatus.EXPIRED


@pytest.mark.embedded
def test_best_available_takes_the_lowest_numbered_adjacent_run():
    schedule = on_sale_schedule(seats=10)
    taken_by_others(schedule, 1, 3, 6)  # free: 2, 4 5, 7 8 9 10
    fan = booker_for(schedule)
    body = fan.order(schedule, quantity=2).json()
    assert [s["seat_number"] for s in body["seats"]] == [4, 5]
    body = booker_for(schedule).order(schedule, quantity=3).json()
    assert [s["seat_number"] for s in body["seats"]] == [7, 8, 9]


def test_best_available_without_a_run_takes_the_lowest_numbered_seats():
    schedule = on_sale_schedule(seats=6)
    taken_by_others(schedule, 2, 4)  # free: 1, 3, 5 6
    body = booker_for(schedule).order(schedule, quantity=3).json()
    assert [s["seat_number"] for s in body["seats"]] == [1, 3, 5]


def test_best_available_of_a_grade():
    schedule = on_sale_schedule(seats=8)
    Seat.objects.filter(schedule=schedule, number__in=[5, 6, 8]).update(grade="VIP", price=300)
    body = booker_for(schedule).order(schedule, quantity=2, grade="VIP").json()
    assert [(s["seat_number"], s["grade"]) for s in body["seats"]] == [(5, "VIP"), (6, "VIP")]
    assert body["total"] == 600
    assert_problem(booker_for(schedule).order(schedule, quantity=2, grade="VIP"), 409, "not_enough_seats")
    assert_problem(booker_for(schedule).order(schedule, quantity=1, grade="BOX"), 409, "not_enough_seats")


def test_best_available_counts_lapsed_holds_as_takeable_and_refuses_only_when_too_few_remain():
    schedule = on_sale_schedule(seats=4)
    taken_by_others(schedule, 1, 2)
    lapsed = booker_for(schedule).hold(schedule, 3).json()
    lapse(lapsed["id"])
    fan = booker_for(schedule)
    assert_problem(fan.order(schedule, quantity=3), 409, "not_enough_seats")
    assert statuses(schedule)[4] == SeatStatus.AVAILABLE and not Order.objects.filter(user=fan.user).exists()
    body = fan.order(schedule, quantity=2).json()
    assert [s["seat_number"] for s in body["seats"]] == [3, 4]
    assert Reservation.objects.get(pk=lapsed["id"]).status == ReservationStatus.EXPIRED


def test_the_hold_limit_counts_seats(settings):
    settings.MAX_HOLDS_PER_USER = 4
    schedule = on_sale_schedule(seats=10)
    fan = booker_for(schedule)
    assert fan.order(schedule, seat_numbers=[1, 2, 3]).status_code == 201
    assert_problem(fan.order(schedule, quantity=2), 409, "hold_limit_reached")
    assert_problem(fan.order(schedule, seat_numbers=[5, 6]), 409, "hold_limit_reached")
    assert statuses(schedule)[5] == SeatStatus.AVAILABLE
    assert fan.order(schedule, quantity=1).status_code == 201
    assert_problem(fan.hold(schedule, 9), 409, "hold_limit_reached")


def test_an_order_on_a_closed_schedule_or_another_concert_is_refused():
    now = __import__("config.clock", fromlist=["now"]).now()
    closed = schedule_with_seats(3, sales_open_at=now + timedelta(days=1))
    schedule_with_seats(1, concert=closed.concert)  # another date on sale: the queue admits the fan
    assert_problem(booker_for(closed).order(closed, quantity=1), 409, "schedule_closed")
    other = on_sale_schedule()
    assert_problem(booker_for(other).order(closed, seat_numbers=[1]), 403, "queue_token_not_active")
    assert not Order.objects.exists()


@pytest.mark.embedded
@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "non_field_errors"),
        ({"seat_numbers": [1], "quantity": 1}, "non_field_errors"),
        ({"seat_numbers": []}, "seat_numbers"),
        ({"seat_numbers": [1, 1]}, "seat_numbers"),
        ({"seat_numbers": [1, 2, 3, 4, 5]}, "seat_numbers"),
        ({"seat_numbers": [0]}, "seat_numbers"),
        ({"seat_numbers": ["a"]}, "seat_numbers"),
        ({"seat_numbers": [1], "grade": "R"}, "grade"),
        ({"quantity": 0}, "quantity"),
        ({"quantity": 5}, "quantity"),
        ({"quantity": True}, "quantity"),
        ({"quantity": 1, "grade": "x" * 21}, "grade"),
    ],
)
def test_bad_orders_are_invalid_and_hold_nothing(body, field, settings):
    settings.MAX_HOLDS_PER_USER = 4
    schedule = on_sale_schedule()
    fan = booker_for(schedule)
    response = fan.client.post(
        "/api/v1/orders", {"schedule_id": schedule.pk, **body}, format="json", HTTP_X_QUEUE_TOKEN=fan.token
    )
    problem = assert_problem(response, 400, "invalid")
    assert field in problem["fields"], problem
    assert not Order.objects.exists()


@pytest.mark.parametrize(
    ("numbers", "quantity", "expected"),
    [
        ([1, 2, 3], 2, [1, 2]),
        ([2, 4, 5, 7, 8, 9], 3, [7, 8, 9]),
        ([1, 3, 5, 6], 3, [1, 3, 5]),
        ([1, 3], 3, None),
        ([5], 1, [5]),
    ],
)
def test_the_best_available_rule(numbers, quantity, expected):
    assert best_available(numbers, quantity) == expected
