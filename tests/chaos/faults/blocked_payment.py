"""A payment stopped mid-transaction on purpose (faults 2 and 4): the test holds the payer's wallet row
lock while the payment waits on it, acts (restarts PostgreSQL, kills the worker serving it), and then
judges what the retry with the same Idempotency-Key does.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

import psycopg

from tests.chaos.faults.common import Ctx, FaultResult
from tests.chaos.load import Booker, Http, PaymentAttempt, Reply
from tests.chaos.stack import wait_until


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
    port: int = 0  # the web node it is sent to (0: the stack's own)

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
        self.answer = Http(self.port or self.ctx.port).request(
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
        # As a careful client: after a restart another web thread may still hold a broken connection and
        # answer one clean 503; the retry settles and must then replay the payment, never pay again.
        again = self.attempt().retry_until_settled(self.ctx.port)
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
