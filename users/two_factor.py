"""Operators' second factor (django-otp): an authenticator app (TOTP) and single-use recovery codes.

An account is enrolled once it has a confirmed TOTP device. Enrolment is two steps: start (an
unconfirmed device whose secret is shown as a QR code and as text) and confirm (a code from the app; the
device becomes confirmed and a fresh set of recovery codes is made). At the back office's login an
enrolled account gives a code from the app or one recovery code (used up); with ADMIN_REQUIRE_2FA on,
every staff account must enrol before it reaches any other admin page (users/admin_site.py).

Wrong codes at the login count as failed logins in the login lockout (users/lockout.py): that is the one
limit on guessing, so django-otp's own per-device throttling is off (settings OTP_*_THROTTLE_FACTOR)."""

from __future__ import annotations

from base64 import b32encode
from dataclasses import dataclass

import segno
from django.conf import settings
from django.db import transaction
from django_otp import devices_for_user
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from users.errors import AlreadyEnrolled, InvalidOtpCode
from users.models import User

RECOVERY_CODE_COUNT = 10
TOTP_DEVICE_NAME = "Authenticator app"
RECOVERY_DEVICE_NAME = "Recovery codes"


@dataclass(frozen=True)
class TotpSetup:
    """What the enrolment page shows: the secret as an app takes it typed, and as a QR code."""

    secret: str  # base32, in groups of four for reading
    url: str  # the otpauth:// URL the QR code holds
    qr_svg: str  # an inline <svg> of that URL


def two_factor_enrolled(*, user: User) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def two_factor_enrolment_due(*, user: User) -> bool:
    """A staff account that must enrol before it may use the back office (ADMIN_REQUIRE_2FA)."""
    return bool(settings.ADMIN_REQUIRE_2FA and user.is_staff and not two_factor_enrolled(user=user))


def totp_enrolment_start(*, user: User) -> TotpSetup:
    """The user's pending authenticator device, made on first call: reloading the page shows the same
    secret, so a code from an app that scanned it earlier still confirms it."""
    if two_factor_enrolled(user=user):
        raise AlreadyEnrolled()
    device = _pending_device(user)
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=TOTP_DEVICE_NAME, confirmed=False)
    return _setup_of(device)


@transaction.atomic
def totp_enrolment_confirm(*, user: User, code: str) -> tuple[TOTPDevice, list[str]]:
    """Confirm the pending device with a code from the app; returns the device and new recovery codes."""
    device = _pending_device(user, for_update=True)
    if device is None:
        raise (
            AlreadyEnrolled()
            if two_factor_enrolled(user=user)
            else InvalidOtpCode("The enrolment has not been started: open the enrolment page again.")
        )
    if not device.verify_token(_plain(code)):
        raise InvalidOtpCode()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    return device, recovery_codes_renew(user=user)


@transaction.atomic
def recovery_codes_renew(*, user: User) -> list[str]:
    """A new set of RECOVERY_CODE_COUNT single-use codes; the previous set stops working."""
    device, _ = StaticDevice.objects.get_or_create(
        user=user, name=RECOVERY_DEVICE_NAME, defaults={"confirmed": True}
    )
    device.token_set.all().delete()
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=code) for code in codes])
    return codes


def recovery_codes_left(*, user: User) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


@transaction.atomic
def two_factor_verify(*, user: User, code: str) -> Device | None:
    """The user's confirmed device that accepts the code (an app's code, or a recovery code, which is then
    used up), or None. An app's code is accepted once: a second use of the same code is refused."""
    code = _plain(code)
    if not code:
        return None
    # Rows locked for the check: two logins with the same code cannot both pass.
    for device in devices_for_user(user, confirmed=True, for_verify=True):
        if device.verify_token(code):
            return device
    return None


@transaction.atomic
def two_factor_reset(*, user: User) -> None:
    """Forget the user's authenticator and recovery codes (a lost phone): they enrol again at next login."""
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()


def _pending_device(user: User, *, for_update: bool = False) -> TOTPDevice | None:
    pending = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("id")
    if for_update:
        pending = pending.select_for_update()
    return pending.first()


def _plain(code: str) -> str:
    """Codes as people type them: spaces and case do not matter (recovery codes are lower-case)."""
    return "".join(code.split()).lower()


def _setup_of(device: TOTPDevice) -> TotpSetup:
    secret = b32encode(device.bin_key).decode()
    url = device.config_url
    return TotpSetup(
        secret=" ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
        url=url,
        qr_svg=segno.make(url, error="m").svg_inline(scale=5),
    )
