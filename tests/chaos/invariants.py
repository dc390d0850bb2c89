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

# name -> SQL returning offending rows (at most a few are shown)
SQL_INVARIANTS: dict[str, str] = {
    "no seat sold twice / at most one live reservation per seat": """
        SELECT seat_id, count(*) FROM reservations_reservation
        WHERE status IN ('PENDING', 'CONFIRMED') GROUP BY seat_id HAVING count(*) > 1
    """,
    "every SOLD seat belongs to a CONFIRMED reservation of that seat": """
        SELECT s.id, s.reservation_id, r.status FROM concerts_seat s
        LEFT JOIN reservations_reservation r ON r.id = s.reservation_id
        WHERE s.status = 'SOLD' AND (r.id IS NULL OR r.status <> 'CONFIRMED' OR r.seat_id <> s.id)
    """,
    "every SOLD seat has exactly one COMPLETED payment via its reservation": """
        SELECT s.id, count(p.id) FROM concerts_seat s
        LEFT JOIN payments_payment p ON p.reservation_id = s.reservation_id AND p.status = 'COMPLETED'
        WHERE s.status = 'SOLD' GROUP BY s.id HAVING count(p.id) <> 1
    """,
    "no reservation CONFIRMED without its payment, its PAYMENT ledger row and its SOLD seat": """
        SELECT r.id, p.id, p.status, l.n, s.status FROM reservations_reservation r
        LEFT JOIN payments_payment p ON p.reservation_id = r.id
        LEFT JOIN (SELECT reference, count(*) AS n, sum(amount) AS total FROM points_ledgerentry
                   WHERE kind = 'PAYMENT' GROUP BY reference) l ON l.reference = 'reservation:' || r.id
        LEFT JOIN concerts_seat s ON s.id = r.seat_id
        WHERE r.status = 'CONFIRMED' AND (p.id IS NULL OR p.status <> 'COMPLETED' OR l.n IS DISTINCT FROM 1
              OR l.total <> -p.amount OR s.status <> 'SOLD' OR s.reservation_id <> r.id)
    """,
    "no double debit: one PAYMENT ledger row per reservation, each with its payment": """
        SELECT l.reference, count(*), count(p.id) FROM points_ledgerentry l
        LEFT JOIN payments_payment p ON 'reservation:' || p.reservation_id = l.reference
        WHERE l.kind = 'PAYMENT' GROUP BY l.reference HAVING count(*) <> 1 OR count(p.id) <> 1
    """,
    "a payment's reservation is CONFIRMED (COMPLETED) or CANCELLED with a REFUND (REFUNDED)": """
        SELECT p.id, p.status, r.status, rf.n FROM payments_payment p
        JOIN reservations_reservation r ON r.id = p.reservation_id
        LEFT JOIN (SELECT reference, count(*) AS n FROM points_ledgerentry WHERE kind = 'REFUND'
                   GROUP BY reference) rf ON rf.reference = 'reservation:' || r.id
        WHERE NOT ((p.status = 'COMPLETED' AND r.status = 'CONFIRMED' AND rf.n IS NULL)
                OR (p.status = 'REFUNDED' AND r.status = 'CANCELLED' AND rf.n = 1))
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
    "a HELD seat belongs to its PENDING reservation": """
        SELECT s.id, r.status FROM concerts_seat s
        LEFT JOIN reservations_reservation r ON r.id = s.reservation_id
        WHERE s.status = 'HELD' AND (r.id IS NULL OR r.status <> 'PENDING' OR r.seat_id <> s.id)
          AND s.held_until > now()
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
