import pytest


@pytest.fixture
def clock(clock):
    """Starts at second 10 of a whole minute, so tests know which minute a snapshot falls in."""
    clock.set(clock.now().replace(second=10))
    return clock
