"""The back office's door in admin: login locks seen and cleared by an administrator, and the second
factor (ADMIN_REQUIRE_2FA): forced enrolment, codes at login, recovery codes, reset."""

import re

import pytest
from django.contrib.admin.models import LogEntry
from django.test import Client

from tests.doors import OK, REFUSED, admin_login, admin_login_response, fresh_code, totp_code
from tests.factories import TEST_PASSWORD, UserFactory
from tests.ops.test_production_settings import run_with_production_settings
from users.models import LoginLock
from users.two_factor import recovery_codes_left, totp_enrolment_confirm, totp_enrolment_start

pytestmark = pytest.mark.django_db

LOCKS = "/admin/users/loginlock/"
ENROL = "/admin/two-factor/enrol/"


def lock_out(email: str) -> None:
    for _ in range(5):
        assert admin_login(email, "wrong password") == REFUSED


def enrolled(user):
    setup = totp_enrolment_start(user=user)
    return totp_enrolment_confirm(user=user, code=totp_code(setup.secret))


def logged_in(email: str, code: str = "") -> Client:
    client = Client()
    response = admin_login_response(email, TEST_PASSWORD, code, client=client)
    assert response.status_code == 302, response.content.decode()[:2000]
    return client


# --- Login locks --------------------------------------------------------------------------------------


def test_a_lock_is_listed_and_cleared_by_an_administrator(operator, superuser_client):
    lock_out(operator.email)
    assert admin_login(operator.email, TEST_PASSWORD) != OK
    page = superuser_client.get(LOCKS + "?in_force=yes").content.decode()
    assert operator.email in page and "locked, 15 min left" in page

    lock = LoginLock.objects.get(email=operator.email)
    response = superuser_client.post(
        LOCKS, {"action": "clear_locks", "_selected_action": [lock.pk]}, follow=True
    )
    assert f"Cleared 1 lock(s): {operator.email}." in response.content.decode()
    lock.refresh_from_db()
    assert lock.cleared_at is not None and lock.cleared_by.is_superuser
    assert "cleared by" in superuser_client.get(LOCKS).content.decode()
    assert superuser_client.get(LOCKS + "?in_force=yes").content.decode().count(operator.email) == 0
    assert LogEntry.objects.filter(object_id=str(lock.pk), change_message="Cleared the lock.").exists()
    assert admin_login(operator.email, TEST_PASSWORD) == OK


def test_clearing_a_lock_also_forgets_the_failures_counted_so_far(operator, superuser_client):
    lock_out(operator.email)
    lock = LoginLock.objects.get(email=operator.email)
    superuser_client.post(LOCKS, {"action": "clear_locks", "_selected_action": [lock.pk]})
    for _ in range(4):
        assert admin_login(operator.email, "wrong password") == REFUSED
    assert admin_login(operator.email, TEST_PASSWORD) == OK


def test_clearing_an_ended_lock_says_so(operator, superuser_client, clock):
    lock_out(operator.email)
    clock.advance(seconds=901)
    lock = LoginLock.objects.get(email=operator.email)
    response = superuser_client.post(
        LOCKS, {"action": "clear_locks", "_selected_action": [lock.pk]}, follow=True
    )
    assert "1 email(s) were not locked any more." in response.content.decode()
    assert "ended" in superuser_client.get(LOCKS).content.decode()


def test_operators_do_not_see_login_locks(operator_client):
    assert operator_client.get(LOCKS).status_code == 403


# --- Second factor -------------------------------------------------------------------------------------


@pytest.fixture
def required(settings):
    settings.ADMIN_REQUIRE_2FA = True


def test_when_required_a_password_login_leads_only_to_enrolment(operator, required):
    client = Client()
    response = admin_login_response(operator.email, TEST_PASSWORD, client=client)
    assert response.status_code == 302 and response["Location"] == ENROL
    for page in ("/admin/", "/admin/reservations/reservation/", "/admin/two-factor/", "/admin/login/"):
        response = client.get(page)
        assert (response.status_code, response["Location"]) == (302, ENROL), page
    page = client.get(ENROL).content.decode()
    assert 'id="totp-qr"' in page and "<svg" in page
    secret = re.search(r'<code id="totp-secret"[^>]*>([A-Z2-7 ]+)</code>', page)[1]

    response = client.post(ENROL, {"code": totp_code(secret)})
    page = response.content.decode()
    assert response.status_code == 200 and 'id="enrolled"' in page
    assert len(re.findall(r"<li>([a-z2-7]{8})</li>", page)) == 10
    assert client.get("/admin/").status_code == 200  # this session is verified by the code


def test_a_wrong_enrolment_code_is_refused_on_the_page(operator, required):
    client = logged_in(operator.email)
    page = client.get(ENROL).content.decode()
    secret = re.search(r'<code id="totp-secret"[^>]*>([A-Z2-7 ]+)</code>', page)[1]
    wrong = f"{(int(totp_code(secret)) + 1) % 1_000_000:06d}"
    page = client.post(ENROL, {"code": wrong}).content.decode()
    assert "That code is not right" in page
    assert client.get("/admin/").status_code == 302


def test_a_staff_member_who_must_enrol_can_log_out(operator, required):
    client = logged_in(operator.email)
    assert client.post("/admin/logout/").status_code == 200
    assert "_auth_user_id" not in client.session


def test_when_required_an_enrolled_login_without_the_code_is_refused(operator, required):
    device, codes = enrolled(operator)
    assert admin_login(operator.email, TEST_PASSWORD) == REFUSED
    assert admin_login(operator.email, TEST_PASSWORD, "123") == REFUSED
    client = logged_in(operator.email, fresh_code(device))
    assert client.get("/admin/").status_code == 200
    recovery = logged_in(operator.email, codes[0])
    assert recovery.get("/admin/").status_code == 200
    assert admin_login(operator.email, TEST_PASSWORD, codes[0]) == REFUSED  # used up


def test_an_enrolled_account_gives_its_code_even_when_not_required(operator, settings):
    settings.ADMIN_REQUIRE_2FA = False
    device, _ = enrolled(operator)
    assert admin_login(operator.email, TEST_PASSWORD) == REFUSED
    assert admin_login(operator.email, TEST_PASSWORD, fresh_code(device)) == OK


def test_a_password_only_session_is_sent_back_to_the_login_once_2fa_is_required(operator, settings):
    settings.ADMIN_REQUIRE_2FA = False
    client = logged_in(operator.email)
    assert client.get("/admin/").status_code == 200
    enrolled(operator)
    settings.ADMIN_REQUIRE_2FA = True  # this session was opened without a code
    response = client.get("/admin/")
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")


def test_an_operator_renews_recovery_codes(operator, required):
    device, old = enrolled(operator)
    client = logged_in(operator.email, fresh_code(device))
    assert "Recovery codes left" in client.get("/admin/two-factor/").content.decode()
    page = client.post("/admin/two-factor/", {"renew": "1"}).content.decode()
    new = re.findall(r"<li>([a-z2-7]{8})</li>", page)
    assert len(new) == 10 and not set(new) & set(old)
    assert recovery_codes_left(user=operator) == 10


def test_an_administrator_resets_a_lost_phone(operator, settings, superuser_client):
    enrolled(operator)
    superuser_client.post(
        "/admin/users/user/", {"action": "reset_two_factor", "_selected_action": [operator.pk]}
    )
    settings.ADMIN_REQUIRE_2FA = True
    client = Client()
    response = admin_login_response(operator.email, TEST_PASSWORD, client=client)
    assert response["Location"] == ENROL  # enrols again
    assert LogEntry.objects.filter(
        object_id=str(operator.pk), change_message="Reset two-factor authentication."
    ).exists()


def test_fans_never_reach_enrolment(required):
    fan = UserFactory()
    client = Client()
    client.force_login(fan)
    response = client.get(ENROL)
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")


def test_production_requires_2fa_unless_told_otherwise():
    show = (
        "import django; django.setup(); from django.conf import settings; print(settings.ADMIN_REQUIRE_2FA)"
    )
    key = "k" * 60
    assert run_with_production_settings("-c", show, SECRET_KEY=key).stdout.strip() == "True"
    off = run_with_production_settings("-c", show, SECRET_KEY=key, ADMIN_REQUIRE_2FA="false")
    assert off.stdout.strip() == "False"


def test_the_admin_index_links_the_two_factor_page(operator_client):
    assert 'href="/admin/two-factor/"' in operator_client.get("/admin/").content.decode()
