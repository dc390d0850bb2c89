"""Helpers for tests of the per-concert queue page in admin."""

from django.contrib.admin.models import LogEntry

from concerts.models import Concert


def page(concert: Concert) -> str:
    """The queue page of a concert."""
    return f"/admin/queue_app/concertqueue/{concert.pk}/change/"


def history(concert: Concert) -> list[str]:
    """The admin history of a concert's queue, oldest first, as "<operator email>: <change>"."""
    entries = LogEntry.objects.filter(content_type__model="concertqueue", object_id=str(concert.pk))
    return [f"{e.user.email}: {e.get_change_message()}" for e in entries.order_by("id")]
