"""An unexpected error is a 500 problem document (`internal_error`) with no traceback, exception type or
message in it: in DRF views, in the plain queue views and in any other Django view (handler500)."""

import pytest
from django.test import Client

from tests.conftest import client_for
from tests.factories import ConcertFactory, UserFactory
from tests.problems import assert_problem

pytestmark = pytest.mark.django_db

SECRET = "secret-internal-detail /etc/passwd at 0xdeadbeef"


def boom(*args, **kwargs):
    raise RuntimeError(SECRET)


def assert_opaque_500(response) -> None:
    body = assert_problem(response, 500, "internal_error")
    text = response.content.decode()
    for leak in ("Traceback", "RuntimeError", SECRET, 'File "', ".py"):
        assert leak not in text, leak
    assert body["detail"] == "Internal server error."


@pytest.mark.parametrize("debug", [False, True])
def test_a_drf_view_error_is_an_opaque_500(monkeypatch, settings, debug):
    settings.DEBUG = debug  # even with DEBUG on, the API answers in the contract's shape
    monkeypatch.setattr("points.api.views.selectors.wallet_balance", boom)
    assert_opaque_500(client_for(UserFactory()).get("/api/v1/points"))


def test_a_plain_queue_view_error_is_an_opaque_500(monkeypatch, settings):
    assert settings.DEBUG is False
    monkeypatch.setattr("queue_app.api.views.services.queue_token_issue", boom)
    client = client_for(UserFactory())
    assert_opaque_500(client.post("/api/v1/queue/tokens", {"concert_id": ConcertFactory().pk}, format="json"))
    monkeypatch.setattr("queue_app.api.views.services.queue_token_status", boom)
    assert_opaque_500(client.get("/api/v1/queue/status", HTTP_X_QUEUE_TOKEN="anything"))


def test_any_other_view_error_goes_to_handler500(monkeypatch, settings):
    assert settings.DEBUG is False
    monkeypatch.setattr("config.health.JsonResponse", boom)
    response = Client(raise_request_exception=False).get("/healthz")
    assert_opaque_500(response)
