"""reservations_hold_seat(): the lapsed-hold update is planned on every call too.

The same hazard as the hold-limit count (migration 0004): a generic plan cached by a connection while the
reservations table was small can expire a lapsed hold by reading the whole table, and then every hold on
that connection reads every reservation. Run through EXECUTE, it is planned with the seat's id each time
and probes the partial unique index on live reservations. With this, every statement of the function on
that table is planned per call or is an insert (tests/reservations/test_hold_plans.py).
"""

from importlib import import_module

from django.db import migrations

from reservations.migrations._hold_seat_function import edited, on_postgresql

_previous = import_module("reservations.migrations.0004_hold_seat_count_planned_per_call")

CACHED_PLAN_UPDATE = """UPDATE reservations_reservation r SET status = 'EXPIRED', updated_at = p_now
     WHERE r.seat_id = v_seat_id AND r.status = 'PENDING' AND r.expires_at <= p_now;"""
PLANNED_PER_CALL_UPDATE = """EXECUTE 'UPDATE reservations_reservation r SET status = ''EXPIRED'', updated_at = $2
     WHERE r.seat_id = $1 AND r.status = ''PENDING'' AND r.expires_at <= $2' USING v_seat_id, p_now;"""

HOLD_SEAT_SQL = edited(_previous.HOLD_SEAT_SQL, CACHED_PLAN_UPDATE, PLANNED_PER_CALL_UPDATE, migration="0005")


class Migration(migrations.Migration):
    dependencies = [("reservations", "0004_hold_seat_count_planned_per_call")]

    operations = [on_postgresql(HOLD_SEAT_SQL, reverse_sql=_previous.HOLD_SEAT_SQL)]
