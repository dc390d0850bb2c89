"""Rate limits: registration and login per address, queue token issue per user, status polls per token
owner, and the booking writes per user answer 429 `throttled` with Retry-After once over their (here
tightened) rate; RATE_LIMITS_ENABLED=false turns every one of them off."""

from collections.abc import Callable
from dataclasses import dataclass
from itertools import count

import pytest
from rest_framework.test import APIClient

from tests.conftest import client_for
from tests.factories import TEST_PASSWORD, ConcertFactory, UserFactory
from tests.problems import assert_problem

pytestmark = pytest.mark.django_db

_serial = count()


@dataclass
class Limited:
    scope: str
    send: Callable[[], object]  # one request of the limited kind; successes are 2xx


def _register(client: APIClient) -> Callable[[], object]:
    return lambda: client.post(
        "/api/v1/users",
        {"name": "Fan", "email": f"fan-{next(_serial)}@example.com", "password": "a-long-unusual-passphrase"},
        format="json",
    )


def _limited(kind: str) -> Limited:
    if kind == "register":
        return Limited("register", _register(APIClient()))
    if kind == "login":
        user = UserFactory()
        client = APIClient()
        return Limited(
            "login",
            lambda: client.post(
                "/api/v1/auth/token", {"email": user.email, "password": TEST_PASSWORD}, format="json"
            ),
        )
    client = client_for(UserFactory())
    concert = ConcertFactory()
    if kind == "queue_issue":
        return Limited(
            "queue_issue",
            lambda: client.post("/api/v1/queue/tokens", {"concert_id": concert.pk}, format="json"),
        )
    if kind == "queue_status":
        token = client.post("/api/v1/queue/tokens", {"concert_id": concert.pk}, format="json").json()["token"]
        return Limited("queue_status", lambda: client.get("/api/v1/queue/status", HTTP_X_QUEUE_TOKEN=token))
    if kind == "booking":
        return Limited("booking", lambda: client.post("/api/v1/points/charge", {"amount": 1}, format="json"))
    raise AssertionError(kind)


KINDS = ["register", "login", "queue_issue", "queue_status", "booking"]


@pytest.mark.parametrize("kind", KINDS)
def test_over_the_rate_is_429_throttled_with_retry_after(kind, tight_rates):
    limited = _limited(kind)
    tight_rates(**{limited.scope: "3/minute"})
    for _ in range(3):
        response = limited.send()
        assert 200 <= response.status_code < 300, response.content
    response = limited.send()
    assert_problem(response, 429, "throttled")
    assert 1 <= int(response["Retry-After"]) <= 60


@pytest.mark.parametrize("kind", KINDS)
def test_rate_limits_enabled_false_turns_the_limit_off(kind, tight_rates, settings):
    limited = _limited(kind)
    tight_rates(**{limited.scope: "1/minute"})
    settings.RATE_LIMITS_ENABLED = False
    for _ in range(5):
        response = limited.send()
        assert 200 <= response.status_code < 300, response.content


def test_registration_limit_counts_per_address_not_per_email(tight_rates):
    tight_rates(register="2/minute")
    here, there = APIClient(REMOTE_ADDR="10.0.0.1"), APIClient(REMOTE_ADDR="10.0.0.2")
    assert _register(here)().status_code == 201
    assert _register(here)().status_code == 201
    assert_problem(_register(here)(), 429, "throttled")
    assert _register(there)().status_code == 201
