"""The queue interface both backends implement, and the values they return.

Backends hold no policy of their own: the service passes `now` (from config.clock), the settings and
the concert's admission rules, so the same contract tests run against Redis and the database.
A token's status is computed from the stored data and `now` on every read ("lazy expiry"): an ACTIVE
token past `expires_at`, or a WAITING token not seen for `abandon_seconds`, reads EXPIRED whatever the
admission rounds have tidied. Abandonment: a waiting token whose last poll is at or before
`now - abandon_seconds` has left the queue; its `expires_at` is `last_seen + abandon_seconds`. A token
of the pre-queue counts as seen at the opening at the earliest, so nobody is abandoned before it.

The sale opening: a concert with an opening in the future (published with `sale_publish`) keeps its
tokens in the pre-queue (position None). The first read or write at or after the opening draws the
pre-queue exactly once (queue_app/draw.py): from then on the waiting order is the draw rank 1..P for the
drawn tokens and the queue number (always > P) for the tokens that joined later.
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


class ExpiredReason(StrEnum):
    PAID = "PAID"  # a payment completed
    TIMED_OUT = "TIMED_OUT"  # active past expires_at
    ABANDONED = "ABANDONED"  # waiting, not polled
    SOLD_OUT = "SOLD_OUT"  # waiting when the concert sold out
    OPERATOR = "OPERATOR"  # ended by an operator


class QueueState(StrEnum):
    SCHEDULED = "SCHEDULED"
    OPEN = "OPEN"
    PAUSED = "PAUSED"
    SOLD_OUT = "SOLD_OUT"


@dataclass(frozen=True, slots=True)
class Pace:
    """What the queue store knows of a concert's admission pace, for the wait estimates.

    `blocked`: no estimate at all (before the opening, paused, no seat to offer, sold out).
    `rate`: waiting tokens admitted per second over the recent rounds (queue_app/pace.py), or None when
    no round has been recorded yet (the caller then assumes the configured pace)."""

    blocked: bool
    rate: float | None


@dataclass(frozen=True, slots=True)
class TokenState:
    """A token as a backend sees it at `now`. `position` is 1-based among live waiting tokens, 0 when not
    waiting, None in the pre-queue (before the draw)."""

    token: str
    user_id: int
    concert_id: int
    queue_number: int
    status: TokenStatus
    position: int | None
    issued_at: datetime
    expires_at: datetime | None
    expired_reason: ExpiredReason | None
    pace: Pace


@dataclass(frozen=True, slots=True)
class Admission:
    """One admission round's rules for one concert."""

    batch: int
    max_active: int | None  # None: no cap
    paused: bool
    active_ttl_seconds: int
    abandon_seconds: int
    interval_seconds: int
    seat_available: bool  # at least one AVAILABLE seat on the concert's on-sale schedules
    sold_out: bool  # no seat AVAILABLE or HELD: waiting tokens leave as SOLD_OUT


@dataclass(frozen=True, slots=True)
class RoundResult:
    ran: bool  # False: before the opening (nothing recorded)
    admitted: int


@dataclass(frozen=True, slots=True)
class QueueCounts:
    waiting: int
    active: int


@dataclass(frozen=True, slots=True)
class QueueSnapshot:
    """One concert's queue at `now` as its store holds it (queue_app.selectors.queue_overview adds the
    catalog's view)."""

    waiting: int
    active: int
    drawn: bool
    drawn_at: datetime | None
    sold_out: bool | None  # None: never published
    seat_available: bool  # as last published (True when never)
    rounds: list[tuple[int, int, int]]  # recent rounds, newest first: (ms, admitted, room)
    admitted_total: int
    abandoned_total: int


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
        queue using `new_token`; True when created. Raises QueueThrottled past `rate`, SoldOut when the
        store says the concert is sold out."""
        ...

    marks_write_intents: bool

    def status(
        self,
        *,
        token: str,
        now: datetime,
        abandon_seconds: int,
        user_id: int | None = None,
        touch: bool = True,
        rate: RateLimit | None = None,
        mark: str | None = None,
    ) -> TokenState | None:
        """The token's state, or None when unknown (or `user_id` is given and is not its owner).
        `touch` records a poll (last seen) for a waiting token; `rate` counts against its owner. `mark`: a
        key of the token's concert slot on which the check of an ACTIVE token records a write intent in the
        same call (Redis only; `marks_write_intents` says whether the backend does)."""
        ...

    def expire(self, *, token: str, now: datetime, reason: ExpiredReason, abandon_seconds: int) -> bool:
        """End a token now for `reason` (idempotent); True when it was live-or-lapsed and is now EXPIRED.
        A token already lapsed (TIMED_OUT) or abandoned (ABANDONED) ends with that reason instead."""
        ...

    def promote(self, *, concert_id: int, now: datetime, admission: Admission) -> RoundResult:
        """One atomic admission round: drop abandoned waiters and lapsed actives, then admit up to
        `batch` first live waiters without passing `max_active` (none before the opening, while paused or
        without an available seat; every waiter leaves as SOLD_OUT when sold out). Records the round."""
        ...

    def sale_publish(self, *, concert_id: int, opens_at: datetime | None, seed: str, drawn: bool) -> None:
        """Tell the store when the concert's sale opens and the seed its pre-queue is drawn with."""
        ...

    def inventory_publish(self, *, concert_id: int, sold_out: bool, seat_available: bool) -> None:
        """Tell the store whether the concert is sold out and whether a seat is AVAILABLE now."""
        ...

    def draw(self, *, concert_id: int, now: datetime) -> bool:
        """Draw the pre-queue if the opening is due and it is not drawn yet; True once it is drawn."""
        ...

    def snapshot(self, *, concert_id: int, now: datetime, abandon_seconds: int) -> QueueSnapshot: ...

    def counts(self, *, concert_id: int, now: datetime, abandon_seconds: int) -> QueueCounts: ...

    def last_round_at(self, *, concert_ids: list[int]) -> dict[int, datetime | None]:
        """When each concert's last admission round ran (None: never)."""
        ...

    def live_token_for(
        self, *, user_id: int, concert_id: int, now: datetime, abandon_seconds: int
    ) -> str | None: ...
