"""The whole flow for 2,000 users over HTTP, then an invariant check in SQL.

Per user: POST /queue/tokens; admission of the whole concert's queue by one `manage.py promote_queue`
round; GET /queue/status (ACTIVE); POST /reservations on a random seat of a pool of 1.5 seats per user
(so holds collide and losers pick again); POST /points/charge for the price; POST /payments.
Then, over the whole database: no seat sold twice, every wallet balance equals the sum of its ledger,
every SOLD seat has exactly one COMPLETED payment (and every COMPLETED payment a SOLD seat)."""

from __future__ import annotations

import asyncio
import random
import time
import uuid

from bench.context import Context
from bench.httpclient import Pool, percentile

CONCURRENCY = 64
MAX_SEAT_TRIES = 30


class FlowError(Exception):
    pass


async def _tokens(ctx: Context, pool: Pool, concert_id: int) -> list[str | None]:
    async def one(jwt: str) -> str | None:
        r = await pool.request(
            "POST",
            "/api/v1/queue/tokens",
            headers={"Authorization": f"Bearer {jwt}"},
            body={"concert_id": concert_id},
        )
        return r.json()["token"] if r.status in (200, 201) else None

    return list(await asyncio.gather(*(one(j) for j in ctx.jwts["flow"])))


async def _buy(
    ctx: Context,
    pool: Pool,
    seats: list[tuple[int, int]],
    rng: random.Random,
    outcome: dict[str, int],
    i: int,
    token: str,
) -> None:
    auth = {"Authorization": f"Bearer {ctx.jwts['flow'][i]}"}
    qt = {**auth, "X-Queue-Token": token}
    r = await pool.request("GET", "/api/v1/queue/status", headers=qt)
    if r.status != 200 or r.json().get("status") != "ACTIVE":
        outcome["not_active"] += 1
        return
    reservation = None
    for _ in range(MAX_SEAT_TRIES):
        schedule_id, number = seats[rng.randrange(len(seats))]
        r = await pool.request(
            "POST",
            "/api/v1/reservations",
            headers={**qt, "Idempotency-Key": str(uuid.uuid4())},
            body={"schedule_id": schedule_id, "seat_number": number},
        )
        if r.status == 201:
            reservation = r.json()
            break
        if r.status == 409 and r.code == "seat_unavailable":
            outcome["hold_collisions"] += 1
            continue
        outcome[f"hold_{r.status}_{r.code}"] = outcome.get(f"hold_{r.status}_{r.code}", 0) + 1
        return
    if reservation is None:
        outcome["no_seat_found"] += 1
        return
    r = await pool.request(
        "POST",
        "/api/v1/points/charge",
        headers={**auth, "Idempotency-Key": str(uuid.uuid4())},
        body={"amount": reservation["price"]},
    )
    if r.status != 200:
        outcome[f"charge_{r.status}_{r.code}"] = outcome.get(f"charge_{r.status}_{r.code}", 0) + 1
        return
    r = await pool.request(
        "POST",
        "/api/v1/payments",
        headers={**qt, "Idempotency-Key": str(uuid.uuid4())},
        body={"reservation_id": reservation["id"]},
    )
    if r.status != 201 or r.json().get("status") != "COMPLETED":
        outcome[f"pay_{r.status}_{r.code}"] = outcome.get(f"pay_{r.status}_{r.code}", 0) + 1
        return
    outcome["paid"] += 1


def _admit_all(ctx: Context, concert_id: int, count: int) -> float:
    """One admission round of the whole flow queue through the management command (the operators' tool)."""
    started = time.perf_counter()
    try:
        ctx.stack.manage(
            "promote_queue",
            "--concert",
            str(concert_id),
            timeout=None,
            QUEUE_PROMOTION_BATCH_SIZE=str(count),
        )
    except RuntimeError as exc:
        raise FlowError(str(exc)) from exc
    return time.perf_counter() - started


def check_invariants() -> dict[str, int]:
    """Violations over the whole database (every value must be 0)."""
    from django.db import connection

    from concerts.models import Seat
    from payments.models import Payment
    from points.models import LedgerEntry, Wallet
    from reservations.models import Reservation

    seat, res, pay = Seat._meta.db_table, Reservation._meta.db_table, Payment._meta.db_table
    wallet, ledger = Wallet._meta.db_table, LedgerEntry._meta.db_table
    ledger_wallet = LedgerEntry._meta.get_field("wallet").column
    wallet_pk = Wallet._meta.pk.column
    checks = {
        # one seat, two live (held or sold) reservations
        "seats_with_two_live_reservations": f"SELECT count(*) FROM (SELECT seat_id FROM {res} "
        "WHERE status IN ('PENDING', 'CONFIRMED') GROUP BY seat_id HAVING count(*) > 1) x",
        "seats_sold_twice": f"SELECT count(*) FROM (SELECT seat_id FROM {res} WHERE status = 'CONFIRMED' "
        "GROUP BY seat_id HAVING count(*) > 1) x",
        "wallets_not_equal_to_ledger": f"SELECT count(*) FROM {wallet} w WHERE w.balance <> COALESCE("
        f"(SELECT sum(l.amount) FROM {ledger} l WHERE l.{ledger_wallet} = w.{wallet_pk}), 0)",
        "sold_seats_without_exactly_one_completed_payment": f"SELECT count(*) FROM {seat} s "
        "WHERE s.status = 'SOLD' "
        f"AND (SELECT count(*) FROM {pay} p JOIN {res} r ON r.id = p.reservation_id "
        "WHERE r.seat_id = s.id AND p.status = 'COMPLETED') <> 1",
        "completed_payments_without_sold_seat": f"SELECT count(*) FROM {pay} p "
        f"JOIN {res} r ON r.id = p.reservation_id "
        f"JOIN {seat} s ON s.id = r.seat_id WHERE p.status = 'COMPLETED' AND (s.status <> 'SOLD' "
        "OR s.reservation_id <> r.id OR r.status <> 'CONFIRMED')",
    }
    out = {}
    with connection.cursor() as cursor:
        for name, sql in checks.items():
            cursor.execute(sql)
            out[name] = cursor.fetchone()[0]
    return out


def _counts(concert_id: int) -> dict[str, int]:
    from django.db import connection

    from concerts.models import Schedule, Seat
    from payments.models import Payment
    from reservations.models import Reservation

    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT count(*) FROM {Seat._meta.db_table} s "
            f"JOIN {Schedule._meta.db_table} sc ON sc.id = s.schedule_id "
            "WHERE sc.concert_id = %s AND s.status = 'SOLD'",
            [concert_id],
        )
        sold = cursor.fetchone()[0]
        cursor.execute(
            f"SELECT count(*) FROM {Payment._meta.db_table} p JOIN {Reservation._meta.db_table} r "
            "ON r.id = p.reservation_id WHERE r.concert_id = %s AND p.status = 'COMPLETED'",
            [concert_id],
        )
        paid = cursor.fetchone()[0]
    return {"sold_seats": sold, "completed_payments": paid}


async def _flow(ctx: Context, concert_id: int) -> dict[str, object]:
    pool = Pool(ctx.host, ctx.port, CONCURRENCY)
    n = len(ctx.users["flow"])
    t0 = time.perf_counter()
    tokens = await _tokens(ctx, pool, concert_id)
    t_tokens = time.perf_counter() - t0
    issued = sum(1 for t in tokens if t)
    admit_s = await asyncio.to_thread(_admit_all, ctx, concert_id, n)
    # 1.5 seats per user, from the first schedules of the concert
    all_seats = [
        (s, k)
        for s in ctx.catalog.schedules[concert_id]
        for k in range(1, ctx.catalog.seats_per_schedule + 1)
    ]
    pool_size = n * 3 // 2
    seats = all_seats[ctx.rep * pool_size : (ctx.rep + 1) * pool_size]  # fresh seats each repetition
    rng = random.Random(17)
    outcome = {"paid": 0, "not_active": 0, "hold_collisions": 0, "no_seat_found": 0}
    t1 = time.perf_counter()
    sem = asyncio.Semaphore(CONCURRENCY * 2)

    async def user(i: int, tok: str) -> None:
        async with sem:
            await _buy(ctx, pool, seats, rng, outcome, i, tok)

    await asyncio.gather(*(user(i, t) for i, t in enumerate(tokens) if t))
    t_buy = time.perf_counter() - t1
    pool.close()
    requests = len(pool.latencies)
    return {
        "requests": requests,
        "rps": round(requests / (t_tokens + t_buy), 1),
        "p50_ms": round(percentile(pool.latencies, 50) * 1000, 2),
        "p99_ms": round(percentile(pool.latencies, 99) * 1000, 2),
        "errors_5xx": sum(v for k, v in pool.statuses.items() if k >= 500),
        "status_counts": {str(k): v for k, v in sorted(pool.statuses.items())},
        "users": n,
        "tokens_issued": issued,
        "seat_pool": len(seats),
        "outcome": outcome,
        "token_phase_s": round(t_tokens, 2),
        "admission_round_s": round(admit_s, 2),
        "buy_phase_s": round(t_buy, 2),
    }


def run(ctx: Context) -> dict[str, object]:
    from django.db import connection

    concert_id = ctx.concert("flow")
    before = _counts(concert_id)  # earlier repetitions sold seats of the same concert
    result = asyncio.run(_flow(ctx, concert_id))
    violations = check_invariants()
    counts = {k: v - before[k] for k, v in _counts(concert_id).items()}
    connection.close()
    paid = result["outcome"]["paid"]  # type: ignore[index]
    result["violations"] = violations
    result |= counts
    result["invariants_hold"] = (
        all(v == 0 for v in violations.values())
        and counts["sold_seats"] == paid
        and counts["completed_payments"] == paid
        and paid == len(ctx.users["flow"])
        and result["errors_5xx"] == 0
    )
    return result
