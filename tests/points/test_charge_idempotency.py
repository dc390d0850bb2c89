import pytest

from idempotency.models import IdempotencyRecord
from points.models import LedgerEntry
from tests.problems import assert_problem

pytestmark = pytest.mark.django_db


def charge(client, body, key=None):
    headers = {} if key is None else {"HTTP_IDEMPOTENCY_KEY": key}
    return client.post("/api/v1/points/charge", body, format="json", **headers)


@pytest.mark.embedded
def test_a_repeated_charge_replays_the_first_answer_and_charges_once(auth_client):
    first = charge(auth_client, {"amount": 300}, key="k-1")
    assert first.status_code == 200
    assert first.json() == {"balance": 300}
    assert "Idempotent-Replayed" not in first
    charge(auth_client, {"amount": 5})  # the balance moves on in between

    again = charge(auth_client, {"amount": 300}, key="k-1")
    assert again.status_code == 200
    assert again.json() == {"balance": 300}
    assert again["Idempotent-Replayed"] == "true"
    assert LedgerEntry.objects.count() == 2
    assert auth_client.get("/api/v1/points").json() == {"balance": 305}


def test_without_a_key_every_charge_counts(auth_client):
    charge(auth_client, {"amount": 10})
    charge(auth_client, {"amount": 10})
    assert auth_client.get("/api/v1/points").json() == {"balance": 20}
    assert not IdempotencyRecord.objects.exists()


@pytest.mark.embedded
def test_the_same_key_with_another_body_is_422(auth_client):
    charge(auth_client, {"amount": 300}, key="k-1")
    assert_problem(charge(auth_client, {"amount": 301}, key="k-1"), 422, "idempotency_key_reused")
    assert LedgerEntry.objects.count() == 1


def test_the_same_key_on_another_endpoint_is_422(auth_client, user):
    charge(auth_client, {"amount": 300}, key="k-1")
    IdempotencyRecord.objects.filter(user_id=user.pk).update(
        fingerprint="0" * 64
    )  # as if stored by /payments
    assert_problem(charge(auth_client, {"amount": 300}, key="k-1"), 422, "idempotency_key_reused")
    assert LedgerEntry.objects.count() == 1


def test_keys_belong_to_one_user(auth_client, other_client):
    assert charge(auth_client, {"amount": 300}, key="shared").json() == {"balance": 300}
    other = charge(other_client, {"amount": 40}, key="shared")
    assert other.json() == {"balance": 40}
    assert "Idempotent-Replayed" not in other
    assert LedgerEntry.objects.count() == 2


@pytest.mark.parametrize("key", ["", "x" * 256])
def test_a_key_outside_1_to_255_characters_is_400(auth_client, key):
    problem = assert_problem(charge(auth_client, {"amount": 10}, key=key), 400, "invalid")
    assert list(problem["fields"]) == ["Idempotency-Key"]
    assert not LedgerEntry.objects.exists()


def test_a_255_character_key_is_accepted(auth_client):
    assert charge(auth_client, {"amount": 10}, key="x" * 255).status_code == 200
    assert charge(auth_client, {"amount": 10}, key="x" * 255)["Idempotent-Replayed"] == "true"
    assert LedgerEntry.objects.count() == 1


def test_an_invalid_charge_is_not_remembered_so_the_corrected_one_goes_through(auth_client):
    # A 400 is refused before the key is looked at (as for holds and payments): fixing the body and
    # sending it again with the same key works, once.
    assert_problem(charge(auth_client, {"amount": 0}, key="k-1"), 400, "invalid")
    assert_problem(charge(auth_client, {"amount": 0}, key="k-1"), 400, "invalid")
    first = charge(auth_client, {"amount": 10}, key="k-1")
    assert first.status_code == 200 and first.json() == {"balance": 10}
    again = charge(auth_client, {"amount": 10}, key="k-1")
    assert again["Idempotent-Replayed"] == "true" and again.json() == {"balance": 10}
    assert LedgerEntry.objects.count() == 1


def test_malformed_json_with_a_key_is_not_remembered(auth_client):
    response = auth_client.post(
        "/api/v1/points/charge", "{", content_type="application/json", HTTP_IDEMPOTENCY_KEY="k-1"
    )
    assert_problem(response, 400, "invalid")
    assert not IdempotencyRecord.objects.exists()
    assert charge(auth_client, {"amount": 10}, key="k-1").json() == {"balance": 10}
