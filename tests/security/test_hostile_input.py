"""SQL-injection-looking, oversized and oddly typed values in every query parameter, body field, header and
path parameter are refused with 4xx problem documents (or harmlessly ignored), never a 5xx, and leave the
data as it was."""

import json

import pytest

from tests.booking import booker_for, on_sale_schedule
from tests.factories import TEST_PASSWORD, UserFactory
from users.models import User

pytestmark = pytest.mark.django_db

HOSTILE_STRINGS = [
    "' OR '1'='1",
    "1; DROP TABLE users_user; --",
    "1 UNION SELECT password FROM users_user --",
    "%' OR email LIKE '%",
    "\\x00\\u0000",
    "a\x00b",
    "${jndi:ldap://x}",
    "<script>alert(1)</script>",
    "-1",
    "0",
    "9" * 5000,
    "A" * 100_000,
    "ünïcödé 🎫",
]
HOSTILE_VALUES = [
    *HOSTILE_STRINGS,
    None,
    True,
    -1,
    0,
    2**63,
    10**400,
    1.5,
    [],
    [1, 2],
    {"$gt": 0},
    {"id": 1},
]
LEAK_MARKERS = [
    "Traceback",
    "psycopg",
    'File "',
    "django.db",
    "IntegrityError",
    "DataError",
    "syntax error at",
]


def assert_refused_cleanly(response) -> None:
    assert response.status_code < 500, (response.status_code, response.content[:300])
    text = response.content.decode(errors="replace")
    for marker in LEAK_MARKERS:
        assert marker not in text, (marker, text[:300])
    if response.status_code >= 400:
        assert response["Content-Type"].startswith("application/problem+json")
        assert {"type", "title", "status", "detail", "code"} <= response.json().keys()


@pytest.fixture
def fan():
    schedule = on_sale_schedule()
    return schedule, booker_for(schedule)


def _query_targets(schedule) -> dict[str, list[str]]:
    return {
        "/api/v1/concerts": ["page", "page_size"],
        f"/api/v1/concerts/{schedule.concert_id}/schedules": ["date", "page", "page_size"],
        f"/api/v1/schedules/{schedule.pk}/seats": ["status", "page"],
        "/api/v1/reservations": ["page", "page_size"],
        "/api/v1/payments": ["page", "page_size"],
        "/api/v1/points/history": ["page", "page_size"],
    }


def test_every_query_parameter(fan):
    schedule, booker = fan
    for path, params in _query_targets(schedule).items():
        for param in params:
            for value in HOSTILE_STRINGS:
                assert_refused_cleanly(booker.client.get(path, {param: value}))


def _body_targets(schedule, booker) -> list[tuple[str, dict, dict]]:
    held = booker.hold(schedule, 5).json()
    queue = {"HTTP_X_QUEUE_TOKEN": booker.token}
    return [
        (
            "/api/v1/users",
            {"name": "Fan", "email": "hostile@example.com", "password": "a-long-passphrase-1"},
            {},
        ),
        ("/api/v1/auth/token", {"email": booker.user.email, "password": TEST_PASSWORD}, {}),
        ("/api/v1/queue/tokens", {"concert_id": schedule.concert_id}, {}),
        ("/api/v1/reservations", {"schedule_id": schedule.pk, "seat_number": 1}, queue),
        ("/api/v1/points/charge", {"amount": 10}, {}),
        ("/api/v1/payments", {"reservation_id": held["id"]}, queue),
    ]


def test_every_body_field(fan):
    schedule, booker = fan
    for path, valid, headers in _body_targets(schedule, booker):
        for field in valid:
            for value in HOSTILE_VALUES:
                body = {**valid, field: value}
                assert_refused_cleanly(booker.client.post(path, body, format="json", **headers))
            for literal in (
                "1e309",
                "-1e309",
                "NaN",
                "Infinity",
                "1" * 5000,
            ):  # beyond what json.dumps writes
                raw = json.dumps({**valid, field: "RAW"}).replace('"RAW"', literal)
                assert_refused_cleanly(
                    booker.client.post(path, raw, content_type="application/json", **headers)
                )


@pytest.mark.parametrize(
    "body",
    [
        "",
        "null",
        "[]",
        '"text"',
        "1",
        "{",
        '{"a": NaN}',
        "[" * 5000 + "]" * 5000,
        '{"x": ' + "9" * 5000 + "}",
    ],
)
def test_malformed_and_odd_json_bodies(fan, body):
    schedule, booker = fan
    for path, _, headers in _body_targets(schedule, booker):
        response = booker.client.post(path, body, content_type="application/json", **headers)
        assert_refused_cleanly(response)
        assert response.status_code == 400 or (
            response.status_code in (401, 403) and path == "/api/v1/auth/token"
        )


def test_an_oversized_body_is_refused_not_a_crash(fan):
    schedule, booker = fan
    huge = json.dumps({"name": "x" * 3_000_000})  # over Django's DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MB)
    for path, _, headers in _body_targets(schedule, booker):
        response = booker.client.post(path, huge, content_type="application/json", **headers)
        assert_refused_cleanly(response)
        assert response.status_code == 400, (path, response.status_code)


@pytest.mark.parametrize("value", HOSTILE_STRINGS)
def test_every_header_parameter(fan, value):
    schedule, booker = fan
    value = value.replace("\x00", "")  # a NUL cannot travel in an HTTP header
    assert_refused_cleanly(booker.client.get("/api/v1/queue/status", HTTP_X_QUEUE_TOKEN=value))
    assert_refused_cleanly(
        booker.client.post(
            "/api/v1/reservations",
            {"schedule_id": schedule.pk, "seat_number": 2},
            format="json",
            HTTP_X_QUEUE_TOKEN=value,
        )
    )
    assert_refused_cleanly(
        booker.client.post("/api/v1/points/charge", {"amount": 1}, format="json", HTTP_IDEMPOTENCY_KEY=value)
    )
    assert_refused_cleanly(booker.client.get("/api/v1/users/me", HTTP_AUTHORIZATION=f"Bearer {value}"))


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/concerts/" + "9" * 30,
        "/api/v1/concerts/" + "9" * 5000,
        "/api/v1/concerts/9223372036854775808/schedules",
        "/api/v1/schedules/99999999999999999999/seats",
        "/api/v1/reservations/' OR 1=1 --",
        "/api/v1/reservations/00000000-0000-0000-0000-000000000000",
        "/api/v1/reservations/" + "a" * 10_000 + "/cancel",
    ],
)
def test_path_parameters(fan, path):
    _, booker = fan
    response = booker.client.post(path) if path.endswith("/cancel") else booker.client.get(path)
    assert_refused_cleanly(response)
    assert response.status_code == 404


def test_injection_attempts_left_the_users_table_intact(fan):
    _, booker = fan
    other = UserFactory()
    for value in HOSTILE_STRINGS[:4]:
        booker.client.post("/api/v1/auth/token", {"email": value, "password": value}, format="json")
        booker.client.get("/api/v1/concerts", {"page": value})
    assert User.objects.filter(pk__in=[booker.user.pk, other.pk]).count() == 2
    assert booker.client.get("/api/v1/users/me").json()["email"] == booker.user.email
