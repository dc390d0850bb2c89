"""Seed demo concerts. Idempotent: concerts are matched by name, a concert's future schedules count
towards the asked number (on whatever day they were seeded), and seats are only added up to the asked
count."""

from datetime import timedelta

from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction

from concerts import services
from concerts.models import Concert, Schedule
from config import clock

DEMO_NAMES = [
    "Aurora Live",
    "Neon Harbor",
    "Midnight Orchestra",
    "Granite Echo",
    "Velvet Static",
    "Solar Parade",
    "Paper Lanterns",
    "Northern Drift",
    "Glass Garden",
    "Copper Skies",
]
GRADES = [("VIP", 3), ("R", 2), ("S", 1)]  # grade and price multiplier; the front rows are dearer


class Command(BaseCommand):
    help = "Create demo concerts with future schedules and seats (safe to run again)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--concerts", type=int, default=3)
        parser.add_argument("--schedules", type=int, default=3, help="schedules per concert")
        parser.add_argument("--seats", type=int, default=50, help="seats per schedule")
        parser.add_argument("--if-empty", action="store_true", help="do nothing when any concert exists")

    def handle(self, *args: object, **options: int | bool) -> None:
        if options["if_empty"] and Concert.objects.exists():
            self.stdout.write("Concerts exist; nothing seeded.")
            return
        n_concerts, n_schedules, n_seats = (
            int(options["concerts"]),
            int(options["schedules"]),
            int(options["seats"]),
        )
        base_day = (clock.now() + timedelta(days=7)).replace(hour=19, minute=0, second=0, microsecond=0)
        created_seats = 0
        for i in range(n_concerts):
            name = DEMO_NAMES[i] if i < len(DEMO_NAMES) else f"Demo Concert {i + 1}"
            with transaction.atomic():
                concert = Concert.objects.filter(name=name).first() or services.concert_create(
                    name=name, price=50_000 + 10_000 * (i % 5), venue="Demo Arena"
                )
                # Future schedules already there count, whatever day they were seeded on.
                upcoming = list(concert.schedules.filter(starts_at__gt=clock.now()).order_by("starts_at"))
                for j in range(n_schedules):
                    if j < len(upcoming):
                        schedule = upcoming[j]
                    else:
                        schedule = services.schedule_create(
                            concert=concert,
                            starts_at=base_day + timedelta(days=7 * j + i),
                            sales_open_at=clock.now() - timedelta(hours=1),
                        )
                    created_seats += self._fill_seats(schedule, concert.price, n_seats)
        self.stdout.write(
            self.style.SUCCESS(
                f"Seeded {n_concerts} concerts x {n_schedules} schedules; {created_seats} new seats."
            )
        )

    def _fill_seats(self, schedule: Schedule, base_price: int, target: int) -> int:
        missing = target - schedule.seats.count()
        if missing <= 0:
            return 0
        created = 0
        per_grade = max(1, target // len(GRADES))
        for index, (grade, multiplier) in enumerate(GRADES):
            want = per_grade if index < len(GRADES) - 1 else target - per_grade * (len(GRADES) - 1)
            have = schedule.seats.filter(grade=grade).count()
            if want - have > 0 and created < missing:
                count = min(want - have, missing - created)
                services.seats_generate(
                    schedule=schedule, count=count, grade=grade, price=base_price * multiplier // 2
                )
                created += count
        return created
