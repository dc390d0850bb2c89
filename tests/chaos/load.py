"""The load driver: threads of virtual users against gunicorn on 127.0.0.1, bounded in time and count.

Bookers run the whole flow (join the queue, wait to be admitted, hold a seat or order two or three
(chosen or best available), pay with an Idempotency-Key by order or by one of its seats, now and then
cancel a seat or the whole order, before or after paying); readers poll the queue, the catalog, the
seat map and the wallet. Every answer is recorded with its time so a fault can judge the answers given
during it. Payments the load saw succeed and payments it saw interrupted (no answer, or a 5xx) are kept
apart for the checks: the first must exist afterwards, the second are retried with the same key.
"""

from __future__ import annotations

import http.client
import itertools
import json
import random
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

REQUEST_TIMEOUT = 10.0
MAX_ITERATIONS = 2_000  # per thread: a hard bound whatever the clock says
ADMISSION_WAIT = 15.0


@dataclass
class Reply:
    status: int  # 0: no answer (connection refused/reset, timeout)
    headers: dict[str, str]
    body: Any
    raw: bytes
    started: float
    seconds: float
    error: str = ""
    client_port: int = 0

    @property
    def code(self) -> str | None:
        return self.body.get("code") if isinstance(self.body, dict) else None


class Http:
    """One keep-alive connection; a broken one is dropped and the next request reconnects."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.conn: http.client.HTTPConnection | None = None

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
        self.conn = None

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        headers: dict[str, str] | None = None,
        timeout: float = REQUEST_TIMEOUT,
        on_sent=None,  # called with the client port once sent
    ) -> Reply:
        payload = None if body is None else json.dumps(body).encode()
        hdrs = {"Accept": "application/json", **(headers or {})}
        if payload is not None:
            hdrs["Content-Type"] = "application/json"
        started = time.monotonic()
        port = 0
        try:
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
            self.conn.timeout = timeout
            self.conn.request(method, path, body=payload, headers=hdrs)
            if self.conn.sock is not None:
                self.conn.sock.settimeout(timeout)
                port = self.conn.sock.getsockname()[1]
            if on_sent is not None:
                on_sent(port)
            resp = self.conn.getresponse()
            raw = resp.read()
            status, resp_headers = resp.status, {k.lower(): v for k, v in resp.getheaders()}
            if resp_headers.get("connection", "").lower() == "close":
                self.close()
        except (OSError, http.client.HTTPException) as exc:
            self.close()
            return Reply(0, {}, None, b"", started, time.monotonic() - started, repr(exc), port)
        try:
            parsed = json.loads(raw) if raw else None
        except ValueError:
            parsed = None
        return Reply(status, resp_headers, parsed, raw, started, time.monotonic() - started, "", port)


@dataclass
class Record:
    name: str
    phase: str
    reply: Reply


@dataclass
class Booker:
    user_id: int
    jwt: str
    token: str | None = None

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.jwt}"}


@dataclass
class PaymentAttempt:
    user_id: int
    jwt: str
    queue_token: str
    reservation_id: str  # a seat of the order paid (the database is checked through it)
    key: str
    phase: str
    reply: Reply
    retried: Reply | None = None  # what a prompt retry with the same key was answered
    order_id: str | None = None  # set when the payment names the order rather than a seat

    @property
    def body(self) -> dict[str, str]:
        return {"order_id": self.order_id} if self.order_id else {"reservation_id": self.reservation_id}

    def retry_until_settled(self, port: int, timeout: float = 10) -> Reply:
        """Retry as a careful client does: again while there is no answer, a 503 or request_in_progress."""
        deadline = time.monotonic() + timeout
        for _ in range(100):
            reply = self.retry(port)
            busy = reply.status in (0, 503) or reply.code == "request_in_progress"
            if not busy or time.monotonic() > deadline:
                break
            time.sleep(0.3)
        self.retried = reply
        return reply

    def retry(self, port: int) -> Reply:
        return Http(port).request(
            "POST",
            "/api/v1/payments",
            self.body,
            {
                "Authorization": f"Bearer {self.jwt}",
                "X-Queue-Token": self.queue_token,
                "Idempotency-Key": self.key,
            },
        )


@dataclass
class LoadDriver:
    port: int
    concert_id: int
    schedule_id: int
    seats: int
    bookers: list[Booker]
    watchers: list[Booker]  # the readers' users: their own queue tokens, never a booker's
    duration: float = 600.0
    first_seat: int = 1  # the load books seats first_seat .. first_seat + seats - 1
    # Best-available orders ask for this grade: it must be the grade of exactly the load's seats (so
    # they never take another load's or a probe's). None: this load orders chosen seats only.
    grade: str | None = None
    phase: str = "warm-up"
    records: list[Record] = field(default_factory=list)
    paid: list[PaymentAttempt] = field(default_factory=list)
    interrupted: list[PaymentAttempt] = field(default_factory=list)
    payments_in_flight: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)
    _seat_counter: itertools.count = field(default_factory=lambda: itertools.count(1))

    # --- control ---------------------------------------------------------------------------------
    def start(self) -> None:
        deadline = time.monotonic() + self.duration
        for i, booker in enumerate(self.bookers):
            t = threading.Thread(
                target=self._booker, args=(booker, deadline), name=f"booker-{i}", daemon=True
            )
            self._threads.append(t)
        for i, watcher in enumerate(self.watchers):
            t = threading.Thread(
                target=self._reader, args=(watcher, deadline), name=f"reader-{i}", daemon=True
            )
            self._threads.append(t)
        for t in self._threads:
            t.start()

    def stop(self) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(timeout=REQUEST_TIMEOUT + 5)
        self._threads.clear()

    def set_phase(self, phase: str) -> None:
        self.phase = phase

    def since(self, started: float, until: float | None = None) -> list[Record]:
        end = until if until is not None else float("inf")
        with self._lock:
            return [r for r in self.records if started <= r.reply.started <= end]

    def _running(self, deadline: float) -> bool:
        return not self._stop.is_set() and time.monotonic() < deadline

    def _call(
        self, client: Http, name: str, method: str, path: str, body: Any = None, headers: Any = None
    ) -> Reply:
        reply = client.request(method, path, body, headers)
        with self._lock:
            self.records.append(Record(name, self.phase, reply))
        return reply

    # --- virtual users ---------------------------------------------------------------------------
    def _issue(self, client: Http, booker: Booker) -> Reply:
        """POST /queue/tokens for the load's concert, recorded as queue_issue."""
        return self._call(
            client,
            "queue_issue",
            "POST",
            "/api/v1/queue/tokens",
            {"concert_id": self.concert_id},
            booker.auth,
        )

    def _active_token(self, client: Http, booker: Booker, deadline: float) -> str | None:
        reply = self._issue(client, booker)
        if reply.status not in (200, 201):
            return None
        token = reply.body["token"]
        status = reply.body["status"]
        waited_until = min(deadline, time.monotonic() + ADMISSION_WAIT)
        while status == "WAITING" and self._running(waited_until):
            time.sleep(0.25)
            reply = self._call(
                client, "queue_status", "GET", "/api/v1/queue/status", None, {"X-Queue-Token": token}
            )
            if reply.status != 200:
                return None
            status = reply.body["status"]
        return token if status == "ACTIVE" else None

    def _next_seats(self, count: int) -> list[int]:
        """Seats for a chosen-seats order: the next `count` of the load's sequence (so the single holds
        that follow do not all run into them), now and then a run someone else probably has."""
        with self._lock:
            numbers = [next(self._seat_counter) for _ in range(count)]
        if random.random() < 0.05:
            start = random.randint(0, max(0, min(numbers[0], self.seats) - count))
            return [self.first_seat + start + i for i in range(count)]
        return [self.first_seat + (n - 1) % self.seats for n in numbers]

    def _next_seat(self) -> int:
        with self._lock:
            n = next(self._seat_counter)
        if random.random() < 0.05:  # now and then a seat someone else probably has: contention
            return self.first_seat - 1 + random.randint(1, max(1, min(n, self.seats)))
        return self.first_seat + (n - 1) % self.seats

    def _booker(self, booker: Booker, deadline: float) -> None:
        client = Http(self.port)
        try:
            for _ in range(MAX_ITERATIONS):
                if not self._running(deadline):
                    return
                if booker.token is None:
                    booker.token = self._active_token(client, booker, deadline)
                    if booker.token is None:
                        time.sleep(0.3)
                        continue
                self._book_once(client, booker)
                time.sleep(0.02)
        finally:
            client.close()

    def _book_once(self, client: Http, booker: Booker) -> None:
        token = booker.token
        assert token is not None
        headers = {**booker.auth, "X-Queue-Token": token}
        held = self._hold_something(client, booker, headers)
        if held is None:
            return
        order_id, seats = held
        roll = random.random()
        if roll < 0.08:  # changed their mind before paying: the whole order, or one seat of several
            if len(seats) > 1 and roll < 0.03:
                self._call(
                    client, "cancel", "POST", f"/api/v1/reservations/{seats[-1]}/cancel", None, booker.auth
                )
                seats = seats[:-1]  # and pay for the rest
            else:
                self._call(client, "cancel", "POST", f"/api/v1/orders/{order_id}/cancel", None, booker.auth)
                return
        # An order of several is paid by its id, or now and then by one of its seats (which pays it all).
        by_order = len(seats) > 1 and random.random() < 0.7
        key = str(uuid.uuid4())
        attempt = PaymentAttempt(
            booker.user_id,
            booker.jwt,
            token,
            seats[0],
            key,
            self.phase,
            Reply(0, {}, None, b"", 0, 0),
            order_id=order_id if by_order else None,
        )
        with self._lock:
            self.payments_in_flight += 1
        try:
            attempt.reply = pay = self._call(
                client, "pay", "POST", "/api/v1/payments", attempt.body, {**headers, "Idempotency-Key": key}
            )
        finally:
            with self._lock:
                self.payments_in_flight -= 1
        if pay.status == 0 or pay.status >= 500:
            time.sleep(0.3)
            attempt.retry_until_settled(self.port)  # judged later against the database
            with self._lock:
                self.interrupted.append(attempt)
        elif pay.status == 201:
            with self._lock:
                self.paid.append(attempt)
        booker.token = None  # a payment ends the token (and any failure: start from a fresh one)
        if pay.status == 201 and roll > 0.92:  # a refund now and then: one seat, or the whole order
            if len(seats) > 1 and roll > 0.96:
                path = f"/api/v1/reservations/{seats[0]}/cancel"
            else:
                path = f"/api/v1/orders/{order_id}/cancel"
            self._call(client, "refund", "POST", path, None, booker.auth)

    def _hold_something(
        self, client: Http, booker: Booker, headers: dict[str, str]
    ) -> tuple[str, list[str]] | None:
        """A single seat (most fans), or an order of two or three: chosen seats, or best available
        where the load has a grade of its own. Returns (order id, its reservation ids) once held. 409s
        (seat_unavailable, not_enough_seats) are the contention the load means to make."""
        roll = random.random()
        count = random.choice((2, 3))
        if roll < 0.6:
            name, path, body = "hold", "/api/v1/reservations", {"seat_number": self._next_seat()}
        elif roll < 0.8 or self.grade is None:
            name, path, body = "order", "/api/v1/orders", {"seat_numbers": self._next_seats(count)}
        else:
            name, path, body = "order", "/api/v1/orders", {"quantity": count, "grade": self.grade}
        reply = self._call(
            client,
            name,
            "POST",
            path,
            {"schedule_id": self.schedule_id, **body},
            {**headers, "Idempotency-Key": str(uuid.uuid4())},
        )
        if reply.status != 201:
            # A token the queue no longer knows (its Redis was replaced, or lost a write in a failover)
            # is given up like an inactive one.
            if reply.code in ("queue_token_not_active", "queue_token_not_found") or reply.status in (0, 503):
                booker.token = None
            return None
        if name == "hold":
            return reply.body["order_id"], [reply.body["id"]]
        return reply.body["id"], [s["reservation_id"] for s in reply.body["seats"]]

    def _reader(self, booker: Booker, deadline: float) -> None:
        client = Http(self.port)
        token: str | None = None
        try:
            for i in range(MAX_ITERATIONS * 5):
                if not self._running(deadline):
                    return
                if token is None or i % 50 == 0:
                    reply = self._issue(client, booker)
                    token = reply.body.get("token") if reply.status in (200, 201) else None
                if token is not None:
                    self._call(
                        client, "queue_status", "GET", "/api/v1/queue/status", None, {"X-Queue-Token": token}
                    )
                if i % 3 == 0:
                    self._call(client, "concert", "GET", f"/api/v1/concerts/{self.concert_id}")
                if i % 3 == 1:
                    self._call(client, "points", "GET", "/api/v1/points", None, booker.auth)
                if i % 20 == 0:
                    self._call(client, "seat_map", "GET", f"/api/v1/schedules/{self.schedule_id}/seats")
                time.sleep(0.05)
        finally:
            client.close()


def is_clean_failure(reply: Reply) -> bool:
    """A refusal the contract allows during a fault: a problem document, never a traceback, and a 503
    that says service_unavailable with Retry-After."""
    if reply.status == 0 or reply.status < 400:
        return True
    problem = reply.headers.get("content-type", "").startswith("application/problem+json")
    if b"Traceback" in reply.raw or not problem:
        return False
    if reply.status == 503:
        return reply.code == "service_unavailable" and "retry-after" in reply.headers
    return reply.status < 500
