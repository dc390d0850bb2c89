from celery import shared_task

from reservations import services


@shared_task(name="reservations.tasks.reservations_expire_overdue", ignore_result=True)
def reservations_expire_overdue() -> int:
    return services.reservations_expire_overdue()
