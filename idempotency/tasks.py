from celery import shared_task

from idempotency.services import idempotency_records_purge


@shared_task(name="idempotency.tasks.idempotency_purge_expired")
def idempotency_purge_expired() -> int:
    """Tidying only: expired records are already ignored by every request."""
    return idempotency_records_purge()
