"""reservations_hold_seats() is the SQL twin of two rules spelled once in Python: the advisory lock key of
a user's holds (config.locks) and "a seat can be taken now" (concerts.seat_rules). These read the function
PostgreSQL actually runs, and watch the lock it takes."""

import pytest
from django.db import connection, transaction

from concerts.seat_rules import seat_takeable_sql
from config import locks
from reservations.services import reservation_hold
from tests.booking import on_sale_schedule
from tests.factories import UserFactory
from tests.factories.queue import active_queue_token

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.postgres_only("reservations_hold_seats() exists on PostgreSQL only"),
]


def _hold_function_source() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_get_functiondef('reservations_hold_seats'::regproc)")
        return str(cursor.fetchone()[0])


def test_the_hold_function_uses_the_registry_key_for_a_users_holds():
    expected = f"pg_advisory_xact_lock({locks.USER_HOLDS}, mod(p_user_id, {locks.INT4_MAX})::integer)"
    assert expected in _hold_function_source()


def test_the_hold_function_guards_the_seat_with_the_takeable_rule():
    source = _hold_function_source()
    rule = seat_takeable_sql(alias="s", now="p_now")
    assert rule in source
    # Every place the function tests a seat's status spells the whole rule.
    assert source.count("s.status = 'AVAILABLE'") == source.count(rule)


def test_a_hold_takes_the_lock_the_registry_names():
    schedule = on_sale_schedule(seats=1)
    user = UserFactory()
    token = active_queue_token(user=user, concert=schedule.concert)
    with transaction.atomic():
        reservation_hold(user_id=user.pk, schedule_id=schedule.pk, seat_number=1, queue_token=token)
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT classid::bigint, objid::bigint FROM pg_locks "
                "WHERE locktype = 'advisory' AND objsubid = 2 AND pid = pg_backend_pid()"
            )
            held = set(cursor.fetchall())
    assert locks.advisory_key(locks.USER_HOLDS, user.pk) in held
