"""Helpers for the security tests."""

import pytest
from rest_framework.throttling import SimpleRateThrottle


@pytest.fixture
def tight_rates(monkeypatch, settings):
    """`tight_rates(login="2/minute", ...)`: DRF throttles read SimpleRateThrottle.THROTTLE_RATES (a copy
    taken at import); the queue's own limits read settings.REST_FRAMEWORK at each request. Set both."""

    def tighten(**rates: str) -> None:
        merged = {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], **rates}
        monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", merged)
        settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": merged}

    return tighten
