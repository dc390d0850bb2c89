"""What the scenarios share: the stack, the seeded data, the load settings."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from bench.plan import CONCERTS, ORDER_CONCERTS_PER_REP
from bench.seed import Catalog
from bench.stack import Stack

SKIP_404 = "skipped: endpoint not available (404)"


@dataclass
class Context:
    stack: Stack
    data_dir: Path
    catalog: Catalog
    duration: int = 12
    connections: int = 64
    threads: int = 2
    reps: int = 1
    rep: int = 0
    users_all: dict[str, list[int]] = field(default_factory=dict)  # group -> every seeded user id
    jwts_all: dict[str, list[str]] = field(default_factory=dict)  # group -> their access tokens
    users: dict[str, list[int]] = field(default_factory=dict)  # group -> this repetition's user ids
    jwts: dict[str, list[str]] = field(default_factory=dict)  # group -> access tokens (same order)
    queue_tokens: dict[str, list[str]] = field(default_factory=dict)  # group -> queue tokens (same order)
    notes: list[str] = field(default_factory=list)

    def use_rep(self, rep: int) -> None:
        """Repetition `rep` of `reps`: each group but the big queue's takes its own contiguous slice of
        the users (fresh users for token issue, holds, contention and the flow every time)."""
        self.rep = rep
        for group, every in self.users_all.items():
            size = len(every) if group == "queue" else len(every) // self.reps
            lo = 0 if group == "queue" else rep * size
            self.users[group] = every[lo : lo + size]
            if group in self.jwts_all:
                self.jwts[group] = self.jwts_all[group][lo : lo + size]

    @property
    def base_url(self) -> str:
        return self.stack.base_url

    @property
    def host(self) -> str:
        return "127.0.0.1"

    @property
    def port(self) -> int:
        return self.stack.http_port

    def concert(self, role: str) -> int:
        """Concerts by role: the big queue, contention, flow; the rest take the distinct holds."""
        ids = self.catalog.concert_ids
        return {"queue": ids[0], "contention": ids[1], "flow": ids[2]}[role]

    def hold_concerts(self) -> list[int]:
        return self.catalog.concert_ids[3:CONCERTS]

    def order_concerts(self) -> list[int]:
        """This repetition's own concerts for the order scenario (after the shared ones)."""
        first = CONCERTS + self.rep * ORDER_CONCERTS_PER_REP
        return self.catalog.concert_ids[first : first + ORDER_CONCERTS_PER_REP]

    def order_concert_of(self, index: int) -> int:
        concerts = self.order_concerts()
        return concerts[index % len(concerts)]

    def hold_concert_of(self, index: int) -> int:
        """The hold concert of the index-th hold user (users are spread round-robin)."""
        concerts = self.hold_concerts()
        return concerts[index % len(concerts)]

    def http(
        self, method: str, path: str, body: object = None, headers: dict[str, str] | None = None
    ) -> tuple[int, object]:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base_url + path, data=data, method=method)
        req.add_header("Accept", "application/json")
        if data is not None:
            req.add_header("Content-Type", "application/json")
        for k, v in (headers or {}).items():
            req.add_header(k, v)
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                status, raw = resp.status, resp.read()
        except urllib.error.HTTPError as exc:
            status, raw = exc.code, exc.read()
        try:
            return status, json.loads(raw) if raw else None
        except ValueError:
            return status, raw.decode(errors="replace")

    def endpoint_available(self, method: str, path: str) -> bool:
        """False when the path falls through to the catch-all 404 `not_found` (the route does not exist).
        Probed without credentials, so an existing endpoint answers 401/400/404 with its own code."""
        status, body = self.http(method, path, {} if method == "POST" else None)
        return not (status == 404 and isinstance(body, dict) and body.get("code") == "not_found")
