"""Duplicates racing the first request, with real threads on PostgreSQL."""

import threading

import pytest
from django.db import connection

from idempotency.errors import RequestInProgress
from idempotency.models import IdempotencyRecord
from idempotency.services import idempotent_call
from points.models import LedgerEntry
from points.selectors import ledger_mismatches, wallet_balance
from points.services import points_charge
from tests.concurrency.runner import JOIN_TIMEOUT_SECONDS, run_n_concurrently
from tests.conftest import client_for

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.postgres_only("the advisory lock is PostgreSQL's; SQLite serializes writers instead"),
]


def test_a_duplicate_while_the_first_runs_is_request_in_progress(user):
    started, release = threading.Event(), threading.Event()
    outcome: list[object] = []

    def slow_handler() -> tuple[int, dict]:
        balance = points_charge(user_id=user.pk, amount=10)
        started.set()
        assert release.wait(JOIN_TIMEOUT_SECONDS)
        return 200, {"balance": balance}

    def first() -> None:
        try:
            outcome.append(idempotent_call(user_id=user.pk, key="k", fingerprint="f", handler=slow_handler))
        finally:
            connection.close()

    thread = threading.Thread(target=first)
    thread.start()
    try:
        assert started.wait(JOIN_TIMEOUT_SECONDS)
        with pytest.raises(RequestInProgress) as caught:
            idempotent_call(user_id=user.pk, key="k", fingerprint="f", handler=lambda: (200, {}))
        assert (caught.value.status_code, caught.value.code) == (409, "request_in_progress")
        # Another key of the same user is not held up.
        assert (
            idempotent_call(user_id=user.pk, key="other", fingerprint="f", handler=lambda: (200, {}))[2]
            is False
        )
    finally:
        release.set()
        thread.join(JOIN_TIMEOUT_SECONDS)
    assert outcome == [(200, {"balance": 10}, False)]
    assert idempotent_call(user_id=user.pk, key="k", fingerprint="f", handler=lambda: (500, {})) == (
        200,
        {"balance": 10},
        True,
    )
    assert wallet_balance(user_id=user.pk) == 10


def test_concurrent_duplicate_charges_over_http_charge_once(user):
    def post(_: int):
        response = client_for(user).post(
            "/api/v1/points/charge", {"amount": 250}, format="json", HTTP_IDEMPOTENCY_KEY="dup"
        )
        return response.status_code, response.json(), response.headers.get("Idempotent-Replayed")

    results = run_n_concurrently(post, 10)
    assert not [r for r in results if isinstance(r, Exception)], results
    fresh = [r for r in results if r[0] == 200 and r[2] is None]
    replayed = [r for r in results if r[0] == 200 and r[2] == "true"]
    in_progress = [r for r in results if r[0] == 409]
    assert len(fresh) == 1
    assert len(fresh) + len(replayed) + len(in_progress) == 10
    assert all(r[1] == {"balance": 250} for r in fresh + replayed)
    assert all(r[1]["code"] == "request_in_progress" for r in in_progress)
    assert LedgerEntry.objects.count() == 1
    assert wallet_balance(user_id=user.pk) == 250
    assert IdempotencyRecord.objects.count() == 1
    assert ledger_mismatches() == []
