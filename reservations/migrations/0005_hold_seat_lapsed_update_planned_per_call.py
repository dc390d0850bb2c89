"""reservations_hold_seat(): the lapsed-hold update is planned on every call too.

The same hazard as the hold-limit count (migration 0004): a generic plan cached by a connection while the
reservations table was small can expire a lapsed hold by reading the whole table, and then every hold on
that connection reads every reservation. Run through EXECUTE, it is planned with the seat's id each time
and probes the partial unique index on live reservations. With this, every statement of the function on
that table is planned per call or is an insert (tests/reservations/test_hold_plans.py).
"""

from importlib import import_module

from django.db import migrations

_previous = import_module("reservations.migrations.0004_hold_seat_count_planned_per_call")

CACHED_PLAN_UPDATE = """UPDATE reservations_reservation r SET status = 'EXPIRED', updated_at = p_now
     WHERE r.seat_id = v_seat_id AND r.status = 'PENDING' AND r.expires_at <= p_now;"""
PLANNED_PER_CALL_UPDATE = """EXECUTE 'UPDATE reservations_reservation r SET status = ''EXPIRED'', updated_at = $2
     WHERE r.seat_id = $1 AND r.status = ''PENDING'' AND r.expires_at <= $2' USING v_seat_id, p_now;"""

if CACHED_PLAN_UPDATE not in _previous.HOLD_SEAT_SQL:
    raise RuntimeError("reservations 0005: the update this migration replaces is not in 0004's function")
HOLD_SEAT_SQL = _previous.HOLD_SEAT_SQL.replace(CACHED_PLAN_UPDATE, PLANNED_PER_CALL_UPDATE)


def forwards(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(HOLD_SEAT_SQL)


def backwards(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(_previous.HOLD_SEAT_SQL)


class Migration(migrations.Migration):
    dependencies = [("reservations", "0004_hold_seat_count_planned_per_call")]

    operations = [migrations.RunPython(forwards, backwards)]
