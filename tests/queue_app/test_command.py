"""`manage.py promote_queue [--concert ID]` and the beat task."""

import pytest
from django.core.management import CommandError, call_command

from queue_app import tasks
from queue_app.services import queue_token_issue, queue_token_status
from tests.factories import UserFactory
from tests.queue_app.conftest import on_sale_concert, on_sale_concerts

pytestmark = pytest.mark.django_db


def waiting(concert, count: int) -> list[str]:  # type: ignore[no-untyped-def]
    return [
        queue_token_issue(user_id=u.pk, concert_id=concert.pk)[0].token
        for u in UserFactory.create_batch(count)
    ]


@pytest.mark.embedded
def test_promote_queue_admits_every_concert_and_prints_counts(capsys, settings):  # type: ignore[no-untyped-def]
    settings.QUEUE_PROMOTION_BATCH_SIZE = 2
    busy, quiet = on_sale_concerts(2)
    tokens = waiting(busy, 3)
    waiting(quiet, 1)

    call_command("promote_queue")

    out = capsys.readouterr().out
    assert f"concert {busy.pk}: admitted 2" in out and f"concert {quiet.pk}: admitted 1" in out
    assert "admitted 3 in total" in out
    assert [queue_token_status(token=t).status for t in tokens] == ["ACTIVE", "ACTIVE", "WAITING"]


def test_promote_queue_for_one_concert(capsys):  # type: ignore[no-untyped-def]
    chosen, other = on_sale_concerts(2)
    waiting(chosen, 1)
    left = waiting(other, 1)
    call_command("promote_queue", "--concert", str(chosen.pk))
    assert f"concert {chosen.pk}: admitted 1" in capsys.readouterr().out
    assert queue_token_status(token=left[0]).status == "WAITING"


def test_promote_queue_for_an_unknown_concert_fails():  # type: ignore[no-untyped-def]
    with pytest.raises(CommandError, match="No concert with id 987654"):
        call_command("promote_queue", "--concert", "987654")


def test_the_beat_task_runs_one_round_per_concert(settings):  # type: ignore[no-untyped-def]
    settings.QUEUE_PROMOTION_BATCH_SIZE = 1
    concert = on_sale_concert()
    tokens = waiting(concert, 2)
    assert settings.CELERY_BEAT_SCHEDULE["queue-promote"]["task"] == tasks.queue_promote_all.name
    tasks.queue_promote_all.delay()  # eager in the test settings
    assert [queue_token_status(token=t).status for t in tokens] == ["ACTIVE", "WAITING"]
