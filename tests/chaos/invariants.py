"""The invariant check run after every fault: plain SQL over the database (its own connection, so it
does not depend on any process of the stack), and the queue's structure in Redis.

Each check is a query that returns the offending rows; an empty result means the invariant holds.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import psycopg
import redis

from tests.chaos.queue_keys import active_key, wait_key

# name -> SQL returning offending rows (at most a few are shown). "Live" is a CONFIRMED reservation or a
# PENDING one before its deadline: a PENDING one past it reads EXPIRED whether or not the sweep has run.
SQL_INVARIANTS: dict[str, str] = {
    "no seat in two live orders: at most one live reservation per seat": """
        SELECT seat_id, count(*) FROM reservations_reservation
        WHERE status IN ('PENDING', 'CONFIRMED') GROUP BY seat_id HAVING count(*) > 1
    """,
    "every SOLD seat belongs to a CONFIRMED reservation of that seat": """
        SELECT s.id, s.reservation_id, r.status FROM concerts_seat s
        LEFT JOIN reservations_reservation r ON r.id = s.reservation_id
        WHERE s.status = 'SOLD' AND (r.id IS NULL OR r.status <> 'CONFIRMED' OR r.seat_id <> s.id)
    """,
    "a HELD seat belongs to its PENDING reservation": """
        SELECT s.id, r.status FROM concerts_seat s
        LEFT JOIN reservations_reservation r ON r.id = s.reservation_id
        WHERE s.status = 'HELD' AND (r.id IS NULL OR r.status <> 'PENDING' OR r.seat_id <> s.id)
          AND s.held_until > now()
    """,
    "every SOLD seat has exactly one COMPLETED payment, its reservation's order's": """
        SELECT s.id, count(p.id) FROM concerts_seat s
        LEFT JOIN reservations_reservation r ON r.id = s.reservation_id
        LEFT JOIN payments_payment p ON p.order_id = r.order_id AND p.status = 'COMPLETED'
        WHERE s.status = 'SOLD' GROUP BY s.id HAVING count(p.id) <> 1
    """,
    "no reservation CONFIRMED without its order CONFIRMED and paid and its SOLD seat": """
        SELECT r.id, o.status, p.id, p.status, s.status FROM reservations_reservation r
        JOIN reservations_order o ON o.id = r.order_id
        LEFT JOIN payments_payment p ON p.order_id = r.order_id
        LEFT JOIN concerts_seat s ON s.id = r.seat_id
        WHERE r.status = 'CONFIRMED' AND (o.status <> 'CONFIRMED' OR p.id IS NULL OR p.status <> 'COMPLETED'
              OR s.status <> 'SOLD' OR s.reservation_id <> r.id)
    """,
    "one payment per order, of the order's user, its reservation_id (if any) a seat of that order": """
        SELECT p.order_id, count(*) OVER (PARTITION BY p.order_id), p.user_id, o.user_id, r.order_id
        FROM payments_payment p
        JOIN reservations_order o ON o.id = p.order_id
        LEFT JOIN reservations_reservation r ON r.id = p.reservation_id
        WHERE p.user_id <> o.user_id
           OR (p.reservation_id IS NOT NULL AND r.order_id IS DISTINCT FROM p.order_id)
           OR p.order_id IN (SELECT order_id FROM payments_payment GROUP BY order_id HAVING count(*) > 1)
    """,
    "one PAYMENT ledger row per payment, of exactly its amount, by its user": """
        SELECT p.id, p.amount, l.n, l.total, l.users FROM payments_payment p
        LEFT JOIN (SELECT reference, count(*) AS n, sum(amount) AS total, count(DISTINCT user_id) AS users,
                          min(user_id) AS user_id
                   FROM points_ledgerentry WHERE kind = 'PAYMENT' GROUP BY reference) l
               ON l.reference = 'order:' || p.order_id
        WHERE l.n IS DISTINCT FROM 1 OR l.total <> -p.amount::bigint OR l.user_id <> p.user_id
    """,
    "no PAYMENT ledger row without its payment (no double debit)": """
        SELECT l.id, l.reference FROM points_ledgerentry l
        WHERE l.kind = 'PAYMENT'
          AND NOT EXISTS (SELECT 1 FROM payments_payment p WHERE 'order:' || p.order_id = l.reference)
    """,
    "a payment's amount is its paid seats' prices; refunded_amount the prices of those cancelled since": """
        SELECT p.id, p.amount, p.refunded_amount, sum(r.price),
               sum(r.price) FILTER (WHERE r.status = 'CANCELLED')
        FROM payments_payment p
        JOIN reservations_reservation r ON r.order_id = p.order_id AND r.confirmed_at IS NOT NULL
        GROUP BY p.id, p.amount, p.refunded_amount
        HAVING p.amount <> sum(r.price)
            OR p.refunded_amount <> coalesce(sum(r.price) FILTER (WHERE r.status = 'CANCELLED'), 0)
    """,
    "refunds never exceed what was paid: its REFUND rows sum to refunded_amount <= amount": """
        SELECT p.id, p.amount, p.refunded_amount, coalesce(rf.total, 0) FROM payments_payment p
        LEFT JOIN (SELECT refs.order_id, sum(l.amount) AS total
                   FROM (SELECT id AS order_id, 'order:' || id AS reference FROM reservations_order
                         UNION ALL SELECT order_id, 'reservation:' || id FROM reservations_reservation) refs
                   JOIN points_ledgerentry l ON l.kind = 'REFUND' AND l.reference = refs.reference
                   GROUP BY refs.order_id) rf ON rf.order_id = p.order_id
        WHERE coalesce(rf.total, 0) <> p.refunded_amount OR p.refunded_amount > p.amount
    """,
    "no REFUND ledger row without a paid order or paid seat it refunds": """
        SELECT l.id, l.reference, l.amount FROM points_ledgerentry l
        WHERE l.kind = 'REFUND' AND NOT EXISTS (
            SELECT 1 FROM payments_payment p WHERE 'order:' || p.order_id = l.reference
            UNION ALL SELECT 1 FROM reservations_reservation r
            JOIN payments_payment p ON p.order_id = r.order_id
            WHERE 'reservation:' || r.id = l.reference
              AND r.status = 'CANCELLED' AND r.confirmed_at IS NOT NULL)
    """,
    "a payment is COMPLETED on a CONFIRMED order, REFUNDED (all back) on a CANCELLED one": """
        SELECT p.id, p.status, p.amount, p.refunded_amount, o.status FROM payments_payment p
        JOIN reservations_order o ON o.id = p.order_id
        WHERE NOT ((p.status = 'COMPLETED' AND o.status = 'CONFIRMED' AND p.refunded_amount < p.amount)
                OR (p.status = 'REFUNDED' AND o.status = 'CANCELLED' AND p.refunded_amount = p.amount))
    """,
    "a CONFIRMED order has its payment; a PENDING or EXPIRED one none": """
        SELECT o.id, o.status, p.id FROM reservations_order o
        LEFT JOIN payments_payment p ON p.order_id = o.id
        WHERE (o.status = 'CONFIRMED' AND p.id IS NULL)
           OR (o.status IN ('PENDING', 'EXPIRED') AND p.id IS NOT NULL)
    """,
    "an order's seats all held or none: a PENDING order's seats PENDING with its deadline (or let go)": """
        SELECT o.id, o.expires_at, r.id, r.status, r.expires_at FROM reservations_order o
        JOIN reservations_reservation r ON r.order_id = o.id
        WHERE o.status = 'PENDING' AND (r.expires_at <> o.expires_at
              OR NOT (r.status = 'PENDING' OR (r.status = 'CANCELLED' AND r.confirmed_at IS NULL)
                      OR (r.status = 'EXPIRED' AND o.expires_at <= now())))
    """,
    "a CONFIRMED order's seats CONFIRMED or CANCELLED, at least one CONFIRMED": """
        SELECT o.id, array_agg(r.status) FROM reservations_order o
        JOIN reservations_reservation r ON r.order_id = o.id
        WHERE o.status = 'CONFIRMED' GROUP BY o.id
        HAVING bool_or(r.status NOT IN ('CONFIRMED', 'CANCELLED')) OR NOT bool_or(r.status = 'CONFIRMED')
    """,
    "no live reservation in a CANCELLED or EXPIRED order": """
        SELECT o.id, o.status, r.id, r.status, r.expires_at FROM reservations_order o
        JOIN reservations_reservation r ON r.order_id = o.id
        WHERE o.status IN ('CANCELLED', 'EXPIRED')
          AND (r.status = 'CONFIRMED' OR (r.status = 'PENDING' AND r.expires_at > now()))
    """,
    "every order has a seat; its seats are of its user, schedule and concert": """
        SELECT o.id, count(r.id) FROM reservations_order o
        LEFT JOIN reservations_reservation r ON r.order_id = o.id
        GROUP BY o.id
        HAVING count(r.id) = 0 OR bool_or(r.user_id <> o.user_id OR r.schedule_id <> o.schedule_id
                                          OR r.concert_id <> o.concert_id)
    """,
    "every wallet balance equals the sum of its ledger": """
        SELECT w.user_id, w.balance, coalesce(l.total, 0) FROM points_wallet w
        LEFT JOIN (SELECT user_id, sum(amount) AS total FROM points_ledgerentry GROUP BY user_id) l
               ON l.user_id = w.user_id
        WHERE w.balance <> coalesce(l.total, 0)
    """,
    "no negative balance (wallets and ledger balance_after)": """
        SELECT 'wallet', user_id, balance FROM points_wallet WHERE balance < 0
        UNION ALL SELECT 'ledger', id, balance_after FROM points_ledgerentry WHERE balance_after < 0
    """,
}


@dataclass
class Verdict:
    name: str
    ok: bool
    detail: str = ""


def check_database(database_url: str) -> list[Verdict]:
    verdicts = []
    with psycopg.connect(database_url, connect_timeout=10, autocommit=True) as conn:
        conn.execute("SET default_transaction_isolation = 'repeatable read'")
        with conn.transaction():  # one snapshot for every check
            for name, sql in SQL_INVARIANTS.items():
                rows = conn.execute(sql).fetchall()
                verdicts.append(Verdict(name, not rows, f"{len(rows)} rows, e.g. {rows[:3]}" if rows else ""))
        totals = conn.execute(
            "SELECT (SELECT count(*) FROM payments_payment), (SELECT count(*) FROM concerts_seat "
            "WHERE status = 'SOLD'), (SELECT count(*) FROM points_ledgerentry)"
        ).fetchone()
    assert totals is not None
    verdicts.append(Verdict("(counts)", True, f"payments={totals[0]} sold={totals[1]} ledger={totals[2]}"))
    return verdicts


# One atomic look at one concert's queue (the load keeps running while it is checked). Every key of a
# concert shares its hash tag, so on a cluster the script runs on the master of that slot.
QUEUE_CHECK = """
local problems, over = {}, {}
local now, c, cap = tonumber(ARGV[1]), ARGV[2], tonumber(ARGV[3])
local wait, active = KEYS[1], KEYS[2]
local function state(t) return redis.call('HGET', 'q:{' .. c .. '}:t:' .. t, 's') end
for _, t in ipairs(redis.call('ZRANGE', wait, 0, -1)) do
  local s = state(t)
  if s ~= 'W' then table.insert(problems, c .. ': waiting token ' .. t .. ' is ' .. tostring(s)) end
  if redis.call('ZSCORE', active, t) then
    table.insert(problems, c .. ': token ' .. t .. ' waiting and active')
  end
end
for _, t in ipairs(redis.call('ZRANGE', active, 0, -1)) do
  local s = state(t)
  if s and s ~= 'A' then table.insert(problems, c .. ': active token ' .. t .. ' is ' .. s) end
end
local live = redis.call('ZCOUNT', active, '(' .. now, '+inf')
if cap >= 0 and live > cap then table.insert(over, c .. ': ' .. live .. ' active > cap ' .. cap) end
return {problems, over}
"""


def queue_client(redis_url: str, cluster: bool = False) -> redis.Redis:
    """A client of the queue's Redis: a single server, or a cluster through any node."""
    if cluster:
        return redis.RedisCluster.from_url(redis_url, decode_responses=True, socket_timeout=5)
    return redis.Redis.from_url(redis_url, decode_responses=True, socket_timeout=5)


def check_queue(
    redis_url: str, caps: dict[int, int], concerts: list[int], cluster: bool = False
) -> list[Verdict]:
    """The Redis queue's structure: a waiting token is W and not active, an active one is A, and no
    concert has more unexpired active tokens than its cap."""
    r = queue_client(redis_url, cluster)
    problems: list[str] = []
    over: list[str] = []
    try:
        for c in concerts:
            found, too_many = r.eval(
                QUEUE_CHECK, 2, wait_key(c), active_key(c), int(time.time() * 1000), c, caps.get(c, -1)
            )
            problems += found
            over += too_many
    finally:
        r.close()
    where = "cluster" if cluster else "Redis"
    return [
        Verdict(
            f"queue on {where} ({len(concerts)} concerts): no token both waiting and active; states match "
            "their sets",
            not problems,
            "; ".join(problems[:3]),
        ),
        Verdict("queue: no concert over its max active users", not over, "; ".join(over)),
    ]
