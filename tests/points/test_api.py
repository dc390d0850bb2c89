import pytest
from rest_framework.test import APIClient

from points.models import LedgerEntry
from points.services import points_debit
from tests.conftest import limit_rate
from tests.factories.points import wallet_fund
from tests.problems import assert_problem

pytestmark = pytest.mark.django_db


def charge(client: APIClient, body: object, **headers: str):
    return client.post("/api/v1/points/charge", body, format="json", **headers)


@pytest.mark.embedded
def test_balance_is_zero_before_the_first_charge(auth_client):
    response = auth_client.get("/api/v1/points")
    assert response.status_code == 200
    assert response.json() == {"balance": 0}


@pytest.mark.embedded
def test_charge_returns_the_new_balance_and_records_it(auth_client, user):
    assert charge(auth_client, {"amount": 1}).json() == {"balance": 1}
    response = charge(auth_client, {"amount": 1_000_000})
    assert response.status_code == 200
    assert response.json() == {"balance": 1_000_001}
    assert auth_client.get("/api/v1/points").json() == {"balance": 1_000_001}
    assert list(
        LedgerEntry.objects.filter(wallet_id=user.pk).values_list("amount", flat=True).order_by("id")
    ) == [
        1,
        1_000_000,
    ]


@pytest.mark.parametrize(
    "body",
    [
        {"amount": 0},
        {"amount": -5},
        {"amount": 1_000_001},
        {"amount": True},
        {"amount": "10"},
        {"amount": 10.5},
        {"amount": 10.0},
        {"amount": None},
        {"amount": [10]},
        {},
        {"points": 10},
    ],
)
def test_charge_rejects_anything_but_an_integer_in_bounds(auth_client, body):
    problem = assert_problem(charge(auth_client, body), 400, "invalid")
    assert "amount" in problem["fields"]
    assert not LedgerEntry.objects.exists()


def test_charge_rejects_a_body_that_is_not_an_object(auth_client):
    assert_problem(charge(auth_client, [1, 2]), 400, "invalid")
    assert not LedgerEntry.objects.exists()


def test_charge_rejects_malformed_json(auth_client):
    response = auth_client.post("/api/v1/points/charge", '{"amount": ', content_type="application/json")
    assert_problem(response, 400, "invalid")
    assert not LedgerEntry.objects.exists()


@pytest.mark.parametrize(
    ("method", "path"),
    [("get", "/api/v1/points"), ("post", "/api/v1/points/charge"), ("get", "/api/v1/points/history")],
)
def test_points_endpoints_need_a_bearer_token(api_client, method, path):
    response = getattr(api_client, method)(path, {"amount": 10}, format="json")
    assert_problem(response, 401, "not_authenticated")
    assert not LedgerEntry.objects.exists()


@pytest.mark.embedded
def test_history_lists_signed_entries_newest_first(auth_client, user):
    wallet_fund(user_id=user.pk, amount=500)
    points_debit(user_id=user.pk, amount=200, reference="payment:1")
    response = auth_client.get("/api/v1/points/history")
    assert response.status_code == 200
    body = response.json()
    assert (body["count"], body["next"], body["previous"]) == (2, None, None)
    assert [(r["kind"], r["amount"], r["balance_after"]) for r in body["results"]] == [
        ("PAYMENT", -200, 300),
        ("CHARGE", 500, 500),
    ]
    assert set(body["results"][0]) == {"id", "kind", "amount", "balance_after", "created_at"}
    assert body["results"][0]["created_at"].endswith("Z") or "+00:00" in body["results"][0]["created_at"]


def test_history_is_paginated(auth_client, user):
    for amount in range(1, 6):
        wallet_fund(user_id=user.pk, amount=amount)
    first = auth_client.get("/api/v1/points/history?page_size=2").json()
    assert first["count"] == 5
    assert [r["amount"] for r in first["results"]] == [5, 4]
    assert first["next"] is not None
    last = auth_client.get("/api/v1/points/history?page_size=2&page=3").json()
    assert [r["amount"] for r in last["results"]] == [1]
    assert last["next"] is None


def test_another_users_wallet_and_history_are_never_visible(auth_client, other_client, user):
    charge(auth_client, {"amount": 700})
    assert other_client.get("/api/v1/points").json() == {"balance": 0}
    assert other_client.get("/api/v1/points/history").json()["count"] == 0
    assert charge(other_client, {"amount": 5}).json() == {"balance": 5}
    assert auth_client.get("/api/v1/points").json() == {"balance": 700}
    assert [r["amount"] for r in auth_client.get("/api/v1/points/history").json()["results"]] == [700]


def test_charge_is_throttled_with_retry_after(auth_client, settings):
    limit_rate(settings, "booking", "2/minute")
    assert charge(auth_client, {"amount": 1}).status_code == 200
    assert charge(auth_client, {"amount": 1}).status_code == 200
    response = charge(auth_client, {"amount": 1})
    assert_problem(response, 429, "throttled")
    assert int(response["Retry-After"]) >= 1
    assert LedgerEntry.objects.count() == 2
