"""A scheduled opening over HTTP against a live server (same process, so the clock can be moved): 30 fans
register, log in and join the pre-queue; no job runs; past the opening, the 30 positions read over HTTP
are the order anyone can recompute from the published seed. No browser needed."""

from datetime import timedelta

import pytest
import requests
from django.utils import timezone

from config import clock as app_clock
from queue_app.draw import draw_order
from tests.factories import TEST_PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

FANS = 30


def test_thirty_fans_in_the_pre_queue_are_drawn_as_the_published_seed_says(  # type: ignore[no-untyped-def]
    live_server, monkeypatch, settings
):
    from tests.queue_app.conftest import on_sale_concert

    settings.RATE_LIMITS_ENABLED = False  # 30 sign-ups from one address in a few seconds
    now = [timezone.now().replace(microsecond=0)]
    monkeypatch.setattr(app_clock, "now", lambda: now[0])
    concert = on_sale_concert(seats=100)

    def api(path: str) -> str:
        return f"{live_server.url}/api/v1{path}"

    with requests.Session() as http:
        from django.core.management import call_command

        opens = now[0] + timedelta(minutes=5)
        call_command("schedule_sale", "--concert", str(concert.pk), "--opens-at", opens.isoformat())
        commitment = http.get(api(f"/concerts/{concert.pk}/queue"), timeout=15).json()["draw_commitment"]
        fans = []
        for i in range(FANS):
            email = f"early{i}@example.com"
            account = {"name": f"Fan {i}", "email": email, "password": TEST_PASSWORD}
            assert http.post(api("/users"), json=account, timeout=15).status_code == 201
            login = {"email": email, "password": TEST_PASSWORD}
            access = http.post(api("/auth/token"), json=login, timeout=15).json()["access_token"]
            headers = {"Authorization": f"Bearer {access}"}
            token = http.post(
                api("/queue/tokens"), json={"concert_id": concert.pk}, headers=headers, timeout=15
            )
            assert token.status_code == 201, token.text
            assert token.json()["position"] is None
            fans.append((headers, token.json()))

        now[0] = opens + timedelta(seconds=1)  # the opening passes; no job runs
        positions = {}
        for headers, token in fans:
            polled = http.get(
                api("/queue/status"), headers={**headers, "X-Queue-Token": token["token"]}, timeout=15
            )
            assert polled.status_code == 200, polled.text
            positions[token["queue_number"]] = polled.json()["position"]
        published = http.get(api(f"/concerts/{concert.pk}/queue"), timeout=15).json()

    import hashlib

    assert hashlib.sha256(published["draw_seed"].encode()).hexdigest() == commitment
    expected = draw_order(seed=published["draw_seed"], queue_numbers=positions)
    assert sorted(positions, key=positions.__getitem__) == expected
    assert sorted(positions.values()) == list(range(1, FANS + 1))
