"""The database queue (embedded mode, or QUEUE_BACKEND=database): one QueueToken row per token and one
ConcertQueueState row per concert (queue number sequence, published inventory, recent rounds).

The admission order is `order_key`: the queue number, rewritten to the draw rank 1..P for the pre-queue
when it is drawn (database_draw.py). An admission round runs in one transaction holding a per-concert
lock (a transaction-scoped advisory lock on PostgreSQL; SQLite's IMMEDIATE transactions already serialize
writers), so two rounds, or a round and `promote_queue`, can neither admit a token twice nor pass the
cap. Issuing a new token and the draw both lock the concert's state row, so a token joins either the
pre-queue before the draw or the queue after it. The partial unique constraint on (user, concert) for
WAITING/ACTIVE rows backs "one live token". Rate limits use Django's cache (fixed windows per user).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import IntegrityError, connection, transaction
from django.db.models import F

from config import clock, locks
from config.db import atomic_with_retry
from config.ratelimit import RateLimit, rate_hit, user_ident
from queue_app import pace
from queue_app.backends.base import (
    Admission,
    ExpiredReason,
    QueueCounts,
    QueueSnapshot,
    RoundResult,
    TokenState,
    TokenStatus,
)
from queue_app.backends.database_draw import Sale, draw, locked_state, sale_of, state_row
from queue_app.errors import QueueSoldOut, QueueThrottled
from queue_app.models import ConcertQueueState, QueueToken

LIVE = (TokenStatus.WAITING, TokenStatus.ACTIVE)


def _rate_hit(rate: RateLimit | None, *, user_id: int, now: datetime) -> None:
    """The one fixed-window counter (config.ratelimit), under the identity DRF and plain views use."""
    retry = rate_hit(rate, ident=user_ident(user_id), now=now)
    if retry:
        raise QueueThrottled(retry_after=retry)


def _seen(row: QueueToken, sale: Sale) -> datetime:
    """Last seen, the opening at the earliest: nobody leaves the pre-queue before the opening."""
    return max(row.last_seen_at, sale.opens_at) if sale.opens_at else row.last_seen_at


def _live_status(row: QueueToken, *, now: datetime, cutoff: datetime, sale: Sale) -> TokenStatus:
    if row.status == TokenStatus.ACTIVE and row.expires_at is not None and row.expires_at > now:
        return TokenStatus.ACTIVE
    if row.status == TokenStatus.WAITING and _seen(row, sale) > cutoff:
        return TokenStatus.WAITING
    return TokenStatus.EXPIRED


def _live_waiting(concert_id: int, *, cutoff: datetime, sale: Sale):  # type: ignore[no-untyped-def]
    waiting = QueueToken.objects.filter(concert_id=concert_id, status=TokenStatus.WAITING)
    if sale.opens_at is not None and sale.opens_at > cutoff:
        return waiting  # nobody can have been abandoned yet
    return waiting.filter(last_seen_at__gt=cutoff)


def _state(row: QueueToken, *, now: datetime, abandon_seconds: int, sale: Sale) -> TokenState:
    cutoff = now - timedelta(seconds=abandon_seconds)
    status = _live_status(row, now=now, cutoff=cutoff, sale=sale)
    expires_at, reason = row.expires_at, row.expired_reason or None
    position: int | None = 0
    if status == TokenStatus.WAITING:
        if sale.prequeue(now):
            position = None
        else:
            ahead = _live_waiting(row.concert_id, cutoff=cutoff, sale=sale).filter(
                order_key__lt=row.order_key
            )
            position = ahead.count() + 1
    elif row.status == TokenStatus.WAITING:
        expires_at, reason = _seen(row, sale) + timedelta(seconds=abandon_seconds), ExpiredReason.ABANDONED
    elif row.status == TokenStatus.ACTIVE:
        reason = ExpiredReason.TIMED_OUT
    return TokenState(
        token=row.token,
        user_id=row.user_id,
        concert_id=row.concert_id,
        queue_number=row.queue_number,
        status=status,
        position=position,
        issued_at=row.issued_at,
        expires_at=None if status == TokenStatus.WAITING else expires_at,
        expired_reason=ExpiredReason(reason) if status == TokenStatus.EXPIRED and reason else None,
        pace=sale.pace(now),
    )


def _touch(row: QueueToken, *, now: datetime, sale: Sale) -> None:
    seen = max(now, sale.opens_at) if sale.opens_at else now
    if QueueToken.objects.filter(pk=row.pk, status=TokenStatus.WAITING).update(last_seen_at=seen):
        row.last_seen_at = seen
    else:  # admitted or ended meanwhile
        row.refresh_from_db()


def _end(row: QueueToken, *, now: datetime, abandon_seconds: int, sale: Sale) -> None:
    """Write EXPIRED for a lapsed or abandoned row so the live-token constraint frees the user."""
    state = _state(row, now=now, abandon_seconds=abandon_seconds, sale=sale)
    QueueToken.objects.filter(pk=row.pk, status__in=LIVE).update(
        status=TokenStatus.EXPIRED,
        expires_at=state.expires_at or now,
        expired_reason=(state.expired_reason or ExpiredReason.TIMED_OUT).value,
    )


class DatabaseQueueBackend:
    name = "database"
    marks_write_intents = False  # `mark` is ignored: the seat map cache bumps after commit instead

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
        draw(concert_id=concert_id, now=now)
        for _ in range(3):
            row, created = self._issue_once(
                user_id=user_id, concert_id=concert_id, new_token=new_token, now=now, abandon=abandon_seconds
            )
            if row is not None:
                sale = sale_of(concert_id)
                return _state(row, now=now, abandon_seconds=abandon_seconds, sale=sale), created
        raise IntegrityError("could not settle the user's live queue token")

    @staticmethod
    @atomic_with_retry
    def _issue_once(
        *, user_id: int, concert_id: int, new_token: str, now: datetime, abandon: int
    ) -> tuple[QueueToken | None, bool]:
        cutoff = now - timedelta(seconds=abandon)
        sale = sale_of(concert_id)
        row = QueueToken.objects.filter(user_id=user_id, concert_id=concert_id, status__in=LIVE).first()
        if row is not None:
            if _live_status(row, now=now, cutoff=cutoff, sale=sale) != TokenStatus.EXPIRED:
                if row.status == TokenStatus.WAITING:
                    _touch(row, now=now, sale=sale)
                return row, False
            _end(row, now=now, abandon_seconds=abandon, sale=sale)
        state = locked_state(concert_id)  # serializes with the draw: join the pre-queue or after the draw
        if state.sold_out:
            raise QueueSoldOut()
        sale = sale_of(concert_id)
        number = state.sequence + 1
        try:
            with transaction.atomic():  # a savepoint: a concurrent twin may win the unique constraint
                created = QueueToken.objects.create(
                    token=new_token,
                    user_id=user_id,
                    concert_id=concert_id,
                    status=TokenStatus.WAITING,
                    issued_at=now,
                    last_seen_at=max(now, sale.opens_at) if sale.opens_at else now,
                    queue_number=number,
                    order_key=number,
                )
        except IntegrityError:
            return None, False  # the twin's row is committed or about to be: read it again
        ConcertQueueState.objects.filter(pk=concert_id).update(sequence=number)
        return created, True

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
        row = QueueToken.objects.filter(token=token).first() if token else None
        if row is None or (user_id is not None and row.user_id != user_id):
            return None
        _rate_hit(rate, user_id=row.user_id, now=now)
        if row.status == TokenStatus.WAITING:
            draw(concert_id=row.concert_id, now=now)
            row.refresh_from_db()
        sale = sale_of(row.concert_id)
        cutoff = now - timedelta(seconds=abandon_seconds)
        if touch and _live_status(row, now=now, cutoff=cutoff, sale=sale) == TokenStatus.WAITING:
            _touch(row, now=now, sale=sale)
        return _state(row, now=now, abandon_seconds=abandon_seconds, sale=sale)

    def expire(self, *, token: str, now: datetime, reason: ExpiredReason, abandon_seconds: int) -> bool:
        row = QueueToken.objects.filter(token=token).first() if token else None
        if row is None or row.status == TokenStatus.EXPIRED:
            return False
        expires_at = now
        if row.status == TokenStatus.ACTIVE and row.expires_at is not None and row.expires_at <= now:
            expires_at, reason = row.expires_at, ExpiredReason.TIMED_OUT
        if row.status == TokenStatus.WAITING:
            seen = _seen(row, sale_of(row.concert_id))
            if seen <= now - timedelta(seconds=abandon_seconds):
                expires_at, reason = seen + timedelta(seconds=abandon_seconds), ExpiredReason.ABANDONED
        return bool(
            QueueToken.objects.filter(pk=row.pk, status__in=LIVE).update(
                status=TokenStatus.EXPIRED, expires_at=expires_at, expired_reason=reason.value
            )
        )

    def promote(self, *, concert_id: int, now: datetime, admission: Admission) -> RoundResult:
        draw(concert_id=concert_id, now=now)
        return _promote(concert_id=concert_id, now=now, admission=admission)

    def sale_publish(self, *, concert_id: int, opens_at: datetime | None, seed: str, drawn: bool) -> None:
        state_row(concert_id)  # the catalog's row is the sale's record here; make sure the state exists

    def inventory_publish(self, *, concert_id: int, sold_out: bool, seat_available: bool) -> None:
        state_row(concert_id)
        ConcertQueueState.objects.filter(pk=concert_id).update(
            sold_out=sold_out, seat_available=seat_available
        )

    def draw(self, *, concert_id: int, now: datetime) -> bool:
        return draw(concert_id=concert_id, now=now)

    def snapshot(self, *, concert_id: int, now: datetime, abandon_seconds: int) -> QueueSnapshot:
        counts = self.counts(concert_id=concert_id, now=now, abandon_seconds=abandon_seconds)
        state = ConcertQueueState.objects.filter(pk=concert_id).first() or ConcertQueueState()
        sale = sale_of(concert_id)
        return QueueSnapshot(
            waiting=counts.waiting,
            active=counts.active,
            drawn=sale.drawn_at is not None,
            drawn_at=sale.drawn_at,
            sold_out=state.sold_out,
            seat_available=state.seat_available,
            rounds=[tuple(r) for r in state.rounds],  # type: ignore[misc]
            admitted_total=state.admitted_total,
            abandoned_total=state.abandoned_total,
        )

    def counts(self, *, concert_id: int, now: datetime, abandon_seconds: int) -> QueueCounts:
        cutoff = now - timedelta(seconds=abandon_seconds)
        active = QueueToken.objects.filter(
            concert_id=concert_id, status=TokenStatus.ACTIVE, expires_at__gt=now
        )
        return QueueCounts(
            waiting=_live_waiting(concert_id, cutoff=cutoff, sale=sale_of(concert_id)).count(),
            active=active.count(),
        )

    def last_round_at(self, *, concert_ids: list[int]) -> dict[int, datetime | None]:
        found = dict(ConcertQueueState.objects.filter(pk__in=concert_ids).values_list("pk", "last_round_at"))
        return {concert_id: found.get(concert_id) for concert_id in concert_ids}

    def live_token_for(
        self, *, user_id: int, concert_id: int, now: datetime, abandon_seconds: int
    ) -> str | None:
        row = QueueToken.objects.filter(user_id=user_id, concert_id=concert_id, status__in=LIVE).first()
        if row is None:
            return None
        cutoff = now - timedelta(seconds=abandon_seconds)
        live = _live_status(row, now=now, cutoff=cutoff, sale=sale_of(concert_id)) != TokenStatus.EXPIRED
        return row.token if live else None


@atomic_with_retry
def _promote(*, concert_id: int, now: datetime, admission: Admission) -> RoundResult:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_advisory_xact_lock(%s, %s)", locks.advisory_key(locks.QUEUE_ADMISSION, concert_id)
            )
    sale = sale_of(concert_id)
    if sale.prequeue(now):
        return RoundResult(ran=False, admitted=0)
    tokens = QueueToken.objects.filter(concert_id=concert_id)
    abandon = timedelta(seconds=admission.abandon_seconds)
    cutoff = now - abandon
    abandoned = 0
    # Tidy with index range updates (concert, status, last_seen_at / expires_at): O(log n + m).
    if sale.opens_at is None or cutoff >= sale.opens_at:
        abandoned = tokens.filter(status=TokenStatus.WAITING, last_seen_at__lte=cutoff).update(
            status=TokenStatus.EXPIRED,
            expires_at=F("last_seen_at") + abandon,
            expired_reason=ExpiredReason.ABANDONED.value,
        )
    tokens.filter(status=TokenStatus.ACTIVE, expires_at__lte=now).update(
        status=TokenStatus.EXPIRED, expired_reason=ExpiredReason.TIMED_OUT.value
    )
    room = admitted = 0
    if admission.sold_out:
        tokens.filter(status=TokenStatus.WAITING).update(
            status=TokenStatus.EXPIRED, expires_at=now, expired_reason=ExpiredReason.SOLD_OUT.value
        )
    elif not admission.paused and admission.seat_available:
        room = admission.batch
        if admission.max_active is not None:
            active = tokens.filter(status=TokenStatus.ACTIVE).count()
            room = max(0, min(room, admission.max_active - active))
    if room > 0:
        waiting = tokens.filter(status=TokenStatus.WAITING).order_by("order_key")
        head = list(waiting.values_list("id", flat=True)[:room])
        admitted = tokens.filter(id__in=head, status=TokenStatus.WAITING).update(
            status=TokenStatus.ACTIVE, expires_at=now + timedelta(seconds=admission.active_ttl_seconds)
        )
    state = locked_state(concert_id)
    rounds = [[clock.to_ms(now), admitted, room], *state.rounds][: pace.KEEP_ROUNDS]
    ConcertQueueState.objects.filter(pk=concert_id).update(
        rounds=rounds,
        last_round_at=now,
        paused=admission.paused,
        sold_out=admission.sold_out,
        seat_available=admission.seat_available,
        admitted_total=F("admitted_total") + admitted,
        abandoned_total=F("abandoned_total") + abandoned,
        rate=pace.achieved_rate(
            rounds=[tuple(r) for r in rounds],  # type: ignore[misc]
            now_ms=clock.to_ms(now),
            interval_seconds=admission.interval_seconds,
        ),
    )
    return RoundResult(ran=True, admitted=admitted)
