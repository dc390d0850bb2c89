"""The back office's door as a service (users/staff_login.py): the lockout first, then the password of an
active staff account, then the code of an enrolled account; every refusal counts as a failed login."""

import pytest

from tests.doors import fresh_code, totp_code
from tests.factories import TEST_PASSWORD, UserFactory
from users.errors import InvalidCredentials, LoginLocked
from users.lockout import login_lock_remaining
from users.staff_login import staff_login_verify
from users.two_factor import totp_enrolment_confirm, totp_enrolment_start

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff():
    return UserFactory(is_staff=True)


@pytest.fixture
def enrolled(staff):
    setup = totp_enrolment_start(user=staff)
    device, codes = totp_enrolment_confirm(user=staff, code=totp_code(setup.secret))
    return staff, device, codes


def refused(email: str, password: str = TEST_PASSWORD, code: str = "") -> None:
    with pytest.raises(InvalidCredentials):
        staff_login_verify(email=email, password=password, code=code)


def test_staff_without_an_app_log_in_with_the_password(staff, settings):
    settings.ADMIN_REQUIRE_2FA = False
    login = staff_login_verify(email=staff.email, password=TEST_PASSWORD)
    assert (login.user, login.device, login.enrolment_due) == (staff, None, False)


def test_when_required_a_staff_member_without_an_app_is_let_in_only_to_enrol(staff, settings):
    settings.ADMIN_REQUIRE_2FA = True
    login = staff_login_verify(email=staff.email, password=TEST_PASSWORD)
    assert login.device is None and login.enrolment_due


def test_an_enrolled_account_needs_its_code(enrolled):
    staff, device, codes = enrolled
    refused(staff.email)  # no code
    refused(staff.email, code=f"{(int(fresh_code(device)) + 1) % 1_000_000:06d}")
    login = staff_login_verify(email=staff.email, password=TEST_PASSWORD, code=fresh_code(device))
    assert login.device == device and not login.enrolment_due
    assert staff_login_verify(email=staff.email, password=TEST_PASSWORD, code=codes[3]).device is not None


def test_a_right_code_with_a_wrong_password_is_refused(enrolled):
    staff, device, _ = enrolled
    refused(staff.email, password="wrong", code=fresh_code(device))


def test_non_staff_and_inactive_accounts_are_refused():
    refused(UserFactory().email)
    refused(UserFactory(is_staff=True, is_active=False).email)


def test_wrong_codes_count_toward_the_lock(enrolled):
    staff, device, _ = enrolled
    for _ in range(5):
        refused(staff.email, code="not-a-code")
    assert login_lock_remaining(email=staff.email) > 0
    with pytest.raises(LoginLocked):
        staff_login_verify(email=staff.email, password=TEST_PASSWORD, code=fresh_code(device))
