"""An operator's sales day in a real browser (Chromium) against a live server: catalog set-up, releasing a
hold, refunding a ticket, and a fan who is refused at the admin's door."""

import re

import pytest
from playwright.sync_api import Page, expect

from concerts.models import Seat, SeatStatus
from points.models import LedgerEntry
from reservations.models import Reservation, ReservationStatus
from tests.booking import booker_for, on_sale_schedule
from tests.e2e.conftest import log_in
from tests.factories import TEST_PASSWORD, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def seats_from_api(page: Page, schedule_id: int) -> list[dict]:
    response = page.request.get(f"/api/v1/schedules/{schedule_id}/seats")
    assert response.status == 200, response.text()
    body = response.json()
    assert body["next"] is None
    return body["results"]


def test_operator_creates_a_concert_a_schedule_and_100_seats(page: Page, operator) -> None:
    log_in(page, operator.email, TEST_PASSWORD)
    expect(page.locator("#site-name")).to_be_visible()
    expect(page.get_by_role("link", name="Sales dashboard")).to_be_visible()

    page.goto("/admin/concerts/concert/add/")
    page.fill("#id_name", "Harbour Lights")
    page.fill("#id_venue", "Pier 4")
    page.fill("#id_price", "120")
    page.get_by_text("Add another Schedule").click()
    page.fill("#id_schedules-0-starts_at_0", "2099-06-01")
    page.fill("#id_schedules-0-starts_at_1", "20:00:00")
    page.fill("#id_schedules-0-sales_open_at_0", "2020-01-01")
    page.fill("#id_schedules-0-sales_open_at_1", "10:00:00")
    page.click("input[name=_continue]")
    expect(page.locator("ul.messagelist")).to_contain_text("was added successfully")

    page.locator("#schedules-group a.inlinechangelink").first.click()
    match = re.search(r"/admin/concerts/schedule/(\d+)/change/", page.url)
    assert match, page.url
    schedule_id = int(match[1])
    page.fill("#id_generate_count", "100")
    page.click("input[name=_continue]")
    expect(page.locator("ul.messagelist")).to_contain_text("Generated 100 seats (1-100).")
    expect(page.locator("#seat-count-available")).to_have_text("100")

    seats = seats_from_api(page, schedule_id)
    assert [s["number"] for s in seats] == list(range(1, 101))
    assert {s["status"] for s in seats} == {"AVAILABLE"} and {s["price"] for s in seats} == {120}


def test_a_held_reservation_is_released_from_admin(page: Page, operator) -> None:
    schedule = on_sale_schedule(seats=5)
    fan = booker_for(schedule)
    reservation_id = fan.hold(schedule, 3).json()["id"]
    assert next(s for s in seats_from_api(page, schedule.pk) if s["number"] == 3)["status"] == "HELD"

    log_in(page, operator.email, TEST_PASSWORD)
    page.goto("/admin/reservations/reservation/?status_now=PENDING")
    page.check(f"input[name=_selected_action][value='{reservation_id}']")
    page.select_option("select[name=action]", "release_holds")
    page.click("button[name=index]")
    expect(page.locator("ul.messagelist")).to_contain_text("Released: 1 reservation(s).")

    assert next(s for s in seats_from_api(page, schedule.pk) if s["number"] == 3)["status"] == "AVAILABLE"
    assert Reservation.objects.get(pk=reservation_id).status == ReservationStatus.CANCELLED
    assert Seat.objects.get(schedule=schedule, number=3).status == SeatStatus.AVAILABLE


def test_a_confirmed_reservation_is_refunded_from_admin(page: Page, operator) -> None:
    schedule = on_sale_schedule(seats=5, price=150)
    fan = booker_for(schedule, UserFactory(email="fan@example.com"))
    fan.client.post("/api/v1/points/charge", {"amount": 500}, format="json")
    reservation_id = fan.hold(schedule, 2).json()["id"]
    assert fan.pay(reservation_id).status_code == 201

    log_in(page, operator.email, TEST_PASSWORD)
    page.goto("/admin/backoffice/salesdashboard/")
    row = page.locator(f"#schedule-{schedule.pk}")
    expect(row.locator(".sold-count")).to_have_text("1")
    expect(row.locator(".revenue")).to_have_text("150")

    page.goto("/admin/reservations/reservation/")
    page.fill("#filter-user", "fan@example.com")
    page.press("#filter-user", "Enter")
    expect(page.locator("#result_list tbody tr")).to_have_count(1)
    page.check(f"input[name=_selected_action][value='{reservation_id}']")
    page.select_option("select[name=action]", "cancel_and_refund")
    page.click("button[name=index]")
    expect(page.locator("ul.messagelist")).to_contain_text("Cancelled: 1 reservation(s).")

    page.goto(f"/admin/points/wallet/{fan.user.pk}/change/")
    ledger = page.locator("#entries-group")
    expect(ledger).to_contain_text("REFUND")
    expect(page.locator("div.field-balance")).to_contain_text("500")
    refund = LedgerEntry.objects.get(wallet_id=fan.user.pk, kind="REFUND")
    assert refund.amount == 150 and refund.balance_after == 500

    page.goto("/admin/backoffice/salesdashboard/")
    expect(row.locator(".revenue")).to_have_text("0")
    expect(row.locator(".available-count")).to_have_text("5")


def test_a_non_staff_user_is_refused_by_admin(page: Page, transactional_db) -> None:
    fan = UserFactory(email="just-a-fan@example.com")
    log_in(page, fan.email, TEST_PASSWORD)
    expect(page.locator(".errornote")).to_contain_text("staff account")
    page.goto("/admin/reservations/reservation/")
    assert "/admin/login/" in page.url
    expect(page.locator("#id_username")).to_be_visible()
