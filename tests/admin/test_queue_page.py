"""The queue page's gaps filled: the cap is set there (through the service), and every action is in the
admin history of the concert's queue."""

import pytest

from queue_app.services import queue_token_issue, queue_token_status
from tests.admin_pages import history, page
from tests.factories import ConcertFactory, UserFactory, schedule_with_seats

pytestmark = pytest.mark.django_db


def test_an_operator_runs_the_queue_and_each_action_is_in_the_history(operator_client, operator, settings):
    settings.QUEUE_PROMOTION_BATCH_SIZE = 5
    concert = schedule_with_seats(10).concert  # rounds admit only while a seat is on sale
    fans = UserFactory.create_batch(3)
    tokens = [queue_token_issue(user_id=f.pk, concert_id=concert.pk)[0].token for f in fans]

    operator_client.post(page(concert), {"action": "cap", "max_active": "2"})
    operator_client.post(page(concert), {"action": "pause"})
    operator_client.post(page(concert), {"action": "promote"})
    assert [queue_token_status(token=t).status for t in tokens] == ["WAITING"] * 3
    operator_client.post(page(concert), {"action": "resume"})
    operator_client.post(page(concert), {"action": "promote"})
    assert [queue_token_status(token=t).status for t in tokens] == ["ACTIVE", "ACTIVE", "WAITING"]
    operator_client.post(page(concert), {"action": "expire", "user": fans[0].email})
    assert queue_token_status(token=tokens[0]).status == "EXPIRED"

    html = operator_client.get(page(concert)).content.decode()
    assert '<td id="queue-cap">2</td>' in html and '<td id="queue-active">1</td>' in html
    assert history(concert) == [
        f"{operator.email}: Set the cap on active users to 2",
        f"{operator.email}: Paused admission",
        f"{operator.email}: Admitted 0 token(s) now",
        f"{operator.email}: Resumed admission",
        f"{operator.email}: Admitted 2 token(s) now",
        f"{operator.email}: Expired the queue token of {fans[0]} (user {fans[0].pk})",
    ]
    assert operator_client.get(f"{page(concert).removesuffix('change/')}history/").status_code == 200

    operator_client.post(page(concert), {"action": "cap", "max_active": ""})
    concert.refresh_from_db()
    assert concert.queue_max_active is None
    bad = operator_client.post(page(concert), {"action": "cap", "max_active": "-3"}, follow=True)
    assert "must be a whole number" in bad.content.decode()


def test_the_changelist_actions_are_in_the_history(operator_client, operator):
    concert = ConcertFactory()
    changelist = "/admin/queue_app/concertqueue/"
    operator_client.post(changelist, {"action": "pause_admission", "_selected_action": [concert.pk]})
    operator_client.post(changelist, {"action": "resume_admission", "_selected_action": [concert.pk]})
    operator_client.post(changelist, {"action": "admit_batch_now", "_selected_action": [concert.pk]})
    assert history(concert) == [
        f"{operator.email}: Paused admission",
        f"{operator.email}: Resumed admission",
        f"{operator.email}: Admitted 0 token(s) now",
    ]
