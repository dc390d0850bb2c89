"""3. Celery worker killed, beat stopped longer than a hold; then two beats and two promote loops at once."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time

import redis

from tests.chaos.faults.common import Ctx, FaultResult, judge_answers
from tests.chaos.invariants import queue_client
from tests.chaos.load import Booker
from tests.chaos.queue_keys import active_key, token_key
from tests.chaos.stack import ACTIVE_TTL_SECONDS, HOLD_SECONDS, REPO, wait_until


def fault_worker_and_beat(ctx: Ctx) -> FaultResult:
    res = FaultResult(
        f"3. Celery worker SIGKILLed and beat stopped > a hold ({HOLD_SECONDS} s); two beats at once"
    )
    # The web tier is not this fault's subject, and may still answer one 503 per gunicorn thread whose
    # database connection an earlier fault's PostgreSQL restart dropped (replaced after that one
    # request, by design): the scripted calls retry a 503 as a client does, and say so.
    ctx.patient, ctx.transients = True, []
    try:
        _jobs_down(res, ctx)
        _two_beats(res, ctx)
    finally:
        ctx.patient = False
    if ctx.transients:
        res.notes.append(f"503s retried by the scripted calls: {'; '.join(ctx.transients)}")
    return res


def _jobs_down(res: FaultResult, ctx: Ctx) -> None:
    stack, driver = ctx.stack, ctx.driver
    a, b, c = ctx.probe_user(), ctx.probe_user(), ctx.probe_user()
    token_a, token_b = ctx.active_token(a), ctx.active_token(b)
    res.check("before: two probe users admitted", token_a is not None and token_b is not None)
    seat = ctx.probe_seat()
    hold = ctx.hold(a, token_a or "x", seat)
    res.check(f"before: A holds seat {seat} ({hold.status})", hold.status == 201, hold.raw[:120].decode())
    reservation = hold.body["id"] if hold.status == 201 else "00000000-0000-0000-0000-000000000000"
    held_at = time.monotonic()
    token_a_expires = time.monotonic() + ACTIVE_TTL_SECONDS  # at the latest
    driver.set_phase("no-jobs")
    stack.stop_process("worker", signal.SIGKILL)
    stack.stop_process("beat", signal.SIGTERM)
    stopped = time.monotonic()
    res.check(
        "worker killed (SIGKILL) and beat stopped", not stack.running("worker") and not stack.running("beat")
    )
    waiting = ctx.call("POST", "/api/v1/queue/tokens", {"concert_id": ctx.concert_id}, c.auth)
    token_c = waiting.body["token"] if waiting.status in (200, 201) else None

    time.sleep(max(0.0, held_at + HOLD_SECONDS + 0.3 - time.monotonic()))
    read = ctx.call("GET", f"/api/v1/reservations/{reservation}", None, a.auth)
    res.check(
        f"hold lapsed with no job: the reservation reads EXPIRED "
        f"({read.body.get('status') if read.body else read.status})",
        read.status == 200 and read.body["status"] == "EXPIRED",
    )
    seat_now = ctx.seat_status(seat)
    res.check(f"hold lapsed with no job: the seat map says AVAILABLE ({seat_now})", seat_now == "AVAILABLE")
    pay = ctx.call(
        "POST",
        "/api/v1/payments",
        {"reservation_id": reservation},
        {**a.auth, "X-Queue-Token": token_a or "x"},
    )
    res.check(
        f"the lapsed hold cannot be paid (409 reservation_expired: {pay.status} {pay.code})",
        pay.code == "reservation_expired",
    )
    retake = ctx.hold(b, token_b or "x", seat)
    res.check(
        f"a new hold on the seat succeeds ({retake.status})", retake.status == 201, retake.raw[:120].decode()
    )

    time.sleep(max(0.0, token_a_expires + 0.3 - time.monotonic()))
    status_a = ctx.token_status(token_a or "x")
    res.check(f"token lapsed with no job: A's token reads EXPIRED ({status_a})", status_a == "EXPIRED")
    again = ctx.hold(a, token_a or "x", ctx.probe_seat())
    res.check(
        f"the lapsed token cannot book (403 queue_token_not_active: {again.code})",
        again.code == "queue_token_not_active",
    )
    res.check(
        "with no beat nobody is admitted: a newcomer is still WAITING",
        token_c is not None and ctx.token_status(token_c) == "WAITING",
    )
    down_for = time.monotonic() - stopped
    res.notes.append(
        f"worker and beat were down {down_for:.1f} s "
        f"(hold {HOLD_SECONDS} s, token TTL {ACTIVE_TTL_SECONDS} s)"
    )

    stack.start_worker()
    stack.start_beat()
    driver.set_phase("jobs-back")
    res.check(
        "jobs back: the waiting newcomer is admitted",
        token_c is not None and wait_until(lambda: ctx.token_status(token_c) == "ACTIVE", 30, 0.3),
    )
    swept = wait_until(
        lambda: (
            ctx.sql("SELECT status FROM reservations_reservation WHERE id = %s", reservation)
            == [("EXPIRED",)]
        ),
        15,
        0.3,
    )
    res.check("jobs back: the sweep tidied the lapsed hold's row to EXPIRED", swept)
    records = driver.since(stopped, time.monotonic())
    judge_answers(res, records, "while the jobs were down")


def _two_beats(res: FaultResult, ctx: Ctx) -> None:
    """Two beat processes and then two promote loops at once against a concert with a cap, while
    admitted tokens are ended now and then (as payments do) so rounds keep finding room."""
    from queue_app.services import queue_token_expire  # the orchestrator runs Django on the same settings

    stack = ctx.stack
    r = queue_client(stack.queue_redis_url, stack.cluster_mode)
    half = len(ctx.queuers) // 2

    refused: list[str] = []

    def join(queuers: list[Booker]) -> list[str]:
        tokens = []
        for q in queuers:
            reply = ctx.call("POST", "/api/v1/queue/tokens", {"concert_id": ctx.cap_concert_id}, q.auth)
            if reply.status in (200, 201):
                tokens.append(reply.body["token"])
            else:
                refused.append(f"{reply.status} {reply.raw[:120]!r}")
        return tokens

    tokens = join(ctx.queuers[:half])
    res.check(
        f"two beats: {len(tokens)} users wait for the capped concert (cap {ctx.cap})",
        len(tokens) == half,
        "; ".join(refused),
    )
    active = active_key(ctx.cap_concert_id)
    peak = 0
    ended = 0
    stop = threading.Event()

    def watch_and_end() -> None:  # sample the live active count; end one admitted token now and then
        nonlocal peak, ended
        for i in range(100_000):
            if stop.is_set():
                return
            now_ms = int(time.time() * 1000)
            peak = max(peak, int(r.zcount(active, f"({now_ms}", "+inf")))
            if i % 20 == 0:
                live = r.zrangebyscore(active, f"({now_ms}", "+inf", start=0, num=1)
                if live:  # ended through the queue service, as a completed payment does
                    queue_token_expire(token=live[0])
                    ended += 1
            time.sleep(0.01)

    watcher = threading.Thread(target=watch_and_end, name="cap-watcher", daemon=True)
    watcher.start()
    try:
        stack.start_beat("beat2")
        time.sleep(8.0)
        res.check("two beats ran at once", stack.running("beat") and stack.running("beat2"))
        stack.stop_process("beat2")
        stack.stop_process("beat")
        res.notes.append(
            f"two beats admitted {_admitted(r, ctx.cap_concert_id, tokens)} of {len(tokens)} waiting for "
            "the capped concert"
        )
        tokens += join(ctx.queuers[half:])
        before = _admitted(r, ctx.cap_concert_id, tokens)
        loops = [
            subprocess.Popen(
                [sys.executable, "-m", "tests.chaos.promote_loop", str(ctx.cap_concert_id), "6"],
                cwd=REPO,
                env=stack.app_env(),
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
            for _ in range(2)
        ]
        outputs = []
        for p in loops:
            try:
                outputs.append(p.communicate(timeout=60)[0])
            except subprocess.TimeoutExpired:
                p.kill()
                outputs.append(p.communicate()[0])
        by_loops = sum(int(o.split("admitted=")[1].split()[0]) for o in outputs if "admitted=" in o)
        after = _admitted(r, ctx.cap_concert_id, tokens)
    finally:
        stop.set()
        watcher.join(timeout=10)
        if not stack.running("beat"):
            stack.start_beat()
    res.notes.append(
        f"two promote loops: {' / '.join(o.strip() for o in outputs)}; {ended} tokens ended meanwhile"
    )
    if refused:
        res.notes.append(f"joins of the capped concert refused: {'; '.join(refused)}")
    res.check(
        f"two promote loops at once: admitted {by_loops} in total = {after - before} tokens that left the "
        "queue admitted (none twice)",
        by_loops == after - before and all("admitted=" in o for o in outputs),
        " | ".join(outputs)[:300],
    )
    res.check(f"the cap was never exceeded (peak {peak} active <= {ctx.cap})", peak <= ctx.cap)
    r.close()


def _admitted(r: redis.Redis, concert_id: int, tokens: list[str]) -> int:
    """Tokens no longer waiting: admitted at some point (nobody abandons or leaves in this test)."""
    pipe = r.pipeline(transaction=False)
    for t in tokens:
        pipe.hget(token_key(concert_id, t), "s")
    return sum(1 for s in pipe.execute() if s in ("A", "E"))
