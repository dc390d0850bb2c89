import pytest
from rest_framework.test import APIClient

from tests.conftest import limit_rate
from tests.factories import TEST_PASSWORD, UserFactory
from tests.problems import assert_problem
from users.models import User

pytestmark = pytest.mark.django_db


def register(client: APIClient, **overrides):
    body = {
        "name": "Kim Fan",
        "email": "kim@example.com",
        "password": "a-long-unusual-passphrase",
    } | overrides
    return client.post("/api/v1/users", body, format="json")


@pytest.mark.embedded
def test_register_login_and_me(api_client):
    created = register(api_client)
    assert created.status_code == 201
    assert created.json() == {"id": created.json()["id"], "name": "Kim Fan", "email": "kim@example.com"}
    assert "password" not in created.json()

    token = api_client.post(
        "/api/v1/auth/token",
        {"email": "kim@example.com", "password": "a-long-unusual-passphrase"},
        format="json",
    )
    assert token.status_code == 200
    assert token.json()["token_type"] == "Bearer"

    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token.json()['access_token']}")
    me = api_client.get("/api/v1/users/me")
    assert me.status_code == 200
    assert me.json() == created.json()


def test_register_email_is_case_insensitive_and_taken_once(api_client):
    assert register(api_client).status_code == 201
    assert_problem(register(api_client, email="KIM@example.com"), 409, "email_taken")
    assert User.objects.count() == 1


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"password": "123"}, "password"),
        ({"password": "password"}, "password"),
        ({"email": "not-an-email"}, "email"),
        ({"name": ""}, "name"),
        ({"name": 12, "email": ["x"]}, "email"),
    ],
)
def test_register_rejects_bad_input(api_client, overrides, field):
    body = assert_problem(register(api_client, **overrides), 400, "invalid")
    assert field in body["fields"]
    assert User.objects.count() == 0


def test_register_missing_fields_lists_each(api_client):
    body = assert_problem(api_client.post("/api/v1/users", {}, format="json"), 400, "invalid")
    assert set(body["fields"]) == {"name", "email", "password"}


def test_malformed_json_is_invalid_not_500(api_client):
    response = api_client.post("/api/v1/users", data="{not json", content_type="application/json")
    assert_problem(response, 400, "invalid")


def test_non_object_json_is_invalid(api_client):
    response = api_client.post("/api/v1/users", data="[1, 2]", content_type="application/json")
    assert_problem(response, 400, "invalid")


def test_wrong_password_is_authentication_failed(api_client):
    user = UserFactory()
    response = api_client.post("/api/v1/auth/token", {"email": user.email, "password": "nope"}, format="json")
    assert_problem(response, 401, "authentication_failed")
    response = api_client.post(
        "/api/v1/auth/token", {"email": "ghost@example.com", "password": "x"}, format="json"
    )
    assert_problem(response, 401, "authentication_failed")


def test_login_with_missing_fields_is_invalid(api_client):
    assert_problem(api_client.post("/api/v1/auth/token", {"email": "a@b.c"}, format="json"), 400, "invalid")


def test_login_ignores_email_case(api_client):
    user = UserFactory(email="case@example.com")
    response = api_client.post(
        "/api/v1/auth/token", {"email": "CASE@example.com", "password": TEST_PASSWORD}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert user.pk


def test_inactive_user_cannot_log_in(api_client):
    user = UserFactory(is_active=False)
    response = api_client.post(
        "/api/v1/auth/token", {"email": user.email, "password": TEST_PASSWORD}, format="json"
    )
    assert_problem(response, 401, "authentication_failed")


def test_me_without_token_is_not_authenticated(api_client):
    response = api_client.get("/api/v1/users/me")
    assert_problem(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_me_with_garbage_token_is_authentication_failed(api_client):
    api_client.credentials(HTTP_AUTHORIZATION="Bearer not.a.token")
    assert_problem(api_client.get("/api/v1/users/me"), 401, "authentication_failed")


def test_me_shows_only_the_token_owner(auth_client, user, other_user):
    body = auth_client.get("/api/v1/users/me").json()
    assert body["id"] == user.id and body["email"] == user.email


def test_register_is_throttled_per_address(api_client, settings):
    limit_rate(settings, "register", "2/minute")
    assert register(api_client, email="a1@example.com").status_code == 201
    assert register(api_client, email="a2@example.com").status_code == 201
    response = register(api_client, email="a3@example.com")
    assert_problem(response, 429, "throttled")
    assert int(response["Retry-After"]) >= 1
