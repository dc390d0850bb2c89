"""Idempotency-Key: the first answer is stored in the same transaction as the business change it
reports, so a process killed mid-request leaves either both or neither."""

import hashlib
import json
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from rest_framework.exceptions import ValidationError
from rest_framework.utils.encoders import JSONEncoder

from config import clock, locks
from config.db import atomic_with_retry
from config.exceptions import DomainError, exception_to_problem
from idempotency.errors import IdempotencyKeyReused, RequestInProgress
from idempotency.models import IdempotencyRecord

Handler = Callable[[], tuple[int, dict[str, Any]]]
PURGE_BATCH_SIZE = 1000
NOT_REMEMBERED_STATUSES = {401, 403, 429}


def idempotency_fingerprint(*, method: str, path: str, body: object) -> str:
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, cls=JSONEncoder)
    return hashlib.sha256(f"{method.upper()}\n{path}\n{canonical}".encode()).hexdigest()


def _lock_key(*, user_id: int, key: str) -> tuple[int, int]:
    digest = hashlib.sha256(f"idempotency:{user_id}:{key}".encode()).digest()
    return locks.advisory_key(locks.IDEMPOTENCY_KEY, int.from_bytes(digest[:8], "big"))


def _cutoff() -> datetime:
    return clock.now() - timedelta(seconds=settings.IDEMPOTENCY_TTL_SECONDS)


def _as_json(body: dict[str, Any]) -> dict[str, Any]:
    # What the client sees first must be byte-for-byte what a replay shows: store and answer the same.
    result: dict[str, Any] = json.loads(json.dumps(body, cls=JSONEncoder))
    return result


def _handler_run(handler: Handler) -> tuple[int, dict[str, Any]]:
    try:
        with transaction.atomic():  # a savepoint: a refused request leaves no partial change behind
            return handler()
    except (DomainError, ValidationError) as exc:
        mapped = exception_to_problem(exc)
        # A 5xx is worth retrying, not remembering; nor is a refusal before the work began (no or
        # inactive queue token, throttled): the client fixes that and retries with the same key.
        if mapped is None or mapped[0] >= 500 or mapped[0] in NOT_REMEMBERED_STATUSES:
            raise
        return mapped[0], mapped[1]


@atomic_with_retry
def idempotent_call(
    *, user_id: int, key: str, fingerprint: str, handler: Handler
) -> tuple[int, dict[str, Any], bool]:
    """(status, body, replayed). Must be the outermost transaction: the handler's services join it.

    A 4xx answer from a DomainError or ValidationError is stored and replayed like a success; a 5xx or
    any other exception propagates and stores nothing."""
    if connection.vendor == "postgresql":
        # Held until commit; a duplicate arriving meanwhile is told so at once instead of waiting.
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_xact_lock(%s, %s)", _lock_key(user_id=user_id, key=key))
            if not cursor.fetchone()[0]:
                raise RequestInProgress()
    # On SQLite the IMMEDIATE transaction already serializes writers: a duplicate waits, then replays.
    record = IdempotencyRecord.objects.filter(user_id=user_id, key=key).first()
    if record is not None and record.created_at < _cutoff():
        record.delete()
        record = None
    if record is not None:
        if record.fingerprint != fingerprint:
            raise IdempotencyKeyReused()
        return record.response_status, record.response_body, True
    status, body = _handler_run(handler)
    body = _as_json(body)
    IdempotencyRecord.objects.create(
        user_id=user_id, key=key, fingerprint=fingerprint, response_status=status, response_body=body
    )
    return status, body, False


def idempotency_records_purge(*, batch_size: int = PURGE_BATCH_SIZE) -> int:
    """Delete records past the TTL in short batches (no long lock on a big table); returns the count."""
    cutoff = _cutoff()
    deleted = 0
    while True:
        ids = list(
            IdempotencyRecord.objects.filter(created_at__lt=cutoff)
            .order_by("created_at")
            .values_list("pk", flat=True)[:batch_size]
        )
        if not ids:
            return deleted
        deleted += IdempotencyRecord.objects.filter(pk__in=ids, created_at__lt=cutoff).delete()[0]
