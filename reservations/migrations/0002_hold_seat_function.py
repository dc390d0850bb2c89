"""reservations_hold_seat(): the whole hold in one PostgreSQL round trip.

The same rules as reservations.services._hold_portable (the path SQLite runs), in one function so a
hold costs one call: check the schedule and sales window, serialize the user's holds (advisory lock),
check the hold limit, find the seat by its unique index, expire a lapsed hold on it by seat id, take
the seat with a guarded UPDATE, insert the reservation.
Each statement in a plpgsql function sees the effects of the ones before it, and the whole call is one
transaction (or joins the caller's).

Two rules here are the SQL twins of their one Python spelling (tests/reservations/test_sql_twins.py checks
the installed function against them): the advisory lock key 8001 is config.locks.USER_HOLDS folded by
config.locks.advisory_key(), and the seat guard is concerts.seat_rules.SEAT_TAKEABLE_SQL.
"""

from django.db import migrations

from reservations.migrations._hold_seat_function import on_postgresql

HOLD_SEAT_SQL = """
CREATE OR REPLACE FUNCTION reservations_hold_seat(
    p_user_id bigint, p_concert_id bigint, p_schedule_id bigint, p_seat_number integer,
    p_reservation_id uuid, p_now timestamptz, p_expires_at timestamptz, p_max_holds integer
) RETURNS TABLE (outcome text, seat_id bigint, price integer)
LANGUAGE plpgsql AS $$
DECLARE
    v_schedule record;
    v_seat_id bigint;
    v_pending integer;
    v_price integer;
BEGIN
    SELECT s.concert_id, s.starts_at, s.sales_open_at, s.sales_close_at INTO v_schedule
      FROM concerts_schedule s WHERE s.id = p_schedule_id;
    IF NOT FOUND THEN
        RETURN QUERY SELECT 'schedule_not_found'::text, NULL::bigint, NULL::integer; RETURN;
    END IF;
    IF v_schedule.concert_id <> p_concert_id THEN
        RETURN QUERY SELECT 'token_other_concert'::text, NULL::bigint, NULL::integer; RETURN;
    END IF;
    IF NOT (v_schedule.sales_open_at <= p_now
            AND p_now < COALESCE(v_schedule.sales_close_at, v_schedule.starts_at)) THEN
        RETURN QUERY SELECT 'schedule_closed'::text, NULL::bigint, NULL::integer; RETURN;
    END IF;
    -- One user's holds one at a time, so racing requests cannot overshoot the hold limit.
    -- The key is config.locks.advisory_key(config.locks.USER_HOLDS, user id).
    PERFORM pg_advisory_xact_lock(8001, mod(p_user_id, 2147483647)::integer);
    SELECT count(*) INTO v_pending FROM reservations_reservation r
     WHERE r.user_id = p_user_id AND r.status = 'PENDING' AND r.expires_at > p_now;
    IF v_pending >= p_max_holds THEN
        RETURN QUERY SELECT 'hold_limit_reached'::text, NULL::bigint, NULL::integer; RETURN;
    END IF;

    SELECT s.id INTO v_seat_id
      FROM concerts_seat s WHERE s.schedule_id = p_schedule_id AND s.number = p_seat_number;
    IF NOT FOUND THEN
        RETURN QUERY SELECT 'seat_not_found'::text, NULL::bigint, NULL::integer; RETURN;
    END IF;

    -- A lapsed hold on this seat gives way first (reservation before seat: the lock order). By seat id
    -- it is one probe of the partial unique index on live reservations.
    UPDATE reservations_reservation r SET status = 'EXPIRED', updated_at = p_now
     WHERE r.seat_id = v_seat_id AND r.status = 'PENDING' AND r.expires_at <= p_now;

    -- The guard is the rule: of any number of concurrent holds on this seat exactly one matches.
    -- It is concerts.seat_rules.SEAT_TAKEABLE_SQL ("a seat can be taken now").
    UPDATE concerts_seat s
       SET status = 'HELD', held_until = p_expires_at, reservation_id = p_reservation_id, updated_at = p_now
     WHERE s.id = v_seat_id
       AND (s.status = 'AVAILABLE' OR (s.status = 'HELD' AND s.held_until <= p_now))
    RETURNING s.price INTO v_price;
    IF NOT FOUND THEN
        RETURN QUERY SELECT 'seat_unavailable'::text, NULL::bigint, NULL::integer; RETURN;
    END IF;

    INSERT INTO reservations_reservation
        (id, user_id, concert_id, schedule_id, seat_id, seat_number, price, status,
         expires_at, created_at, updated_at)
    VALUES (p_reservation_id, p_user_id, p_concert_id, p_schedule_id, v_seat_id, p_seat_number, v_price,
            'PENDING', p_expires_at, p_now, p_now);
    RETURN QUERY SELECT 'held'::text, v_seat_id, v_price;
END;
$$;
"""

DROP_SQL = "DROP FUNCTION IF EXISTS reservations_hold_seat(bigint, bigint, bigint, integer, uuid, timestamptz, timestamptz, integer);"


class Migration(migrations.Migration):
    dependencies = [("reservations", "0001_initial"), ("concerts", "0001_initial")]

    operations = [on_postgresql(HOLD_SEAT_SQL, reverse_sql=DROP_SQL)]
