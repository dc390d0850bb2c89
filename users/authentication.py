"""Bearer access tokens (signed JWTs) checked without a database query.

`request.user` is a `TokenUser` carrying the id from the token: the hot paths need only the id, and
endpoints that need the row (`/users/me`) load it through a selector.
"""

from django.utils.functional import cached_property
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework_simplejwt.authentication import JWTStatelessUserAuthentication
from rest_framework_simplejwt.models import TokenUser
from rest_framework_simplejwt.settings import api_settings


class ApiUser(TokenUser):
    """The user a valid token names, with an integer id (the JWT claim is a string)."""

    @cached_property
    def id(self) -> int:  # type: ignore[override]
        return int(self.token[api_settings.USER_ID_CLAIM])

    @cached_property
    def pk(self) -> int:  # type: ignore[override]
        return self.id


class BearerTokenAuthentication(JWTStatelessUserAuthentication):
    www_authenticate_realm = "api"


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "users.authentication.BearerTokenAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):  # type: ignore[no-untyped-def]
        return {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
