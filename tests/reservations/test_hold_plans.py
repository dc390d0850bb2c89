"""A hold never scans the reservations table, whatever plan its connection has cached.

plpgsql keeps one plan per statement and connection, and may settle on a generic plan chosen from the
statistics of that moment. On a deployment whose reservations table was small then, a generic plan can read
the whole table, and every hold grows dearer as the sale fills it. Each statement of the hold on that
table is therefore planned with its actual values (EXECUTE) or is an insert. The test makes the worst case
certain instead of waiting for it: statistics taken on a near-empty table, generic plans forced, the
connection warmed, then many live holds; it counts sequential scans in this transaction's own table
statistics (pg_stat_xact_user_tables), which do not depend on timing or on what ran before."""

import uuid
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection

from config import clock
from tests.booking import on_sale_schedule
from tests.factories import UserFactory

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.postgres_only("reservations_hold_seats() exists on PostgreSQL only"),
]

LIVE_HOLDS = 20_000
WARM_UP_HOLDS = 3
HOLD = "SELECT outcome FROM reservations_hold_seats(%s, %s, %s, %s::integer[], NULL, NULL, %s, %s, %s, %s)"


def _hold(cursor, schedule, seat_number: int, *, now=None) -> str:
    now = now or clock.now()
    cursor.execute(
        HOLD,
        [
            UserFactory().pk,
            schedule.concert_id,
            schedule.pk,
            [seat_number],
            uuid.uuid4(),
            now,
            now + timedelta(minutes=5),
            settings.MAX_HOLDS_PER_USER,
        ],
    )
    return cursor.fetchone()[0]


def _sequential_scans(cursor) -> int:
    cursor.execute("SELECT seq_scan FROM pg_stat_xact_user_tables WHERE relname = 'reservations_reservation'")
    return int(cursor.fetchone()[0])


def test_holds_probe_indexes_after_generic_plans_were_made_on_a_small_table():
    schedule = on_sale_schedule(seats=LIVE_HOLDS + WARM_UP_HOLDS + 2)
    taken = WARM_UP_HOLDS + 2
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE reservations_reservation")
        cursor.execute("SET LOCAL plan_cache_mode = force_generic_plan")
        for seat_number in range(1, WARM_UP_HOLDS + 1):
            assert _hold(cursor, schedule, seat_number) == "held"
        other = UserFactory().pk
        order_id = uuid.uuid4()
        cursor.execute(
            "INSERT INTO reservations_order (id, user_id, concert_id, schedule_id, status, expires_at,"
            " created_at, updated_at) VALUES (%s, %s, %s, %s, 'PENDING', now() + interval '5 minutes',"
            " now(), now())",
            [order_id, other, schedule.concert_id, schedule.pk],
        )
        cursor.execute(
            "INSERT INTO reservations_reservation (id, order_id, user_id, concert_id, schedule_id, seat_id,"
            " seat_number, price, status, expires_at, created_at, updated_at)"
            " SELECT gen_random_uuid(), %s, %s, %s, s.schedule_id, s.id, s.number, 100, 'PENDING',"
            " now() + interval '5 minutes', now(), now() FROM concerts_seat s"
            " WHERE s.schedule_id = %s AND s.number > %s",
            [order_id, other, schedule.concert_id, schedule.pk, taken],
        )
        assert cursor.rowcount == LIVE_HOLDS
        before = _sequential_scans(cursor)
        # A fresh seat, and a seat whose hold has lapsed (the statement that expires it runs too).
        assert _hold(cursor, schedule, WARM_UP_HOLDS + 1) == "held"
        assert _hold(cursor, schedule, 1, now=clock.now() + timedelta(minutes=6)) == "held"
        assert _sequential_scans(cursor) - before == 0


def _seat_scans(cursor) -> int:
    cursor.execute("SELECT seq_scan FROM pg_stat_xact_user_tables WHERE relname = 'concerts_seat'")
    return int(cursor.fetchone()[0])


def _order(cursor, schedule, *, seat_numbers=None, quantity=None, now=None) -> str:
    now = now or clock.now()
    cursor.execute(
        "SELECT outcome FROM reservations_hold_seats(%s, %s, %s, %s::integer[], %s, NULL, %s, %s, %s, %s)",
        [
            UserFactory().pk,
            schedule.concert_id,
            schedule.pk,
            seat_numbers,
            quantity,
            uuid.uuid4(),
            now,
            now + timedelta(minutes=5),
            settings.MAX_HOLDS_PER_USER,
        ],
    )
    return cursor.fetchone()[0]


def test_plans_made_on_one_schedule_probe_the_seat_indexes_of_a_larger_catalog():
    """The function runs on generic plans but for best available's seat picking (migration 0010). Made
    while the seat table held one schedule (statistics taken then), its plans must still find seats by
    index once the catalog is twenty times larger: chosen seats, best available, a seat whose hold lapsed."""
    first_schedule_seats = 1_000
    first = on_sale_schedule(seats=first_schedule_seats)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE concerts_seat")
        cursor.execute("DISCARD PLANS")  # this connection's cached plans are made anew, from here
        assert _order(cursor, first, seat_numbers=[1]) == "held"
        assert _order(cursor, first, seat_numbers=[2, 3]) == "held"
        assert _order(cursor, first, quantity=2) == "held"
        larger = on_sale_schedule(seats=1)
        cursor.execute(
            "INSERT INTO concerts_seat (schedule_id, number, grade, price, status, updated_at)"
            " SELECT %s, n, 'R', 100, 'AVAILABLE', now() FROM generate_series(2, %s) n",
            [larger.pk, 20 * first_schedule_seats],
        )
        scans = []
        for wanted in (
            {"seat_numbers": [500]},
            {"seat_numbers": [700, 701]},
            {"quantity": 2},
            {"seat_numbers": [500], "now": clock.now() + timedelta(minutes=6)},  # its hold has lapsed
        ):
            before = _seat_scans(cursor)
            assert _order(cursor, larger, **wanted) == "held"
            scans.append(_seat_scans(cursor) - before)
        assert scans == [0, 0, 0, 0]
