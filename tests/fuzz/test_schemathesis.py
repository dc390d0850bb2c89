"""Fuzz every operation of /api/schema/ in process (WSGI) with schemathesis: no 5xx, and every answer
conforms to the schema (documented status code, content type, headers and body; errors are problem
documents). Authenticated as a real user holding an ACTIVE queue token, with rate limits off."""

import os
import uuid
from dataclasses import dataclass

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from rest_framework_simplejwt.tokens import AccessToken
from schemathesis.specs.openapi.checks import positive_data_acceptance

from config.wsgi import application
from tests.booking import booker_for, on_sale_schedule
from tests.factories.points import wallet_fund
from tests.factories.queue import active_queue_token

# Examples per operation (18 operations; schemathesis adds its coverage cases). FUZZ_EXAMPLES raises it
# for a longer hunt; FUZZ_RANDOM=1 draws new inputs each run instead of the same reproducible ones.
MAX_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "150"))
RANDOM = os.environ.get("FUZZ_RANDOM") == "1"

schema = schemathesis.openapi.from_wsgi("/api/schema/", application)

# Password strength (Django's validators: common, numeric, too similar to the email) cannot be said in
# JSON Schema, so a schema-valid registration may rightly be refused with 400 `invalid`.
SERVER_SIDE_RULES = {"POST /api/v1/users": [positive_data_acceptance]}


@dataclass
class World:
    """A real user with data behind every read (so list bodies are checked too) and real ids to aim at."""

    headers: dict[str, str]
    concert_id: int
    schedule_id: int
    reservation_ids: list[str]


@pytest.fixture
def world(db, settings):
    settings.RATE_LIMITS_ENABLED = False
    schedule = on_sale_schedule(seats=20, price=100)
    fan = booker_for(schedule)
    wallet_fund(user_id=fan.user.pk, amount=10_000)
    paid, pending = fan.hold(schedule, 1).json(), fan.hold(schedule, 2).json()
    assert fan.pay(paid["id"]).status_code == 201
    token = active_queue_token(user=fan.user, concert=schedule.concert)  # paying expired the first one
    # Requests through the WSGI handler must not close the test's connection (and so its transaction):
    # as Django's test client does while it runs (the set-up above used it), disconnect close_old_connections.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield World(
        headers={"Authorization": f"Bearer {AccessToken.for_user(fan.user)}", "X-Queue-Token": token},
        concert_id=schedule.concert_id,
        schedule_id=schedule.pk,
        reservation_ids=[pending["id"], paid["id"]],
    )
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


def aim_at_real_objects(case, world: World) -> None:
    """Random ids almost never exist; for about half of the schema-valid cases use the world's own, so
    the success answers (and their bodies) are fuzzed too. Negative cases are left as drawn."""
    if case.meta is None or not case.meta.generation.mode.is_positive:
        return
    real = {"concert_id": world.concert_id, "schedule_id": world.schedule_id}
    for where in (case.path_parameters, case.body if isinstance(case.body, dict) else {}):
        for name, value in list(where.items()):
            if name in real and isinstance(value, int) and value % 2 == 0:
                where[name] = real[name]
            if name == "reservation_id" and isinstance(value, str) and value[:1] in "01234567":
                where[name] = world.reservation_ids[int(value[0]) % 2]


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    database=None,
    derandomize=not RANDOM,
    suppress_health_check=list(HealthCheck),
)
def test_api_conforms_to_its_schema(case, world):
    aim_at_real_objects(case, world)
    key = (case.headers or {}).get("Idempotency-Key")
    if key and len(key) <= 255:
        # A key is one request: the same key with another body is rightly 422 `idempotency_key_reused`.
        # Hypothesis draws few distinct keys, so each example gets its own (still 1..255 characters).
        case.headers["Idempotency-Key"] = (uuid.uuid4().hex + key)[:255]
    case.call_and_validate(
        headers=world.headers, excluded_checks=SERVER_SIDE_RULES.get(case.operation.label, [])
    )
