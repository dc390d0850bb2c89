"""An operator's save changes only what the operator edited. A hold, a payment, a pause or a cap committed
while the change form is open survives the save, and the save is recorded in the admin history."""

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.db import connection

from concerts.admin import ConcertAdmin, SeatAdmin
from concerts.models import Concert, Schedule, Seat, SeatStatus
from concerts.services import concert_set_queue_admission
from payments.models import Payment
from points.models import LedgerEntry
from reservations.models import Reservation, ReservationStatus
from tests.booking import booker_for, on_sale_schedule
from tests.concurrency.runner import run_concurrently
from tests.factories import ConcertFactory


def seat_url(seat: Seat) -> str:
    return f"/admin/concerts/seat/{seat.pk}/change/"


def concert_url(concert: Concert) -> str:
    return f"/admin/concerts/concert/{concert.pk}/change/"


def concert_form(concert: Concert, **edits: str) -> dict[str, Any]:
    """What the concert change form posts (no schedules inline)."""
    return {
        "name": concert.name,
        "venue": concert.venue,
        "description": concert.description,
        "price": str(concert.price),
        "schedules-TOTAL_FORMS": "0",
        "schedules-INITIAL_FORMS": "0",
        "schedules-MIN_NUM_FORMS": "0",
        "schedules-MAX_NUM_FORMS": "1000",
        **edits,
    }


def sell(schedule: Schedule, number: int) -> str:
    """A fan holds the seat and pays for it through the API (the services); returns the reservation id."""
    fan = booker_for(schedule)
    assert fan.client.post("/api/v1/points/charge", {"amount": 1000}, format="json").status_code == 200
    hold = fan.hold(schedule, number)
    assert hold.status_code == 201, hold.content
    reservation_id = hold.json()["id"]
    assert fan.pay(reservation_id).status_code == 201
    return reservation_id


def assert_sold(seat: Seat, reservation_id: str) -> None:
    seat.refresh_from_db()
    assert (seat.status, str(seat.reservation_id)) == (SeatStatus.SOLD, reservation_id)
    assert Reservation.objects.get(pk=reservation_id).status == ReservationStatus.CONFIRMED
    assert Payment.objects.filter(reservation_id=reservation_id).count() == 1
    assert (
        LedgerEntry.objects.filter(
            kind="PAYMENT", reference=f"order:{Reservation.objects.get(pk=reservation_id).order_id}"
        ).count()
        == 1
    )


def assert_logged(operator, obj: Any, text: str) -> None:
    entry = LogEntry.objects.filter(user=operator, object_id=str(obj.pk)).latest("id")
    assert entry.action_flag == CHANGE
    assert text in entry.get_change_message()


@pytest.mark.django_db
def test_seat_price_edit_keeps_a_sale_made_while_the_form_was_open(operator_client, operator):
    schedule = on_sale_schedule(seats=2, price=100)
    seat = Seat.objects.get(schedule=schedule, number=1)
    assert operator_client.get(seat_url(seat)).status_code == 200
    reservation_id = sell(schedule, 1)

    response = operator_client.post(seat_url(seat), {"grade": "VIP", "price": "250"})

    assert response.status_code == 302, response.content.decode()[:2000]
    assert_sold(seat, reservation_id)
    assert (seat.grade, seat.price) == ("VIP", 250)
    assert_logged(operator, seat, "Changed Grade and Price.")


@pytest.mark.django_db
def test_concert_name_edit_keeps_a_pause_and_cap_set_while_the_form_was_open(operator_client, operator):
    concert = ConcertFactory()
    assert operator_client.get(concert_url(concert)).status_code == 200
    concert_set_queue_admission(concert=concert, paused=True, max_active=7)

    response = operator_client.post(concert_url(concert), concert_form(concert, name="Renamed"))

    assert response.status_code == 302, response.content.decode()[:2000]
    concert.refresh_from_db()
    assert (concert.name, concert.queue_paused, concert.queue_max_active) == ("Renamed", True, 7)
    assert_logged(operator, concert, "Changed Name.")


@pytest.mark.django_db
def test_a_seat_save_without_edits_writes_nothing(operator_client):
    schedule = on_sale_schedule(seats=1, price=100)
    seat = Seat.objects.get(schedule=schedule, number=1)
    before = seat.updated_at

    response = operator_client.post(seat_url(seat), {"grade": seat.grade, "price": str(seat.price)})

    assert response.status_code == 302
    seat.refresh_from_db()
    assert seat.updated_at == before


# --- The same with the write landing inside the admin's own transaction ---------------------------
# The admin reads the row at the start of the POST and saves it at the end. Here a fan's hold and payment
# (or the queue page's pause) commits from another thread, on its own connection, right between the two.


def interleave_after_load(monkeypatch, model_admin: type, write: Callable[[], Any]) -> list[Any]:
    """Make the admin's POST run `write` on another thread right after it loaded the object."""
    original = model_admin.get_object
    results: list[Any] = []

    def get_object(self, request, object_id, from_field=None):
        obj = original(self, request, object_id, from_field)
        if request.method == "POST":
            results.extend(run_concurrently([write]))
        return obj

    monkeypatch.setattr(model_admin, "get_object", get_object)
    return results


@pytest.mark.django_db(transaction=True)
def test_seat_edit_racing_a_sale_inside_the_save_keeps_the_sale(operator_client, monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("race tests need PostgreSQL")
    schedule = on_sale_schedule(seats=1, price=100)
    seat = Seat.objects.get(schedule=schedule, number=1)
    sold = interleave_after_load(monkeypatch, SeatAdmin, lambda: sell(schedule, 1))

    response = operator_client.post(seat_url(seat), {"grade": "VIP", "price": "250"})

    assert response.status_code == 302, response.content.decode()[:2000]
    [reservation_id] = sold
    assert isinstance(reservation_id, str), reservation_id
    assert_sold(seat, reservation_id)
    assert (seat.grade, seat.price) == ("VIP", 250)


@pytest.mark.django_db(transaction=True)
def test_concert_edit_racing_a_pause_inside_the_save_keeps_the_pause(operator_client, monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("race tests need PostgreSQL")
    concert = ConcertFactory()
    paused = interleave_after_load(
        monkeypatch,
        ConcertAdmin,
        lambda: concert_set_queue_admission(
            concert=Concert.objects.get(pk=concert.pk), paused=True, max_active=3
        ),
    )

    response = operator_client.post(concert_url(concert), concert_form(concert, price="999"))

    assert response.status_code == 302, response.content.decode()[:2000]
    assert isinstance(paused[0], Concert), paused
    concert.refresh_from_db()
    assert (concert.price, concert.queue_paused, concert.queue_max_active) == (999, True, 3)
