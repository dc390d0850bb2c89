"""The four fault scenarios. Each runs with the load driver going, judges the answers given during the
fault and after it, and returns its checks; the runner adds the invariant check after each.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import psycopg
import redis

from tests.chaos.invariants import Verdict
from tests.chaos.load import Booker, Http, LoadDriver, PaymentAttempt, Record, Reply, is_clean_failure
from tests.chaos.stack import ACTIVE_TTL_SECONDS, HOLD_SECONDS, REPO, Stack, http_status, wait_until

QUEUE_ENDPOINTS = {"queue_issue", "queue_status"}


@dataclass
class FaultResult:
    name: str
    checks: list[Verdict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def check(self, name: str, ok: bool, detail: str = "") -> bool:
        self.checks.append(Verdict(name, bool(ok), detail))
        return bool(ok)

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)


@dataclass
class Ctx:
    stack: Stack
    driver: LoadDriver
    concert_id: int
    schedule_id: int
    cap_concert_id: int
    cap: int
    probes: list[Booker]  # fresh users for the scripted probes, one per use
    queuers: list[Booker]  # users who only queue for the capped concert
    probe_seats: list[int]  # seat numbers the load never takes

    @property
    def port(self) -> int:
        return self.stack.http_port

    def probe_user(self) -> Booker:
        return self.probes.pop()

    def probe_seat(self) -> int:
        return self.probe_seats.pop()

    def call(
        self, method: str, path: str, body: object = None, headers: dict[str, str] | None = None
    ) -> Reply:
        return Http(self.port).request(method, path, body, headers)

    def active_token(self, booker: Booker, concert_id: int | None = None, timeout: float = 20) -> str | None:
        reply = self.call(
            "POST", "/api/v1/queue/tokens", {"concert_id": concert_id or self.concert_id}, booker.auth
        )
        if reply.status not in (200, 201):
            return None
        token = reply.body["token"]
        ok = wait_until(lambda: self.token_status(token) == "ACTIVE", timeout, 0.2)
        return token if ok else None

    def token_status(self, token: str) -> str | None:
        reply = self.call("GET", "/api/v1/queue/status", None, {"X-Queue-Token": token})
        return reply.body["status"] if reply.status == 200 else None

    def hold(self, booker: Booker, token: str, seat: int) -> Reply:
        return self.call(
            "POST",
            "/api/v1/reservations",
            {"schedule_id": self.schedule_id, "seat_number": seat},
            {**booker.auth, "X-Queue-Token": token},
        )

    def seat_status(self, seat: int) -> str | None:
        reply = self.call("GET", f"/api/v1/schedules/{self.schedule_id}/seats")
        if reply.status != 200:
            return None
        return next((s["status"] for s in reply.body["results"] if s["number"] == seat), None)

    def sql(self, query: str, *params: object) -> list[tuple]:  # type: ignore[type-arg]
        with psycopg.connect(self.stack.database_url, connect_timeout=10, autocommit=True) as conn:
            return conn.execute(query, params or None).fetchall()  # type: ignore[arg-type]

    def payments_for(self, reservation_id: str) -> list[tuple]:  # type: ignore[type-arg]
        return self.sql(
            "SELECT p.id, p.amount, p.status, (SELECT count(*) FROM points_ledgerentry l WHERE l.kind = "
            "'PAYMENT' AND l.reference = 'reservation:' || p.reservation_id) FROM payments_payment p "
            "WHERE p.reservation_id = %s",
            reservation_id,
        )

    def wait_for_payments(self, after: float, count: int, timeout: float) -> bool:
        return wait_until(
            lambda: sum(1 for p in self.driver.paid if p.reply.started > after) >= count, timeout, 0.2
        )


# --- shared judgements -----------------------------------------------------------------------------
def judge_answers(res: FaultResult, records: list[Record], label: str) -> None:
    """No 500, no traceback, every refusal a problem document, every 503 with Retry-After."""
    unclean = [r for r in records if not is_clean_failure(r.reply)]
    by_status: dict[int, int] = {}
    for r in records:
        by_status[r.reply.status] = by_status.get(r.reply.status, 0) + 1
    res.notes.append(f"{label}: {len(records)} answers by status {dict(sorted(by_status.items()))}")
    res.check(
        f"{label}: no 500, no traceback; every 4xx/5xx a problem document, every 503 service_unavailable "
        "with Retry-After",
        not unclean,
        "; ".join(f"{r.name} {r.reply.status} {r.reply.raw[:120]!r}" for r in unclean[:3]),
    )


def judge_no_hang(res: FaultResult, records: list[Record], limit: float) -> None:
    slow = [r for r in records if r.reply.seconds > limit]
    worst = max((r.reply.seconds for r in records), default=0.0)
    res.check(
        f"no request hung: every answer within {limit:.0f} s (worst {worst:.2f} s)",
        not slow,
        "; ".join(f"{r.name} {r.reply.status} {r.reply.seconds:.1f}s {r.reply.error}" for r in slow[:3]),
    )


def judge_paid_exist(res: FaultResult, ctx: Ctx) -> None:
    """Every payment the load saw answered 201 exists, as answered."""
    paid = list(ctx.driver.paid)
    rows = {
        str(r[0]): r for r in ctx.sql("SELECT id, reservation_id::text, amount, status FROM payments_payment")
    }
    missing = [
        p
        for p in paid
        if str(p.reply.body["id"]) not in rows
        or rows[str(p.reply.body["id"])][1] != p.reservation_id
        or rows[str(p.reply.body["id"])][2] != p.reply.body["amount"]
    ]
    res.check(
        f"no committed payment lost: all {len(paid)} payments answered 201 so far exist as answered",
        not missing,
        "; ".join(f"payment {p.reply.body['id']} for {p.reservation_id}" for p in missing[:3]),
    )


def retry_interrupted(res: FaultResult, ctx: Ctx, attempts: list[PaymentAttempt], label: str) -> None:
    """Each payment the load saw interrupted (no answer, or a 5xx) was retried at once with its
    Idempotency-Key. The retry's answer must match the database: 201 (replayed if the first had
    committed, performed now if not) and exactly that one payment and one debit, or a clean refusal
    (the hold or the token lapsed meanwhile) and no payment at all."""
    bad: list[str] = []
    replayed = performed = refused = 0
    for a in attempts:
        reply = a.retried or a.retry_until_settled(ctx.port)
        rows = ctx.payments_for(a.reservation_id)
        if reply.status == 201:
            if reply.headers.get("idempotent-replayed") == "true":
                replayed += 1
            else:
                performed += 1
            if len(rows) != 1 or str(rows[0][0]) != str(reply.body["id"]) or rows[0][3] != 1:
                bad.append(f"{a.reservation_id}: retry 201 {reply.body} but the database has {rows}")
        elif 400 <= reply.status < 500 and is_clean_failure(reply):
            refused += 1
            if rows:
                bad.append(f"{a.reservation_id}: retry refused ({reply.code}) yet a payment exists: {rows}")
        else:
            bad.append(f"{a.reservation_id}: retry answered {reply.status} {reply.raw[:80]!r}")
    res.notes.append(
        f"{label}: {len(attempts)} interrupted payments retried with their key: {replayed} had committed "
        f"(answer replayed), {performed} had not (paid by the retry), {refused} refused cleanly"
    )
    res.check(
        f"{label}: each retry with the same Idempotency-Key returned the committed answer or paid once",
        not bad,
        "; ".join(bad[:3]),
    )


def _outage_ok(reply: Reply) -> bool:
    return (
        reply.status == 503
        and reply.code == "service_unavailable"
        and "retry-after" in reply.headers
        and reply.seconds < 1.0
    )


# --- 1. Redis stopped, then restarted ---------------------------------------------------------------
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


# --- 2. PostgreSQL restarted mid-load ---------------------------------------------------------------
def fault_postgres_restart(ctx: Ctx) -> FaultResult:
    res = FaultResult("2. PostgreSQL restarted mid-load (pg_ctl restart -m fast)")
    stack, driver = ctx.stack, ctx.driver
    pids = stack.web_worker_pids()
    driver.set_phase("pg-before")
    res.check("before: the load is paying", ctx.wait_for_payments(time.monotonic(), 3, 30))
    driver.set_phase("pg-restart")
    started = time.monotonic()
    # The restart happens while a probe payment is mid-transaction and the load is running.
    _pg_restart_during_payment(res, ctx)
    restarted = time.monotonic()
    driver.set_phase("pg-after")
    res.check("after restart: /readyz 200", http_status(f"{stack.base_url}/readyz") == 200)
    res.check(
        "after restart: connections recover without restarting anything (the worker admits, the load pays)",
        ctx.wait_for_payments(restarted, 3, 30),
    )
    time.sleep(1.0)
    records = driver.since(started - 0.5, time.monotonic())
    judge_answers(res, records, "around the restart")
    judge_no_hang(res, records, 8)
    res.check(f"no web worker died or was replaced (pids {pids})", stack.web_worker_pids() == pids)
    interrupted = [a for a in driver.interrupted if a.phase in ("pg-restart", "pg-after")]
    retry_interrupted(res, ctx, interrupted, "payments interrupted by the restart")
    judge_paid_exist(res, ctx)
    return res


# --- 3. Celery worker killed, beat stopped longer than a hold; two beats at once ----------------------
def fault_worker_and_beat(ctx: Ctx) -> FaultResult:
    res = FaultResult(
        f"3. Celery worker SIGKILLed and beat stopped > a hold ({HOLD_SECONDS} s); two beats at once"
    )
    stack, driver = ctx.stack, ctx.driver
    a, b, c = ctx.probe_user(), ctx.probe_user(), ctx.probe_user()
    token_a, token_b = ctx.active_token(a), ctx.active_token(b)
    res.check("before: two probe users admitted", token_a is not None and token_b is not None)
    seat = ctx.probe_seat()
    hold = ctx.hold(a, token_a or "x", seat)
    res.check(f"before: A holds seat {seat} ({hold.status})", hold.status == 201, hold.raw[:120].decode())
    reservation = hold.body["id"] if hold.status == 201 else "0"
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

    _two_beats(res, ctx)
    return res


def _two_beats(res: FaultResult, ctx: Ctx) -> None:
    """Two beat processes and then two promote loops at once against a concert with a cap, while
    admitted tokens are ended now and then (as payments do) so rounds keep finding room."""
    from queue_app.services import queue_token_expire  # the orchestrator runs Django on the same settings

    stack = ctx.stack
    r = redis.Redis.from_url(stack.redis_url, decode_responses=True, socket_timeout=5)
    half = len(ctx.queuers) // 2

    def join(queuers: list[Booker]) -> list[str]:
        tokens = []
        for q in queuers:
            reply = ctx.call("POST", "/api/v1/queue/tokens", {"concert_id": ctx.cap_concert_id}, q.auth)
            if reply.status in (200, 201):
                tokens.append(reply.body["token"])
        return tokens

    tokens = join(ctx.queuers[:half])
    res.check(
        f"two beats: {len(tokens)} users wait for the capped concert (cap {ctx.cap})",
        len(tokens) == half,
    )
    active_key = f"q:c:{ctx.cap_concert_id}:active"
    peak = 0
    ended = 0
    stop = threading.Event()

    def watch_and_end() -> None:  # sample the live active count; end one admitted token now and then
        nonlocal peak, ended
        for i in range(100_000):
            if stop.is_set():
                return
            now_ms = int(time.time() * 1000)
            peak = max(peak, int(r.zcount(active_key, f"({now_ms}", "+inf")))
            if i % 20 == 0:
                live = r.zrangebyscore(active_key, f"({now_ms}", "+inf", start=0, num=1)
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
            f"two beats admitted {_admitted(r, tokens)} of {len(tokens)} waiting for the capped concert"
        )
        tokens += join(ctx.queuers[half:])
        before = _admitted(r, tokens)
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
        after = _admitted(r, tokens)
    finally:
        stop.set()
        watcher.join(timeout=10)
        if not stack.running("beat"):
            stack.start_beat()
    res.notes.append(
        f"two promote loops: {' / '.join(o.strip() for o in outputs)}; {ended} tokens ended meanwhile"
    )
    res.check(
        f"two promote loops at once: admitted {by_loops} in total = {after - before} tokens that left the "
        "queue admitted (none twice)",
        by_loops == after - before and all("admitted=" in o for o in outputs),
        " | ".join(outputs)[:300],
    )
    res.check(f"the cap was never exceeded (peak {peak} active <= {ctx.cap})", peak <= ctx.cap)
    r.close()


def _admitted(r: redis.Redis, tokens: list[str]) -> int:
    """Tokens no longer waiting: admitted at some point (nobody abandons or leaves in this test)."""
    pipe = r.pipeline(transaction=False)
    for t in tokens:
        pipe.hget(f"q:t:{t}", "s")
    return sum(1 for s in pipe.execute() if s in ("A", "E"))


# --- 4. A gunicorn worker killed during payments -----------------------------------------------------
def fault_web_worker_killed(ctx: Ctx) -> FaultResult:
    res = FaultResult("4. gunicorn worker SIGKILLed during payments")
    stack, driver = ctx.stack, ctx.driver
    driver.set_phase("web-kill")
    started = time.monotonic()
    kills = 0
    for _ in range(4):
        if not wait_until(lambda: driver.payments_in_flight > 0, 10, 0.002):
            continue
        pids = stack.web_worker_pids()
        if not pids:
            continue
        stack_kill(pids[kills % len(pids)])
        kills += 1
        wanted = len(pids)
        wait_until(lambda: len(stack.web_worker_pids()) == wanted, 15, 0.1)  # noqa: B023 - used at once
        time.sleep(1.0)
    res.check(f"{kills} workers killed with SIGKILL while payments were in flight", kills >= 3)
    res.check(
        "the master replaced every killed worker and the stack is ready",
        len(stack.web_worker_pids()) == 2 and http_status(f"{stack.base_url}/readyz") == 200,
    )
    res.check("the load pays again", ctx.wait_for_payments(time.monotonic(), 2, 30))
    records = driver.since(started, time.monotonic())
    judge_answers(res, records, "around the kills")
    cut = sum(1 for r in records if r.reply.status == 0)
    res.notes.append(f"{cut} requests lost their connection to a killed worker")
    retry_interrupted(
        res, ctx, [a for a in driver.interrupted if a.phase == "web-kill"], "payments cut by the kills"
    )
    _killed_before_commit(res, ctx)
    _killed_after_commit(res, ctx)
    judge_paid_exist(res, ctx)
    return res


def stack_kill(pid: int) -> None:
    os.kill(pid, signal.SIGKILL)


@dataclass
class BlockedPayment:
    """A probe user's payment, sent while the test holds the user's wallet row lock, so the request
    is stopped mid-transaction (past the queue-token check, reservation and seat already locked)."""

    ctx: Ctx
    user: Booker = field(init=False)
    token: str = field(init=False)
    reservation: str = field(init=False)
    key: str = field(init=False)
    answer: Reply | None = None
    waiting: bool = False  # the request was seen waiting on the lock
    worker_pid: int | None = None  # the gunicorn worker serving it

    def __post_init__(self) -> None:
        self.user = self.ctx.probe_user()
        self.token = self.ctx.active_token(self.user) or "x"
        hold = self.ctx.hold(self.user, self.token, self.ctx.probe_seat())
        self.reservation = hold.body["id"] if hold.status == 201 else "00000000-0000-0000-0000-000000000000"
        self.key = f"chaos-{self.reservation}"

    def run(self, while_blocked: Callable[[psycopg.Connection, BlockedPayment], None]) -> None:
        port: list[int] = []
        lock_conn = psycopg.connect(self.ctx.stack.database_url, connect_timeout=10)
        try:
            lock_conn.execute(
                "SELECT balance FROM points_wallet WHERE user_id = %s FOR UPDATE", (self.user.user_id,)
            )
            t = threading.Thread(target=self._pay, args=(port,), daemon=True)
            t.start()
            # Acted on at once: after lock_timeout (3 s) of waiting the request would give up with a 503.
            self.waiting = wait_until(self._blocked, 5.0, 0.02)
            if self.waiting and port:
                self.worker_pid = self.ctx.stack.web_worker_serving(port[0])
            while_blocked(lock_conn, self)
            t.join(timeout=20)
        finally:
            with contextlib.suppress(psycopg.Error):
                lock_conn.rollback()
            with contextlib.suppress(psycopg.Error):
                lock_conn.close()

    def _pay(self, port: list[int]) -> None:
        self.answer = Http(self.ctx.port).request(
            "POST",
            "/api/v1/payments",
            {"reservation_id": self.reservation},
            {**self.user.auth, "X-Queue-Token": self.token, "Idempotency-Key": self.key},
            on_sent=port.append,
        )

    def _blocked(self) -> bool:
        return bool(
            self.ctx.sql(
                "SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                "AND position('points_wallet' in query) > 0"
            )
        )

    def attempt(self) -> PaymentAttempt:
        reply = self.answer or Reply(0, {}, None, b"", 0, 0)
        return PaymentAttempt(
            self.user.user_id, self.user.jwt, self.token, self.reservation, self.key, "probe", reply
        )

    def check_retry_pays_once(self, res: FaultResult, label: str) -> None:
        """Nothing had committed: the retry pays now, exactly once, and a second retry replays it."""
        res.check(
            f"{label}: nothing was written (no payment, no debit)",
            self.ctx.payments_for(self.reservation) == [],
        )
        first = self.attempt().retry_until_settled(self.ctx.port)
        again = self.attempt().retry(self.ctx.port)
        rows = self.ctx.payments_for(self.reservation)
        res.check(
            f"{label}: the retry with the same key pays once ({first.status}), a second retry replays it",
            first.status == 201
            and again.status == 201
            and again.body == first.body
            and again.headers.get("idempotent-replayed") == "true"
            and len(rows) == 1
            and rows[0][3] == 1,
            f"{first.raw[:100]!r} / {again.raw[:100]!r} / {rows}",
        )


def _pg_restart_during_payment(res: FaultResult, ctx: Ctx) -> None:
    def restart(lock_conn: psycopg.Connection, probe: BlockedPayment) -> None:
        res.check(
            "a probe payment is mid-transaction (waiting on a row lock) when PostgreSQL goes down",
            probe.waiting,
        )
        ctx.stack.pg_restart_fast()

    probe = BlockedPayment(ctx)
    probe.run(restart)
    answer = probe.answer
    res.check(
        "the in-flight payment is answered 503 service_unavailable with Retry-After "
        f"({answer.status if answer else None} {answer.code if answer else None}, "
        f"{answer.seconds if answer else 0:.1f} s)",
        answer is not None and answer.status == 503 and is_clean_failure(answer),
        answer.raw[:160].decode(errors="replace") if answer else "",
    )
    wait_until(lambda: http_status(f"{ctx.stack.base_url}/readyz") == 200, 20, 0.2)
    probe.check_retry_pays_once(res, "the payment cut by the restart")


def _killed_before_commit(res: FaultResult, ctx: Ctx) -> None:
    def kill_then_unlock(lock_conn: psycopg.Connection, probe: BlockedPayment) -> None:
        res.check(
            f"before commit: a payment waits on its wallet row, served by worker {probe.worker_pid}: killed",
            probe.worker_pid is not None,
        )
        if probe.worker_pid is not None:
            stack_kill(probe.worker_pid)
        time.sleep(0.3)
        lock_conn.rollback()

    probe = BlockedPayment(ctx)
    probe.run(kill_then_unlock)
    res.check(
        f"before commit: the client got no answer ({probe.answer.error[:40] if probe.answer else None})",
        probe.answer is not None and probe.answer.status == 0,
    )
    time.sleep(0.5)
    probe.check_retry_pays_once(res, "before commit")


def _killed_after_commit(res: FaultResult, ctx: Ctx) -> None:
    """Committed, not yet answered: Redis is paused so the after-commit step (ending the queue token)
    blocks, and the worker is killed then. The retry must return the committed payment."""
    committed: list[tuple] = []  # type: ignore[type-arg]

    def commit_then_kill(lock_conn: psycopg.Connection, probe: BlockedPayment) -> None:
        ctx.stack.signal("redis", signal.SIGSTOP)
        try:
            lock_conn.commit()  # the payment goes on, commits, then blocks on Redis
            wait_until(lambda: bool(ctx.payments_for(probe.reservation)), 3, 0.02)
            committed.extend(ctx.payments_for(probe.reservation))
            if probe.worker_pid is not None and committed:
                stack_kill(probe.worker_pid)
        finally:
            ctx.stack.signal("redis", signal.SIGCONT)
        res.check(
            f"after commit: worker {probe.worker_pid} killed once the payment had committed, "
            "before it answered",
            probe.worker_pid is not None and bool(committed),
        )

    probe = BlockedPayment(ctx)
    probe.run(commit_then_kill)
    res.check(
        f"after commit: the client got no answer ({probe.answer.error[:40] if probe.answer else None})",
        probe.answer is not None and probe.answer.status == 0,
    )
    retry = probe.attempt().retry_until_settled(ctx.port)
    rows = ctx.payments_for(probe.reservation)
    res.check(
        "after commit: the retry with the same key returns the original payment (201, same id, replayed)",
        bool(committed)
        and retry.status == 201
        and str(retry.body["id"]) == str(committed[0][0])
        and retry.headers.get("idempotent-replayed") == "true"
        and len(rows) == 1
        and rows[0][3] == 1,
        f"{retry.status} {retry.raw[:120]!r} / {rows}",
    )
