"""What the four fault scenarios share: the result a scenario returns, the context it runs in (the stack,
the load driver, the probe users and seats), and the judgements several scenarios make.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import psycopg

from tests.chaos.invariants import Verdict
from tests.chaos.load import Booker, Http, LoadDriver, PaymentAttempt, Record, Reply, is_clean_failure
from tests.chaos.stack import Stack, wait_until

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
    fifo_concert_id: int = 0  # paused, cap FIFO_CAP: the several-nodes FIFO check
    fifo_users: list[Booker] = field(default_factory=list)
    lb_bookers: list[Booker] = field(default_factory=list)  # the load through the balancer
    lb_watchers: list[Booker] = field(default_factory=list)
    lb_seats: tuple[int, int] = (0, 0)  # (first seat, count) the balancer's load books
    # Patient: the scripted calls retry a 503 as a client does (a scenario whose subject is not the web
    # tier's transients); `transients` lists what was retried.
    patient: bool = False
    transients: list[str] = field(default_factory=list)

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
        reply = Http(self.port).request(method, path, body, headers)
        for _ in range(3):
            if not (self.patient and reply.status == 503):
                break
            self.transients.append(f"{method} {path.split('?')[0]}: 503 {reply.code}")
            time.sleep(0.5)
            reply = Http(self.port).request(method, path, body, headers)
        return reply

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

    def sql(self, query: str, *params: object) -> list[tuple]:
        with psycopg.connect(self.stack.database_url, connect_timeout=10, autocommit=True) as conn:
            return conn.execute(query, params or None).fetchall()

    def payments_for(self, reservation_id: str) -> list[tuple]:
        """The payments of this reservation's order (a payment pays the whole order), with the count of
        their PAYMENT ledger rows."""
        return self.sql(
            "SELECT p.id, p.amount, p.status, (SELECT count(*) FROM points_ledgerentry l WHERE l.kind = "
            "'PAYMENT' AND l.reference = 'order:' || p.order_id) FROM payments_payment p "
            "WHERE p.order_id = (SELECT order_id FROM reservations_reservation WHERE id = %s)",
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


def judge_paid_exist(res: FaultResult, ctx: Ctx, driver: LoadDriver | None = None, label: str = "") -> None:
    """Every payment the load (`driver`, by default the main one) saw answered 201 exists, as answered."""
    paid = list((driver or ctx.driver).paid)
    rows = {  # payment id -> (its order's seats, amount)
        str(r[0]): r[1:]
        for r in ctx.sql(
            "SELECT p.id, array_agg(r.id::text), p.amount FROM payments_payment p "
            "JOIN reservations_reservation r ON r.order_id = p.order_id GROUP BY p.id, p.amount"
        )
    }
    missing = [
        p
        for p in paid
        if str(p.reply.body["id"]) not in rows
        or p.reservation_id not in rows[str(p.reply.body["id"])][0]
        or rows[str(p.reply.body["id"])][1] != p.reply.body["amount"]
    ]
    res.check(
        f"no committed payment lost: all {len(paid)} payments answered 201{label} so far exist as answered",
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
