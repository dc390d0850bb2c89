"""reservations_hold_seats(): an order's seats held in one PostgreSQL round trip, all or none.

It replaces reservations_hold_seat() (one seat): a single-seat hold is an order of one and takes the same
path. The same rules as reservations.services._hold_portable (the path SQLite runs):
- the schedule exists, belongs to the token's concert and is on sale;
- one user's holds one at a time (advisory lock), and the user's pending seats plus this order's stay
  within the hold limit (counted per call: see migration 0004);
- chosen seats (p_seat_numbers): every number must exist (else seat_not_found); their lapsed holds give
  way (reservation before seat: the lock order), the seats are locked in id order (two orders for
  overlapping seats wait for each other, never deadlock) and taken only if every one is takeable; else
  one seat_unavailable row per seat that is not, and nothing is held;
- best available (p_quantity, p_grade): the lowest-numbered run of p_quantity consecutive takeable
  seats, or where there is none the lowest-numbered takeable seats. Each attempt takes its candidates
  in a subtransaction with FOR UPDATE SKIP LOCKED: a seat another order is taking this instant is
  skipped and the attempt rolled back (its locks released at once), and the next attempt plans around
  it. When the seats left untried are too few, one last pass waits for those in-flight orders (locking
  in id order, holding no other seat) and re-plans on what they left, so not_enough_seats means that
  fewer than p_quantity takeable seats remained.
The takeable guard is concerts.seat_rules.SEAT_TAKEABLE_SQL for alias s and p_now, and the lock key
config.locks.USER_HOLDS (tests/reservations/test_sql_twins.py reads the installed function).
"""

from importlib import import_module

from django.db import migrations

from reservations.migrations._hold_seat_function import on_postgresql

_previous = import_module("reservations.migrations.0005_hold_seat_lapsed_update_planned_per_call")

HOLD_SEATS_SQL = """
DROP FUNCTION IF EXISTS reservations_hold_seat(bigint, bigint, bigint, integer, uuid, timestamptz, timestamptz, integer);

CREATE OR REPLACE FUNCTION reservations_hold_seats(
    p_user_id bigint, p_concert_id bigint, p_schedule_id bigint,
    p_seat_numbers integer[], p_quantity integer, p_grade text,
    p_order_id uuid, p_now timestamptz, p_expires_at timestamptz, p_max_holds integer
) RETURNS TABLE (outcome text, seat_id bigint, seat_number integer, price integer, grade text,
                 reservation_id uuid)
LANGUAGE plpgsql AS $$
DECLARE
    v_schedule record;
    v_wanted integer := COALESCE(cardinality(p_seat_numbers), p_quantity);
    v_pending integer;
    v_ids bigint[];
    v_end integer;
    v_exclude bigint[] := '{}';
    v_waiting boolean := false;
    v_got_ids bigint[];
    v_got_numbers integer[];
    v_got_prices integer[];
    v_got_grades text[];
    v_got_reservations uuid[];
BEGIN
    SELECT s.concert_id, s.starts_at, s.sales_open_at, s.sales_close_at INTO v_schedule
      FROM concerts_schedule s WHERE s.id = p_schedule_id;
    IF NOT FOUND THEN
        RETURN QUERY SELECT 'schedule_not_found'::text, NULL::bigint, NULL::integer, NULL::integer,
                            NULL::text, NULL::uuid; RETURN;
    END IF;
    IF v_schedule.concert_id <> p_concert_id THEN
        RETURN QUERY SELECT 'token_other_concert'::text, NULL::bigint, NULL::integer, NULL::integer,
                            NULL::text, NULL::uuid; RETURN;
    END IF;
    IF NOT (v_schedule.sales_open_at <= p_now
            AND p_now < COALESCE(v_schedule.sales_close_at, v_schedule.starts_at)) THEN
        RETURN QUERY SELECT 'schedule_closed'::text, NULL::bigint, NULL::integer, NULL::integer,
                            NULL::text, NULL::uuid; RETURN;
    END IF;
    -- One user's holds one at a time, so racing requests cannot overshoot the hold limit.
    -- The key is config.locks.advisory_key(config.locks.USER_HOLDS, user id).
    PERFORM pg_advisory_xact_lock(8001, mod(p_user_id, 2147483647)::integer);
    EXECUTE 'SELECT count(*) FROM reservations_reservation r
     WHERE r.user_id = $1 AND r.status = ''PENDING'' AND r.expires_at > $2'
      INTO v_pending USING p_user_id, p_now;
    IF v_pending + v_wanted > p_max_holds THEN
        RETURN QUERY SELECT 'hold_limit_reached'::text, NULL::bigint, NULL::integer, NULL::integer,
                            NULL::text, NULL::uuid; RETURN;
    END IF;

    IF p_seat_numbers IS NOT NULL THEN
        SELECT array_agg(s.id ORDER BY s.id) INTO v_ids
          FROM concerts_seat s WHERE s.schedule_id = p_schedule_id AND s.number = ANY(p_seat_numbers);
        IF COALESCE(cardinality(v_ids), 0) < v_wanted THEN
            RETURN QUERY SELECT 'seat_not_found'::text, NULL::bigint, NULL::integer, NULL::integer,
                                NULL::text, NULL::uuid; RETURN;
        END IF;
        -- Lapsed holds on these seats give way first (reservation before seat: the lock order); by seat
        -- id it probes the partial unique index on live reservations.
        EXECUTE 'UPDATE reservations_reservation r SET status = ''EXPIRED'', updated_at = $2
         WHERE r.seat_id = ANY($1) AND r.status = ''PENDING'' AND r.expires_at <= $2' USING v_ids, p_now;
        IF v_wanted > 1 THEN
            -- Lock every chosen seat in id order, then take them only if all are takeable.
            PERFORM 1 FROM concerts_seat s WHERE s.id = ANY(v_ids) ORDER BY s.id FOR UPDATE;
            IF EXISTS (SELECT 1 FROM concerts_seat s WHERE s.id = ANY(v_ids)
                       AND NOT (s.status = 'AVAILABLE' OR (s.status = 'HELD' AND s.held_until <= p_now))) THEN
                RETURN QUERY SELECT 'seat_unavailable'::text, s.id, s.number::integer, NULL::integer,
                                    NULL::text, NULL::uuid
                  FROM concerts_seat s WHERE s.id = ANY(v_ids)
                   AND NOT (s.status = 'AVAILABLE' OR (s.status = 'HELD' AND s.held_until <= p_now))
                 ORDER BY s.number;
                RETURN;
            END IF;
        END IF;
        -- The guard is the rule: of any number of concurrent holds on a seat exactly one matches.
        -- It is concerts.seat_rules.SEAT_TAKEABLE_SQL ("a seat can be taken now").
        WITH taken AS (
            UPDATE concerts_seat s
               SET status = 'HELD', held_until = p_expires_at, reservation_id = gen_random_uuid(),
                   updated_at = p_now
             WHERE s.id = ANY(v_ids)
               AND (s.status = 'AVAILABLE' OR (s.status = 'HELD' AND s.held_until <= p_now))
            RETURNING s.id, s.number, s.price, s.grade, s.reservation_id
        )
        SELECT array_agg(t.id ORDER BY t.number), array_agg(t.number::integer ORDER BY t.number),
               array_agg(t.price::integer ORDER BY t.number), array_agg(t.grade::text ORDER BY t.number),
               array_agg(t.reservation_id ORDER BY t.number)
          INTO v_got_ids, v_got_numbers, v_got_prices, v_got_grades, v_got_reservations FROM taken t;
        IF COALESCE(cardinality(v_got_ids), 0) < v_wanted THEN  -- one seat, taken meanwhile
            RETURN QUERY SELECT 'seat_unavailable'::text, s.id, s.number::integer, NULL::integer,
                                NULL::text, NULL::uuid
              FROM concerts_seat s WHERE s.id = ANY(v_ids) ORDER BY s.number;
            RETURN;
        END IF;
    ELSE
        LOOP
            -- Plan: the lowest-numbered run of v_wanted consecutive takeable seats (a seat whose
            -- takeable neighbour v_wanted - 1 places back carries the number v_wanted - 1 lower).
            v_end := NULL;
            SELECT r.number INTO v_end FROM (
                SELECT s.number, lag(s.number, v_wanted - 1) OVER (ORDER BY s.number) AS back
                  FROM concerts_seat s
                 WHERE s.schedule_id = p_schedule_id
                   AND (s.status = 'AVAILABLE' OR (s.status = 'HELD' AND s.held_until <= p_now))
                   AND (p_grade IS NULL OR s.grade = p_grade) AND s.id <> ALL(v_exclude)
                 ORDER BY s.number
            ) r WHERE r.back = r.number - (v_wanted - 1) ORDER BY r.number LIMIT 1;
            IF v_end IS NOT NULL THEN
                SELECT array_agg(s.id ORDER BY s.id) INTO v_ids FROM concerts_seat s
                 WHERE s.schedule_id = p_schedule_id AND s.number BETWEEN v_end - v_wanted + 1 AND v_end;
            ELSE
                SELECT array_agg(c.id ORDER BY c.id) INTO v_ids FROM (
                    SELECT s.id FROM concerts_seat s
                     WHERE s.schedule_id = p_schedule_id
                       AND (s.status = 'AVAILABLE' OR (s.status = 'HELD' AND s.held_until <= p_now))
                       AND (p_grade IS NULL OR s.grade = p_grade) AND s.id <> ALL(v_exclude)
                     ORDER BY s.number LIMIT v_wanted
                ) c;
            END IF;
            IF COALESCE(cardinality(v_ids), 0) < v_wanted THEN
                IF cardinality(v_exclude) > 0 AND NOT v_waiting THEN
                    -- Too few left untried: wait for the in-flight orders that held the others.
                    v_waiting := true;
                    v_exclude := '{}';
                    CONTINUE;
                END IF;
                RETURN QUERY SELECT 'not_enough_seats'::text, NULL::bigint, NULL::integer, NULL::integer,
                                    NULL::text, NULL::uuid; RETURN;
            END IF;
            v_got_ids := NULL;
            BEGIN
                EXECUTE 'UPDATE reservations_reservation r SET status = ''EXPIRED'', updated_at = $2
                 WHERE r.seat_id = ANY($1) AND r.status = ''PENDING'' AND r.expires_at <= $2'
                 USING v_ids, p_now;
                IF v_waiting THEN
                    -- The last pass: wait for the orders in flight on these seats (locking in id order,
                    -- holding no other seat), so the take below skips none of them.
                    PERFORM 1 FROM concerts_seat s WHERE s.id = ANY(v_ids) ORDER BY s.id FOR UPDATE;
                END IF;
                WITH locked AS (
                    SELECT s.id FROM concerts_seat s WHERE s.id = ANY(v_ids)
                       AND (s.status = 'AVAILABLE' OR (s.status = 'HELD' AND s.held_until <= p_now))
                     ORDER BY s.id FOR UPDATE SKIP LOCKED
                ), taken AS (
                    UPDATE concerts_seat s
                       SET status = 'HELD', held_until = p_expires_at, reservation_id = gen_random_uuid(),
                           updated_at = p_now
                      FROM locked l WHERE s.id = l.id
                    RETURNING s.id, s.number, s.price, s.grade, s.reservation_id
                )
                SELECT array_agg(t.id ORDER BY t.number), array_agg(t.number::integer ORDER BY t.number),
                       array_agg(t.price::integer ORDER BY t.number),
                       array_agg(t.grade::text ORDER BY t.number), array_agg(t.reservation_id ORDER BY t.number)
                  INTO v_got_ids, v_got_numbers, v_got_prices, v_got_grades, v_got_reservations FROM taken t;
                IF COALESCE(cardinality(v_got_ids), 0) < v_wanted THEN
                    RAISE EXCEPTION 'partial take' USING ERRCODE = 'P0001';
                END IF;
                EXIT;  -- every candidate taken
            EXCEPTION WHEN raise_exception THEN
                -- Rolled back to the start of the attempt: the seats it did take are free and unlocked.
                -- The ones it could not take (locked by an order in flight, or taken) are planned around.
                v_exclude := v_exclude || ARRAY(
                    SELECT c FROM unnest(v_ids) c WHERE c <> ALL(COALESCE(v_got_ids, '{}'))
                );
            END;
        END LOOP;
    END IF;

    INSERT INTO reservations_order
        (id, user_id, concert_id, schedule_id, status, expires_at, created_at, updated_at)
    VALUES (p_order_id, p_user_id, p_concert_id, p_schedule_id, 'PENDING', p_expires_at, p_now, p_now);
    INSERT INTO reservations_reservation
        (id, order_id, user_id, concert_id, schedule_id, seat_id, seat_number, price, status,
         expires_at, created_at, updated_at)
    SELECT g.reservation, p_order_id, p_user_id, p_concert_id, p_schedule_id, g.id, g.number, g.price,
           'PENDING', p_expires_at, p_now, p_now
      FROM unnest(v_got_reservations, v_got_ids, v_got_numbers, v_got_prices)
           AS g(reservation, id, number, price);
    RETURN QUERY SELECT 'held'::text, g.id, g.number, g.price, g.grade, g.reservation
      FROM unnest(v_got_ids, v_got_numbers, v_got_prices, v_got_grades, v_got_reservations)
           AS g(id, number, price, grade, reservation)
     ORDER BY g.number;
END;
$$;
"""

DROP_SQL = (
    "DROP FUNCTION IF EXISTS reservations_hold_seats(bigint, bigint, bigint, integer[], integer, text, uuid, "
    "timestamptz, timestamptz, integer);\n" + _previous.HOLD_SEAT_SQL
)


class Migration(migrations.Migration):
    dependencies = [("reservations", "0006_orders"), ("concerts", "0005_sales_dashboard_to_backoffice")]

    operations = [on_postgresql(HOLD_SEATS_SQL, reverse_sql=DROP_SQL)]
