import pytest


@pytest.fixture(autouse=True)
def _one_moment(clock):
    """Both views of a pair answer at the same instant (the suite's clock stands still unless moved), so
    timestamps in bodies compare equal."""


@pytest.fixture(autouse=True)
def _no_rate_limits(settings):
    """Pairs send many requests; the tests of the rate limit itself switch it back on."""
    settings.RATE_LIMITS_ENABLED = False


from tests.queue_app.conftest import backend  # noqa: E402, F401  # each queue pair runs on both backends
