"""The live sale page in a real browser: after a simulated sale recorded over a few minutes, every chart
is drawn with data (checked in the page's Chart instances and in the canvas pixels), the pace of orders is
shown, and a minute recorded while the page is open appears without a reload."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from backoffice.live_sale import services
from backoffice.models import SaleSnapshot
from config import clock as app_clock
from queue_app.services import queue_promote, queue_token_issue
from tests.booking import booker_for, on_sale_schedule
from tests.e2e.conftest import log_in
from tests.factories import TEST_PASSWORD, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

CHART_IDS = ["chart-queue", "chart-flow", "chart-sales", "chart-conversion", "chart-revenue"]

# For each chart: its datasets, each as the count of non-zero points; and the canvas's painted pixels.
CHART_STATE = """(ids) => ids.map((id) => {
  const chart = window.liveSaleCharts && window.liveSaleCharts[id];
  const canvas = document.getElementById(id);
  const pixels = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
  let painted = 0;
  for (let i = 3; i < pixels.length; i += 4) if (pixels[i] !== 0) painted++;
  return {
    id: id,
    labels: chart ? chart.data.labels.length : 0,
    nonZero: chart ? chart.data.datasets.map((d) => d.data.filter((v) => v !== null && v !== 0).length) : [],
    painted: painted,
  };
})"""


class MovedClock:
    def __init__(self) -> None:
        self.current = timezone.now().replace(second=5, microsecond=0)

    def now(self):
        return self.current


def sell(schedule, seat_number: int) -> None:
    fan = booker_for(schedule)
    assert fan.client.post("/api/v1/points/charge", {"amount": 1000}, format="json").status_code == 200
    assert fan.pay(fan.hold(schedule, seat_number).json()["id"]).status_code == 201


def test_the_live_sale_page_draws_the_recorded_sale_and_refreshes_itself(
    page: Page, operator, monkeypatch, settings
) -> None:
    settings.QUEUE_PROMOTION_BATCH_SIZE = 2
    moved = MovedClock()
    monkeypatch.setattr(app_clock, "now", moved.now)
    schedule = on_sale_schedule(seats=20, price=120)
    concert = schedule.concert

    # Four recorded minutes of a sale: fans queue, are admitted two a round, hold and pay.
    seat = 0
    for minute in range(4):
        for _ in range(minute + 1):
            seat += 1
            sell(schedule, seat)  # admits the fans waiting ahead first
        assert booker_for(schedule).hold(schedule, 20 - minute).status_code == 201
        for fan in UserFactory.create_batch(3):
            queue_token_issue(user_id=fan.pk, concert_id=concert.pk)
        queue_promote(concert_id=concert.pk)  # two of them in; one still waits at the snapshot
        assert services.sale_snapshots_record() == 1
        moved.current += timedelta(minutes=1)
    assert SaleSnapshot.objects.filter(concert=concert).count() == 4

    log_in(page, operator.email, TEST_PASSWORD)
    page.goto(f"/admin/queue_app/concertqueue/{concert.pk}/change/")
    page.click("#live-sale-link")
    expect(page.locator("h1")).to_contain_text("Live sale")
    page.wait_for_function("() => window.liveSaleCharts && Object.keys(window.liveSaleCharts).length === 5")

    charts = page.evaluate(CHART_STATE, CHART_IDS)
    for chart in charts:
        assert chart["labels"] == 4, chart
        assert all(count > 0 for count in chart["nonZero"]) or chart["id"] == "chart-flow", chart
        assert chart["painted"] > 500, chart
    flow = next(c for c in charts if c["id"] == "chart-flow")
    assert flow["nonZero"][0] > 0  # admitted per minute (nobody abandoned: that series may stay at zero)
    expect(page.locator("[data-now=sales]")).to_have_text("10")
    expect(page.locator("[data-now=revenue]")).to_have_text("1200")
    # Every sale and hold was an order of one seat, all within the last ten minutes.
    expect(page.locator("[data-orders=orders]")).to_have_text("14")
    expect(page.locator("[data-orders=orders_per_minute]")).to_have_text("1.4")
    expect(page.locator("[data-orders=seats_per_order]")).to_have_text("1")
    expect(page.locator("[data-orders=sizes]")).to_have_text(
        "1 seat: 14 · 2 seats: 0 · 3 seats: 0 · 4 seats: 0"
    )

    # A fifth minute recorded while the page is open shows up by itself, without a reload.
    page.evaluate("() => { window.__sameDocument = true; }")
    sell(schedule, 11)
    assert services.sale_snapshots_record() == 1
    page.wait_for_function(
        "() => window.liveSaleCharts['chart-revenue'].data.labels.length === 5", timeout=15_000
    )
    assert page.evaluate("() => window.__sameDocument === true")
    revenue = page.evaluate("() => window.liveSaleCharts['chart-revenue'].data.datasets[0].data")
    assert revenue[-1] == 11 * 120
    expect(page.locator("[data-now=sales]")).to_have_text("11")
    expect(page.locator("[data-orders=orders]")).to_have_text("15")
