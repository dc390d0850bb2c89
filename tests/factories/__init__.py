from datetime import timedelta

import factory
from django.utils import timezone

from concerts.models import Concert, Schedule, Seat
from users.models import User

TEST_PASSWORD = "correct-horse-battery-staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"fan{n}@example.com")
    name = factory.Faker("name")
    password = factory.PostGenerationMethodCall("set_password", TEST_PASSWORD)

    @classmethod
    def _after_postgeneration(cls, instance, create, results=None):
        if create:
            instance.save(update_fields=["password"])


class ConcertFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Concert

    name = factory.Sequence(lambda n: f"Concert {n}")
    price = 100


class ScheduleFactory(factory.django.DjangoModelFactory):
    """On sale now, show in a week."""

    class Meta:
        model = Schedule

    concert = factory.SubFactory(ConcertFactory)
    starts_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=7))
    sales_open_at = factory.LazyFunction(lambda: timezone.now() - timedelta(hours=1))


class SeatFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Seat

    schedule = factory.SubFactory(ScheduleFactory)
    number = factory.Sequence(lambda n: n + 1)
    grade = "R"
    price = factory.LazyAttribute(lambda seat: seat.schedule.concert.price)


def schedule_with_seats(count: int = 10, **schedule_fields) -> Schedule:
    schedule = ScheduleFactory(**schedule_fields)
    Seat.objects.bulk_create(
        [
            Seat(schedule=schedule, number=n, grade="R", price=schedule.concert.price)
            for n in range(1, count + 1)
        ]
    )
    return schedule
