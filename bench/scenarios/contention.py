"""1,000 simultaneous holds of one seat by 1,000 users with ACTIVE tokens.

Every connection is opened first, then all requests are written at once: exactly one 201 is expected,
every other answer 409 `seat_unavailable`, no 5xx; the database must show one live reservation."""

from __future__ import annotations

import asyncio
import time

from bench.context import Context
from bench.httpclient import Connection, percentile

RESERVATIONS = "/api/v1/reservations"


async def _race(
    ctx: Context, schedule_id: int, seat_number: int
) -> tuple[list[tuple[int, str | None, float]], float]:
    n = len(ctx.users["contention"])
    conns = [Connection(ctx.host, ctx.port) for _ in range(n)]
    await asyncio.gather(*(c.open() for c in conns))
    host = f"{ctx.host}:{ctx.port}"
    body = {"schedule_id": schedule_id, "seat_number": seat_number}
    raws = [
        Connection.build(
            "POST",
            RESERVATIONS,
            host,
            {
                "Authorization": f"Bearer {ctx.jwts['contention'][i]}",
                "X-Queue-Token": ctx.queue_tokens["contention"][i],
            },
            body,
        )
        for i in range(n)
    ]

    async def one(conn: Connection, raw: bytes) -> tuple[int, str | None, float]:
        t0 = time.perf_counter()
        await conn.send(raw)
        status, _headers, payload = await conn.read_response()
        code = None
        if status >= 400:
            import json

            try:
                code = json.loads(payload).get("code")
            except ValueError:
                code = "unparsable"
        return status, code, time.perf_counter() - t0

    started = time.perf_counter()
    results = await asyncio.gather(
        *(one(c, r) for c, r in zip(conns, raws, strict=True)), return_exceptions=True
    )
    elapsed = time.perf_counter() - started
    for c in conns:
        c.close()
    out: list[tuple[int, str | None, float]] = []
    for r in results:
        if isinstance(r, BaseException):
            out.append((0, f"client error: {type(r).__name__}", 0.0))
        else:
            out.append(r)
    return out, elapsed


def _live_reservations(schedule_id: int, seat_number: int) -> tuple[int, str]:
    from django.db import connection

    from concerts.models import Seat
    from reservations.models import Reservation

    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT count(*) FROM {Reservation._meta.db_table} r "
            f"JOIN {Seat._meta.db_table} s ON s.id = r.seat_id "
            "WHERE s.schedule_id = %s AND s.number = %s AND r.status IN ('PENDING', 'CONFIRMED')",
            [schedule_id, seat_number],
        )
        live = cursor.fetchone()[0]
        cursor.execute(
            f"SELECT status FROM {Seat._meta.db_table} WHERE schedule_id = %s AND number = %s",
            [schedule_id, seat_number],
        )
        status = cursor.fetchone()[0]
    connection.close()
    return live, status


def run(ctx: Context) -> dict[str, object]:
    schedule_id = ctx.catalog.schedules[ctx.concert("contention")][0]
    seat_number = 1 + ctx.rep  # a fresh seat each repetition
    results, elapsed = asyncio.run(_race(ctx, schedule_id, seat_number))
    statuses: dict[str, int] = {}
    codes: dict[str, int] = {}
    for status, code, _ in results:
        statuses[str(status)] = statuses.get(str(status), 0) + 1
        if code:
            codes[code] = codes.get(code, 0) + 1
    lat = [r[2] for r in results if r[0]]
    wins = statuses.get("201", 0)
    losers_ok = (
        statuses.get("409", 0) == len(results) - 1 and codes.get("seat_unavailable", 0) == len(results) - 1
    )
    live, seat_status = _live_reservations(schedule_id, seat_number)
    errors_5xx = sum(v for k, v in statuses.items() if int(k) >= 500)
    return {
        "rps": round(len(results) / elapsed, 1),
        "p50_ms": round(percentile(lat, 50) * 1000, 2),
        "p99_ms": round(percentile(lat, 99) * 1000, 2),
        "errors_5xx": errors_5xx,
        "exactly_one_winner": wins == 1
        and losers_ok
        and live == 1
        and seat_status == "HELD"
        and errors_5xx == 0,
        "requests": len(results),
        "elapsed_s": round(elapsed, 3),
        "status_counts": dict(sorted(statuses.items())),
        "error_codes": codes,
        "live_reservations_for_seat": live,
        "seat_status_after": seat_status,
    }
