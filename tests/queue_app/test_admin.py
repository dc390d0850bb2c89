"""The operators' queue page per concert and the read-only token admin."""

import pytest
from django.test import Client

from concerts.models import Concert
from queue_app.services import queue_token_issue, queue_token_status
from tests.admin_pages import page
from tests.factories import UserFactory
from tests.queue_app.conftest import on_sale_concert, on_sale_concerts

pytestmark = pytest.mark.django_db


def waiting_queue(concert: Concert, count: int) -> list[str]:
    return [
        queue_token_issue(user_id=u.pk, concert_id=concert.pk)[0].token
        for u in UserFactory.create_batch(count)
    ]


@pytest.mark.embedded
def test_the_queue_page_shows_counts_and_admission_settings(superuser_client, settings):
    settings.QUEUE_PROMOTION_BATCH_SIZE = 2
    concert = on_sale_concert(name="Night Show", queue_max_active=40)
    waiting_queue(concert, 3)
    superuser_client.post(page(concert), {"action": "promote"})

    html = superuser_client.get(page(concert)).content.decode()
    assert '<td id="queue-waiting">1</td>' in html
    assert '<td id="queue-active">2</td>' in html
    assert "40" in html and "2 every 10 s" in html and "600 s" in html and "300 s" in html
    assert '<td id="queue-paused">running</td>' in html

    listing = superuser_client.get("/admin/queue_app/concertqueue/").content.decode()
    assert "Night Show" in listing and f"{page(concert)}" in listing


def test_pause_resume_and_admit_a_batch_now(superuser_client, settings):
    settings.QUEUE_PROMOTION_BATCH_SIZE = 2
    concert = on_sale_concert()
    tokens = waiting_queue(concert, 3)

    assert superuser_client.post(page(concert), {"action": "pause"}).status_code == 302
    concert.refresh_from_db()
    assert concert.queue_paused
    assert "PAUSED" in superuser_client.get(page(concert)).content.decode()
    superuser_client.post(page(concert), {"action": "promote"})
    assert queue_token_status(token=tokens[0]).status == "WAITING"

    superuser_client.post(page(concert), {"action": "resume"})
    concert.refresh_from_db()
    assert not concert.queue_paused
    response = superuser_client.post(page(concert), {"action": "promote"}, follow=True)
    assert "Admitted 2 token(s)." in response.content.decode()
    assert [queue_token_status(token=t).status for t in tokens] == ["ACTIVE", "ACTIVE", "WAITING"]


def test_expire_a_users_token_by_email_or_id(superuser_client):
    concert = on_sale_concert()
    fan, other = UserFactory.create_batch(2)
    token = queue_token_issue(user_id=fan.pk, concert_id=concert.pk)[0].token
    other_token = queue_token_issue(user_id=other.pk, concert_id=concert.pk)[0].token

    response = superuser_client.post(
        page(concert), {"action": "expire", "user": fan.email.upper()}, follow=True
    )
    assert f"Expired the queue token of {fan}" in response.content.decode()
    assert queue_token_status(token=token).status == "EXPIRED"
    assert queue_token_status(token=other_token).status == "WAITING"

    again = superuser_client.post(page(concert), {"action": "expire", "user": str(fan.pk)}, follow=True)
    assert "no live token" in again.content.decode()
    superuser_client.post(page(concert), {"action": "expire", "user": str(other.pk)})
    assert queue_token_status(token=other_token).status == "EXPIRED"


def test_changelist_actions_pause_and_admit(superuser_client):
    first, second = on_sale_concerts(2)
    token = waiting_queue(first, 1)[0]
    changelist = "/admin/queue_app/concertqueue/"
    superuser_client.post(
        changelist, {"action": "pause_admission", "_selected_action": [first.pk, second.pk]}
    )
    assert Concert.objects.filter(queue_paused=True).count() == 2
    superuser_client.post(changelist, {"action": "resume_admission", "_selected_action": [first.pk]})
    superuser_client.post(changelist, {"action": "admit_batch_now", "_selected_action": [first.pk]})
    assert queue_token_status(token=token).status == "ACTIVE"


def test_the_queue_page_is_for_staff_only(client, auth_client):
    concert = on_sale_concert()
    assert client.get(page(concert)).status_code == 302  # to the login page
    fan = Client()
    fan.force_login(UserFactory())
    assert fan.get(page(concert)).status_code == 302
    assert fan.post(page(concert), {"action": "pause"}).status_code == 302
    concert.refresh_from_db()
    assert not concert.queue_paused


def test_the_token_admin_is_read_only(superuser_client, settings):
    settings.QUEUE_BACKEND = "database"
    concert = on_sale_concert()
    fan = UserFactory()
    queue_token_issue(user_id=fan.pk, concert_id=concert.pk)
    listing = superuser_client.get("/admin/queue_app/queuetoken/")
    assert listing.status_code == 200 and fan.email in listing.content.decode()
    assert superuser_client.get("/admin/queue_app/queuetoken/add/").status_code == 403
