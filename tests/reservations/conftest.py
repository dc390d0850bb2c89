"""The hold's two spellings, for the suites that run every rule against both: the PostgreSQL function
(`_hold_in_one_call`, reservations_hold_seats() from migration 0007) and the portable path
(`_hold_portable`, what SQLite runs), both on the same PostgreSQL database. SQLite runs the portable path
only. A test module runs each of its tests once per implementation with
`pytestmark = pytest.mark.usefixtures("hold_implementation")`."""

import pytest
from django.db import connection

from reservations import hold

IMPLEMENTATIONS = {"in_one_call": "_hold_in_one_call", "portable": "_hold_portable"}


@pytest.fixture(params=list(IMPLEMENTATIONS))
def hold_implementation(request, monkeypatch):
    """Each test runs once per implementation; `calls` counts the holds that reached it."""
    if request.param == "in_one_call" and connection.vendor != "postgresql":
        pytest.skip("the one-call hold is a PostgreSQL function")
    chosen = getattr(hold, IMPLEMENTATIONS[request.param])
    calls: list[int] = []

    def pick():
        calls.append(1)
        return chosen

    monkeypatch.setattr(hold, "hold_implementation", pick)
    return calls
