"""Shared set-up for booking tests: a schedule on sale, a user with an ACTIVE queue token."""

from dataclasses import dataclass
from datetime import timedelta

from rest_framework.test import APIClient

from concerts.models import Schedule, Seat
from reservations.models import Order, Reservation
from tests.conftest import client_for
from tests.factories import UserFactory, schedule_with_seats
from tests.factories.queue import active_queue_token


@dataclass
class Booker:
    user: object
    client: APIClient
    token: str

    def hold(self, schedule: Schedule, seat_number: int, **headers):
        return self.client.post(
            "/api/v1/reservations",
            {"schedule_id": schedule.pk, "seat_number": seat_number},
            format="json",
            HTTP_X_QUEUE_TOKEN=self.token,
            **headers,
        )

    def pay(self, reservation_id, **headers):
        return self.client.post(
            "/api/v1/payments",
            {"reservation_id": str(reservation_id)},
            format="json",
            HTTP_X_QUEUE_TOKEN=self.token,
            **headers,
        )

    def order(self, schedule: Schedule, seat_numbers=None, quantity=None, grade=None, **headers):
        """POST /orders: chosen `seat_numbers`, or `quantity` best available (of `grade`)."""
        body: dict = {"schedule_id": schedule.pk}
        for name, value in (("seat_numbers", seat_numbers), ("quantity", quantity), ("grade", grade)):
            if value is not None:
                body[name] = value
        return self.client.post(
            "/api/v1/orders", body, format="json", HTTP_X_QUEUE_TOKEN=self.token, **headers
        )

    def pay_order(self, order_id, **headers):
        return self.client.post(
            "/api/v1/payments",
            {"order_id": str(order_id)},
            format="json",
            HTTP_X_QUEUE_TOKEN=self.token,
            **headers,
        )


def booker_for(schedule: Schedule, user=None) -> Booker:
    user = user or UserFactory()
    return Booker(
        user=user, client=client_for(user), token=active_queue_token(user=user, concert=schedule.concert)
    )


def on_sale_schedule(seats: int = 10, price: int = 100) -> Schedule:
    schedule = schedule_with_seats(seats)
    schedule.concert.price = price
    schedule.concert.save(update_fields=["price"])
    schedule.seats.update(price=price)
    return schedule


def lapse(reservation_id) -> None:
    """Move a hold's deadline into the past, as if its five minutes ran out (no job involved)."""
    reservation = Reservation.objects.get(pk=reservation_id)
    past = reservation.created_at - timedelta(seconds=1)
    Reservation.objects.filter(pk=reservation_id).update(
        created_at=past - timedelta(minutes=5), expires_at=past
    )
    reservation.seat.__class__.objects.filter(pk=reservation.seat_id).update(held_until=past)


def lapse_order(order_id) -> None:
    """Move an order's deadline (and its seats') into the past, as if its five minutes ran out."""
    order = Order.objects.get(pk=order_id)
    past = order.created_at - timedelta(seconds=1)
    moved = {"created_at": past - timedelta(minutes=5), "expires_at": past}
    Order.objects.filter(pk=order_id).update(**moved)
    Reservation.objects.filter(order_id=order_id).update(**moved)
    Seat.objects.filter(reservations__order_id=order_id).update(held_until=past)
