"""The back office's door in a real browser (Chromium) against a live server, with ADMIN_REQUIRE_2FA on:
an operator locked out by wrong passwords (the right one refused while locked), the lock cleared by an
administrator in admin, then the operator's forced enrolment of an authenticator app and logins with a
code the test computes from the secret shown on the enrolment page."""

import re

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import Page, expect

from tests.doors import fresh_code, totp_code
from tests.e2e.conftest import log_in
from tests.factories import TEST_PASSWORD, UserFactory
from users.two_factor import totp_enrolment_confirm, totp_enrolment_start

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

WRONG_LOGIN = "Please enter the correct email, password and authentication code"


@pytest.fixture
def required(settings) -> None:
    settings.ADMIN_REQUIRE_2FA = True  # the live server runs in this process: it sees the change


def enrolled_superuser() -> tuple[object, TOTPDevice]:
    admin = UserFactory(email="admin@example.com", is_staff=True, is_superuser=True)
    setup = totp_enrolment_start(user=admin)
    device, _ = totp_enrolment_confirm(user=admin, code=totp_code(setup.secret))
    return admin, device


def log_out(page: Page) -> None:
    page.locator("#logout-form button").click()
    expect(page.locator("body")).to_contain_text("Logged out")


def test_locked_out_then_cleared_then_enrolled_with_totp(
    page: Page, browser, live_server, operator, required, settings
):
    # Locked out: LOGIN_MAX_FAILURES wrong passwords, then the right one is refused too.
    for _ in range(settings.LOGIN_MAX_FAILURES):
        log_in(page, operator.email, "wrong password")
        expect(page.locator(".errornote")).to_contain_text(WRONG_LOGIN)
    log_in(page, operator.email, TEST_PASSWORD)
    expect(page.locator(".errornote")).to_contain_text("Too many failed logins")
    expect(page.locator(".errornote")).to_contain_text("locked for 15 more minute(s)")
    page.goto("/admin/")
    assert "/admin/login/" in page.url

    # An administrator (with their own code) sees the lock in admin and clears it.
    admin, admin_device = enrolled_superuser()
    context = browser.new_context(base_url=live_server.url)
    admin_page = context.new_page()
    log_in(admin_page, admin.email, TEST_PASSWORD, fresh_code(admin_device))
    admin_page.goto("/admin/users/loginlock/?in_force=yes")
    row = admin_page.locator("#result_list tbody tr", has_text=operator.email)
    expect(row).to_contain_text("locked, 15 min left")
    row.locator("input[name=_selected_action]").check()
    admin_page.select_option("select[name=action]", "clear_locks")
    admin_page.click("button[name=index]")
    expect(admin_page.locator("ul.messagelist")).to_contain_text(f"Cleared 1 lock(s): {operator.email}.")
    context.close()

    # The operator's password now lets them in to one page only: enrolling an authenticator app.
    log_in(page, operator.email, TEST_PASSWORD)
    expect(page).to_have_url(re.compile(r"/admin/two-factor/enrol/$"))
    page.goto("/admin/reservations/reservation/")
    expect(page).to_have_url(re.compile(r"/admin/two-factor/enrol/$"))
    expect(page.locator("#totp-qr svg")).to_be_visible()
    secret = page.locator("#totp-secret").inner_text()  # what the operator would type into the app
    page.fill("#id_code", totp_code(secret))
    page.click("#enrol-form input[type=submit]")
    expect(page.locator("#enrolled")).to_be_visible()
    expect(page.locator("#recovery-codes li")).to_have_count(10)
    page.click("#continue")
    expect(page.get_by_role("link", name="Sales dashboard")).to_be_visible()

    # From now on the password alone is refused; with the app's code the operator is in.
    log_out(page)
    log_in(page, operator.email, TEST_PASSWORD)
    expect(page.locator(".errornote")).to_contain_text(WRONG_LOGIN)
    device = TOTPDevice.objects.get(user=operator, confirmed=True)
    log_in(page, operator.email, TEST_PASSWORD, fresh_code(device))
    expect(page.get_by_role("link", name="Sales dashboard")).to_be_visible()


def test_a_staff_login_without_the_code_is_refused_when_2fa_is_required(page: Page, operator, required):
    setup = totp_enrolment_start(user=operator)
    _, recovery = totp_enrolment_confirm(user=operator, code=totp_code(setup.secret))

    log_in(page, operator.email, TEST_PASSWORD)
    expect(page.locator(".errornote")).to_contain_text(WRONG_LOGIN)
    page.goto("/admin/reservations/reservation/")
    assert "/admin/login/" in page.url

    log_in(page, operator.email, TEST_PASSWORD, recovery[0])  # a recovery code works once
    expect(page.get_by_role("link", name="Sales dashboard")).to_be_visible()
    log_out(page)
    log_in(page, operator.email, TEST_PASSWORD, recovery[0])
    expect(page.locator(".errornote")).to_contain_text(WRONG_LOGIN)
