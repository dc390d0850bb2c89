"""POST /api/v1/queue/tokens and GET /api/v1/queue/status, on the configured backend (Redis under
.ci/with-services, the database in embedded runs)."""

import pytest

from queue_app.api.serializers import QueueTokenOutput
from queue_app.services import queue_promote
from tests.conftest import client_for
from tests.factories import UserFactory
from tests.problems import assert_problem
from tests.queue_app.conftest import on_sale_concert

pytestmark = pytest.mark.django_db

TOKENS = "/api/v1/queue/tokens"
STATUS = "/api/v1/queue/status"


def poll(client, token: str):  # type: ignore[no-untyped-def]
    return client.get(STATUS, HTTP_X_QUEUE_TOKEN=token)


def slow_rates(settings, **rates: str) -> None:  # type: ignore[no-untyped-def]
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], **rates},
    }


@pytest.mark.embedded
def test_issue_creates_a_token_then_returns_the_same_one(auth_client):  # type: ignore[no-untyped-def]
    concert = on_sale_concert()
    created = auth_client.post(TOKENS, {"concert_id": concert.pk}, format="json")
    assert created.status_code == 201, created.content
    assert created["Content-Type"] == "application/json"
    body = created.json()
    assert set(body) == set(QueueTokenOutput().fields)
    assert body["concert_id"] == concert.pk and body["status"] == "WAITING"
    assert (body["position"], body["expires_at"]) == (1, None)
    assert body["estimated_wait_seconds"] == 10  # ceil(1 / 10) * 10 with the default settings
    assert body["issued_at"].endswith("Z") and len(body["token"]) >= 22

    again = auth_client.post(TOKENS, {"concert_id": str(concert.pk)}, format="json")
    assert again.status_code == 200 and again.json() == body


@pytest.mark.embedded
def test_tokens_of_several_users_come_back_in_fifo_order(db):  # type: ignore[no-untyped-def]
    concert = on_sale_concert()
    clients = [client_for(user) for user in UserFactory.create_batch(3)]
    bodies = [c.post(TOKENS, {"concert_id": concert.pk}, format="json").json() for c in clients]
    assert [b["position"] for b in bodies] == [1, 2, 3]
    assert [poll(c, b["token"]).json()["position"] for c, b in zip(clients, bodies, strict=True)] == [1, 2, 3]


def test_issue_needs_a_valid_bearer_token(api_client):  # type: ignore[no-untyped-def]
    concert = on_sale_concert()
    response = api_client.post(TOKENS, {"concert_id": concert.pk}, format="json")
    assert_problem(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"].startswith("Bearer")
    api_client.credentials(HTTP_AUTHORIZATION="Bearer not-a-jwt")
    assert_problem(
        api_client.post(TOKENS, {"concert_id": concert.pk}, format="json"), 401, "authentication_failed"
    )


@pytest.mark.parametrize(
    "body",
    [{}, {"concert_id": None}, {"concert_id": "abc"}, {"concert_id": 0}, {"concert_id": -3}, [1], "7"],
)
def test_issue_rejects_a_bad_body(auth_client, body):  # type: ignore[no-untyped-def]
    assert_problem(auth_client.post(TOKENS, body, format="json"), 400, "invalid")


def test_issue_rejects_malformed_json_and_other_media_types(auth_client):  # type: ignore[no-untyped-def]
    body = assert_problem(auth_client.post(TOKENS, "{nope", content_type="application/json"), 400, "invalid")
    assert "body" in body["fields"]
    form = auth_client.post(TOKENS, "concert_id=1", content_type="application/x-www-form-urlencoded")
    assert_problem(form, 415, "unsupported_media_type")


@pytest.mark.embedded
def test_issue_for_an_unknown_concert_is_404(auth_client):  # type: ignore[no-untyped-def]
    assert_problem(auth_client.post(TOKENS, {"concert_id": 987654}, format="json"), 404, "not_found")


def test_issue_is_throttled_per_user_with_retry_after(auth_client, other_client, settings):  # type: ignore[no-untyped-def]
    slow_rates(settings, queue_issue="2/minute")
    concert = on_sale_concert()
    for _ in range(2):
        assert auth_client.post(TOKENS, {"concert_id": concert.pk}, format="json").status_code in (200, 201)
    response = auth_client.post(TOKENS, {"concert_id": concert.pk}, format="json")
    assert_problem(response, 429, "throttled")
    assert 1 <= int(response["Retry-After"]) <= 60
    assert other_client.post(TOKENS, {"concert_id": concert.pk}, format="json").status_code == 201

    settings.RATE_LIMITS_ENABLED = False
    assert auth_client.post(TOKENS, {"concert_id": concert.pk}, format="json").status_code == 200


@pytest.mark.embedded
def test_status_needs_only_the_queue_token_header(auth_client, api_client, user):  # type: ignore[no-untyped-def]
    concert = on_sale_concert()
    issued = auth_client.post(TOKENS, {"concert_id": concert.pk}, format="json").json()

    anonymous = poll(api_client, issued["token"])
    assert anonymous.status_code == 200 and anonymous.json() == issued
    assert anonymous["Cache-Control"] == "no-store"
    assert poll(auth_client, issued["token"]).json()["token"] == issued["token"]  # the owner's Authorization


def test_status_follows_admission(auth_client, user):  # type: ignore[no-untyped-def]
    concert = on_sale_concert()
    token = auth_client.post(TOKENS, {"concert_id": concert.pk}, format="json").json()["token"]
    queue_promote(concert_id=concert.pk)
    body = poll(auth_client, token).json()
    assert (body["status"], body["position"], body["estimated_wait_seconds"]) == ("ACTIVE", 0, 0)
    assert body["expires_at"].endswith("Z")


@pytest.mark.embedded
def test_status_without_the_header_is_401(api_client):  # type: ignore[no-untyped-def]
    assert_problem(api_client.get(STATUS), 401, "queue_token_required")
    assert_problem(poll(api_client, "   "), 401, "queue_token_required")


def test_status_of_an_unknown_token_is_404(api_client):  # type: ignore[no-untyped-def]
    assert_problem(poll(api_client, "no-such-token"), 404, "queue_token_not_found")
    assert_problem(poll(api_client, "x" * 5000), 404, "queue_token_not_found")


def test_status_with_another_users_authorization_is_404(auth_client, other_client):  # type: ignore[no-untyped-def]
    token = auth_client.post(TOKENS, {"concert_id": on_sale_concert().pk}, format="json").json()["token"]
    assert_problem(poll(other_client, token), 404, "queue_token_not_found")


def test_status_with_a_broken_authorization_is_401(api_client, auth_client):  # type: ignore[no-untyped-def]
    token = auth_client.post(TOKENS, {"concert_id": on_sale_concert().pk}, format="json").json()["token"]
    api_client.credentials(HTTP_AUTHORIZATION="Bearer forged")
    assert_problem(poll(api_client, token), 401, "authentication_failed")


def test_status_is_throttled_per_token_owner(auth_client, api_client, settings):  # type: ignore[no-untyped-def]
    slow_rates(settings, queue_status="3/minute")
    token = auth_client.post(TOKENS, {"concert_id": on_sale_concert().pk}, format="json").json()["token"]
    for _ in range(3):
        assert poll(api_client, token).status_code == 200
    response = poll(api_client, token)
    assert_problem(response, 429, "throttled")
    assert int(response["Retry-After"]) >= 1


def test_wrong_methods_are_405(auth_client):  # type: ignore[no-untyped-def]
    response = auth_client.get(TOKENS)
    assert_problem(response, 405, "method_not_allowed")
    assert response["Allow"] == "POST"
    assert_problem(auth_client.post(STATUS, {}, format="json"), 405, "method_not_allowed")


@pytest.mark.embedded
def test_the_schema_documents_both_endpoints(api_client):  # type: ignore[no-untyped-def]
    paths = api_client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()["paths"]
    issue = paths["/api/v1/queue/tokens"]["post"]
    assert {"200", "201", "400", "401", "404", "429"} <= set(issue["responses"])
    poll_op = paths["/api/v1/queue/status"]["get"]
    assert {"200", "401", "404", "429"} <= set(poll_op["responses"])
    assert any(p["name"] == "X-Queue-Token" and p["in"] == "header" for p in poll_op["parameters"])
    assert "application/problem+json" in poll_op["responses"]["404"]["content"]
