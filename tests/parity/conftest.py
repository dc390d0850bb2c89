from datetime import UTC, datetime

import pytest

from config import clock


@pytest.fixture(autouse=True)
def _one_moment(monkeypatch):  # type: ignore[no-untyped-def]
    """Both views of a pair answer at the same instant (timestamps in bodies compare equal)."""
    moment = datetime.now(tz=UTC).replace(microsecond=0)
    monkeypatch.setattr(clock, "now", lambda: moment)


@pytest.fixture(autouse=True)
def _no_rate_limits(settings):  # type: ignore[no-untyped-def]
    """Pairs send many requests; the tests of the rate limit itself switch it back on."""
    settings.RATE_LIMITS_ENABLED = False


from tests.queue_app.conftest import backend  # noqa: E402, F401  # each queue pair runs on both backends
