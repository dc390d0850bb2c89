"""reservations_hold_seat(): the hold-limit count is planned on every call.

plpgsql caches a plan for each statement of a function per connection, and after a few calls keeps a
generic plan chosen from the statistics of that moment. On a reservations table that was empty or small
then (a new deployment, or before autovacuum's first ANALYZE), that plan counts a user's pending holds by
reading the whole table, and every hold then costs more as the table grows, until the next ANALYZE
invalidates the plan. The count now runs through EXECUTE, planned with the user's actual values each time
(about 0.04 ms), so it always probes the (user, status, expires_at) index. The rest of the function is
unchanged: its other statements look rows up by primary key or by a unique index.
"""

from importlib import import_module

from django.db import migrations

from reservations.migrations._hold_seat_function import edited, on_postgresql

_previous = import_module("reservations.migrations.0002_hold_seat_function")

CACHED_PLAN_COUNT = """SELECT count(*) INTO v_pending FROM reservations_reservation r
     WHERE r.user_id = p_user_id AND r.status = 'PENDING' AND r.expires_at > p_now;"""
PLANNED_PER_CALL_COUNT = """EXECUTE 'SELECT count(*) FROM reservations_reservation r
     WHERE r.user_id = $1 AND r.status = ''PENDING'' AND r.expires_at > $2'
      INTO v_pending USING p_user_id, p_now;"""

HOLD_SEAT_SQL = edited(_previous.HOLD_SEAT_SQL, CACHED_PLAN_COUNT, PLANNED_PER_CALL_COUNT, migration="0004")


class Migration(migrations.Migration):
    dependencies = [("reservations", "0003_lean_indexes")]

    operations = [on_postgresql(HOLD_SEAT_SQL, reverse_sql=_previous.HOLD_SEAT_SQL)]
