"""Rate limits. Every rate is a setting (REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], from the environment)
and RATE_LIMITS_ENABLED=false switches all of them off."""

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle

from config.api.fail_open import fail_open


class _Switchable(SimpleRateThrottle):
    @fail_open(True)
    def allow_request(self, request, view):  # type: ignore[no-untyped-def]
        if not settings.RATE_LIMITS_ENABLED:
            return True
        return super().allow_request(request, view)


class PerUserThrottle(_Switchable):
    """Counts per authenticated user, falling back to the client address."""

    def get_cache_key(self, request, view):  # type: ignore[no-untyped-def]
        user = getattr(request, "user", None)
        ident = f"u{user.pk}" if user is not None and user.is_authenticated else self.get_ident(request)
        return self.cache_format % {"scope": self.scope, "ident": ident}


class PerAddressThrottle(_Switchable):
    def get_cache_key(self, request, view):  # type: ignore[no-untyped-def]
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


def throttle(scope_name: str, *, per: str = "user") -> type[SimpleRateThrottle]:
    """A throttle class for one scope, e.g. `throttle_classes = [throttle("booking")]`."""
    base = PerUserThrottle if per == "user" else PerAddressThrottle
    return type(f"{scope_name.title().replace('_', '')}Throttle", (base,), {"scope": scope_name})
