import io
import json
from datetime import datetime, timedelta
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from concerts.services import concert_create, concert_set_queue_admission, schedule_create, seats_generate
from config import clock
from config.exceptions import DomainError


def _positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise ValueError(value)
    return number


def _moment(value: str) -> datetime:
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        raise ValueError(value)
    return moment


class Command(BaseCommand):
    help = (
        "Create one concert with N schedules (a week apart from a week ahead) of N seats numbered 1..N. "
        'The last line of output is JSON: {"concert_id": ..., "schedule_ids": [...]}.'
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--name", required=True)
        parser.add_argument("--schedules", type=_positive, default=1, help="Schedules (default 1).")
        parser.add_argument("--seats", type=_positive, default=50, help="Seats per schedule (default 50).")
        parser.add_argument("--price", type=int, default=100, help="Seat price in points (default 100).")
        parser.add_argument(
            "--sales-open-at", type=_moment, help="ISO 8601 time with offset: the queue's opening (a draw)."
        )
        parser.add_argument("--max-active", type=_positive, help="Cap on ACTIVE queue tokens.")

    def handle(self, *args: Any, **options: Any) -> None:
        now = clock.now()
        opens_at: datetime | None = options.get("sales_open_at")
        if opens_at is not None and opens_at <= now:
            raise CommandError("--sales-open-at must be in the future.")
        if options["price"] < 0:
            raise CommandError("--price must not be negative.")
        try:
            with transaction.atomic():
                concert = concert_create(name=options["name"], price=options["price"])
                if options.get("max_active"):
                    concert_set_queue_admission(concert=concert, max_active=options["max_active"])
                schedule_ids = []
                for week in range(1, options["schedules"] + 1):
                    schedule = schedule_create(
                        concert=concert,
                        starts_at=now + timedelta(weeks=week),
                        sales_open_at=opens_at or now,
                    )
                    seats_generate(schedule=schedule, count=options["seats"], start_number=1)
                    schedule_ids.append(schedule.pk)
            if opens_at is not None:
                # The opening (seed, commitment, queue store) belongs to the queue: its command does it,
                # called by name so the catalog imports nothing above it.
                call_command(
                    "schedule_sale", concert=concert.pk, opens_at=opens_at.isoformat(), stdout=io.StringIO()
                )
        except DomainError as exc:
            raise CommandError(str(getattr(exc, "fields", None) or exc.detail)) from exc
        self.stdout.write(f"created concert {concert.pk} {concert.name!r}: {len(schedule_ids)} schedule(s)")
        self.stdout.write(json.dumps({"concert_id": concert.pk, "schedule_ids": schedule_ids}))
