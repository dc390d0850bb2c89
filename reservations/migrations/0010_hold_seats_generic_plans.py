"""reservations_hold_seats() runs on generic plans (plan_cache_mode = force_generic_plan for the call),
and best available's two seat-picking queries are planned per call instead.

Left to itself, PostgreSQL's plan cache re-planned several of the function's statements on every call
(those on arrays of seat ids or numbers, whose generic plan it cannot cost from the array's length):
under `make bench` about a fifth of PostgreSQL's CPU went to planning. Generic plans for the lookups by
primary key or by the unique (schedule, number) index, and for the inserts, are the plans those get
anyway. Measured on one connection (3,000 calls each, a quiet box): a one-seat hold 0.70 -> 0.61 ms.

Planned per call, through EXECUTE with the call's values:
- the hold-limit count and the lapsed-hold update on the reservations table (migrations 0004 and 0005):
  a plan made while that table was small must not follow it as it grows;
- best available's queries that pick seats among a schedule's (the lowest-numbered run, else the
  lowest-numbered seats): a generic plan made while the catalog held one schedule reads the whole seat
  table, every schedule's seats, once the catalog grows.
tests/reservations/test_hold_plans.py checks both: no sequential scan of reservations or seats, with
plans made on small tables.
"""

from importlib import import_module

from django.db import migrations

from reservations.migrations._hold_seat_function import edited, on_postgresql

_previous = import_module("reservations.migrations.0007_hold_seats_function")

CACHED_PLAN_RUN = """            SELECT r.number INTO v_end FROM (
                SELECT s.number, lag(s.number, v_wanted - 1) OVER (ORDER BY s.number) AS back
                  FROM concerts_seat s
                 WHERE s.schedule_id = p_schedule_id
                   AND (s.status = 'AVAILABLE' OR (s.status = 'HELD' AND s.held_until <= p_now))
                   AND (p_grade IS NULL OR s.grade = p_grade) AND s.id <> ALL(v_exclude)
                 ORDER BY s.number
            ) r WHERE r.back = r.number - (v_wanted - 1) ORDER BY r.number LIMIT 1;"""
PLANNED_PER_CALL_RUN = """            EXECUTE 'SELECT r.number FROM (
                SELECT s.number, lag(s.number, $1 - 1) OVER (ORDER BY s.number) AS back
                  FROM concerts_seat s
                 WHERE s.schedule_id = $2
                   AND (s.status = ''AVAILABLE'' OR (s.status = ''HELD'' AND s.held_until <= $3))
                   AND ($4::text IS NULL OR s.grade = $4) AND s.id <> ALL($5)
                 ORDER BY s.number
            ) r WHERE r.back = r.number - ($1 - 1) ORDER BY r.number LIMIT 1'
              INTO v_end USING v_wanted, p_schedule_id, p_now, p_grade, v_exclude;"""

CACHED_PLAN_LOWEST = """                SELECT array_agg(c.id ORDER BY c.id) INTO v_ids FROM (
                    SELECT s.id FROM concerts_seat s
                     WHERE s.schedule_id = p_schedule_id
                       AND (s.status = 'AVAILABLE' OR (s.status = 'HELD' AND s.held_until <= p_now))
                       AND (p_grade IS NULL OR s.grade = p_grade) AND s.id <> ALL(v_exclude)
                     ORDER BY s.number LIMIT v_wanted
                ) c;"""
PLANNED_PER_CALL_LOWEST = """                EXECUTE 'SELECT array_agg(c.id ORDER BY c.id) FROM (
                    SELECT s.id FROM concerts_seat s
                     WHERE s.schedule_id = $1
                       AND (s.status = ''AVAILABLE'' OR (s.status = ''HELD'' AND s.held_until <= $2))
                       AND ($3::text IS NULL OR s.grade = $3) AND s.id <> ALL($4)
                     ORDER BY s.number LIMIT $5
                ) c' INTO v_ids USING p_schedule_id, p_now, p_grade, v_exclude, v_wanted;"""

GENERIC_PLANS = "LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan AS $$"

HOLD_SEATS_SQL = edited(
    edited(
        edited(_previous.HOLD_SEATS_SQL, CACHED_PLAN_RUN, PLANNED_PER_CALL_RUN, migration="0010"),
        CACHED_PLAN_LOWEST,
        PLANNED_PER_CALL_LOWEST,
        migration="0010",
    ),
    "LANGUAGE plpgsql AS $$",
    GENERIC_PLANS,
    migration="0010",
)
# Reversed: the previous source, a CREATE OR REPLACE of the same signature without the SET clause.
PREVIOUS_SQL = _previous.HOLD_SEATS_SQL


class Migration(migrations.Migration):
    dependencies = [("reservations", "0009_restore_one_live_reservation_per_seat")]

    operations = [on_postgresql(HOLD_SEATS_SQL, reverse_sql=PREVIOUS_SQL)]
