"""The admin requires a staff account: anonymous visitors and logged-in non-staff users are sent to the
admin login page, and an API Bearer token opens nothing there."""

import pytest
from django.test import Client
from rest_framework_simplejwt.tokens import AccessToken

from tests.factories import TEST_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

ADMIN_PAGES = ["/admin/", "/admin/users/user/", "/admin/points/wallet/", "/admin/reservations/reservation/"]


def assert_sent_to_login(response, path: str) -> None:
    assert response.status_code == 302, (path, response.status_code)
    assert response["Location"].startswith("/admin/login/"), response["Location"]


@pytest.mark.parametrize("path", ADMIN_PAGES)
def test_anonymous_is_redirected_to_the_login_page(path):
    assert_sent_to_login(Client().get(path), path)


@pytest.mark.parametrize("path", ADMIN_PAGES)
def test_a_logged_in_non_staff_user_is_refused(path):
    client = Client()
    client.force_login(UserFactory(is_staff=False))
    assert_sent_to_login(client.get(path), path)


def test_a_non_staff_user_cannot_log_in_to_the_admin():
    fan = UserFactory(is_staff=False)
    client = Client()
    response = client.post("/admin/login/", {"username": fan.email, "password": TEST_PASSWORD})
    assert response.status_code == 200  # the form again, with an error
    assert "staff account" in response.content.decode()
    assert_sent_to_login(client.get("/admin/"), "/admin/")


def test_an_api_bearer_token_opens_nothing_in_the_admin():
    boss = UserFactory(is_staff=True, is_superuser=True)
    response = Client().get("/admin/", HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(boss)}")
    assert_sent_to_login(response, "/admin/")


def test_a_staff_superuser_gets_in():
    client = Client()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    assert client.get("/admin/").status_code == 200
