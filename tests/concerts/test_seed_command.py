import pytest
from django.core.management import call_command
from django.utils import timezone

from concerts.models import Concert, Schedule, Seat

pytestmark = pytest.mark.django_db


@pytest.mark.embedded
def test_defaults_give_three_concerts_with_future_schedules_of_fifty_seats():
    call_command("seed_concerts")
    assert Concert.objects.count() >= 3
    for concert in Concert.objects.all():
        schedules = Schedule.objects.filter(concert=concert)
        assert schedules.exists()
        for schedule in schedules:
            assert schedule.starts_at > timezone.now()
            assert schedule.sales_open_at <= timezone.now()
            assert Seat.objects.filter(schedule=schedule).count() >= 50


def test_seeding_twice_changes_nothing_and_options_are_honoured():
    call_command("seed_concerts", concerts=2, schedules=2, seats=12)
    counts = (Concert.objects.count(), Schedule.objects.count(), Seat.objects.count())
    assert counts == (2, 4, 48)
    call_command("seed_concerts", concerts=2, schedules=2, seats=12)
    assert (Concert.objects.count(), Schedule.objects.count(), Seat.objects.count()) == counts
    call_command("seed_concerts", concerts=2, schedules=2, seats=15)  # tops up, never duplicates numbers
    assert Seat.objects.count() == 60
    numbers = list(Seat.objects.filter(schedule=Schedule.objects.first()).values_list("number", flat=True))
    assert sorted(numbers) == list(range(1, 16))


def test_if_empty_does_nothing_when_concerts_exist():
    Concert.objects.create(name="Existing", price=1)
    call_command("seed_concerts", if_empty=True)
    assert Concert.objects.count() == 1


def test_seeding_again_on_a_later_day_adds_no_schedules():
    from datetime import timedelta
    from unittest import mock

    call_command("seed_concerts", concerts=1, schedules=2, seats=5)
    later = timezone.now() + timedelta(days=3)
    with mock.patch(
        "django.utils.timezone.now", return_value=later
    ):  # the machine's clock, outside the project
        call_command("seed_concerts", concerts=1, schedules=2, seats=5)
    assert Schedule.objects.count() == 2 and Seat.objects.count() == 10
