"""Login brute-force protection (users/lockout.py), one rule for both doors: the API's token login and the
back office's /admin/login/. LOGIN_MAX_FAILURES failed logins for one email, from any number of addresses
and at either door, lock that email for LOGIN_LOCKOUT_SECONDS at both; while locked even the right
password is refused. A successful login clears the count. Each rule test runs once per door."""

import pytest
from django.test import Client
from rest_framework.test import APIClient

from tests.doors import ADMIN_LOCKED_TEXT, DOORS, LOCKED, OK, REFUSED, admin_login_response, api_login
from tests.factories import TEST_PASSWORD, UserFactory
from tests.problems import assert_problem

pytestmark = pytest.mark.django_db


@pytest.fixture(params=sorted(DOORS))
def login(request):
    """`login(email, password)` at one door: "ok", "refused" or "locked"."""
    return DOORS[request.param]


@pytest.fixture
def account():
    """Staff, so that both doors let the right password in."""
    return UserFactory(is_staff=True)


def fail(login, email: str, times: int) -> None:
    for _ in range(times):
        assert login(email, "wrong password") == REFUSED


def test_defaults_are_five_failures_and_fifteen_minutes(settings):
    assert (settings.LOGIN_MAX_FAILURES, settings.LOGIN_LOCKOUT_SECONDS) == (5, 900)


def test_five_failures_lock_the_email_even_for_the_right_password(login, account):
    fail(login, account.email, 5)
    assert login(account.email, TEST_PASSWORD) == LOCKED
    # Other accounts are not affected.
    assert login(UserFactory(is_staff=True).email, TEST_PASSWORD) == OK


def test_four_failures_do_not_lock(login, account):
    fail(login, account.email, 4)
    assert login(account.email, TEST_PASSWORD) == OK


def test_the_lock_ends_when_the_window_passes(login, account, clock):
    fail(login, account.email, 5)
    assert login(account.email, TEST_PASSWORD) == LOCKED
    clock.advance(seconds=899)
    assert login(account.email, TEST_PASSWORD) == LOCKED
    clock.advance(seconds=2)
    assert login(account.email, TEST_PASSWORD) == OK


def test_a_successful_login_resets_the_count(login, account):
    fail(login, account.email, 4)
    assert login(account.email, TEST_PASSWORD) == OK
    fail(login, account.email, 4)
    assert login(account.email, TEST_PASSWORD) == OK


def test_the_email_counts_whatever_its_case(login, account):
    fail(login, account.email.upper(), 3)
    fail(login, account.email, 2)
    assert login(account.email.title(), TEST_PASSWORD) == LOCKED


def test_the_limit_and_window_are_settings(login, account, settings, clock):
    settings.LOGIN_MAX_FAILURES = 2
    settings.LOGIN_LOCKOUT_SECONDS = 60
    fail(login, account.email, 2)
    assert login(account.email, TEST_PASSWORD) == LOCKED
    clock.advance(seconds=61)
    assert login(account.email, TEST_PASSWORD) == OK


@pytest.mark.parametrize("switch", ["max_failures_zero", "rate_limits_disabled"])
def test_it_can_be_turned_off(login, account, settings, switch):
    if switch == "max_failures_zero":
        settings.LOGIN_MAX_FAILURES = 0
    else:
        settings.RATE_LIMITS_ENABLED = False
    fail(login, account.email, 10)
    assert login(account.email, TEST_PASSWORD) == OK


@pytest.mark.parametrize(("first", "second"), [("api", "admin"), ("admin", "api")])
def test_one_lock_for_both_doors(account, first, second):
    fail(DOORS[first], account.email, 3)
    fail(DOORS[second], account.email, 2)  # counted with the first door's three
    assert DOORS[first](account.email, TEST_PASSWORD) == LOCKED
    assert DOORS[second](account.email, TEST_PASSWORD) == LOCKED


# --- What each door says ------------------------------------------------------------------------------


def test_the_api_answers_429_with_retry_after(account):
    fail(api_login, account.email, 5)
    response = APIClient().post(
        "/api/v1/auth/token", {"email": account.email, "password": TEST_PASSWORD}, format="json"
    )
    body = assert_problem(response, 429, "throttled")
    assert 890 <= int(response["Retry-After"]) <= 900
    assert "access_token" not in body


def test_the_api_answers_unknown_emails_exactly_like_known_ones(account):
    def attempt(email):
        return APIClient(REMOTE_ADDR="10.9.9.9").post(
            "/api/v1/auth/token", {"email": email, "password": "nope"}, format="json"
        )

    ghost = "nobody-here@example.com"
    for _ in range(6):
        known, unknown = attempt(account.email), attempt(ghost)
        assert (known.status_code, known.json()) == (unknown.status_code, unknown.json())
    assert known.status_code == 429


def test_the_admin_says_the_account_is_locked_and_logs_nobody_in(account):
    fail(DOORS["admin"], account.email, 5)
    client = Client()
    response = admin_login_response(account.email, TEST_PASSWORD, client=client)
    page = response.content.decode()
    assert response.status_code == 200
    assert ADMIN_LOCKED_TEXT in page and "locked for 15 more minute(s)" in page
    assert "_auth_user_id" not in client.session
    assert client.get("/admin/").status_code == 302  # still the login page


def test_the_admin_answers_unknown_emails_exactly_like_known_ones(account):
    def error_of(email):
        response = admin_login_response(email, "nope")
        page = response.content.decode()
        return response.status_code, page[page.index('<p class="errornote">') :].split("</p>")[0]

    for _ in range(6):
        known, unknown = error_of(account.email), error_of("nobody-here@example.com")
        assert known == unknown
    assert ADMIN_LOCKED_TEXT in known[1]


def test_a_fans_right_password_at_the_admin_counts_as_a_failure():
    """The admin refuses non-staff with the wrong-password answer; it counts like one."""
    fan = UserFactory()
    fail(DOORS["admin"], fan.email, 4)
    assert DOORS["admin"](fan.email, TEST_PASSWORD) == REFUSED
    assert api_login(fan.email, TEST_PASSWORD) == LOCKED
