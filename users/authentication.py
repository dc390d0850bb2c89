"""Bearer access tokens (signed JWTs) checked without a database query.

`request.user` is a `TokenUser` carrying the id from the token: the hot paths need only the id, and
endpoints that need the row (`/users/me`) load it through a selector.
"""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework_simplejwt.authentication import JWTStatelessUserAuthentication


class BearerTokenAuthentication(JWTStatelessUserAuthentication):
    www_authenticate_realm = "api"


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "users.authentication.BearerTokenAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):  # type: ignore[no-untyped-def]
        return {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
