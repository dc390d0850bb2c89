"""Every rule of a seat hold, run against both of its spellings: the PostgreSQL function
(`_hold_in_one_call`, reservations_hold_seats() from migration 0007) and the portable path
(`_hold_portable`, what SQLite runs), both on the same PostgreSQL database. SQLite runs the portable
path only."""

import uuid
from collections import Counter
from datetime import timedelta

import pytest
from django.db import connection

from concerts.models import Seat, SeatStatus
from config import clock as config_clock
from reservations import hold, services
from reservations.errors import HoldLimitReached, SeatUnavailable
from reservations.models import Reservation, ReservationStatus
from tests.booking import booker_for, lapse, on_sale_schedule
from tests.concurrency.runner import run_concurrently
from tests.factories import ScheduleFactory, UserFactory, schedule_with_seats
from tests.factories.queue import active_queue_token
from tests.problems import assert_problem

# Each test runs once per spelling of the hold (tests/reservations/conftest.py).
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("hold_implementation")]


def seat(schedule, number: int) -> Seat:
    return Seat.objects.get(schedule=schedule, number=number)


def public_status(client, schedule, number: int) -> str:
    seats = client.get(f"/api/v1/schedules/{schedule.pk}/seats").json()["results"]
    return next(s["status"] for s in seats if s["number"] == number)


@pytest.mark.embedded
def test_a_hold_is_a_pending_reservation_holding_the_seat(api_client, hold_implementation, settings):
    schedule = on_sale_schedule(price=150)
    fan = booker_for(schedule)
    response = fan.hold(schedule, 3)
    assert response.status_code == 201, response.json()
    assert hold_implementation  # the chosen implementation served it
    body = response.json()
    reservation = Reservation.objects.get(pk=body["id"])
    assert reservation.user_id == fan.user.pk and reservation.status == ReservationStatus.PENDING
    assert body["status"] == "PENDING" and body["seat_number"] == 3
    assert body["schedule_id"] == schedule.pk and body["concert_id"] == schedule.concert_id
    assert body["seat_id"] == seat(schedule, 3).pk
    assert reservation.expires_at - reservation.created_at == timedelta(
        seconds=settings.RESERVATION_HOLD_SECONDS
    )
    held = seat(schedule, 3)
    assert held.status == SeatStatus.HELD and held.reservation_id == reservation.pk
    assert held.held_until == reservation.expires_at
    assert public_status(api_client, schedule, 3) == "HELD"


@pytest.mark.embedded
def test_the_price_is_the_seats_not_the_concerts_nor_the_clients():
    schedule = on_sale_schedule(price=100)
    Seat.objects.filter(schedule=schedule, number=2).update(price=275)
    fan = booker_for(schedule)
    response = fan.client.post(
        "/api/v1/reservations",
        {"schedule_id": schedule.pk, "seat_number": 2, "price": 1},
        format="json",
        HTTP_X_QUEUE_TOKEN=fan.token,
    )
    assert response.status_code == 201 and response.json()["price"] == 275
    assert Reservation.objects.get().price == 275


def test_a_held_seat_is_unavailable_to_others():
    schedule = on_sale_schedule()
    assert booker_for(schedule).hold(schedule, 1).status_code == 201
    assert_problem(booker_for(schedule).hold(schedule, 1), 409, "seat_unavailable")
    assert Reservation.objects.count() == 1


def test_a_sold_or_blocked_seat_is_unavailable():
    from concerts.services import seat_block
    from points.services import points_charge

    schedule = on_sale_schedule(price=10)
    buyer = booker_for(schedule)
    points_charge(user_id=buyer.user.pk, amount=10)
    assert buyer.pay(buyer.hold(schedule, 1).json()["id"]).status_code == 201
    seat_block(seat_id=seat(schedule, 2).pk)
    fan = booker_for(schedule)
    assert_problem(fan.hold(schedule, 1), 409, "seat_unavailable")
    assert_problem(fan.hold(schedule, 2), 409, "seat_unavailable")
    assert seat(schedule, 1).status == SeatStatus.SOLD and seat(schedule, 2).status == SeatStatus.BLOCKED
    assert Reservation.objects.count() == 1


@pytest.mark.embedded
def test_a_lapsed_hold_is_taken_over_and_reads_expired(api_client, clock, settings):
    schedule = on_sale_schedule()
    first = booker_for(schedule)
    held = first.hold(schedule, 5).json()
    clock.advance(settings.RESERVATION_HOLD_SECONDS)  # the deadline itself: lapsed, no job has run
    assert first.client.get(f"/api/v1/reservations/{held['id']}").json()["status"] == "EXPIRED"
    assert public_status(api_client, schedule, 5) == "AVAILABLE"
    second = booker_for(schedule)
    taken = second.hold(schedule, 5)
    assert taken.status_code == 201, taken.json()
    assert Reservation.objects.get(pk=held["id"]).status == ReservationStatus.EXPIRED
    assert seat(schedule, 5).reservation_id == uuid.UUID(taken.json()["id"])
    assert public_status(api_client, schedule, 5) == "HELD"


def test_a_live_hold_still_reads_pending_a_second_before_its_deadline(clock, settings):
    schedule = on_sale_schedule()
    fan = booker_for(schedule)
    held = fan.hold(schedule, 1).json()
    clock.advance(settings.RESERVATION_HOLD_SECONDS - 1)
    assert fan.client.get(f"/api/v1/reservations/{held['id']}").json()["status"] == "PENDING"
    assert_problem(booker_for(schedule).hold(schedule, 1), 409, "seat_unavailable")


def test_the_hold_limit_counts_live_holds_only(settings):
    settings.MAX_HOLDS_PER_USER = 2
    schedule = on_sale_schedule()
    fan = booker_for(schedule)
    assert fan.hold(schedule, 1).status_code == 201
    assert fan.hold(schedule, 2).status_code == 201
    assert_problem(fan.hold(schedule, 3), 409, "hold_limit_reached")
    assert seat(schedule, 3).status == SeatStatus.AVAILABLE
    lapse(Reservation.objects.get(seat_number=1).pk)  # a lapsed hold no longer counts
    assert fan.hold(schedule, 3).status_code == 201
    assert booker_for(schedule).hold(schedule, 4).status_code == 201  # the limit is per user


@pytest.mark.parametrize("when", ["sales not open yet", "sales closed", "show started"])
def test_a_schedule_off_sale_is_closed(when):
    now = config_clock.now()
    fields = {
        "sales not open yet": {"sales_open_at": now + timedelta(days=1)},
        "sales closed": {
            "sales_open_at": now - timedelta(days=2),
            "sales_close_at": now - timedelta(seconds=1),
        },
        "show started": {"sales_open_at": now - timedelta(days=2), "starts_at": now - timedelta(hours=1)},
    }[when]
    schedule = schedule_with_seats(2, **fields)
    schedule_with_seats(1, concert=schedule.concert)  # another date on sale: the queue admits the fan
    assert_problem(booker_for(schedule).hold(schedule, 1), 409, "schedule_closed")
    assert seat(schedule, 1).status == SeatStatus.AVAILABLE and not Reservation.objects.exists()


def test_a_token_for_another_concert_cannot_hold(user):
    schedule = on_sale_schedule()
    elsewhere = schedule_with_seats(2)
    fan = booker_for(elsewhere, user)  # active for the other concert only
    assert_problem(fan.hold(schedule, 1), 403, "queue_token_not_active")
    assert not Reservation.objects.exists()


def test_an_unknown_schedule_or_seat_is_not_found():
    schedule = on_sale_schedule(seats=2)
    fan = booker_for(schedule)
    assert_problem(fan.hold(schedule, 99), 404, "not_found")
    gone = ScheduleFactory(concert=schedule.concert)
    gone_id = gone.pk
    gone.delete()
    assert_problem(fan.hold(type(schedule)(pk=gone_id), 1), 404, "not_found")
    assert not Reservation.objects.exists()


@pytest.mark.django_db(transaction=True)  # the function's insert meets the foreign key at commit
def test_an_account_deleted_under_a_live_token_cannot_hold():
    from users.errors import AccountGone
    from users.models import User

    schedule = on_sale_schedule()
    user = UserFactory()
    now = config_clock.now()
    request = hold.OrderRequest(
        user_id=user.pk,
        concert_id=schedule.concert_id,
        schedule_id=schedule.pk,
        seat_numbers=(1,),
        quantity=1,
        grade=None,
        order_id=uuid.uuid4(),
        now=now,
        expires_at=now + timedelta(minutes=5),
    )
    User.objects.filter(pk=user.pk).delete()
    with pytest.raises(AccountGone):
        hold.hold_implementation()(request)
    assert not Reservation.objects.exists()
    assert seat(schedule, 1).status == SeatStatus.AVAILABLE


@pytest.mark.django_db(transaction=True)
def test_holds_racing_for_one_seat_give_exactly_one(settings):
    if connection.vendor != "postgresql":
        pytest.skip("race tests need PostgreSQL")
    settings.QUEUE_PROMOTION_BATCH_SIZE = 100
    schedule = on_sale_schedule(seats=3)
    fans = [(u, active_queue_token(user=u, concert=schedule.concert)) for u in UserFactory.create_batch(20)]
    results = run_concurrently(
        [
            (
                lambda u=u, t=t: services.reservation_hold(
                    user_id=u.pk, schedule_id=schedule.pk, seat_number=2, queue_token=t
                )
            )
            for u, t in fans
        ]
    )
    winners = [r for r in results if isinstance(r, Reservation)]
    losers = [r for r in results if isinstance(r, SeatUnavailable)]
    assert len(winners) == 1 and len(losers) == 19, Counter(type(r).__name__ for r in results)
    assert seat(schedule, 2).reservation_id == winners[0].pk
    assert Reservation.objects.filter(seat_id=seat(schedule, 2).pk).count() == 1


@pytest.mark.django_db(transaction=True)
def test_one_user_racing_past_the_hold_limit_gets_only_the_limit(settings):
    if connection.vendor != "postgresql":
        pytest.skip("race tests need PostgreSQL")
    settings.MAX_HOLDS_PER_USER = 4
    schedule = on_sale_schedule(seats=12)
    user = UserFactory()
    token = active_queue_token(user=user, concert=schedule.concert)
    results = run_concurrently(
        [
            (
                lambda n=n: services.reservation_hold(
                    user_id=user.pk, schedule_id=schedule.pk, seat_number=n, queue_token=token
                )
            )
            for n in range(1, 11)
        ]
    )
    assert sum(isinstance(r, Reservation) for r in results) == 4, Counter(type(r).__name__ for r in results)
    assert sum(isinstance(r, HoldLimitReached) for r in results) == 6
    assert Reservation.objects.filter(user=user, status=ReservationStatus.PENDING).count() == 4
