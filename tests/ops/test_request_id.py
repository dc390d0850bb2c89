import re

import pytest

from config.logging import get_request_id

GENERATED = re.compile(r"[0-9a-f]{32}")


@pytest.mark.embedded
def test_a_request_without_an_id_gets_a_generated_one(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert GENERATED.fullmatch(response["X-Request-ID"])
    assert client.get("/healthz")["X-Request-ID"] != response["X-Request-ID"]


@pytest.mark.embedded
@pytest.mark.parametrize(
    "given", ["abc-123", "7f1c2e9a-4b6d-4e0a-9c1f-0a2b3c4d5e6f", "Root=1-67891233-abcdef012345678912345678"]
)
def test_a_sane_request_id_is_propagated(client, given):
    assert client.get("/healthz", HTTP_X_REQUEST_ID=given)["X-Request-ID"] == given


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "has space",
        "line\nbreak",
        'quote"d',
        "<script>",
        "-starts-with-dash",
        "x" * 129,
        "caf\u00e9",
    ],
)
def test_a_bad_request_id_is_replaced(client, bad):
    returned = client.get("/healthz", HTTP_X_REQUEST_ID=bad)["X-Request-ID"]
    assert returned != bad
    assert GENERATED.fullmatch(returned)


def test_error_responses_carry_the_request_id_too(client, db):
    response = client.get("/api/v1/no-such-thing", HTTP_X_REQUEST_ID="req-404")
    assert response.status_code == 404
    assert response["X-Request-ID"] == "req-404"


def test_the_request_id_does_not_leak_past_the_request(client):
    client.get("/healthz", HTTP_X_REQUEST_ID="req-leak")
    assert get_request_id() is None
