from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from concerts.errors import ConcertNotFound
from queue_app import services


class Command(BaseCommand):
    help = "Run one waiting-queue admission round now (every concert with waiting tokens, or one)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--concert", type=int, help="Only this concert id.")

    def handle(self, *args: Any, **options: Any) -> None:
        concert_id: int | None = options.get("concert")
        if concert_id is not None:
            try:
                admitted = {concert_id: services.queue_promote(concert_id=concert_id)}
            except ConcertNotFound as exc:
                raise CommandError(f"No concert with id {concert_id}.") from exc
        else:
            admitted = services.queue_promote_all()
        for cid, count in sorted(admitted.items()):
            self.stdout.write(f"concert {cid}: admitted {count}")
        self.stdout.write(self.style.SUCCESS(f"admitted {sum(admitted.values())} in total"))
