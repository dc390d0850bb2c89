"""Helpers for the security tests."""

import pytest


@pytest.fixture
def tight_rates(settings):
    """`tight_rates(login="2/minute", ...)`: every rate limit reads settings.REST_FRAMEWORK at each request
    (config.ratelimit.rate_limit), so setting it is enough."""

    def tighten(**rates: str) -> None:
        merged = {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], **rates}
        settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": merged}

    return tighten
