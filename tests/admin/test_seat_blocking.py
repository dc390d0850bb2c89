"""Blocking seats: guarded services, the API's view of a blocked seat, and the admin paths (seat actions
and the schedule page), each recorded in the admin history."""

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType

from concerts.errors import SeatNotBlockable, SeatNotBlocked
from concerts.models import Seat, SeatStatus
from concerts.services import seat_block, seat_unblock, seats_block, seats_unblock
from reservations.models import Reservation, ReservationStatus
from tests.booking import booker_for, lapse, on_sale_schedule
from tests.problems import assert_problem

pytestmark = pytest.mark.django_db


def seat(schedule, number):
    return Seat.objects.get(schedule=schedule, number=number)


def public_status(api_client, schedule, number):
    seats = api_client.get(f"/api/v1/schedules/{schedule.pk}/seats").json()["results"]
    return next(s["status"] for s in seats if s["number"] == number)


@pytest.mark.embedded
def test_an_available_seat_is_blocked_and_unblocked():
    schedule = on_sale_schedule(seats=3)
    blocked = seat_block(seat_id=seat(schedule, 2).pk)
    assert blocked.status == SeatStatus.BLOCKED and blocked.reservation_id is None
    unblocked = seat_unblock(seat_id=blocked.pk)
    assert unblocked.status == SeatStatus.AVAILABLE


def test_a_seat_whose_hold_lapsed_can_be_blocked_and_its_owner_cannot_pay():
    schedule = on_sale_schedule(seats=3)
    fan = booker_for(schedule)
    reservation_id = fan.hold(schedule, 1).json()["id"]
    lapse(reservation_id)
    fan.client.post("/api/v1/points/charge", {"amount": 500}, format="json")

    blocked = seat_block(seat_id=seat(schedule, 1).pk)
    assert (blocked.status, blocked.held_until, blocked.reservation_id) == (SeatStatus.BLOCKED, None, None)
    assert_problem(fan.pay(reservation_id), 409, "reservation_expired")
    assert seat(schedule, 1).status == SeatStatus.BLOCKED


def test_a_live_hold_or_a_sold_seat_is_refused_with_the_reason():
    schedule = on_sale_schedule(seats=3)
    fan = booker_for(schedule)
    held_id = fan.hold(schedule, 1).json()["id"]
    sold_id = fan.hold(schedule, 2).json()["id"]
    fan.client.post("/api/v1/points/charge", {"amount": 500}, format="json")
    assert fan.pay(sold_id).status_code == 201

    with pytest.raises(SeatNotBlockable, match="seat 1: held by a live reservation"):
        seat_block(seat_id=seat(schedule, 1).pk)
    with pytest.raises(SeatNotBlockable, match="seat 2: sold"):
        seat_block(seat_id=seat(schedule, 2).pk)
    assert seat(schedule, 1).status == SeatStatus.HELD and seat(schedule, 2).status == SeatStatus.SOLD
    assert Reservation.objects.get(pk=held_id).status == ReservationStatus.PENDING

    with pytest.raises(SeatNotBlocked, match="seat 3: not blocked"):
        seat_unblock(seat_id=seat(schedule, 3).pk)
    seat_block(seat_id=seat(schedule, 3).pk)
    with pytest.raises(SeatNotBlockable, match="already blocked"):
        seat_block(seat_id=seat(schedule, 3).pk)


def test_bulk_block_takes_the_free_seats_and_explains_the_rest():
    schedule = on_sale_schedule(seats=5)
    fan = booker_for(schedule)
    fan.hold(schedule, 4)
    ids = list(Seat.objects.filter(schedule=schedule).order_by("number").values_list("pk", flat=True))
    result = seats_block(seat_ids=ids)
    assert result.changed == [ids[0], ids[1], ids[2], ids[4]]
    assert list(result.refused) == [ids[3]] and "seat 4: held" in result.refused[ids[3]]
    again = seats_unblock(seat_ids=ids)
    assert again.changed == [ids[0], ids[1], ids[2], ids[4]] and list(again.refused) == [ids[3]]


def test_a_blocked_seat_cannot_be_held_and_reads_as_not_for_sale(api_client):
    schedule = on_sale_schedule(seats=3)
    seat_block(seat_id=seat(schedule, 2).pk)
    fan = booker_for(schedule)
    assert_problem(fan.hold(schedule, 2), 409, "seat_unavailable")
    assert not Reservation.objects.exists()
    assert seat(schedule, 2).status == SeatStatus.BLOCKED
    assert public_status(api_client, schedule, 2) == "SOLD"  # shown as not for sale
    available = api_client.get(f"/api/v1/schedules/{schedule.pk}/seats", {"status": "AVAILABLE"}).json()
    assert [s["number"] for s in available["results"]] == [1, 3]

    seat_unblock(seat_id=seat(schedule, 2).pk)
    assert fan.hold(schedule, 2).status_code == 201


def test_a_blocked_lapsed_seat_can_be_held_again_once_unblocked():
    schedule = on_sale_schedule(seats=2)
    first = booker_for(schedule)
    lapsed_id = first.hold(schedule, 1).json()["id"]
    lapse(lapsed_id)
    seat_block(seat_id=seat(schedule, 1).pk)
    seat_unblock(seat_id=seat(schedule, 1).pk)
    second = booker_for(schedule)
    assert second.hold(schedule, 1).status_code == 201
    assert Reservation.objects.get(pk=lapsed_id).status == ReservationStatus.EXPIRED


def history(obj) -> list[str]:
    content_type = ContentType.objects.get_for_model(obj, for_concrete_model=False)
    return [
        f"{e.user.email}: {e.get_change_message()}"
        for e in LogEntry.objects.filter(content_type=content_type, object_id=str(obj.pk)).order_by("id")
    ]


def test_operator_blocks_and_unblocks_from_the_seat_list(operator_client, operator):
    schedule = on_sale_schedule(seats=4)
    booker_for(schedule).hold(schedule, 3)
    ids = [seat(schedule, n).pk for n in (1, 2, 3)]
    response = operator_client.post(
        "/admin/concerts/seat/", {"action": "block_seats", "_selected_action": ids}, follow=True
    )
    text = response.content.decode()
    assert "Blocked 2 seat(s): 1-2." in text
    assert "Not blocked: seat 3: held by a live reservation" in text
    assert [seat(schedule, n).status for n in (1, 2, 3, 4)] == ["BLOCKED", "BLOCKED", "HELD", "AVAILABLE"]
    assert history(seat(schedule, 1)) == [f"{operator.email}: Blocked (taken off sale)"]
    assert history(seat(schedule, 3)) == []

    operator_client.post("/admin/concerts/seat/", {"action": "unblock_seats", "_selected_action": ids[:1]})
    assert seat(schedule, 1).status == SeatStatus.AVAILABLE
    assert history(seat(schedule, 1))[-1] == f"{operator.email}: Unblocked (back on sale)"

    listing = operator_client.get("/admin/concerts/seat/", {"schedule__id__exact": schedule.pk})
    assert listing.status_code == 200 and "BLOCKED" in listing.content.decode()


def schedule_form(schedule, **extra):
    data = {
        "concert": schedule.concert_id,
        "starts_at_0": schedule.starts_at.strftime("%Y-%m-%d"),
        "starts_at_1": schedule.starts_at.strftime("%H:%M:%S"),
        "sales_open_at_0": schedule.sales_open_at.strftime("%Y-%m-%d"),
        "sales_open_at_1": schedule.sales_open_at.strftime("%H:%M:%S"),
        "sales_close_at_0": "",
        "sales_close_at_1": "",
        "generate_count": "",
        "generate_grade": "R",
        "generate_price": "",
        "block_numbers": "",
        "unblock_numbers": "",
    }
    data.update(extra)
    return data


def test_operator_blocks_ranges_from_the_schedule_page(operator_client, operator):
    schedule = on_sale_schedule(seats=10)
    booker_for(schedule).hold(schedule, 5)
    url = f"/admin/concerts/schedule/{schedule.pk}/change/"
    response = operator_client.post(url, schedule_form(schedule, block_numbers="1-3, 5 12"), follow=True)
    text = response.content.decode()
    assert "Blocked 3 seat(s): 1-3." in text
    assert "Not blocked: seat 5: held by a live reservation" in text
    assert "No such seat(s) in this schedule: 12." in text
    blocked = Seat.objects.filter(schedule=schedule, status=SeatStatus.BLOCKED)
    assert sorted(blocked.values_list("number", flat=True)) == [1, 2, 3]
    assert f"{operator.email}: Blocked seats 1-3." in history(schedule)
    assert history(seat(schedule, 2)) == [f"{operator.email}: Blocked (taken off sale)"]

    page = operator_client.get(url).content.decode()
    assert '<th id="seat-count-blocked">3</th>' in page and '<th id="seat-count-held">1</th>' in page
    assert '<th id="seat-count-available">6</th>' in page

    operator_client.post(url, schedule_form(schedule, unblock_numbers="2"))
    assert seat(schedule, 2).status == SeatStatus.AVAILABLE


@pytest.mark.parametrize("bad", ["1-", "abc", "5-2", "0"])
def test_a_bad_seat_range_is_a_form_error_and_changes_nothing(operator_client, bad):
    schedule = on_sale_schedule(seats=3)
    response = operator_client.post(
        f"/admin/concerts/schedule/{schedule.pk}/change/", schedule_form(schedule, block_numbers=bad)
    )
    assert response.status_code == 200 and "errorlist" in response.content.decode()
    assert not Seat.objects.filter(status=SeatStatus.BLOCKED).exists()


def test_blocking_and_unblocking_invalidate_a_cached_seat_map(
    api_client, settings, django_capture_on_commit_callbacks
):
    if not settings.REDIS_URL:
        pytest.skip("the seat map cache lives in Redis")
    settings.SEAT_MAP_CACHE_ENABLED = True
    schedule = on_sale_schedule(seats=3)
    assert public_status(api_client, schedule, 2) == "AVAILABLE"  # now cached
    with django_capture_on_commit_callbacks(execute=True):
        seat_block(seat_id=seat(schedule, 2).pk)
    assert public_status(api_client, schedule, 2) == "SOLD"
    with django_capture_on_commit_callbacks(execute=True):
        seats_unblock(seat_ids=[seat(schedule, 2).pk])
    assert public_status(api_client, schedule, 2) == "AVAILABLE"
