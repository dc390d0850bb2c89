"""Bearer access tokens (signed JWTs) checked without a database query.

`request.user` is a `TokenUser` carrying the id from the token: the hot paths need only the id, and
endpoints that need the row (`/users/me`) load it through a selector.
"""

import functools
import time
from datetime import timedelta
from typing import Any

from django.utils.functional import cached_property
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from jwt import PyJWT, PyJWTError
from jwt.algorithms import HMACAlgorithm
from jwt.api_jws import PyJWS
from rest_framework_simplejwt.authentication import JWTStatelessUserAuthentication
from rest_framework_simplejwt.exceptions import InvalidToken
from rest_framework_simplejwt.models import TokenUser
from rest_framework_simplejwt.settings import api_settings

from config.memo import memo_put


class ApiUser(TokenUser):
    """The user a valid token names, with an integer id (the JWT claim is a string)."""

    @cached_property
    def id(self) -> int:  # type: ignore[override]
        return int(self.token[api_settings.USER_ID_CLAIM])

    @cached_property
    def pk(self) -> int:  # type: ignore[override]
        return self.id


class _HMACWithPreparedKey(HMACAlgorithm):
    """HS256 whose key check (PyJWT tests every key against PEM and SSH patterns) runs once per key
    instead of on every request: it was most of the cost of verifying a token on the hot paths."""

    @functools.lru_cache(maxsize=4)  # noqa: B019 - a few module-lifetime keys; the instance is global
    def prepare_key(self, key: str | bytes) -> bytes:
        return super().prepare_key(key)


def _jwt_decoder() -> PyJWT:
    decoder = PyJWT()
    jws = PyJWS(algorithms=[api_settings.ALGORITHM])
    if api_settings.ALGORITHM == "HS256":
        jws.unregister_algorithm("HS256")
        jws.register_algorithm("HS256", _HMACWithPreparedKey(HMACAlgorithm.SHA256))
    decoder._jws = jws  # the same wiring PyJWT does for its module-level decoder
    return decoder


_decoder = _jwt_decoder()

# Tokens already verified in this process, by their exact bytes (signature included): a fan's requests
# (holds, payment, wallet) present the same token again and again, and HMAC plus claim checks were the
# largest cost of authenticating one. The signing key is fixed for a process's life and only expiry can
# change as time passes, so a hit re-checks it the way PyJWT does; the cache empties itself when full
# rather than tracking age.
_VERIFIED_MAX = 10_000
_verified: dict[bytes, dict[str, Any]] = {}


def _leeway_seconds() -> float:
    leeway = api_settings.LEEWAY
    return leeway.total_seconds() if isinstance(leeway, timedelta) else float(leeway)


class BearerTokenAuthentication(JWTStatelessUserAuthentication):
    """Verifies the signature, expiry and type of an access token; no database query."""

    www_authenticate_realm = "api"

    def get_validated_token(self, raw_token: bytes) -> dict[str, Any]:  # type: ignore[override]
        payload = _verified.get(raw_token)
        if payload is not None:
            if payload["exp"] <= time.time() - _leeway_seconds():
                _verified.pop(raw_token, None)
                raise InvalidToken("Token is invalid or expired.")
            return payload
        payload = self._verify(raw_token)
        memo_put(_verified, raw_token, payload, limit=_VERIFIED_MAX)
        return payload

    @staticmethod
    def _verify(raw_token: bytes) -> dict[str, Any]:
        """Signature, expiry, required claims and token type (PyJWT)."""
        try:
            payload: dict[str, Any] = _decoder.decode(
                raw_token,
                api_settings.VERIFYING_KEY or api_settings.SIGNING_KEY,
                algorithms=[api_settings.ALGORITHM],
                leeway=api_settings.LEEWAY,
                options={"require": ["exp", api_settings.TOKEN_TYPE_CLAIM, api_settings.USER_ID_CLAIM]},
            )
        except PyJWTError as exc:
            raise InvalidToken("Token is invalid or expired.") from exc
        if payload.get(api_settings.TOKEN_TYPE_CLAIM) != "access":
            raise InvalidToken("Token has wrong type.")
        return payload

    def get_user(self, validated_token: dict[str, Any]) -> ApiUser:  # type: ignore[override]
        return ApiUser(validated_token)  # type: ignore[arg-type]  # claims are read by key only


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "users.authentication.BearerTokenAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):  # type: ignore[no-untyped-def]
        return {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
