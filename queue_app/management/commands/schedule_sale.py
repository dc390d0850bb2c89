from datetime import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from concerts.errors import ConcertNotFound
from config.exceptions import InvalidInput
from queue_app.errors import SaleAlreadyDrawn
from queue_app.services import sale_schedule


def parse_moment(value: str, *, option: str) -> datetime:
    """An ISO 8601 time with its offset ("2030-05-01T10:00:00+00:00" or "...Z")."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"{option}: {value!r} is not an ISO 8601 time.") from exc
    if moment.tzinfo is None:
        raise CommandError(f"{option}: {value!r} has no offset; write e.g. 2030-05-01T10:00:00+00:00.")
    return moment


class Command(BaseCommand):
    help = "(Re)schedule a concert's sale opening with a fresh draw seed and commitment."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--concert", type=int, required=True, help="The concert id.")
        parser.add_argument("--opens-at", required=True, help="ISO 8601 time with offset, in the future.")

    def handle(self, *args: Any, **options: Any) -> None:
        concert_id: int = options["concert"]
        opens_at = parse_moment(options["opens_at"], option="--opens-at")
        try:
            concert = sale_schedule(concert_id=concert_id, opens_at=opens_at)
        except ConcertNotFound as exc:
            raise CommandError(f"No concert with id {concert_id}.") from exc
        except InvalidInput as exc:
            raise CommandError(f"--opens-at {options['opens_at']} is not in the future.") from exc
        except SaleAlreadyDrawn as exc:
            raise CommandError(
                f"Concert {concert_id}'s pre-queue has already been drawn; its opening can no longer change."
            ) from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"concert {concert.pk}: sale opens at {concert.sales_open_at:%Y-%m-%dT%H:%M:%S%z}, "
                f"draw commitment {concert.draw_commitment}"
            )
        )
