"""1. Redis stopped, then restarted; then Redis frozen (SIGSTOP) for a while."""

from __future__ import annotations

import signal
import time

from tests.chaos.faults.common import QUEUE_ENDPOINTS, Ctx, FaultResult, judge_answers, judge_no_hang
from tests.chaos.load import Reply, is_clean_failure
from tests.chaos.stack import http_status, wait_until


def _outage_ok(reply: Reply) -> bool:
    return (
        reply.status == 503
        and reply.code == "service_unavailable"
        and "retry-after" in reply.headers
        and reply.seconds < 1.0
    )


def fault_redis_outage(ctx: Ctx) -> FaultResult:
    res = FaultResult("1. Redis stopped, then restarted")
    stack, driver = ctx.stack, ctx.driver
    pids = stack.web_worker_pids()
    user = ctx.probe_user()
    token = ctx.active_token(user)
    res.check("before: a probe user is admitted (ACTIVE token)", token is not None)
    driver.set_phase("redis-down")
    down = time.monotonic()
    stack.stop_redis()
    time.sleep(1.0)
    issue = ctx.call("POST", "/api/v1/queue/tokens", {"concert_id": ctx.concert_id}, ctx.probe_user().auth)
    status = ctx.call("GET", "/api/v1/queue/status", None, {"X-Queue-Token": token or "x"})
    hold = ctx.hold(user, token or "x", ctx.probe_seat())
    ready = http_status(f"{stack.base_url}/readyz")
    alive = http_status(f"{stack.base_url}/healthz")
    for name, reply in (
        ("POST /queue/tokens", issue),
        ("GET /queue/status", status),
        ("POST /reservations", hold),
    ):
        res.check(
            f"while down: {name} is 503 service_unavailable with Retry-After within 1 s "
            f"({reply.status}, {reply.seconds:.2f} s)",
            _outage_ok(reply),
            reply.raw[:160].decode(errors="replace"),
        )
    res.check(f"while down: /readyz is 503 ({ready})", ready == 503)
    res.check(f"while down: /healthz is 200 ({alive})", alive == 200)
    time.sleep(3.0)  # the load keeps hitting the outage
    up = time.monotonic()
    during = driver.since(down + 0.3, up)
    queue_answers = [r for r in during if r.name in QUEUE_ENDPOINTS]
    res.check(
        f"while down: every queue answer the load got ({len(queue_answers)}) was a 503 within 1 s",
        queue_answers and all(_outage_ok(r.reply) for r in queue_answers),
        "; ".join(
            f"{r.name} {r.reply.status} {r.reply.seconds:.2f}s"
            for r in queue_answers
            if not _outage_ok(r.reply)
        )[:300],
    )
    driver.set_phase("redis-up")
    stack.start_redis()
    recovered = wait_until(
        lambda: (
            http_status(f"{stack.base_url}/readyz") == 200
            and ctx.call("GET", "/api/v1/queue/status", None, {"X-Queue-Token": token or "x"}).status == 200
        ),
        15,
        0.2,
    )
    res.check(
        f"after restart: /readyz 200 and queue polls 200 again ({time.monotonic() - up:.1f} s)", recovered
    )
    streak = [
        ctx.call("GET", "/api/v1/queue/status", None, {"X-Queue-Token": token or "x"}).status
        for _ in range(20)
    ]
    res.check(
        "after restart: 20 polls in a row answer 200 (no stale pooled connection)",
        set(streak) == {200},
        str(streak),
    )
    newcomer = ctx.probe_user()
    admitted = ctx.active_token(newcomer, timeout=25) is not None
    res.check("after restart: the same worker and beat admit a newcomer (Celery reconnected)", admitted)
    res.check(
        "after restart: the load pays again",
        ctx.wait_for_payments(up, 2, 25),
    )
    res.check(f"no web worker died or was replaced (pids {pids})", stack.web_worker_pids() == pids)
    res.check(
        "the Celery worker and beat still run (not restarted)",
        stack.running("worker") and stack.running("beat"),
    )
    records = driver.since(down, time.monotonic())
    judge_answers(res, records, "during and after the outage")
    judge_no_hang(res, records, 5)
    _redis_frozen(res, ctx, token or "x")
    return res


def _redis_frozen(res: FaultResult, ctx: Ctx, token: str) -> None:
    """A variant: Redis hung (SIGSTOP), not gone. Connections open but nothing answers; the socket
    timeout (1 s) must turn that into a 503 instead of a stuck worker thread."""
    ctx.driver.set_phase("redis-frozen")
    frozen = time.monotonic()
    ctx.stack.signal("redis", signal.SIGSTOP)
    try:
        time.sleep(0.5)
        poll = ctx.call("GET", "/api/v1/queue/status", None, {"X-Queue-Token": token})
        time.sleep(2.0)
    finally:
        ctx.stack.signal("redis", signal.SIGCONT)
    thawed = time.monotonic()
    # Bounded, not instant: each request waits out the 1 s socket timeout, and may first wait for a
    # worker thread while the others do the same.
    res.check(
        f"Redis frozen (SIGSTOP): a queue poll is 503 service_unavailable with Retry-After in "
        f"{poll.seconds:.2f} s (<= 3 s: the 1 s socket timeout, plus waiting for a free thread)",
        poll.status == 503 and is_clean_failure(poll) and poll.seconds <= 3.0,
        poll.raw[:120].decode(errors="replace"),
    )
    back = wait_until(lambda: ctx.token_status(token) is not None, 10, 0.2)
    res.check(f"Redis thawed: queue polls answer again ({time.monotonic() - thawed:.1f} s)", back)
    records = ctx.driver.since(frozen, time.monotonic())
    judge_answers(res, records, "while Redis was frozen")
    judge_no_hang(res, records, 5)
