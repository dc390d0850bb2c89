"""7. A skewed node: two web nodes behind HAProxy, the second under libfaketime, its wall clock 30 s ahead,
then 30 s behind, then right again (its monotonic clock stays real, so timeouts keep working).

The clock guard must keep the skewed node from writing with its clock: /readyz answers 503 naming the
offset, so HAProxy takes it out of rotation; called directly it refuses holds, payments and token issue
with 503 + Retry-After and serves reads. Ahead, it would take another fan's live hold over; behind, it
would let a lapsed token book: neither happens. Once its clock is right it serves again by itself and
HAProxy puts it back. The balancer's load runs throughout: every answer 2xx, 4xx or 503, never a 500.
"""

from __future__ import annotations

import base64
import glob
import json
import time
from pathlib import Path

from bench.stackbase import free_port
from tests.chaos.faults.common import Ctx, FaultResult, judge_answers, judge_paid_exist
from tests.chaos.load import Booker, Http, LoadDriver, Reply
from tests.chaos.stack import REPO, wait_until

SKEW_SECONDS = 30
WRITES = {"hold", "pay", "queue_issue", "cancel", "refund"}


class Node:
    """Requests to one node, each on a new connection (a kept-alive one the node closed while the test
    waited elsewhere would fail the next request)."""

    def __init__(self, port: int) -> None:
        self.port = port

    def request(
        self, method: str, path: str, body: object = None, headers: dict[str, str] | None = None
    ) -> Reply:
        client = Http(self.port)
        try:
            return client.request(method, path, body, headers)
        finally:
            client.close()


def faketime_env(offset_file: Path) -> dict[str, str]:
    """libfaketime reading its offset ("+30s", "-30s", "+0s") from `offset_file` at most once a second,
    so the orchestrator can move the node's clock while it runs."""
    libraries = glob.glob("/usr/lib/*/faketime/libfaketime.so.1")
    if not libraries:
        raise RuntimeError("libfaketime not found: apt-get install faketime")
    return {
        "LD_PRELOAD": libraries[0],
        "FAKETIME_TIMESTAMP_FILE": str(offset_file),
        "FAKETIME_CACHE_DURATION": "1",
        "DONT_FAKE_MONOTONIC": "1",  # timeouts, sleeps and gunicorn's heartbeat on the real clock
        "NO_FAKE_STAT": "1",  # gunicorn's heartbeat compares file times with the monotonic clock
        "PYTHONPATH": str(REPO / "tests" / "chaos" / "faketime"),  # its sitecustomize: see there
    }


def fault_skewed_node(ctx: Ctx) -> FaultResult:
    res = FaultResult(
        f"7. a skewed node behind HAProxy (libfaketime): {SKEW_SECONDS} s ahead, then behind, then right"
    )
    stack = ctx.stack
    port2, lb_port = free_port(), free_port()
    offset_file = stack.work / "faketime-offset"
    offset_file.write_text(f"+{SKEW_SECONDS}s\n")
    # /healthz: a node whose clock is off is alive but, rightly, never ready.
    stack.start_web("gunicorn2", port2, ready_path="/healthz", **faketime_env(offset_file))
    stack.start_haproxy(lb_port, {"web1": stack.http_port, "web2": port2})
    node2 = Node(port2)
    # The calls to the right node retry a 503 as a client does (its transients are earlier faults'
    # subject); the skewed node is called through `node2`, never patiently.
    ctx.patient, ctx.transients = True, []
    lapsing = ctx.probe_user()
    lapsing_token = ctx.active_token(lapsing)  # lapses (token TTL) while the node is ahead
    lb = _balancer_load(ctx, lb_port)
    lb.set_phase("ahead")
    lb.start()
    skew_started = time.monotonic()
    try:
        _ahead(res, ctx, node2, lb_port)
        lb.set_phase("behind")
        readiness = _move_clock(offset_file, f"-{SKEW_SECONDS}s", node2, lambda r: _offset(r) < -1000)
        res.check(
            f"moved from {SKEW_SECONDS} s ahead to {SKEW_SECONDS} s behind, the node never became ready "
            f"(readiness answers meanwhile: {sorted(set(readiness))})",
            bool(readiness) and set(readiness) == {503},
        )
        _behind(res, ctx, node2, lb_port, lapsing, lapsing_token)
        lb.set_phase("back")
        skew_ended = time.monotonic()
        _back(res, ctx, node2, lb_port, offset_file)
        res.check("through HAProxy: the load paid during the fault", len(lb.paid) >= 2, f"{len(lb.paid)}")
    finally:
        ctx.patient = False
        lb.stop()
        stack.stop_process("haproxy")
        stack.stop_process("gunicorn2")
    if ctx.transients:
        res.notes.append(f"503s of the right node retried: {'; '.join(ctx.transients)}")
    records = lb.records
    judge_answers(res, records, "through the balancer")
    written = [
        r
        for r in records
        if r.reply.headers.get("x-served-by") == "web2"
        and r.name in WRITES
        and r.reply.status < 300
        and skew_started <= r.reply.started <= skew_ended
    ]
    res.check(
        f"no write answered 2xx by the skewed node ({len(written)})",
        not written,
        "; ".join(f"{r.name} {r.reply.status}" for r in written[:3]),
    )
    log = (stack.logs / "gunicorn2.log").read_text(errors="replace")
    res.check(
        "the skewed node logged that it refused writes, and that it served again",
        "refusing time-dependent writes" in log and "serving writes again" in log,
    )
    judge_paid_exist(res, ctx, lb, " through the balancer")
    judge_paid_exist(res, ctx)
    res.notes.append(f"balancer load: {len(records)} requests, {len(lb.paid)} payments answered 201")
    return res


def _ahead(res: FaultResult, ctx: Ctx, node2: Node, lb_port: int) -> None:
    ready = _wait_ready_status(node2, 503, lambda r: _offset(r) > 1000)
    res.check(
        f"ahead: the node's /readyz answers 503 naming its offset ({_offset(ready):+.0f} ms)",
        ready.status == 503 and abs(_offset(ready) - SKEW_SECONDS * 1000) < 2000,
        ready.raw[:200].decode(),
    )
    _check_out_of_rotation(res, lb_port, "ahead")
    holder, taker = ctx.probe_user(), ctx.probe_user()
    holder_token, taker_token = ctx.active_token(holder), ctx.active_token(taker)
    seat = ctx.probe_seat()
    hold = ctx.hold(holder, holder_token or "x", seat)
    res.check(f"ahead: a fan holds seat {seat} on the right node ({hold.status})", hold.status == 201)
    takeover = _hold_on(node2, ctx, taker, taker_token or "x", seat)
    res.check(
        f"ahead: that live hold is not taken over on the skewed node ({takeover.status} {takeover.code}, "
        "503 with Retry-After)",
        _refused(takeover),
        takeover.raw[:160].decode(),
    )
    issue = node2.request("POST", "/api/v1/queue/tokens", {"concert_id": ctx.concert_id}, taker.auth)
    res.check(f"ahead: token issue refused on the skewed node ({issue.status})", _refused(issue))
    reservation = hold.body["id"] if hold.status == 201 else "0"
    pay_there = node2.request(
        "POST",
        "/api/v1/payments",
        {"reservation_id": reservation},
        {**holder.auth, "X-Queue-Token": holder_token or "x"},
    )
    res.check(f"ahead: payment refused on the skewed node ({pay_there.status})", _refused(pay_there))
    reads = {
        "seat map": node2.request("GET", f"/api/v1/schedules/{ctx.schedule_id}/seats").status,
        "reservation": node2.request("GET", f"/api/v1/reservations/{reservation}", None, holder.auth).status,
        "queue status": node2.request(
            "GET", "/api/v1/queue/status", None, {"X-Queue-Token": taker_token or "x"}
        ).status,
    }
    res.check(f"ahead: reads served by the skewed node ({reads})", set(reads.values()) == {200})
    pay = ctx.call(
        "POST",
        "/api/v1/payments",
        {"reservation_id": reservation},
        {**holder.auth, "X-Queue-Token": holder_token or "x"},
    )
    res.check(f"ahead: the fan pays the hold on the right node ({pay.status})", pay.status == 201)


def _behind(
    res: FaultResult, ctx: Ctx, node2: Node, lb_port: int, lapsing: Booker, token: str | None
) -> None:
    ready = node2.request("GET", "/readyz")
    res.check(
        f"behind: the node's /readyz answers 503 naming its offset ({_offset(ready):+.0f} ms)",
        ready.status == 503 and abs(_offset(ready) + SKEW_SECONDS * 1000) < 2000,
        ready.raw[:200].decode(),
    )
    _check_out_of_rotation(res, lb_port, "behind")
    lapsed = wait_until(lambda: ctx.token_status(token or "x") == "EXPIRED", 20, 0.3)
    res.check("behind: a fan's token has lapsed (read on the right node)", lapsed)
    # A node behind refuses (401) a bearer token issued within its offset ("not yet valid"): wait until
    # the fan's is older, so the booking itself is what the node is asked (only a run of fault 7 alone,
    # right after the seeding, waits here).
    time.sleep(max(0.0, _jwt_issued_at(lapsing.jwt) + SKEW_SECONDS + 2 - time.time()))
    there = _hold_on(node2, ctx, lapsing, token or "x", ctx.probe_seat())
    res.check(
        f"behind: the lapsed token cannot book on the skewed node ({there.status} {there.code})",
        _refused(there),
        there.raw[:160].decode(),
    )
    here = ctx.hold(lapsing, token or "x", ctx.probe_seat())
    res.check(
        f"behind: nor on the right node ({here.status} {here.code})", here.code == "queue_token_not_active"
    )


def _back(res: FaultResult, ctx: Ctx, node2: Node, lb_port: int, offset_file: Path) -> None:
    readiness = _move_clock(offset_file, "+0s", node2, lambda r: r.status == 200)
    res.check(
        f"clock right again: the node is ready by itself ({len(readiness)} probes)",
        bool(readiness) and readiness[-1] == 200,
    )
    both = wait_until(lambda: _served_by(lb_port, 8) == {"web1", "web2"}, 15, 0.3)
    res.check("clock right again: HAProxy sends answers to both nodes again", both)
    fan = ctx.probe_user()
    token = ctx.active_token(fan)
    seat = ctx.probe_seat()
    # As a client honouring Retry-After: a worker process of the node that no probe reached yet may
    # refuse once more, until its own next measurement (within a second while it refuses).
    holds = [_hold_on(node2, ctx, fan, token or "x", seat)]
    while holds[-1].status == 503 and len(holds) < 5:
        time.sleep(1.0)
        holds.append(_hold_on(node2, ctx, fan, token or "x", seat))
    res.check(
        f"clock right again: the node takes holds again ({[h.status for h in holds]})",
        holds[-1].status == 201,
        holds[-1].raw[:160].decode(),
    )


def _balancer_load(ctx: Ctx, lb_port: int) -> LoadDriver:
    """The balancer's bookers and readers on their own seats (fault 6's, which skips the seats it sold)."""
    first, count = ctx.lb_seats
    return LoadDriver(
        port=lb_port,
        concert_id=ctx.concert_id,
        schedule_id=ctx.schedule_id,
        seats=count,
        first_seat=first,
        bookers=[Booker(b.user_id, b.jwt) for b in ctx.lb_bookers],
        watchers=[Booker(w.user_id, w.jwt) for w in ctx.lb_watchers],
        duration=180,
    )


def _move_clock(offset_file: Path, offset: str, node2: Node, until) -> list[int]:  # type: ignore[no-untyped-def]
    """Write the node's new offset; poll its /readyz until `until(reply)` holds for several probes in a
    row (each worker process reads the offset file on its own, within FAKETIME_CACHE_DURATION); the
    statuses seen meanwhile."""
    offset_file.write_text(offset + "\n")
    seen: list[int] = []
    streak = 0

    def probe() -> bool:
        nonlocal streak
        reply = node2.request("GET", "/readyz")
        seen.append(reply.status)
        streak = streak + 1 if until(reply) else 0
        return streak >= 6

    wait_until(probe, 20, 0.2)
    return seen


def _jwt_issued_at(jwt: str) -> float:
    claims = jwt.split(".")[1]
    return float(json.loads(base64.urlsafe_b64decode(claims + "=" * (-len(claims) % 4)))["iat"])


def _wait_ready_status(node2: Node, status: int, until) -> Reply:  # type: ignore[no-untyped-def]
    replies: list[Reply] = []

    def probe() -> bool:
        replies.append(node2.request("GET", "/readyz"))
        return all(r.status == status and until(r) for r in replies[-4:]) and len(replies) >= 4

    wait_until(probe, 20, 0.2)
    return replies[-1]


def _check_out_of_rotation(res: FaultResult, lb_port: int, label: str) -> None:
    alone = wait_until(lambda: _served_by(lb_port, 8) == {"web1"}, 15, 0.3)
    res.check(f"{label}: HAProxy's check on /readyz took the skewed node out of rotation", alone)


def _served_by(lb_port: int, n: int) -> set[str]:
    """The nodes that served `n` requests through the balancer, each on a new connection."""
    lb = Node(lb_port)
    return {lb.request("GET", "/healthz").headers.get("x-served-by", "?") for _ in range(n)}


def _hold_on(node: Node, ctx: Ctx, booker: Booker, token: str, seat: int) -> Reply:
    return node.request(
        "POST",
        "/api/v1/reservations",
        {"schedule_id": ctx.schedule_id, "seat_number": seat},
        {**booker.auth, "X-Queue-Token": token},
    )


def _refused(reply: Reply) -> bool:
    return reply.status == 503 and reply.code == "service_unavailable" and "retry-after" in reply.headers


def _offset(reply: Reply) -> float:
    clock = reply.body.get("clock") if isinstance(reply.body, dict) else None
    offset = clock.get("offset_ms") if isinstance(clock, dict) else None
    return float(offset) if offset is not None else 0.0
