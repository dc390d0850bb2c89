"""The queue's plain views answer as DRF views built from their documenting serializers would."""

import json

import pytest
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework_simplejwt.tokens import AccessToken

from queue_app import services
from queue_app.api import views
from queue_app.api.schema import QueueStatusDoc, QueueTokenIssueDoc
from queue_app.api.serializers import QueueTokenIssueInput, QueueTokenOutput
from queue_app.errors import QueueTokenRequired
from tests.conftest import limit_rate
from tests.factories import ConcertFactory, UserFactory
from tests.parity.harness import FIELD_VALUES, RAW_BODIES, both, masked, rendered, request, value_for

pytestmark = pytest.mark.django_db


class QueueTokenIssueReference(QueueTokenIssueDoc):
    """POST /queue/tokens the DRF way: its documented input and output serializers, the same service."""

    def post(self, request: Request) -> Response:
        wanted = QueueTokenIssueInput(data=request.data)
        wanted.is_valid(raise_exception=True)
        view, created = services.queue_token_issue(
            user_id=request.user.pk, concert_id=wanted.validated_data["concert_id"], rate_limited=True
        )
        return Response(QueueTokenOutput(view).data, status=201 if created else 200)


class QueueStatusReference(QueueStatusDoc):
    def get(self, request: Request) -> Response:
        token = request.headers.get("X-Queue-Token", "").strip()
        if not token:
            raise QueueTokenRequired()
        user_id = request.user.pk if request.user.is_authenticated else None
        view = services.queue_token_status(token=token, user_id=user_id, rate_limited=True)
        return Response(QueueTokenOutput(view).data, headers={"Cache-Control": "no-store"})


issue_reference = QueueTokenIssueReference.as_view()
status_reference = QueueStatusReference.as_view()


def bearer(user) -> str:
    return f"Bearer {AccessToken.for_user(user)}"


def issue_pair(body: bytes, *, content_type: str = "application/json", **headers: str):
    make = request("POST", "/api/v1/queue/tokens", body=body, content_type=content_type, **headers)
    plain, reference = both(views.queue_token_issue, issue_reference, make)
    return masked(plain, "token"), masked(reference, "token")


def test_the_token_body_has_the_documented_fields_and_values(backend):
    concert, user = ConcertFactory(), UserFactory()
    view, _ = services.queue_token_issue(user_id=user.pk, concert_id=concert.pk)
    assert set(views.token_body(view)) == set(QueueTokenOutput().fields)
    assert rendered(views.token_body(view)) == rendered(QueueTokenOutput(view).data)


@pytest.mark.parametrize("kind", FIELD_VALUES, ids=repr)
def test_issue_treats_every_concert_id_as_drf_does(kind, backend):
    concert, user = ConcertFactory(), UserFactory()
    body = json.dumps({"concert_id": value_for(kind, concert.pk)}).encode()
    plain, reference = issue_pair(body, HTTP_AUTHORIZATION=bearer(user))
    assert plain == reference
    assert plain.status in (201, 400, 404)


@pytest.mark.parametrize("body", [*RAW_BODIES, b"{}", b'{"concert": 1}'], ids=repr)
def test_issue_treats_every_body_as_drf_does(body, backend):
    plain, reference = issue_pair(body, HTTP_AUTHORIZATION=bearer(UserFactory()))
    assert plain == reference
    assert plain.status == 400


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("text/plain", b'{"concert_id": 1}'),
        ("application/x-www-form-urlencoded", b"concert_id=1"),
        ("", b'{"concert_id": 1}'),
        ("text/plain", b""),  # no body: DRF reads no data whatever the type
        ("application/json; charset=utf-8", b'{"concert_id": "x"}'),
        ("application/json; charset=bz2_codec", b'{"concert_id": "x"}'),
    ],
)
def test_issue_treats_content_types_as_drf_does(content_type, body):
    plain, reference = issue_pair(body, content_type=content_type, HTTP_AUTHORIZATION=bearer(UserFactory()))
    assert plain == reference


@pytest.mark.parametrize("authorization", [None, "Bearer nonsense", "Basic abc"])
def test_issue_refuses_strangers_as_drf_does(authorization):
    headers = {"HTTP_AUTHORIZATION": authorization} if authorization else {}
    plain, reference = issue_pair(b'{"concert_id": 1}', **headers)
    assert plain == reference
    assert plain.status == 401


def test_issue_throttles_as_drf_does(settings, backend):
    limit_rate(settings, "queue_issue", "1/minute")
    concert, user = ConcertFactory(), UserFactory()
    services.queue_token_issue(user_id=user.pk, concert_id=concert.pk, rate_limited=True)  # the minute's one
    body = json.dumps({"concert_id": concert.pk}).encode()
    make = request("POST", "/api/v1/queue/tokens", body=body, HTTP_AUTHORIZATION=bearer(user))
    plain, reference = both(views.queue_token_issue, issue_reference, make, undo_redis=False)
    assert plain == reference
    assert plain.status == 429 and plain.headers["Retry-After"]


def test_wrong_method_is_refused_alike():
    make = request("GET", "/api/v1/queue/tokens", HTTP_AUTHORIZATION=bearer(UserFactory()))
    plain, reference = both(views.queue_token_issue, issue_reference, make)
    assert plain == reference
    assert plain.status == 405


def _status_cases(user, other, token):
    return {
        "own token": {"HTTP_X_QUEUE_TOKEN": token, "HTTP_AUTHORIZATION": bearer(user)},
        "token alone": {"HTTP_X_QUEUE_TOKEN": token},
        "token in spaces": {"HTTP_X_QUEUE_TOKEN": f"  {token} "},
        "another user's token": {"HTTP_X_QUEUE_TOKEN": token, "HTTP_AUTHORIZATION": bearer(other)},
        "unknown token": {"HTTP_X_QUEUE_TOKEN": "no-such-token"},
        "overlong token": {"HTTP_X_QUEUE_TOKEN": "x" * 500},
        "no token": {},
        "empty token": {"HTTP_X_QUEUE_TOKEN": "  "},
        "bad bearer": {"HTTP_X_QUEUE_TOKEN": token, "HTTP_AUTHORIZATION": "Bearer nonsense"},
        "bad bearer, no token": {"HTTP_AUTHORIZATION": "Bearer nonsense"},
    }


CASES = [
    "own token",
    "token alone",
    "token in spaces",
    "another user's token",
    "unknown token",
    "overlong token",
    "no token",
    "empty token",
    "bad bearer",
    "bad bearer, no token",
]


@pytest.mark.parametrize("case", CASES)
def test_status_answers_as_drf_does(case, backend):
    concert, user, other = ConcertFactory(), UserFactory(), UserFactory()
    view, _ = services.queue_token_issue(user_id=user.pk, concert_id=concert.pk)
    headers = _status_cases(user, other, view.token)[case]
    make = request("GET", "/api/v1/queue/status", **headers)
    plain, reference = both(views.queue_status, status_reference, make, undo_redis=False)
    assert plain == reference
