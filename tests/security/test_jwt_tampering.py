"""Bearer tokens are signed JWTs checked without a database: a token with `alg: none`, a wrong signature,
an edited payload, another algorithm, a refresh-type or an expired token is 401, on DRF views and on the
plain queue views alike."""

import base64
import json
import time
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from django.conf import settings
from rest_framework_simplejwt.tokens import AccessToken

from tests.factories import UserFactory
from tests.problems import assert_problem

pytestmark = [pytest.mark.django_db, pytest.mark.filterwarnings("ignore:The HMAC key")]  # HS512 test key


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _claims(user) -> dict:
    return dict(AccessToken.for_user(user).payload)


def _signed(claims: dict, *, key: str | None = None, algorithm: str = "HS256") -> str:
    return jwt.encode(claims, key or settings.SIMPLE_JWT["SIGNING_KEY"], algorithm=algorithm)


def tampered_tokens(user, victim) -> dict[str, str]:
    claims = _claims(user)
    good = str(AccessToken.for_user(user))
    header, _, signature = good.split(".")
    now = datetime.now(UTC)
    return {
        "alg none": f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims)}.",
        "alg none, no dot": f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims)}",
        "wrong key": _signed(claims, key="not-the-signing-key-" + "x" * 40),
        "payload edited to another user": f"{header}.{_b64({**claims, 'user_id': victim.pk})}.{signature}",
        "another algorithm (HS512)": _signed(claims, algorithm="HS512"),
        "refresh token type": _signed({**claims, "token_type": "refresh"}),
        "expired": _signed({**claims, "exp": int((now - timedelta(seconds=5)).timestamp())}),
        "no expiry": _signed({k: v for k, v in claims.items() if k != "exp"}),
        "signature stripped": f"{header}.{_b64(claims)}.",
        "garbage": "not.a.jwt",
    }


@pytest.mark.parametrize(
    "kind",
    [
        "alg none",
        "alg none, no dot",
        "wrong key",
        "payload edited to another user",
        "another algorithm (HS512)",
        "refresh token type",
        "expired",
        "no expiry",
        "signature stripped",
        "garbage",
    ],
)
def test_a_tampered_token_is_401(api_client, kind):
    user, victim = UserFactory(), UserFactory()
    token = tampered_tokens(user, victim)[kind]
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    me = api_client.get("/api/v1/users/me", **auth)
    assert_problem(me, 401, "authentication_failed")
    assert victim.email not in me.content.decode()
    assert_problem(api_client.get("/api/v1/points", **auth), 401, "authentication_failed")
    queue = api_client.post("/api/v1/queue/tokens", {"concert_id": 1}, format="json", **auth)
    assert_problem(queue, 401, "authentication_failed")


def test_the_untampered_token_works(api_client):
    user = UserFactory()
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(user)}")
    assert api_client.get("/api/v1/users/me").json()["id"] == user.pk


def test_a_token_verified_before_is_refused_once_it_expires(api_client):
    """The process remembers tokens it has verified; a remembered token still expires on time."""
    user = UserFactory()
    expires = int(time.time()) + 2
    token = _signed({**_claims(user), "exp": expires})
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    assert api_client.get("/api/v1/users/me", **auth).status_code == 200
    assert api_client.get("/api/v1/points", **auth).status_code == 200  # served from the remembered check
    time.sleep(max(0.0, expires - time.time()) + 0.05)
    assert_problem(api_client.get("/api/v1/users/me", **auth), 401, "authentication_failed")
    assert_problem(api_client.get("/api/v1/points", **auth), 401, "authentication_failed")
