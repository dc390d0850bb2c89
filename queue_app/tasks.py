from celery import shared_task

from queue_app import services


@shared_task(ignore_result=True)
def queue_promote_all() -> dict[str, int]:
    """Celery beat, every QUEUE_PROMOTION_INTERVAL_SECONDS: one admission round per concert."""
    return {str(concert_id): n for concert_id, n in services.queue_promote_all().items()}
