"""A hold reads the same few pages however many reservations exist.

plpgsql keeps a generic plan per statement and connection after a few calls, chosen from the statistics
of that moment; a plan made while the reservations table was small must not turn the hold-limit count
into a scan of the whole table once it has grown. Counted in buffers (deterministic), not in time."""

import re
import uuid
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection

from config import clock
from tests.booking import on_sale_schedule
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PAST_HOLDS = 20_000
HOLD = "SELECT outcome FROM reservations_hold_seat(%s, %s, %s, %s, %s, %s, %s, %s)"
EXPLAIN_HOLD = "EXPLAIN (ANALYZE, BUFFERS, FORMAT TEXT) " + HOLD


@pytest.fixture(autouse=True)
def _postgres_only(is_postgres):
    if not is_postgres:
        pytest.skip("reservations_hold_seat() exists on PostgreSQL only")


def _hold_args(schedule, user, seat_number):
    now = clock.now()
    return [
        user.pk,
        schedule.concert_id,
        schedule.pk,
        seat_number,
        uuid.uuid4(),
        now,
        now + timedelta(minutes=5),
        settings.MAX_HOLDS_PER_USER,
    ]


def test_a_hold_reads_few_pages_after_the_table_has_grown():
    schedule = on_sale_schedule(seats=PAST_HOLDS + 11)
    with connection.cursor() as cursor:
        # More calls than plpgsql needs before it settles on a generic plan, on a near-empty table.
        for seat_number in range(1, 11):
            cursor.execute(HOLD, _hold_args(schedule, UserFactory(), seat_number))
            assert cursor.fetchone()[0] == "held"
        # Then the sale goes on: many live holds of other buyers, one per seat.
        cursor.execute(
            "INSERT INTO reservations_reservation (id, user_id, concert_id, schedule_id, seat_id,"
            " seat_number, price, status, expires_at, created_at, updated_at)"
            " SELECT gen_random_uuid(), %s, %s, s.schedule_id, s.id, s.number, 100, 'PENDING',"
            " now() + interval '5 minutes', now(), now() FROM concerts_seat s"
            " WHERE s.schedule_id = %s AND s.number > 11",
            [UserFactory().pk, schedule.concert_id, schedule.pk],
        )
        assert cursor.rowcount == PAST_HOLDS
        cursor.execute(
            EXPLAIN_HOLD,
            _hold_args(schedule, UserFactory(), 11),
        )
        plan = "\n".join(row[0] for row in cursor.fetchall())
        cursor.execute("SELECT status FROM reservations_reservation WHERE seat_number = 11")
        assert cursor.fetchone()[0] == "PENDING"  # the hold explained above did take the seat
    buffers = sum(int(n) for n in re.findall(r"(?:hit|read|dirtied|written)=(\d+)", plan.split("\n")[1]))
    # Index probes touch a few dozen pages; reading the other holds touches hundreds.
    assert buffers < 150, plan
