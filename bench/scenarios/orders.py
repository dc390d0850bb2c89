"""order_best_available: POST /orders of two seats best available, many buyers on the same schedules at
once (1,000 seats each), driven by wrk.

Each buyer has an ACTIVE token for one of this repetition's order concerts and sends two orders (four
seats: the hold limit), so no refusal is expected while seats remain. Every 409 is counted, the server's
409s by problem code are read from /metrics before and after (ticketing_api_problems), and the run fails
its check if orders were refused while not_enough_seats was among them and every schedule still had seats
to offer."""

from __future__ import annotations

import json
import random
import re
from collections import Counter

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
    refusals_before = _refusals_409(ctx)
    result = run_wrk(
        ctx.base_url,
        data,
        method="POST",
        threads=ctx.threads,
        duration=ctx.duration,
        connections=ctx.connections,
    )
    refused = int(result["status_counts"].get("409", 0))  # type: ignore[union-attr]
    by_code = _refusals_409(ctx) - refusals_before
    fewest = _fewest_takeable_seats(concerts)
    result["orders_refused_409"] = refused
    # The server's count covers every request it answered meanwhile (a straggler of an earlier scenario
    # too); only orders are refused not_enough_seats.
    result["server_409s_by_code_meanwhile"] = dict(by_code)
    result["fewest_seats_left_in_a_schedule"] = fewest
    # Spurious: an order refused not_enough_seats while every schedule still had seats to offer. (A buyer
    # sent past the hold limit when the data wraps is refused hold_limit_reached, not this.)
    result["no_spurious_not_enough_seats"] = (
        refused == 0 or by_code.get("not_enough_seats", 0) == 0 or fewest < SEATS_PER_ORDER
    )
    result["buyers"] = len(buyers)
    result["schedules"] = sum(len(ctx.catalog.schedules[c]) for c in concerts)
    return result


_PROBLEM_SAMPLE = re.compile(r"^ticketing_api_problems_total\{(?P<labels>[^}]*)\} (?P<value>\S+)$", re.M)


def _refusals_409(ctx: Context) -> Counter[str]:
    """409 answers so far by problem code, summed over the server's processes (GET /metrics)."""
    status, text = ctx.http("GET", "/metrics")
    if status != 200 or not isinstance(text, str):
        raise RuntimeError(f"/metrics answered {status}")
    counts: Counter[str] = Counter()
    for sample in _PROBLEM_SAMPLE.finditer(text):
        labels = dict(re.findall(r'(\w+)="([^"]*)"', sample["labels"]))
        if labels.get("status") == "409":
            counts[labels["code"]] += int(float(sample["value"]))
    return counts


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
