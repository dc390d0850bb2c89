"""Login brute-force protection (users/lockout.py): LOGIN_MAX_FAILURES failed logins for one email, from
any number of addresses, lock that email for LOGIN_LOCKOUT_SECONDS; while locked even the right password
is 429 `throttled` with Retry-After. A successful login clears the count."""

from itertools import count

import pytest
from rest_framework.test import APIClient

from tests.factories import TEST_PASSWORD, UserFactory
from tests.problems import assert_problem

pytestmark = pytest.mark.django_db

_address = count(1)


def login(email: str, password: str):
    """Each attempt from a new address: the per-address login throttle never comes into play."""
    n = next(_address)
    client = APIClient(REMOTE_ADDR=f"10.1.{n // 250}.{n % 250 + 1}")
    return client.post("/api/v1/auth/token", {"email": email, "password": password}, format="json")


def fail(email: str, times: int) -> None:
    for _ in range(times):
        assert_problem(login(email, "wrong password"), 401, "authentication_failed")


@pytest.fixture
def fan():
    return UserFactory()


def test_defaults_are_five_failures_and_fifteen_minutes(settings):
    assert (settings.LOGIN_MAX_FAILURES, settings.LOGIN_LOCKOUT_SECONDS) == (5, 900)


def test_five_failures_from_many_addresses_lock_the_email(fan):
    fail(fan.email, 5)
    response = login(fan.email, TEST_PASSWORD)  # the right password, still refused
    body = assert_problem(response, 429, "throttled")
    assert 890 <= int(response["Retry-After"]) <= 900
    assert "access_token" not in body
    # Other accounts are not affected.
    assert login(UserFactory().email, TEST_PASSWORD).status_code == 200


def test_four_failures_do_not_lock(fan):
    fail(fan.email, 4)
    assert login(fan.email, TEST_PASSWORD).status_code == 200


def test_the_lock_ends_when_the_window_passes(fan, clock):
    fail(fan.email, 5)
    assert login(fan.email, TEST_PASSWORD).status_code == 429
    clock.advance(seconds=899)
    response = login(fan.email, TEST_PASSWORD)
    assert response.status_code == 429 and int(response["Retry-After"]) <= 2
    clock.advance(seconds=2)
    assert login(fan.email, TEST_PASSWORD).status_code == 200


def test_a_successful_login_resets_the_count(fan):
    fail(fan.email, 4)
    assert login(fan.email, TEST_PASSWORD).status_code == 200
    fail(fan.email, 4)
    assert login(fan.email, TEST_PASSWORD).status_code == 200


def test_the_email_counts_whatever_its_case(fan):
    fail(fan.email.upper(), 3)
    fail(fan.email, 2)
    assert_problem(login(fan.email.title(), TEST_PASSWORD), 429, "throttled")


def test_unknown_emails_answer_exactly_like_known_ones(fan):
    ghost = "nobody-here@example.com"
    for _ in range(5):
        known, unknown = login(fan.email, "nope"), login(ghost, "nope")
        assert (known.status_code, known.json()) == (unknown.status_code, unknown.json())
    known, unknown = login(fan.email, "nope"), login(ghost, "nope")
    assert known.status_code == unknown.status_code == 429
    assert known.json() == unknown.json()


def test_the_limit_and_window_are_settings(fan, settings):
    settings.LOGIN_MAX_FAILURES = 2
    settings.LOGIN_LOCKOUT_SECONDS = 60
    fail(fan.email, 2)
    response = login(fan.email, TEST_PASSWORD)
    assert response.status_code == 429 and 50 <= int(response["Retry-After"]) <= 60


@pytest.mark.parametrize("switch", ["max_failures_zero", "rate_limits_disabled"])
def test_it_can_be_turned_off(fan, settings, switch):
    if switch == "max_failures_zero":
        settings.LOGIN_MAX_FAILURES = 0
    else:
        settings.RATE_LIMITS_ENABLED = False
    fail(fan.email, 10)
    assert login(fan.email, TEST_PASSWORD).status_code == 200
