"""Who is asking: the one way views and admin pages read the authenticated user's id."""

from __future__ import annotations

from django.http import HttpRequest
from rest_framework import exceptions as drf


def request_user_id(request: HttpRequest) -> int:
    """The authenticated user's id. Views behind IsAuthenticated and staff-only admin pages always have
    one; anything else is refused as not authenticated rather than passed on as None."""
    pk = getattr(request.user, "pk", None)
    if pk is None:
        raise drf.NotAuthenticated()
    return int(pk)
