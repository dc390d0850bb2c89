import logging

from celery import shared_task

from config.exceptions import ClockOutOfBounds
from queue_app import services

logger = logging.getLogger(__name__)


@shared_task(ignore_result=True)
def queue_promote_all() -> dict[str, int]:
    """Celery beat, every QUEUE_PROMOTION_INTERVAL_SECONDS: one admission round per concert. A worker
    whose clock is out of bounds skips the round (another worker, or its next beat, runs it)."""
    try:
        admitted = services.queue_promote_all()
    except ClockOutOfBounds:
        logger.warning("admission round skipped: this worker's clock is out of bounds")
        return {}
    return {str(concert_id): n for concert_id, n in admitted.items()}
