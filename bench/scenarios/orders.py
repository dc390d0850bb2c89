"""order_best_available: POST /orders of two seats best available, many buyers on the same schedules at
once (1,000 seats each), driven by wrk.

Each buyer has an ACTIVE token for one of this repetition's order concerts and sends two orders (four
seats: the hold limit), so no refusal is expected while seats remain: every 409 is counted, and the run
fails its check if any came while each schedule still had seats to offer."""

from __future__ import annotations

import json
import random

from bench.context import Context
from bench.wrkrun import run_wrk, write_lines

ORDERS = "/api/v1/orders"
ORDERS_PER_BUYER = 2
SEATS_PER_ORDER = 2


def order_best_available(ctx: Context) -> dict[str, object]:
    buyers = ctx.users["order"]
    concerts = ctx.order_concerts()
    rows = []
    for i in range(len(buyers)):
        concert = concerts[i % len(concerts)]
        schedules = ctx.catalog.schedules[concert]
        headers = [
            f"Authorization: Bearer {ctx.jwts['order'][i]}",
            f"X-Queue-Token: {ctx.queue_tokens['order'][i]}",
        ]
        for k in range(ORDERS_PER_BUYER):
            schedule = schedules[(i // len(concerts) + k) % len(schedules)]
            body = json.dumps({"schedule_id": schedule, "quantity": SEATS_PER_ORDER}, separators=(",", ":"))
            rows.append((ORDERS, body, headers))
    random.Random(13).shuffle(rows)
    warm = rows.pop()  # one checked request first (also warms the path)
    status, answer = ctx.http("POST", ORDERS, json.loads(warm[1]), dict(h.split(": ", 1) for h in warm[2]))
    if status != 201:
        raise RuntimeError(f"order answered {status}: {str(answer)[:200]}")
    data = write_lines(ctx.data_dir / "order_best_available.tsv", rows)
    result = run_wrk(
        ctx.base_url,
        data,
        method="POST",
        threads=ctx.threads,
        duration=ctx.duration,
        connections=ctx.connections,
    )
    refused = int(result["status_counts"].get("409", 0))  # type: ignore[union-attr]
    fewest = _fewest_takeable_seats(concerts)
    result["orders_refused_409"] = refused
    result["fewest_seats_left_in_a_schedule"] = fewest
    # A refusal is spurious unless some schedule ran short of seats (and the data never wrapped, which
    # would send a buyer past the hold limit).
    result["no_spurious_not_enough_seats"] = refused == 0 or (
        fewest < SEATS_PER_ORDER and not result["data_wrapped"]
    )
    result["buyers"] = len(buyers)
    result["schedules"] = sum(len(ctx.catalog.schedules[c]) for c in concerts)
    return result


def _fewest_takeable_seats(concert_ids: list[int]) -> int:
    from django.db import connection
    from django.db.models import Count, Q

    from concerts.models import Seat, SeatStatus

    rows = (
        Seat.objects.filter(schedule__concert_id__in=concert_ids)
        .values("schedule_id")
        .annotate(left=Count("pk", filter=Q(status=SeatStatus.AVAILABLE)))
        .order_by("left")
    )
    fewest = int(rows[0]["left"]) if rows else 0
    connection.close()
    return fewest
