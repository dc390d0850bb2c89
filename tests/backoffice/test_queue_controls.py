"""The operators' sale controls on the queue page: each goes through its service, lands in the admin
history with the operator's name in the same transaction, and a refusal is a message, never a 500."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from concerts.models import Concert
from concerts.services import concert_set_queue_admission
from config.exceptions import InvalidInput
from queue_app.selectors import queue_overview
from queue_app.services import queue_promote, queue_token_issue, queue_token_status
from tests.admin_pages import history, page
from tests.booking import on_sale_schedule
from tests.factories import ConcertFactory, UserFactory

pytestmark = pytest.mark.django_db


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def test_scheduling_the_opening_shows_the_commitment_and_is_in_the_history(operator_client, clock) -> None:
    concert = ConcertFactory()
    opens_at = (clock.now() + timedelta(hours=2)).replace(second=0)

    response = operator_client.post(
        page(concert), {"action": "schedule_sale", "opens_at": f"{opens_at:%Y-%m-%dT%H:%M}"}, follow=True
    )

    concert.refresh_from_db()
    assert concert.sales_open_at == opens_at
    assert len(concert.draw_commitment) == 64 and concert.drawn_at is None
    html = response.content.decode()
    assert concert.draw_commitment in html and concert.draw_seed not in html
    assert '<td id="queue-state">SCHEDULED</td>' in html
    assert history(concert) == [
        f"operator@example.com: Scheduled the sale opening for {opens_at:%Y-%m-%d %H:%M:%S} UTC "
        f"(draw commitment {concert.draw_commitment})"
    ]


def test_rescheduling_gives_a_fresh_commitment(operator_client, clock) -> None:
    concert = ConcertFactory()
    first = clock.now() + timedelta(hours=2)
    operator_client.post(page(concert), {"action": "schedule_sale", "opens_at": f"{first:%Y-%m-%dT%H:%M}"})
    commitment = Concert.objects.get(pk=concert.pk).draw_commitment
    operator_client.post(
        page(concert), {"action": "schedule_sale", "opens_at": f"{first + timedelta(hours=1):%Y-%m-%dT%H:%M}"}
    )
    concert.refresh_from_db()
    assert concert.draw_commitment != commitment and len(history(concert)) == 2


def test_an_opening_in_the_past_or_unreadable_is_refused_with_a_message(operator_client, clock) -> None:
    concert = ConcertFactory()
    past = clock.now() - timedelta(hours=1)

    refused = operator_client.post(
        page(concert), {"action": "schedule_sale", "opens_at": f"{past:%Y-%m-%dT%H:%M}"}, follow=True
    )
    garbled = operator_client.post(
        page(concert), {"action": "schedule_sale", "opens_at": "soon"}, follow=True
    )

    assert refused.status_code == 200 and garbled.status_code == 200
    assert messages_of(refused)[0].startswith("Refused:")
    assert "must be a date and time" in messages_of(garbled)[0]
    concert.refresh_from_db()
    assert concert.sales_open_at is None and concert.draw_commitment == ""
    assert history(concert) == []


def test_once_drawn_the_seed_is_shown_and_a_new_opening_is_refused(operator_client, clock) -> None:
    concert = ConcertFactory()
    opens_at = (clock.now() + timedelta(minutes=5)).replace(second=0)
    operator_client.post(page(concert), {"action": "schedule_sale", "opens_at": f"{opens_at:%Y-%m-%dT%H:%M}"})
    fan = UserFactory()
    queue_token_issue(user_id=fan.pk, concert_id=concert.pk)
    clock.advance(6 * 60)
    assert queue_overview(concert_id=concert.pk).drawn_at is not None  # the first read at the opening draws

    html = operator_client.get(page(concert)).content.decode()
    concert.refresh_from_db()
    assert concert.draw_seed and concert.draw_seed in html
    later = clock.now() + timedelta(days=1)
    refused = operator_client.post(
        page(concert), {"action": "schedule_sale", "opens_at": f"{later:%Y-%m-%dT%H:%M}"}, follow=True
    )
    assert refused.status_code == 200 and messages_of(refused)[0].startswith("Refused:")
    assert Concert.objects.get(pk=concert.pk).sales_open_at == opens_at
    assert len(history(concert)) == 1


def test_batch_and_interval_override_the_global_settings_and_blank_restores_them(
    operator_client, settings
) -> None:
    settings.QUEUE_PROMOTION_BATCH_SIZE = 10
    settings.QUEUE_PROMOTION_INTERVAL_SECONDS = 10
    concert = ConcertFactory()

    response = operator_client.post(
        page(concert), {"action": "pace", "batch_size": "25", "interval_seconds": "5"}, follow=True
    )
    concert.refresh_from_db()
    assert (concert.queue_batch_size, concert.queue_interval_seconds) == (25, 5)
    assert '<td id="queue-pace">25 every 5 s (this concert;' in response.content.decode()

    operator_client.post(page(concert), {"action": "pace", "batch_size": "", "interval_seconds": ""})
    concert.refresh_from_db()
    assert (concert.queue_batch_size, concert.queue_interval_seconds) == (None, None)
    assert history(concert) == [
        "operator@example.com: Set the batch to 25 and the interval to 5 s",
        "operator@example.com: Set the batch to the global setting and the interval to the global setting",
    ]


@pytest.mark.parametrize(
    ("batch", "interval", "message"),
    [
        ("20000", "5", "Refused: batch_size: Must be between 1 and 10000"),
        ("5", "7200", "Refused: interval_seconds: Must be between 1 and 3600"),
        ("five", "5", "Batch and interval must be whole numbers"),
        ("-1", "5", "Batch and interval must be whole numbers"),
    ],
)
def test_a_bad_pace_is_refused_and_changes_nothing(operator_client, batch, interval, message) -> None:
    concert = ConcertFactory(queue_batch_size=3, queue_interval_seconds=4)
    response = operator_client.post(
        page(concert), {"action": "pace", "batch_size": batch, "interval_seconds": interval}, follow=True
    )
    assert response.status_code == 200 and messages_of(response)[0].startswith(message)
    concert.refresh_from_db()
    assert (concert.queue_batch_size, concert.queue_interval_seconds) == (3, 4)
    assert history(concert) == []


def test_a_cap_past_the_service_limit_is_refused(operator_client) -> None:
    concert = ConcertFactory(queue_max_active=7)
    response = operator_client.post(page(concert), {"action": "cap", "max_active": str(2**31)}, follow=True)
    assert messages_of(response)[0].startswith("Refused: max_active")
    assert Concert.objects.get(pk=concert.pk).queue_max_active == 7 and history(concert) == []


def test_pause_and_resume_keep_every_place(operator_client, settings) -> None:
    settings.QUEUE_PROMOTION_BATCH_SIZE = 1
    concert = on_sale_schedule(seats=5).concert  # rounds admit only while a seat is available
    tokens = [
        queue_token_issue(user_id=u.pk, concert_id=concert.pk)[0].token for u in UserFactory.create_batch(3)
    ]
    queue_promote(concert_id=concert.pk)
    before = [(queue_token_status(token=t).status, queue_token_status(token=t).position) for t in tokens]

    operator_client.post(page(concert), {"action": "pause"})
    assert queue_promote(concert_id=concert.pk) == 0
    paused = [(queue_token_status(token=t).status, queue_token_status(token=t).position) for t in tokens]
    operator_client.post(page(concert), {"action": "resume"})

    assert before == paused == [("ACTIVE", 0), ("WAITING", 1), ("WAITING", 2)]
    assert queue_promote(concert_id=concert.pk) == 1
    assert queue_token_status(token=tokens[1]).status == "ACTIVE"
    assert history(concert) == [
        "operator@example.com: Paused admission",
        "operator@example.com: Resumed admission",
    ]


def test_a_staff_member_who_may_only_view_cannot_change_anything(clock) -> None:
    viewer = UserFactory(is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_concertqueue"))
    client = Client()
    client.force_login(viewer)
    concert = ConcertFactory()

    assert client.get(page(concert)).status_code == 200
    response = client.post(page(concert), {"action": "pace", "batch_size": "5", "interval_seconds": "5"})

    assert response.status_code == 403
    assert Concert.objects.get(pk=concert.pk).queue_batch_size is None and history(concert) == []


def test_the_admission_service_validates_and_clears(db) -> None:
    concert = ConcertFactory()
    with pytest.raises(InvalidInput) as refused:
        concert_set_queue_admission(concert=concert, batch_size=-1, interval_seconds=4000, max_active=-2)
    assert set(refused.value.fields) == {"batch_size", "interval_seconds", "max_active"}
    assert Concert.objects.filter(pk=concert.pk, queue_batch_size=None).exists()

    concert_set_queue_admission(concert=concert, batch_size=50, interval_seconds=2)
    assert (concert.queue_batch_size, concert.queue_interval_seconds) == (50, 2)
    concert_set_queue_admission(concert=concert, paused=True)  # None leaves the pace as it is
    assert (concert.queue_batch_size, concert.queue_interval_seconds, concert.queue_paused) == (50, 2, True)
    concert_set_queue_admission(concert=concert, batch_size=0, interval_seconds=0)
    assert Concert.objects.filter(pk=concert.pk, queue_batch_size=None, queue_interval_seconds=None).exists()
