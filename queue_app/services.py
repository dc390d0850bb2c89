"""The waiting queue's services: what the API, the beat task, the admin and other apps call.

Time comes from config.clock; the backend (Redis or the database) from settings.QUEUE_BACKEND. The
admission rounds and the sale opening live in queue_app/rounds.py and queue_app/sale.py.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import datetime

from django.db import IntegrityError, transaction

from concerts.errors import ConcertNotFound
from concerts.models import Concert
from config import clock
from queue_app import pace
from queue_app.backends import get_backend
from queue_app.backends.base import ExpiredReason, TokenState, TokenStatus
from queue_app.concert_cache import concert_known
from queue_app.conf import queue_settings, rate_limit
from queue_app.errors import QueueTokenNotActive, QueueTokenNotFound, QueueTokenRequired
from queue_app.rounds import queue_promote, queue_promote_all
from queue_app.sale import queue_inventory_publish, sale_schedule

__all__ = [
    "QueueTokenView",
    "queue_inventory_publish",
    "queue_marks_write_intents",
    "queue_promote",
    "queue_promote_all",
    "queue_token_concert",
    "queue_token_expire",
    "queue_token_expire_with_transaction",
    "queue_token_issue",
    "queue_token_require_active",
    "queue_token_status",
    "sale_schedule",
]

logger = logging.getLogger(__name__)

TOKEN_BYTES = 16  # 128 bits from `secrets`: unguessable, so the token alone can be a capability


def _user_id(value: int | str) -> int:
    # simplejwt's TokenUser.pk is the JWT claim, a string: callers passing request.user.pk must match.
    return int(value)


def new_token_value(*, concert_id: int) -> str:
    """ "<concert id>.<random>": the token carries its concert, so a poll finds its queue from it alone."""
    return f"{concert_id}.{secrets.token_urlsafe(TOKEN_BYTES)}"


@dataclass(frozen=True, slots=True)
class QueueTokenView:
    token: str
    user_id: int
    concert_id: int
    queue_number: int  # the join number within the concert, 1, 2, 3, ... in arrival order
    status: str  # WAITING, ACTIVE or EXPIRED
    position: int | None  # 1 = next to be admitted; 0 when not waiting; None in the pre-queue
    estimated_wait_seconds: int | None  # None: no honest estimate (not open, paused, no seat)
    expires_at: datetime | None  # None while waiting
    issued_at: datetime
    expired_reason: str | None  # PAID, TIMED_OUT, ABANDONED, SOLD_OUT or OPERATOR when EXPIRED


def _estimate(state: TokenState) -> int | None:
    """Seconds until admission for a waiting token, from the pace actually achieved (queue_app/pace.py)."""
    if state.status != TokenStatus.WAITING:
        return 0
    if state.position is None or state.pace.blocked:
        return None
    conf = queue_settings()
    rate = state.pace.rate
    if rate is None:  # no round recorded yet: the configured pace
        rate = conf.batch / conf.interval_seconds
    return pace.estimate_seconds(position=state.position, rate=rate, interval_seconds=conf.interval_seconds)


def _view(state: TokenState) -> QueueTokenView:
    return QueueTokenView(
        token=state.token,
        user_id=state.user_id,
        concert_id=state.concert_id,
        queue_number=state.queue_number,
        status=state.status.value,
        position=state.position,
        estimated_wait_seconds=_estimate(state),
        expires_at=state.expires_at,
        issued_at=state.issued_at,
        expired_reason=state.expired_reason.value if state.expired_reason else None,
    )


def queue_token_issue(
    *, user_id: int, concert_id: int, rate_limited: bool = False
) -> tuple[QueueTokenView, bool]:
    """The user's live token for the concert (asking again never moves them back), or a new one at the
    back of the queue (in the pre-queue before the opening); True when created. `rate_limited` applies
    the per-user `queue_issue` rate (API). Raises QueueSoldOut for a new token of a sold-out concert."""
    if not concert_known(concert_id=concert_id):
        raise ConcertNotFound()
    try:
        state, created = get_backend().issue(
            user_id=_user_id(user_id),
            concert_id=concert_id,
            new_token=new_token_value(concert_id=concert_id),
            now=clock.write_now(),
            abandon_seconds=queue_settings().abandon_seconds,
            rate=rate_limit("queue_issue") if rate_limited else None,
        )
    except IntegrityError:
        # The database backend's foreign key: a concert deleted since the in-process cache saw it.
        if not Concert.objects.filter(pk=concert_id).exists():
            raise ConcertNotFound() from None
        raise
    return _view(state), created


def queue_token_status(
    *, token: str, user_id: int | None = None, rate_limited: bool = False
) -> QueueTokenView:
    """A poll: the token's state, and for a waiting token a fresh "last seen" (abandonment clock).
    With `user_id`, another user's token is reported as not found."""
    state = get_backend().status(
        token=token,
        user_id=None if user_id is None else _user_id(user_id),
        now=clock.now(),
        abandon_seconds=queue_settings().abandon_seconds,
        touch=True,
        rate=rate_limit("queue_status") if rate_limited else None,
    )
    if state is None:
        raise QueueTokenNotFound()
    return _view(state)


def queue_token_require_active(
    *, token: str | None, user_id: int, concert_id: int | None, mark: str | None = None
) -> QueueTokenView:
    """Booking guard: the token is ACTIVE, the user's, and for this concert. Reads only (no poll); only
    writes call it, so it takes the guarded time (ClockOutOfBounds, a 503, while the clock is off).
    `concert_id=None` leaves the concert check to the caller (it gets the token's concert_id back).
    `mark`: a key of the token's concert slot on which an ACTIVE token's check records a write intent in
    the same round trip, where the backend can (`queue_marks_write_intents()`)."""
    if not token:
        raise QueueTokenRequired()
    state = get_backend().status(
        token=token,
        now=clock.write_now(),  # only writes ask: a skewed clock must not judge a token live or lapsed
        abandon_seconds=queue_settings().abandon_seconds,
        touch=False,
        mark=mark,
    )
    if (
        state is None
        or state.status != TokenStatus.ACTIVE
        or state.user_id != _user_id(user_id)
        or (concert_id is not None and state.concert_id != concert_id)
    ):
        raise QueueTokenNotActive()
    return _view(state)


def queue_marks_write_intents() -> bool:
    """Whether queue_token_require_active(mark=...) records the intent (the Redis backend)."""
    return get_backend().marks_write_intents


def queue_token_concert(*, token: str | None) -> int | None:
    """The concert a token value names ("<concert id>.<random>"), or None when malformed. Says nothing
    of whether the token exists."""
    from queue_app.backends.redis_backend import token_concert

    return token_concert(token) if token else None


def queue_token_expire(*, token: str, reason: ExpiredReason | str = ExpiredReason.OPERATOR) -> None:
    """End a token now (an operator said so, or `reason`). Idempotent; unknown is a no-op. A token that
    had already lapsed or been abandoned keeps that reason."""
    get_backend().expire(
        token=token,
        now=clock.now(),
        reason=ExpiredReason(reason),
        abandon_seconds=queue_settings().abandon_seconds,
    )


def queue_token_expire_with_transaction(
    *, token: str, reason: ExpiredReason | str = ExpiredReason.PAID
) -> None:
    """Expire the token as part of the caller's transaction (a payment). The database backend writes
    inside it, so the token expires or not together with the payment. Redis cannot join a database
    transaction: there the token is expired once the transaction has committed, and should Redis fail
    at that moment the token still lapses at its TTL (logged)."""
    backend = get_backend()
    why = ExpiredReason(reason)
    abandon = queue_settings().abandon_seconds
    if backend.name == "database":
        backend.expire(token=token, now=clock.now(), reason=why, abandon_seconds=abandon)
        return

    def expire_after_commit() -> None:
        try:
            backend.expire(token=token, now=clock.now(), reason=why, abandon_seconds=abandon)
        except Exception:
            logger.warning("queue token not expired after commit; it lapses at its TTL", exc_info=True)

    transaction.on_commit(expire_after_commit)
