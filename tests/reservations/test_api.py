import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from concerts.models import Seat, SeatStatus
from points.services import points_charge
from reservations.models import Reservation, ReservationStatus
from reservations.services import reservations_expire_overdue
from tests.booking import booker_for, lapse, on_sale_schedule
from tests.factories import ScheduleFactory, schedule_with_seats
from tests.factories.queue import active_queue_token
from tests.problems import assert_problem

pytestmark = pytest.mark.django_db


def seat_status(schedule, number, client):  # type: ignore[no-untyped-def]
    seats = client.get(f"/api/v1/schedules/{schedule.pk}/seats").json()["results"]
    return next(s["status"] for s in seats if s["number"] == number)


@pytest.mark.embedded
def test_hold_creates_a_pending_reservation_and_holds_the_seat(api_client):  # type: ignore[no-untyped-def]
    schedule = on_sale_schedule(price=150)
    fan = booker_for(schedule)
    response = fan.hold(schedule, 3)
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "PENDING"
    assert body["schedule_id"] == schedule.pk and body["concert_id"] == schedule.concert_id
    assert body["seat_number"] == 3 and body["price"] == 150
    assert body["seat_id"] == Seat.objects.get(schedule=schedule, number=3).pk
    created = timezone.datetime.fromisoformat(body["created_at"])
    expires = timezone.datetime.fromisoformat(body["expires_at"])
    assert expires - created == timedelta(seconds=300)
    assert seat_status(schedule, 3, api_client) == "HELD"


def test_hold_without_queue_token_is_401(auth_client):  # type: ignore[no-untyped-def]
    schedule = on_sale_schedule()
    response = auth_client.post(
        "/api/v1/reservations", {"schedule_id": schedule.pk, "seat_number": 1}, format="json"
    )
    assert_problem(response, 401, "queue_token_required")


def test_hold_needs_authentication(api_client):  # type: ignore[no-untyped-def]
    schedule = on_sale_schedule()
    response = api_client.post(
        "/api/v1/reservations", {"schedule_id": schedule.pk, "seat_number": 1}, format="json"
    )
    assert_problem(response, 401, "not_authenticated")


def test_hold_with_a_waiting_token_is_403(auth_client, user):  # type: ignore[no-untyped-def]
    from queue_app.services import queue_token_issue

    schedule = on_sale_schedule()
    waiting, _ = queue_token_issue(user_id=user.pk, concert_id=schedule.concert_id)
    response = auth_client.post(
        "/api/v1/reservations",
        {"schedule_id": schedule.pk, "seat_number": 1},
        format="json",
        HTTP_X_QUEUE_TOKEN=waiting.token,
    )
    assert_problem(response, 403, "queue_token_not_active")
    assert not Reservation.objects.exists()


def test_hold_with_a_token_for_another_concert_or_user_is_403(user, other_user):  # type: ignore[no-untyped-def]
    schedule = on_sale_schedule()
    other_concert_schedule = schedule_with_seats(2)
    fan = booker_for(schedule, user)
    elsewhere = active_queue_token(user=user, concert=other_concert_schedule.concert)
    response = fan.client.post(
        "/api/v1/reservations",
        {"schedule_id": schedule.pk, "seat_number": 1},
        format="json",
        HTTP_X_QUEUE_TOKEN=elsewhere,
    )
    assert_problem(response, 403, "queue_token_not_active")
    stranger = booker_for(schedule, other_user)
    stranger.token = fan.token  # someone else's token
    assert_problem(stranger.hold(schedule, 1), 403, "queue_token_not_active")
    assert_problem(
        fan.client.post(
            "/api/v1/reservations",
            {"schedule_id": schedule.pk, "seat_number": 1},
            format="json",
            HTTP_X_QUEUE_TOKEN="forged",
        ),
        403,
        "queue_token_not_active",
    )


def test_unknown_schedule_or_seat_is_404():  # type: ignore[no-untyped-def]
    schedule = on_sale_schedule(seats=2)
    fan = booker_for(schedule)
    assert_problem(fan.hold(schedule, 99), 404, "not_found")
    response = fan.client.post(
        "/api/v1/reservations",
        {"schedule_id": 987654, "seat_number": 1},
        format="json",
        HTTP_X_QUEUE_TOKEN=fan.token,
    )
    assert_problem(response, 404, "not_found")


def test_a_held_seat_is_unavailable_to_others():  # type: ignore[no-untyped-def]
    schedule = on_sale_schedule()
    assert booker_for(schedule).hold(schedule, 1).status_code == 201
    assert_problem(booker_for(schedule).hold(schedule, 1), 409, "seat_unavailable")
    assert Reservation.objects.count() == 1


def test_hold_limit(settings):  # type: ignore[no-untyped-def]
    settings.MAX_HOLDS_PER_USER = 2
    schedule = on_sale_schedule()
    fan = booker_for(schedule)
    assert fan.hold(schedule, 1).status_code == 201
    assert fan.hold(schedule, 2).status_code == 201
    assert_problem(fan.hold(schedule, 3), 409, "hold_limit_reached")
    lapse(Reservation.objects.get(seat_number=1).pk)  # a lapsed hold no longer counts
    assert fan.hold(schedule, 3).status_code == 201


def test_schedule_not_on_sale_is_closed():  # type: ignore[no-untyped-def]
    now = timezone.now()
    not_yet = ScheduleFactory(sales_open_at=now + timedelta(days=1))
    Seat.objects.create(schedule=not_yet, number=1, price=10)
    ScheduleFactory(concert=not_yet.concert).seats.create(number=1, price=10)  # on sale: the queue admits
    fan = booker_for(not_yet)
    assert_problem(fan.hold(not_yet, 1), 409, "schedule_closed")
    past = ScheduleFactory(
        concert=not_yet.concert, starts_at=now - timedelta(hours=1), sales_open_at=now - timedelta(days=2)
    )
    Seat.objects.create(schedule=past, number=1, price=10)
    assert_problem(fan.hold(past, 1), 409, "schedule_closed")


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"schedule_id": "abc", "seat_number": 1},
        {"schedule_id": 1, "seat_number": 0},
        {"schedule_id": 1},
        {"seat_number": -3, "schedule_id": 1},
    ],
)
def test_hold_bad_input_is_invalid(body):  # type: ignore[no-untyped-def]
    schedule = on_sale_schedule()
    fan = booker_for(schedule)
    response = fan.client.post("/api/v1/reservations", body, format="json", HTTP_X_QUEUE_TOKEN=fan.token)
    assert_problem(response, 400, "invalid")


def test_hold_malformed_json_is_invalid():  # type: ignore[no-untyped-def]
    schedule = on_sale_schedule()
    fan = booker_for(schedule)
    response = fan.client.post(
        "/api/v1/reservations", data="{", content_type="application/json", HTTP_X_QUEUE_TOKEN=fan.token
    )
    assert_problem(response, 400, "invalid")


@pytest.mark.embedded
def test_lapsed_hold_frees_the_seat_without_any_job(api_client):  # type: ignore[no-untyped-def]
    schedule = on_sale_schedule()
    first = booker_for(schedule)
    held = first.hold(schedule, 5).json()
    lapse(held["id"])
    assert first.client.get(f"/api/v1/reservations/{held['id']}").json()["status"] == "EXPIRED"
    assert seat_status(schedule, 5, api_client) == "AVAILABLE"
    second = booker_for(schedule)
    taken = second.hold(schedule, 5)
    assert taken.status_code == 201
    assert Reservation.objects.get(pk=held["id"]).status == ReservationStatus.EXPIRED
    assert seat_status(schedule, 5, api_client) == "HELD"


def test_expiry_sweep_marks_and_frees_and_is_idempotent():  # type: ignore[no-untyped-def]
    schedule = on_sale_schedule()
    fan = booker_for(schedule)
    lapsed_id = fan.hold(schedule, 1).json()["id"]
    live_id = fan.hold(schedule, 2).json()["id"]
    lapse(lapsed_id)
    assert reservations_expire_overdue() == 1
    assert reservations_expire_overdue() == 0
    assert Reservation.objects.get(pk=lapsed_id).status == ReservationStatus.EXPIRED
    assert Reservation.objects.get(pk=live_id).status == ReservationStatus.PENDING
    assert Seat.objects.get(schedule=schedule, number=1).status == SeatStatus.AVAILABLE
    assert Seat.objects.get(schedule=schedule, number=2).status == SeatStatus.HELD


def test_list_and_detail_show_only_my_reservations():  # type: ignore[no-untyped-def]
    schedule = on_sale_schedule()
    me, them = booker_for(schedule), booker_for(schedule)
    first = me.hold(schedule, 1).json()
    second = me.hold(schedule, 2).json()
    theirs = them.hold(schedule, 3).json()
    listed = me.client.get("/api/v1/reservations").json()
    assert listed["count"] == 2
    assert [r["id"] for r in listed["results"]] == [second["id"], first["id"]]  # newest first
    assert me.client.get(f"/api/v1/reservations/{first['id']}").json() == first
    assert_problem(me.client.get(f"/api/v1/reservations/{theirs['id']}"), 404, "not_found")
    assert_problem(me.client.get(f"/api/v1/reservations/{uuid.uuid4()}"), 404, "not_found")
    assert_problem(me.client.get("/api/v1/reservations/not-a-uuid"), 404, "not_found")


def test_cancel_a_hold_frees_the_seat(api_client):  # type: ignore[no-untyped-def]
    schedule = on_sale_schedule()
    fan = booker_for(schedule)
    held = fan.hold(schedule, 1).json()
    response = fan.client.post(f"/api/v1/reservations/{held['id']}/cancel")
    assert response.status_code == 200 and response.json()["status"] == "CANCELLED"
    assert seat_status(schedule, 1, api_client) == "AVAILABLE"
    assert_problem(
        fan.client.post(f"/api/v1/reservations/{held['id']}/cancel"), 409, "reservation_not_cancellable"
    )


def test_cancel_an_expired_hold_is_refused():  # type: ignore[no-untyped-def]
    schedule = on_sale_schedule()
    fan = booker_for(schedule)
    held = fan.hold(schedule, 1).json()
    lapse(held["id"])
    assert_problem(
        fan.client.post(f"/api/v1/reservations/{held['id']}/cancel"), 409, "reservation_not_cancellable"
    )


def test_cancel_someone_elses_reservation_is_404():  # type: ignore[no-untyped-def]
    schedule = on_sale_schedule()
    held = booker_for(schedule).hold(schedule, 1).json()
    other = booker_for(schedule)
    assert_problem(other.client.post(f"/api/v1/reservations/{held['id']}/cancel"), 404, "not_found")
    assert Reservation.objects.get(pk=held["id"]).status == ReservationStatus.PENDING


def test_cancel_a_confirmed_ticket_refunds_points(api_client):  # type: ignore[no-untyped-def]
    schedule = on_sale_schedule(price=300)
    fan = booker_for(schedule)
    points_charge(user_id=fan.user.pk, amount=1000)
    held = fan.hold(schedule, 1).json()
    assert fan.pay(held["id"]).status_code == 201
    assert fan.client.get("/api/v1/points").json()["balance"] == 700

    response = fan.client.post(f"/api/v1/reservations/{held['id']}/cancel")
    assert response.status_code == 200 and response.json()["status"] == "CANCELLED"
    assert fan.client.get("/api/v1/points").json()["balance"] == 1000
    history = fan.client.get("/api/v1/points/history").json()["results"]
    assert [(h["kind"], h["amount"]) for h in history[:2]] == [("REFUND", 300), ("PAYMENT", -300)]
    assert seat_status(schedule, 1, api_client) == "AVAILABLE"
    payments = fan.client.get("/api/v1/payments").json()["results"]
    assert payments[0]["status"] == "REFUNDED"
    # A refunded ticket cannot be refunded twice.
    assert_problem(
        fan.client.post(f"/api/v1/reservations/{held['id']}/cancel"), 409, "reservation_not_cancellable"
    )


def test_a_ticket_for_a_show_that_started_is_not_refundable():  # type: ignore[no-untyped-def]
    schedule = on_sale_schedule(price=10)
    fan = booker_for(schedule)
    points_charge(user_id=fan.user.pk, amount=10)
    held = fan.hold(schedule, 1).json()
    assert fan.pay(held["id"]).status_code == 201
    type(schedule).objects.filter(pk=schedule.pk).update(
        starts_at=timezone.now() - timedelta(minutes=1), sales_open_at=timezone.now() - timedelta(days=1)
    )
    assert_problem(
        fan.client.post(f"/api/v1/reservations/{held['id']}/cancel"), 409, "reservation_not_cancellable"
    )


def test_hold_with_idempotency_key_is_replayed_not_repeated():  # type: ignore[no-untyped-def]
    schedule = on_sale_schedule()
    fan = booker_for(schedule)
    first = fan.hold(schedule, 4, HTTP_IDEMPOTENCY_KEY="hold-4")
    again = fan.hold(schedule, 4, HTTP_IDEMPOTENCY_KEY="hold-4")
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert Reservation.objects.count() == 1
    assert_problem(fan.hold(schedule, 5, HTTP_IDEMPOTENCY_KEY="hold-4"), 422, "idempotency_key_reused")


def test_a_lapsed_hold_left_pending_behind_a_blocked_seat_gives_way_to_a_new_hold():  # type: ignore[no-untyped-def]
    from concerts.services import seat_block, seat_unblock

    schedule = on_sale_schedule()
    held = booker_for(schedule).hold(schedule, 1).json()
    lapse(held["id"])
    seat = Seat.objects.get(schedule=schedule, number=1)
    seat_block(seat_id=seat.pk)  # an operator takes the seat off sale, then puts it back
    seat_unblock(seat_id=seat.pk)
    assert Reservation.objects.get(pk=held["id"]).status == ReservationStatus.PENDING  # not swept yet
    response = booker_for(schedule).hold(schedule, 1)
    assert response.status_code == 201, response.json()
    assert Reservation.objects.get(pk=held["id"]).status == ReservationStatus.EXPIRED


@pytest.mark.django_db(transaction=True)  # the foreign key is checked when the hold commits
def test_a_token_outliving_its_deleted_account_cannot_hold(settings):  # type: ignore[no-untyped-def]
    from users.models import User

    schedule = on_sale_schedule()
    fan = booker_for(schedule)
    User.objects.filter(pk=fan.user.pk).delete()  # the bearer token lives on (checked without a query)
    response = fan.hold(schedule, 1)
    if settings.QUEUE_BACKEND == "database":  # the queue token row went with the account
        assert_problem(response, 403, "queue_token_not_active")
    else:  # the Redis queue token lives on too: the hold itself finds the account gone
        assert_problem(response, 401, "authentication_failed")
    assert not Reservation.objects.exists()
