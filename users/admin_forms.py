"""Forms of the back office's door: the login (email, password, code) and the enrolment's code."""

from __future__ import annotations

import math
from typing import Any

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.exceptions import ValidationError

from users.errors import InvalidCredentials, LoginLocked
from users.staff_login import staff_login_verify

CODE_WIDGET = forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "size": 12})


def locked_message(error: LoginLocked) -> str:
    minutes = math.ceil(error.retry_after / 60)
    return (
        f"Too many failed logins: this account is locked for {minutes} more minute(s), whatever the "
        "password. Try again later, or ask an administrator to clear the lock (Users > Login locks)."
    )


class StaffLoginForm(AdminAuthenticationForm):
    """The admin login through users.staff_login: the login lockout first, then password and code."""

    otp_token = forms.CharField(
        label="Authentication code",
        required=False,
        max_length=32,
        strip=True,
        widget=CODE_WIDGET,
        help_text="From your authenticator app, or one of your recovery codes. Leave it empty until you "
        "have enrolled an app.",
    )
    error_messages = {
        **AdminAuthenticationForm.error_messages,
        "invalid_login": "Please enter the correct email, password and authentication code (once you have "
        "enrolled an authenticator app) for a staff account.",
    }

    def clean(self) -> dict[str, Any]:
        email = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        if not email or not password:
            return self.cleaned_data  # the field errors say what is missing
        try:
            login = staff_login_verify(
                email=email,
                password=password,
                code=self.cleaned_data.get("otp_token") or "",
                request=self.request,
            )
        except LoginLocked as exc:
            raise ValidationError(locked_message(exc), code="locked") from exc
        except InvalidCredentials as exc:
            raise self.get_invalid_login_error() from exc
        # django-otp keeps this device in the session when Django logs the user in (user_logged_in).
        login.user.otp_device = login.device  # type: ignore[attr-defined]
        self.user_cache = login.user
        return self.cleaned_data


class OtpCodeForm(forms.Form):
    code = forms.CharField(label="Code from the app", max_length=32, strip=True, widget=CODE_WIDGET)
