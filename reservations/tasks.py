import logging

from celery import shared_task

from config.exceptions import ClockOutOfBounds
from reservations import services

logger = logging.getLogger(__name__)


@shared_task(name="reservations.tasks.reservations_expire_overdue", ignore_result=True)
def reservations_expire_overdue() -> int:
    """The expiry sweep; skipped while this worker's clock is out of bounds (reads never depend on it)."""
    try:
        return services.reservations_expire_overdue()
    except ClockOutOfBounds:
        logger.warning("expiry sweep skipped: this worker's clock is out of bounds")
        return 0
