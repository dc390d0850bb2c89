"""The rate scenarios, driven by wrk: baseline, seat_map, queue_status, token_issue, hold_distinct."""

from __future__ import annotations

import json
import random
from typing import Any

from bench.context import Context
from bench.wrkrun import run_wrk, write_lines

QUEUE_STATUS = "/api/v1/queue/status"
QUEUE_TOKENS = "/api/v1/queue/tokens"
RESERVATIONS = "/api/v1/reservations"


def _wrk(
    ctx: Context, name: str, rows: list[tuple[str, str, list[str]]], method: str = "GET", **kw: Any
) -> dict[str, Any]:
    data = write_lines(ctx.data_dir / f"{name}.tsv", rows)
    kw.setdefault("duration", ctx.duration)
    kw.setdefault("connections", ctx.connections)
    return run_wrk(ctx.base_url, data, method=method, threads=ctx.threads, **kw)


def warm_up(ctx: Context) -> None:
    """A short untimed run so both workers have imported their views and opened their connections."""
    _wrk(ctx, "warmup", [("/healthz", "", [])], duration=5)


def baseline(ctx: Context, duration: int | None = None) -> dict[str, object]:
    """A bare Django JsonResponse view (GET /healthz): the framework's limit on this server config."""
    return _wrk(ctx, "baseline", [("/healthz", "", [])], duration=duration or ctx.duration)


def seat_map(ctx: Context) -> dict[str, object]:
    """The whole seat map of a 1,000-seat schedule, spread over every schedule of the catalog."""
    schedules = [s for c in ctx.catalog.concert_ids for s in ctx.catalog.schedules[c]]
    rng = random.Random(4)
    rows = []
    for _ in range(20):
        rng.shuffle(schedules)
        rows += [(f"/api/v1/schedules/{s}/seats", "", []) for s in schedules]
    # warm each path once (first hit per process is not what we measure)
    status, body = ctx.http("GET", rows[0][0])
    if (
        status != 200
        or not isinstance(body, dict)
        or len(body.get("results", [])) != ctx.catalog.seats_per_schedule
    ):
        raise RuntimeError(f"seat map answered {status}: {str(body)[:200]}")
    result = _wrk(ctx, "seat_map", rows)
    result["schedules"] = len(schedules)
    result["seats_per_map"] = ctx.catalog.seats_per_schedule
    return result


def queue_status(
    ctx: Context, *, rate: float | None = None, connections: int | None = None
) -> dict[str, object]:
    """Status polls spread over the waiting tokens of the big queue (header only, no Authorization)."""
    tokens = list(ctx.queue_tokens["queue"])
    random.Random(7).shuffle(tokens)
    rows = [(QUEUE_STATUS, "", [f"X-Queue-Token: {t}"]) for t in tokens]
    status, body = ctx.http("GET", QUEUE_STATUS, headers={"X-Queue-Token": tokens[0]})
    if status != 200:
        raise RuntimeError(f"queue status answered {status}: {str(body)[:200]}")
    kw: dict[str, Any] = {"rate": rate}
    if connections:
        kw["connections"] = connections
    result = _wrk(ctx, "queue_status" if not rate else "queue_status_paced", rows, **kw)
    result["tokens"] = len(tokens)
    return result


def token_issue(ctx: Context) -> dict[str, object]:
    """POST /queue/tokens by users who hold none yet (one user per request) into the big queue."""
    body = json.dumps({"concert_id": ctx.concert("queue")}, separators=(",", ":"))
    jwts = ctx.jwts["issue"]
    rows = [(QUEUE_TOKENS, body, [f"Authorization: Bearer {j}"]) for j in jwts[1:]]
    status, answer = ctx.http("POST", QUEUE_TOKENS, json.loads(body), {"Authorization": f"Bearer {jwts[0]}"})
    if status != 201:
        raise RuntimeError(f"token issue answered {status}: {str(answer)[:200]}")
    result = _wrk(ctx, "token_issue", rows, method="POST")
    result["fresh_users"] = len(rows)
    return result


def hold_distinct(ctx: Context) -> dict[str, object]:
    """POST /reservations on distinct (schedule, seat) pairs by distinct users with ACTIVE tokens.

    Each hold user has an ACTIVE token for one hold concert and takes up to MAX_HOLDS_PER_USER seats
    of it; no seat is asked for twice, so every answer should be 201."""
    from django.conf import settings

    per_user = max(1, min(4, settings.MAX_HOLDS_PER_USER))
    users = ctx.users["hold"]
    concerts = ctx.hold_concerts()
    # seats of each hold concert, interleaved across its schedules
    free: dict[int, list[tuple[int, int]]] = {}
    for c in concerts:
        scheds = ctx.catalog.schedules[c]
        free[c] = [(s, n) for n in range(1, ctx.catalog.seats_per_schedule + 1) for s in scheds]
    # each repetition takes seats no earlier one could have taken (users are spread round-robin)
    taken_per_rep = (len(users) // len(concerts) + 1) * per_user
    for c in concerts:
        del free[c][len(free[c]) - ctx.rep * taken_per_rep :]
    rows = []
    for i, _uid in enumerate(users):
        c = ctx.hold_concert_of(i)
        for _ in range(per_user):
            s, n = free[c].pop()
            rows.append(
                (
                    RESERVATIONS,
                    json.dumps({"schedule_id": s, "seat_number": n}, separators=(",", ":")),
                    [
                        f"Authorization: Bearer {ctx.jwts['hold'][i]}",
                        f"X-Queue-Token: {ctx.queue_tokens['hold'][i]}",
                    ],
                )
            )
    random.Random(11).shuffle(rows)
    # one checked request first (also warms the path); its seat is not in the wrk data
    warm = rows.pop()
    status, answer = ctx.http(
        "POST", RESERVATIONS, json.loads(warm[1]), dict(h.split(": ", 1) for h in warm[2])
    )
    if status != 201:
        raise RuntimeError(f"hold answered {status}: {str(answer)[:200]}")
    result = _wrk(ctx, "hold_distinct", rows, method="POST")
    result["distinct_seats_available"] = len(rows)
    result["holds_per_user"] = per_user
    return result
