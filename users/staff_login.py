"""The back office's door: who may log in to /admin/, by the same lockout as the API's login."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth import authenticate
from django.http import HttpRequest
from django_otp.models import Device

from users.errors import InvalidCredentials
from users.lockout import login_failure_record, login_failures_reset, login_lockout_check
from users.models import User
from users.two_factor import two_factor_enrolled, two_factor_enrolment_due, two_factor_verify


@dataclass(frozen=True)
class StaffLogin:
    user: User
    device: Device | None  # the device that accepted the code; None when the account has none
    enrolment_due: bool  # must enrol an authenticator before any other admin page


def staff_login_verify(
    *, email: str, password: str, code: str = "", request: HttpRequest | None = None
) -> StaffLogin:
    """A locked email is refused first (LoginLocked), whatever the password. Then the password of an active
    staff account and, for an account with an authenticator, its code (or a recovery code). Any refusal is
    InvalidCredentials and counts as one failed login for the email; a success clears the count."""
    login_lockout_check(email=email)
    user = authenticate(request, username=email.strip().lower(), password=password)
    if not isinstance(user, User) or not user.is_active or not user.is_staff:
        login_failure_record(email=email)
        raise InvalidCredentials()
    device = None
    if two_factor_enrolled(user=user):
        device = two_factor_verify(user=user, code=code)
        if device is None:
            login_failure_record(email=email)
            raise InvalidCredentials()
    login_failures_reset(email=email)
    return StaffLogin(user=user, device=device, enrolment_due=two_factor_enrolment_due(user=user))
