"""The database itself refuses what must never happen, whatever the code does."""

import uuid

import pytest
from django.db import IntegrityError, transaction

from reservations.models import Reservation
from tests.booking import booker_for, on_sale_schedule

pytestmark = pytest.mark.django_db


@pytest.mark.embedded
@pytest.mark.parametrize("second_status", ["PENDING", "CONFIRMED"])
def test_a_seat_has_at_most_one_live_reservation(second_status):
    schedule = on_sale_schedule(seats=2)
    held = booker_for(schedule).hold(schedule, 1).json()
    first = Reservation.objects.get(pk=held["id"])
    twin = Reservation.objects.get(pk=first.pk)
    twin.id = uuid.uuid4()
    twin.status = second_status
    with pytest.raises(IntegrityError), transaction.atomic():
        twin.save(force_insert=True)
    # A lapsed or ended reservation does not count: the seat may be held again.
    twin.status = "EXPIRED"
    twin.save(force_insert=True)
    assert Reservation.objects.filter(seat_id=first.seat_id).count() == 2
