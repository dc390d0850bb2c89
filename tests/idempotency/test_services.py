import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings
from django.utils import timezone
from rest_framework.exceptions import ValidationError

from config.exceptions import ServiceUnavailable
from idempotency.errors import IdempotencyKeyReused
from idempotency.models import IdempotencyRecord
from idempotency.services import idempotency_fingerprint, idempotent_call
from idempotency.tasks import idempotency_purge_expired
from points.errors import InsufficientPoints
from points.models import LedgerEntry
from points.selectors import wallet_balance
from points.services import points_charge, points_debit

pytestmark = pytest.mark.django_db

FP = idempotency_fingerprint(method="POST", path="/api/v1/points/charge", body={"amount": 10})


class CountingHandler:
    def __init__(self, result: tuple[int, dict] = (200, {"ok": True})) -> None:
        self.calls = 0
        self.result = result

    def __call__(self) -> tuple[int, dict]:
        self.calls += 1
        return self.result


def age_records(seconds: int) -> None:
    IdempotencyRecord.objects.update(created_at=timezone.now() - timedelta(seconds=seconds))


def test_fingerprint_is_canonical_over_key_order_but_not_over_values() -> None:
    a = idempotency_fingerprint(method="post", path="/p", body={"a": 1, "b": [1, 2]})
    assert a == idempotency_fingerprint(method="POST", path="/p", body={"b": [1, 2], "a": 1})
    assert a != idempotency_fingerprint(method="POST", path="/p", body={"a": 1, "b": [2, 1]})
    assert a != idempotency_fingerprint(method="POST", path="/q", body={"a": 1, "b": [1, 2]})
    assert a != idempotency_fingerprint(method="POST", path="/p", body={"a": 1.0, "b": [1, 2]})


@pytest.mark.embedded
def test_the_first_call_runs_and_a_repeat_replays_without_running(user):
    handler = CountingHandler((201, {"id": 5}))
    assert idempotent_call(user_id=user.pk, key="k", fingerprint=FP, handler=handler) == (
        201,
        {"id": 5},
        False,
    )
    assert idempotent_call(user_id=user.pk, key="k", fingerprint=FP, handler=handler) == (
        201,
        {"id": 5},
        True,
    )
    assert handler.calls == 1


@pytest.mark.embedded
def test_a_different_fingerprint_with_the_same_key_is_refused(user):
    idempotent_call(user_id=user.pk, key="k", fingerprint=FP, handler=CountingHandler())
    handler = CountingHandler()
    with pytest.raises(IdempotencyKeyReused) as caught:
        idempotent_call(user_id=user.pk, key="k", fingerprint="f" * 64, handler=handler)
    assert (caught.value.status_code, caught.value.code) == (422, "idempotency_key_reused")
    assert handler.calls == 0


def test_users_have_separate_key_spaces(user, other_user):
    handler = CountingHandler()
    idempotent_call(user_id=user.pk, key="k", fingerprint=FP, handler=handler)
    assert idempotent_call(user_id=other_user.pk, key="k", fingerprint="f" * 64, handler=handler)[2] is False
    assert handler.calls == 2


@pytest.mark.embedded
def test_a_domain_error_is_stored_and_its_partial_change_rolled_back(user):
    def handler() -> tuple[int, dict]:
        points_charge(user_id=user.pk, amount=100)
        points_debit(user_id=user.pk, amount=500, reference="payment:1")  # refused
        return 200, {}

    status, body, replayed = idempotent_call(user_id=user.pk, key="k", fingerprint=FP, handler=handler)
    assert (status, body["code"], body["status"], replayed) == (409, "insufficient_points", 409, False)
    assert wallet_balance(user_id=user.pk) == 0
    assert not LedgerEntry.objects.exists()

    points_charge(user_id=user.pk, amount=1000)  # now it would succeed, but the key has its answer
    assert idempotent_call(user_id=user.pk, key="k", fingerprint=FP, handler=handler) == (409, body, True)
    assert wallet_balance(user_id=user.pk) == 1000


def test_a_validation_error_is_stored_as_a_400_problem(user):
    def handler() -> tuple[int, dict]:
        raise ValidationError({"amount": ["bad"]})

    status, body, _ = idempotent_call(user_id=user.pk, key="k", fingerprint=FP, handler=handler)
    assert (status, body["code"], body["fields"]) == (400, "invalid", {"amount": ["bad"]})
    assert IdempotencyRecord.objects.get().response_status == 400


@pytest.mark.embedded
@pytest.mark.parametrize("error", [RuntimeError("bug"), ServiceUnavailable()])
def test_an_unexpected_or_5xx_error_stores_nothing_and_changes_nothing(user, error):
    def handler() -> tuple[int, dict]:
        points_charge(user_id=user.pk, amount=100)
        raise error  # the worker dies after the charge: neither the charge nor an answer may remain

    with pytest.raises(type(error)):
        idempotent_call(user_id=user.pk, key="k", fingerprint=FP, handler=handler)
    assert not IdempotencyRecord.objects.exists()
    assert not LedgerEntry.objects.exists()
    # The client's retry with the same key does the work for real.
    assert idempotent_call(user_id=user.pk, key="k", fingerprint=FP, handler=CountingHandler())[2] is False


def test_the_stored_body_is_what_the_first_client_saw(user):
    ident = uuid.uuid4()
    moment = datetime(2030, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)
    handler = CountingHandler((201, {"id": ident, "at": moment}))
    first = idempotent_call(user_id=user.pk, key="k", fingerprint=FP, handler=handler)
    again = idempotent_call(user_id=user.pk, key="k", fingerprint=FP, handler=handler)
    assert first[1] == again[1] == {"id": str(ident), "at": "2030-01-02T03:04:05.678901Z"}


def test_an_expired_record_is_ignored_and_replaced(user):
    idempotent_call(user_id=user.pk, key="k", fingerprint=FP, handler=CountingHandler((200, {"n": 1})))
    age_records(settings.IDEMPOTENCY_TTL_SECONDS + 1)
    status, body, replayed = idempotent_call(
        user_id=user.pk, key="k", fingerprint="f" * 64, handler=CountingHandler((200, {"n": 2}))
    )
    assert (status, body, replayed) == (200, {"n": 2}, False)
    assert IdempotencyRecord.objects.get().fingerprint == "f" * 64


def test_a_record_just_inside_the_ttl_still_replays(user):
    idempotent_call(user_id=user.pk, key="k", fingerprint=FP, handler=CountingHandler((200, {"n": 1})))
    age_records(settings.IDEMPOTENCY_TTL_SECONDS - 60)
    assert idempotent_call(user_id=user.pk, key="k", fingerprint=FP, handler=CountingHandler())[1:] == (
        {"n": 1},
        True,
    )


def test_the_purge_task_deletes_only_expired_records(user):
    for n in range(5):
        idempotent_call(user_id=user.pk, key=f"old-{n}", fingerprint=FP, handler=CountingHandler())
    age_records(settings.IDEMPOTENCY_TTL_SECONDS + 1)
    idempotent_call(user_id=user.pk, key="fresh", fingerprint=FP, handler=CountingHandler())
    assert idempotency_purge_expired.delay().get() == 5
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["fresh"]


def test_the_purge_works_in_batches(user, monkeypatch):
    from idempotency import services

    for n in range(5):
        idempotent_call(user_id=user.pk, key=f"old-{n}", fingerprint=FP, handler=CountingHandler())
    age_records(settings.IDEMPOTENCY_TTL_SECONDS + 1)
    assert services.idempotency_records_purge(batch_size=2) == 5
    assert not IdempotencyRecord.objects.exists()


def test_the_purge_is_scheduled_on_beat() -> None:
    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "idempotency.tasks.idempotency_purge_expired" in tasks


def test_insufficient_points_maps_to_409(user):
    def handler() -> tuple[int, dict]:
        raise InsufficientPoints()

    assert idempotent_call(user_id=user.pk, key="k", fingerprint=FP, handler=handler)[0] == 409
