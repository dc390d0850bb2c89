"""The second factor's services (users/two_factor.py): enrolment, codes, recovery codes, reset."""

import pytest
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.doors import fresh_code, totp_code
from tests.factories import UserFactory
from users.errors import AlreadyEnrolled, InvalidOtpCode
from users.two_factor import (
    RECOVERY_CODE_COUNT,
    recovery_codes_left,
    recovery_codes_renew,
    totp_enrolment_confirm,
    totp_enrolment_start,
    two_factor_enrolled,
    two_factor_enrolment_due,
    two_factor_reset,
    two_factor_verify,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff():
    return UserFactory(is_staff=True)


def enrol(user) -> tuple[TOTPDevice, list[str]]:
    setup = totp_enrolment_start(user=user)
    return totp_enrolment_confirm(user=user, code=totp_code(setup.secret))


def test_enrolment_shows_the_same_secret_until_confirmed(staff):
    first, again = totp_enrolment_start(user=staff), totp_enrolment_start(user=staff)
    assert first == again
    assert first.url.startswith("otpauth://totp/Concert%20ticketing%20back%20office%3A")
    assert first.qr_svg.startswith("<svg") and "path" in first.qr_svg
    assert not two_factor_enrolled(user=staff)


def test_a_wrong_code_does_not_confirm(staff):
    setup = totp_enrolment_start(user=staff)
    right = totp_code(setup.secret)
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    with pytest.raises(InvalidOtpCode):
        totp_enrolment_confirm(user=staff, code=wrong)
    assert not two_factor_enrolled(user=staff)


def test_the_right_code_enrols_and_makes_recovery_codes(staff):
    device, codes = enrol(staff)
    assert device.confirmed and two_factor_enrolled(user=staff)
    assert len(set(codes)) == RECOVERY_CODE_COUNT == recovery_codes_left(user=staff)
    with pytest.raises(AlreadyEnrolled):
        totp_enrolment_start(user=staff)


def test_an_apps_code_logs_in_once(staff):
    device, _ = enrol(staff)
    code = fresh_code(device)
    assert two_factor_verify(user=staff, code=code) == device
    assert two_factor_verify(user=staff, code=code) is None  # replayed
    assert two_factor_verify(user=staff, code="") is None


def test_a_recovery_code_works_once_whatever_its_spacing_and_case(staff):
    _, codes = enrol(staff)
    spaced = " ".join(codes[0].upper())
    assert two_factor_verify(user=staff, code=spaced) is not None
    assert two_factor_verify(user=staff, code=codes[0]) is None
    assert recovery_codes_left(user=staff) == RECOVERY_CODE_COUNT - 1


def test_new_recovery_codes_replace_the_old_ones(staff):
    _, old = enrol(staff)
    new = recovery_codes_renew(user=staff)
    assert not set(old) & set(new)
    assert two_factor_verify(user=staff, code=old[1]) is None
    assert two_factor_verify(user=staff, code=new[1]) is not None


def test_codes_of_another_account_do_not_work(staff):
    _, codes = enrol(staff)
    other = UserFactory(is_staff=True)
    enrol(other)
    assert two_factor_verify(user=other, code=codes[0]) is None


def test_reset_forgets_the_app_and_the_codes(staff, settings):
    settings.ADMIN_REQUIRE_2FA = True
    enrol(staff)
    assert not two_factor_enrolment_due(user=staff)
    two_factor_reset(user=staff)
    assert not two_factor_enrolled(user=staff)
    assert not StaticToken.objects.filter(device__user=staff).exists()
    assert two_factor_enrolment_due(user=staff)


def test_enrolment_is_due_only_for_staff_and_only_when_required(staff, settings):
    fan = UserFactory()
    settings.ADMIN_REQUIRE_2FA = False
    assert not two_factor_enrolment_due(user=staff)
    settings.ADMIN_REQUIRE_2FA = True
    assert two_factor_enrolment_due(user=staff)
    assert not two_factor_enrolment_due(user=fan)
