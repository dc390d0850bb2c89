"""The database queue (embedded mode, or QUEUE_BACKEND=database): one QueueToken row per token.

FIFO is the row id. An admission round runs in one transaction holding a per-concert lock (a
transaction-scoped advisory lock on PostgreSQL; SQLite's IMMEDIATE transactions already serialize
writers), so two rounds, or a round and `promote_queue`, can neither admit a token twice nor pass the
cap. The partial unique constraint on (user, concert) for WAITING/ACTIVE rows backs "one live token".
Rate limits use Django's cache (fixed windows per user).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.core.cache import cache
from django.db import IntegrityError, connection, transaction
from django.db.models import F

from config import locks
from config.db import atomic_with_retry
from queue_app.backends.base import Admission, QueueCounts, TokenState, TokenStatus
from queue_app.conf import RateLimit
from queue_app.errors import QueueThrottled
from queue_app.models import QueueToken

LIVE = (TokenStatus.WAITING, TokenStatus.ACTIVE)


def _rate_hit(rate: RateLimit | None, *, user_id: int, now: datetime) -> None:
    if rate is None:
        return
    window = int(now.timestamp()) // rate.window_seconds
    key = f"queue:rl:{rate.scope}:{user_id}:{window}"
    cache.add(key, 0, timeout=rate.window_seconds)
    try:
        count = cache.incr(key)
    except ValueError:  # evicted between add and incr: count this request as the first
        cache.set(key, 1, timeout=rate.window_seconds)
        count = 1
    if count > rate.limit:
        retry = (window + 1) * rate.window_seconds - now.timestamp()
        raise QueueThrottled(retry_after=int(-(-retry // 1)))


def _live_status(row: QueueToken, *, now: datetime, cutoff: datetime) -> TokenStatus:
    if row.status == TokenStatus.ACTIVE and row.expires_at is not None and row.expires_at > now:
        return TokenStatus.ACTIVE
    if row.status == TokenStatus.WAITING and row.last_seen_at > cutoff:
        return TokenStatus.WAITING
    return TokenStatus.EXPIRED


def _position(row: QueueToken, *, cutoff: datetime) -> int:
    ahead = QueueToken.objects.filter(
        concert_id=row.concert_id, status=TokenStatus.WAITING, id__lt=row.id, last_seen_at__gt=cutoff
    ).count()
    return ahead + 1


def _state(row: QueueToken, *, now: datetime, abandon_seconds: int, position: bool = True) -> TokenState:
    cutoff = now - timedelta(seconds=abandon_seconds)
    status = _live_status(row, now=now, cutoff=cutoff)
    expires_at = row.expires_at
    if status == TokenStatus.EXPIRED and row.status == TokenStatus.WAITING:
        expires_at = row.last_seen_at + timedelta(seconds=abandon_seconds)  # abandoned
    return TokenState(
        token=row.token,
        user_id=row.user_id,
        concert_id=row.concert_id,
        status=status,
        position=_position(row, cutoff=cutoff) if status == TokenStatus.WAITING and position else 0,
        issued_at=row.issued_at,
        expires_at=None if status == TokenStatus.WAITING else expires_at,
    )


def _touch(row: QueueToken, *, now: datetime) -> None:
    if QueueToken.objects.filter(pk=row.pk, status=TokenStatus.WAITING).update(last_seen_at=now):
        row.last_seen_at = now
    else:  # admitted or ended meanwhile
        row.refresh_from_db()


def _end(row: QueueToken, *, now: datetime, abandon_seconds: int) -> None:
    """Write EXPIRED for a lapsed or abandoned row so the live-token constraint frees the user."""
    expires_at = _state(row, now=now, abandon_seconds=abandon_seconds, position=False).expires_at or now
    QueueToken.objects.filter(pk=row.pk, status__in=LIVE).update(
        status=TokenStatus.EXPIRED, expires_at=expires_at
    )


class DatabaseQueueBackend:
    name = "database"

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
        _rate_hit(rate, user_id=user_id, now=now)
        for _ in range(3):
            row, created = self._issue_once(
                user_id=user_id, concert_id=concert_id, new_token=new_token, now=now, abandon=abandon_seconds
            )
            if row is not None:
                return _state(row, now=now, abandon_seconds=abandon_seconds), created
        raise IntegrityError("could not settle the user's live queue token")

    @staticmethod
    @atomic_with_retry
    def _issue_once(
        *, user_id: int, concert_id: int, new_token: str, now: datetime, abandon: int
    ) -> tuple[QueueToken | None, bool]:
        cutoff = now - timedelta(seconds=abandon)
        row = QueueToken.objects.filter(user_id=user_id, concert_id=concert_id, status__in=LIVE).first()
        if row is not None:
            if _live_status(row, now=now, cutoff=cutoff) != TokenStatus.EXPIRED:
                if row.status == TokenStatus.WAITING:
                    _touch(row, now=now)
                return row, False
            _end(row, now=now, abandon_seconds=abandon)
        try:
            with transaction.atomic():  # a savepoint: a concurrent twin may win the unique constraint
                created = QueueToken.objects.create(
                    token=new_token,
                    user_id=user_id,
                    concert_id=concert_id,
                    status=TokenStatus.WAITING,
                    issued_at=now,
                    last_seen_at=now,
                )
            return created, True
        except IntegrityError:
            return None, False  # the twin's row is committed or about to be: read it again

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
        row = QueueToken.objects.filter(token=token).first() if token else None
        if row is None or (user_id is not None and row.user_id != user_id):
            return None
        _rate_hit(rate, user_id=row.user_id, now=now)
        cutoff = now - timedelta(seconds=abandon_seconds)
        if touch and _live_status(row, now=now, cutoff=cutoff) == TokenStatus.WAITING:
            _touch(row, now=now)
        return _state(row, now=now, abandon_seconds=abandon_seconds)

    def expire(self, *, token: str, now: datetime) -> bool:
        row = QueueToken.objects.filter(token=token).first() if token else None
        if row is None or row.status == TokenStatus.EXPIRED:
            return False
        expires_at = now if row.expires_at is None or row.expires_at > now else row.expires_at
        return bool(
            QueueToken.objects.filter(pk=row.pk, status__in=LIVE).update(
                status=TokenStatus.EXPIRED, expires_at=expires_at
            )
        )

    def promote(self, *, concert_id: int, now: datetime, admission: Admission) -> int:
        return _promote(concert_id=concert_id, now=now, admission=admission)

    def concerts_with_waiting(self) -> list[int]:
        ids = QueueToken.objects.filter(status=TokenStatus.WAITING).values_list("concert_id", flat=True)
        return sorted(set(ids.distinct()))

    def counts(self, *, concert_id: int, now: datetime, abandon_seconds: int) -> QueueCounts:
        tokens = QueueToken.objects.filter(concert_id=concert_id)
        cutoff = now - timedelta(seconds=abandon_seconds)
        return QueueCounts(
            waiting=tokens.filter(status=TokenStatus.WAITING, last_seen_at__gt=cutoff).count(),
            active=tokens.filter(status=TokenStatus.ACTIVE, expires_at__gt=now).count(),
        )

    def live_token_for(
        self, *, user_id: int, concert_id: int, now: datetime, abandon_seconds: int
    ) -> str | None:
        row = QueueToken.objects.filter(user_id=user_id, concert_id=concert_id, status__in=LIVE).first()
        if row is None:
            return None
        cutoff = now - timedelta(seconds=abandon_seconds)
        return row.token if _live_status(row, now=now, cutoff=cutoff) != TokenStatus.EXPIRED else None


@atomic_with_retry
def _promote(*, concert_id: int, now: datetime, admission: Admission) -> int:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_advisory_xact_lock(%s, %s)", locks.advisory_key(locks.QUEUE_ADMISSION, concert_id)
            )
    tokens = QueueToken.objects.filter(concert_id=concert_id)
    abandon = timedelta(seconds=admission.abandon_seconds)
    cutoff = now - abandon
    # Tidy with index range updates (concert, status, last_seen_at / expires_at): O(log n + m).
    tokens.filter(status=TokenStatus.WAITING, last_seen_at__lte=cutoff).update(
        status=TokenStatus.EXPIRED, expires_at=F("last_seen_at") + abandon
    )
    tokens.filter(status=TokenStatus.ACTIVE, expires_at__lte=now).update(status=TokenStatus.EXPIRED)
    if admission.paused:
        return 0
    room = admission.batch
    if admission.max_active is not None:
        room = min(room, admission.max_active - tokens.filter(status=TokenStatus.ACTIVE).count())
    if room <= 0:
        return 0
    head = list(tokens.filter(status=TokenStatus.WAITING).order_by("id").values_list("id", flat=True)[:room])
    return tokens.filter(id__in=head, status=TokenStatus.WAITING).update(
        status=TokenStatus.ACTIVE, expires_at=now + timedelta(seconds=admission.active_ttl_seconds)
    )
