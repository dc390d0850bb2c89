"""`manage.py create_concert` and `manage.py schedule_sale`: success and each refusal."""

import json
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command

from concerts.models import Concert, Schedule, Seat
from queue_app import selectors
from queue_app.services import queue_token_issue, queue_token_status
from tests.factories import UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("backend")]


def create(capsys, *args: str) -> dict:
    call_command("create_concert", *args)
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


@pytest.mark.embedded
def test_create_concert_with_defaults(capsys, clock):
    out = create(capsys, "--name", "Harbour Lights")
    concert = Concert.objects.get(pk=out["concert_id"])
    schedule = Schedule.objects.get(pk=out["schedule_ids"][0])
    assert (concert.name, concert.price, concert.sales_open_at, concert.queue_max_active) == (
        "Harbour Lights",
        100,
        None,
        None,
    )
    assert len(out["schedule_ids"]) == 1 and schedule.starts_at == clock.now() + timedelta(weeks=1)
    assert list(Seat.objects.filter(schedule=schedule).values_list("number", flat=True)) == list(range(1, 51))
    assert queue_token_issue(user_id=UserFactory().pk, concert_id=concert.pk)[0].position == 1


def test_create_concert_with_every_option_schedules_its_sale(capsys, clock):
    opens = (clock.now() + timedelta(hours=2)).isoformat()
    out = create(
        capsys, "--name", "Night", "--schedules", "3", "--seats", "7", "--price", "250",
        "--sales-open-at", opens, "--max-active", "40",
    )  # fmt: skip
    concert = Concert.objects.get(pk=out["concert_id"])
    starts = list(
        Schedule.objects.filter(concert=concert).order_by("starts_at").values_list("starts_at", flat=True)
    )
    assert starts == [clock.now() + timedelta(weeks=w) for w in (1, 2, 3)]
    assert Seat.objects.filter(schedule__concert=concert, price=250).count() == 21
    assert concert.queue_max_active == 40 and concert.sales_open_at == clock.now() + timedelta(hours=2)
    assert len(concert.draw_commitment) == 64
    view, _ = queue_token_issue(user_id=UserFactory().pk, concert_id=concert.pk)
    assert view.position is None  # the pre-queue
    assert selectors.queue_overview(concert_id=concert.pk).state == "SCHEDULED"


@pytest.mark.parametrize(
    "args",
    [
        ["--name", "X", "--seats", "0"],
        ["--name", "X", "--schedules", "zero"],
        ["--name", "X", "--sales-open-at", "tomorrow"],
        ["--name", "X", "--sales-open-at", "2020-01-01T10:00:00+00:00"],
        ["--name", "X", "--sales-open-at", "2099-01-01T10:00:00"],
        ["--name", "X", "--price", "-1"],
    ],
)
def test_create_concert_refuses_bad_options(args):
    with pytest.raises(CommandError):
        call_command("create_concert", *args)
    assert not Concert.objects.exists()


def test_schedule_sale_gives_a_fresh_seed_and_commitment(capsys, clock):
    concert_id = create(capsys, "--name", "Y")["concert_id"]

    def in_hours(hours: int) -> str:
        return (clock.now() + timedelta(hours=hours)).isoformat()

    call_command("schedule_sale", "--concert", str(concert_id), "--opens-at", in_hours(1))
    first = Concert.objects.get(pk=concert_id)
    call_command("schedule_sale", "--concert", str(concert_id), "--opens-at", in_hours(3))
    second = Concert.objects.get(pk=concert_id)
    assert second.draw_seed != first.draw_seed and second.draw_commitment in capsys.readouterr().out
    assert second.sales_open_at == clock.now() + timedelta(hours=3)


def test_schedule_sale_refusals(capsys, clock):
    concert_id = create(capsys, "--name", "Z")["concert_id"]
    soon = (clock.now() + timedelta(minutes=5)).isoformat()
    cases = [
        (["--concert", "987654", "--opens-at", soon], "No concert with id 987654"),
        (["--concert", str(concert_id), "--opens-at", "next week"], "not an ISO 8601 time"),
        (["--concert", str(concert_id), "--opens-at", "2099-01-01T10:00:00"], "has no offset"),
        (["--concert", str(concert_id), "--opens-at", clock.now().isoformat()], "not in the future"),
    ]
    for args, message in cases:
        with pytest.raises(CommandError, match=message):
            call_command("schedule_sale", *args)
    call_command("schedule_sale", "--concert", str(concert_id), "--opens-at", soon)
    token, _ = queue_token_issue(user_id=UserFactory().pk, concert_id=concert_id)
    clock.advance(300)
    assert queue_token_status(token=token.token).position == 1  # drawn
    later = (clock.now() + timedelta(hours=1)).isoformat()
    with pytest.raises(CommandError, match="already been drawn"):
        call_command("schedule_sale", "--concert", str(concert_id), "--opens-at", later)
