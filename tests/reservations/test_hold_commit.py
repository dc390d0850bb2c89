"""A hold's transaction commits without waiting for the WAL flush; nothing else does.

The setting is local to the hold's transaction (set_config(..., true)), so the connection's next
transaction (a payment, say) commits synchronously again. Counted on the server: a synchronous commit
writes the WAL out itself (pg_stat_wal.wal_write), an asynchronous one leaves that to the WAL writer."""

import pytest
from django.db import connection

from tests.booking import booker_for, on_sale_schedule

pytestmark = pytest.mark.postgres_only("commit durability is a PostgreSQL setting")

HOLDS = 20


def _setting() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        return cursor.fetchone()[0]


def _wal_writes() -> int:
    """Cluster-wide count of WAL writes, this backend's own included (its counters are flushed first)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_force_next_flush()")
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute("SELECT wal_write FROM pg_stat_wal")
        return int(cursor.fetchone()[0])


@pytest.mark.django_db
def test_a_hold_makes_its_own_transaction_asynchronous():
    schedule = on_sale_schedule(seats=1)
    booker = booker_for(schedule)
    assert _setting() == "on"
    assert booker.hold(schedule, 1).status_code == 201
    # Still inside the test's transaction, which the hold joined: it asked for an asynchronous commit.
    assert _setting() == "off"


@pytest.mark.django_db
def test_with_the_setting_off_a_hold_commits_synchronously(settings):
    settings.RESERVATION_HOLD_ASYNC_COMMIT = False
    schedule = on_sale_schedule(seats=1)
    assert booker_for(schedule).hold(schedule, 1).status_code == 201
    assert _setting() == "on"


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("asynchronous", [True, False], ids=["async", "sync"])
def test_holds_leave_the_wal_to_its_writer_and_the_setting_ends_with_each_hold(settings, asynchronous):
    settings.RESERVATION_HOLD_ASYNC_COMMIT = asynchronous
    schedule = on_sale_schedule(seats=HOLDS)
    bookers = [booker_for(schedule) for _ in range(HOLDS // 4)]
    before = _wal_writes()
    for number in range(1, HOLDS + 1):
        assert bookers[(number - 1) // 4].hold(schedule, number).status_code == 201
    writes = _wal_writes() - before
    if asynchronous:
        # The WAL writer flushes on its own clock (every 200 ms): a few writes at most, not one a hold.
        assert writes < HOLDS // 2, writes
    else:
        assert writes >= HOLDS, writes
    # Each hold's setting ended with its transaction: the connection commits synchronously again.
    assert _setting() == "on"
