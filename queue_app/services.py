"""The waiting queue's services: what the API, the beat task, the admin and other apps call.

Time comes from config.clock; the backend (Redis or the database) from settings.QUEUE_BACKEND.
"""

from __future__ import annotations

import logging
import math
import secrets
from dataclasses import dataclass
from datetime import datetime

from django.db import IntegrityError, transaction

from concerts.errors import ConcertNotFound
from concerts.models import Concert
from config import clock
from queue_app.backends import get_backend
from queue_app.backends.base import Admission, TokenState, TokenStatus
from queue_app.concert_cache import concert_known
from queue_app.conf import queue_settings, rate_limit
from queue_app.errors import QueueTokenNotActive, QueueTokenNotFound, QueueTokenRequired

logger = logging.getLogger(__name__)

TOKEN_BYTES = 16  # 128 bits from `secrets`: unguessable, so the token alone can be a capability


def _user_id(value: int | str) -> int:
    # simplejwt's TokenUser.pk is the JWT claim, a string: callers passing request.user.pk must match.
    return int(value)


@dataclass(frozen=True, slots=True)
class QueueTokenView:
    token: str
    user_id: int
    concert_id: int
    status: str  # WAITING, ACTIVE or EXPIRED
    position: int  # 1 = next to be admitted; 0 when not waiting
    estimated_wait_seconds: int
    expires_at: datetime | None  # None while waiting
    issued_at: datetime


def _view(state: TokenState) -> QueueTokenView:
    conf = queue_settings()
    wait = math.ceil(state.position / conf.batch) * conf.interval_seconds if state.position else 0
    return QueueTokenView(
        token=state.token,
        user_id=state.user_id,
        concert_id=state.concert_id,
        status=state.status.value,
        position=state.position,
        estimated_wait_seconds=wait,
        expires_at=state.expires_at,
        issued_at=state.issued_at,
    )


def queue_token_issue(
    *, user_id: int, concert_id: int, rate_limited: bool = False
) -> tuple[QueueTokenView, bool]:
    """The user's live token for the concert (asking again never moves them back), or a new one at the
    back of the queue; True when created. `rate_limited` applies the per-user `queue_issue` rate (API)."""
    if not concert_known(concert_id=concert_id):
        raise ConcertNotFound()
    try:
        state, created = get_backend().issue(
            user_id=_user_id(user_id),
            concert_id=concert_id,
            new_token=secrets.token_urlsafe(TOKEN_BYTES),
            now=clock.now(),
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


def queue_token_require_active(*, token: str | None, user_id: int, concert_id: int | None) -> QueueTokenView:
    """Booking guard: the token is ACTIVE, the user's, and for this concert. Reads only (no poll).
    `concert_id=None` leaves the concert check to the caller (it gets the token's concert_id back)."""
    if not token:
        raise QueueTokenRequired()
    state = get_backend().status(
        token=token, now=clock.now(), abandon_seconds=queue_settings().abandon_seconds, touch=False
    )
    if (
        state is None
        or state.status != TokenStatus.ACTIVE
        or state.user_id != _user_id(user_id)
        or (concert_id is not None and state.concert_id != concert_id)
    ):
        raise QueueTokenNotActive()
    return _view(state)


def queue_token_expire(*, token: str) -> None:
    """End a token now (a payment completed, or an operator said so). Idempotent; unknown is a no-op."""
    get_backend().expire(token=token, now=clock.now())


def queue_token_expire_with_transaction(*, token: str) -> None:
    """Expire the token as part of the caller's transaction (a payment). The database backend writes
    inside it, so the token expires or not together with the payment. Redis cannot join a database
    transaction: there the token is expired once the transaction has committed, and should Redis fail
    at that moment the token still lapses at its TTL (logged)."""
    backend = get_backend()
    if backend.name == "database":
        backend.expire(token=token, now=clock.now())
        return

    def expire_after_commit() -> None:
        try:
            backend.expire(token=token, now=clock.now())
        except Exception:
            logger.warning("queue token not expired after commit; it lapses at its TTL", exc_info=True)

    transaction.on_commit(expire_after_commit)


def queue_promote(*, concert_id: int) -> int:
    """One admission round for one concert; returns how many tokens were admitted."""
    concert = Concert.objects.filter(pk=concert_id).values("queue_paused", "queue_max_active").first()
    if concert is None:
        raise ConcertNotFound()
    conf = queue_settings()
    admission = Admission(
        batch=conf.batch,
        max_active=concert["queue_max_active"],
        paused=concert["queue_paused"],
        active_ttl_seconds=conf.active_ttl_seconds,
        abandon_seconds=conf.abandon_seconds,
    )
    return get_backend().promote(concert_id=concert_id, now=clock.now(), admission=admission)


def queue_promote_all() -> dict[int, int]:
    """One admission round for every concert that has waiting tokens: {concert id: admitted}."""
    admitted: dict[int, int] = {}
    for concert_id in get_backend().concerts_with_waiting():
        try:
            admitted[concert_id] = queue_promote(concert_id=concert_id)
        except ConcertNotFound:
            logger.info("queue for deleted concert %s skipped", concert_id)
    return admitted
