"""Back-office jobs (Celery beat)."""

from __future__ import annotations

import logging

from celery import shared_task

from backoffice.live_sale import services

logger = logging.getLogger(__name__)


@shared_task(ignore_result=True)
def sale_snapshots_record() -> dict[str, int]:
    """Every minute: one snapshot per concert with a sale scheduled or open, then the retention."""
    recorded = services.sale_snapshots_record()
    purged = services.sale_snapshots_purge()
    if recorded or purged:
        logger.info("sale snapshots: %d recorded, %d purged", recorded, purged)
    return {"recorded": recorded, "purged": purged}
