"""DRF throttles on the one rate-limit rule and counter of config.ratelimit (the plain views count on
the same counter through config.api.plain.require_rate, so a scope's budget is shared by both)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from rest_framework.throttling import BaseThrottle

from config import clock
from config.ratelimit import rate_hit, rate_limit, user_ident

_ident = BaseThrottle()


def request_ident(request: HttpRequest, *, per: str) -> str:
    """Whom a request counts for: the authenticated user (`per="user"`, else the address) or the client
    address (`per="address"`, NUM_PROXIES-aware as DRF's throttles)."""
    if per == "user":
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            return user_ident(user.pk)
    return _ident.get_ident(request)  # type: ignore[arg-type]  # reads only META


class RateThrottle(BaseThrottle):
    scope = ""
    per = "user"
    _wait = 0

    def allow_request(self, request: Any, view: Any) -> bool:
        ident = request_ident(request, per=self.per)
        self._wait = rate_hit(rate_limit(self.scope), ident=ident, now=clock.now())
        return self._wait == 0

    def wait(self) -> float | None:
        return self._wait or None


def throttle(scope_name: str, *, per: str = "user") -> type[RateThrottle]:
    """A throttle class for one scope, e.g. `throttle_classes = [throttle("booking")]`."""
    name = f"{scope_name.title().replace('_', '')}Throttle"
    return type(name, (RateThrottle,), {"scope": scope_name, "per": per})
