"""Fuzz every operation of /api/schema/ in process (WSGI) with schemathesis: no 5xx, and every answer
conforms to the schema (documented status code, content type, headers and body; errors are problem
documents). Authenticated as a real user holding an ACTIVE queue token, with rate limits off."""

import os
import uuid

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from rest_framework_simplejwt.tokens import AccessToken
from schemathesis.specs.openapi.checks import positive_data_acceptance

from config.wsgi import application
from tests.booking import on_sale_schedule
from tests.factories import UserFactory
from tests.factories.queue import active_queue_token

# Examples per operation (18 operations; schemathesis adds its coverage cases). FUZZ_EXAMPLES raises it
# for a longer hunt; FUZZ_RANDOM=1 draws new inputs each run instead of the same reproducible ones.
MAX_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "150"))
RANDOM = os.environ.get("FUZZ_RANDOM") == "1"

schema = schemathesis.openapi.from_wsgi("/api/schema/", application)

# Password strength (Django's validators: common, numeric, too similar to the email) cannot be said in
# JSON Schema, so a schema-valid registration may rightly be refused with 400 `invalid`.
SERVER_SIDE_RULES = {"POST /api/v1/users": [positive_data_acceptance]}


@pytest.fixture
def in_process_requests(db):  # type: ignore[no-untyped-def]
    """Requests through the WSGI handler must not close the test's connection (its transaction).
    Django's own test client does the same: it disconnects close_old_connections while it runs."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def fuzz_headers(in_process_requests, settings):  # type: ignore[no-untyped-def]
    settings.RATE_LIMITS_ENABLED = False
    user = UserFactory()
    schedule = on_sale_schedule(seats=20)
    token = active_queue_token(user=user, concert=schedule.concert)
    return {"Authorization": f"Bearer {AccessToken.for_user(user)}", "X-Queue-Token": token}


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    database=None,
    derandomize=not RANDOM,
    suppress_health_check=list(HealthCheck),
)
def test_api_conforms_to_its_schema(case, fuzz_headers):  # type: ignore[no-untyped-def]
    key = (case.headers or {}).get("Idempotency-Key")
    if key and len(key) <= 255:
        # A key is one request: the same key with another body is rightly 422 `idempotency_key_reused`.
        # Hypothesis draws few distinct keys, so each example gets its own (still 1..255 characters).
        case.headers["Idempotency-Key"] = (uuid.uuid4().hex + key)[:255]
    case.call_and_validate(
        headers=fuzz_headers, excluded_checks=SERVER_SIDE_RULES.get(case.operation.label, [])
    )
