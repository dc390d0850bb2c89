"""The queue interface both backends implement, and the values they return.

Backends hold no policy of their own: the service passes `now` (from config.clock), the settings and
the concert's admission rules, so the same contract tests run against Redis and the database.
A token's status is computed from the stored data and `now` on every read ("lazy expiry"): an ACTIVE
token past `expires_at`, or a WAITING token not seen for `abandon_seconds`, reads EXPIRED whatever the
admission rounds have tidied. Abandonment: a waiting token whose last poll is at or before
`now - abandon_seconds` has left the queue; its `expires_at` is `last_seen + abandon_seconds`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from queue_app.conf import RateLimit


class TokenStatus(StrEnum):
    WAITING = "WAITING"
    ACTIVE = "ACTIVE"
    EXPIRED = "EXPIRED"


@dataclass(frozen=True, slots=True)
class TokenState:
    """A token as a backend sees it at `now`. `position` is 1-based among live waiting tokens, else 0."""

    token: str
    user_id: int
    concert_id: int
    status: TokenStatus
    position: int
    issued_at: datetime
    expires_at: datetime | None


@dataclass(frozen=True, slots=True)
class Admission:
    """One admission round's rules for one concert."""

    batch: int
    max_active: int | None  # None: no cap
    paused: bool
    active_ttl_seconds: int
    abandon_seconds: int


@dataclass(frozen=True, slots=True)
class QueueCounts:
    waiting: int
    active: int


class QueueBackend(Protocol):
    name: str

    def issue(
        self,
        *,
        user_id: int,
        concert_id: int,
        new_token: str,
        now: datetime,
        abandon_seconds: int,
        rate: RateLimit | None,
    ) -> tuple[TokenState, bool]:
        """The user's live token for the concert (touched as a poll), or a new one at the back of the
        queue using `new_token`; True when created. Raises QueueThrottled past `rate`."""
        ...

    def status(
        self,
        *,
        token: str,
        now: datetime,
        abandon_seconds: int,
        user_id: int | None = None,
        touch: bool = True,
        rate: RateLimit | None = None,
    ) -> TokenState | None:
        """The token's state, or None when unknown (or `user_id` is given and is not its owner).
        `touch` records a poll (last seen) for a waiting token; `rate` counts against its owner."""
        ...

    def expire(self, *, token: str, now: datetime) -> bool:
        """End a token now (idempotent); True when it was live-or-lapsed and is now EXPIRED."""
        ...

    def promote(self, *, concert_id: int, now: datetime, admission: Admission) -> int:
        """One atomic admission round: drop abandoned waiters and lapsed actives, then admit up to
        `batch` oldest live waiters without passing `max_active`. Returns how many were admitted."""
        ...

    def concerts_with_waiting(self) -> list[int]: ...

    def counts(self, *, concert_id: int, now: datetime, abandon_seconds: int) -> QueueCounts: ...

    def live_token_for(
        self, *, user_id: int, concert_id: int, now: datetime, abandon_seconds: int
    ) -> str | None: ...
