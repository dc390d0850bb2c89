"""The operator's own two-factor pages in admin: enrol an authenticator app, renew recovery codes.
Each calls a service of users/two_factor.py; a refusal is a message on the page."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import django_otp
from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.safestring import mark_safe

from users.admin_forms import OtpCodeForm
from users.errors import AlreadyEnrolled, InvalidOtpCode
from users.two_factor import (
    RECOVERY_CODE_COUNT,
    recovery_codes_left,
    recovery_codes_renew,
    totp_enrolment_confirm,
    totp_enrolment_start,
    two_factor_enrolled,
)

if TYPE_CHECKING:
    from django.contrib.admin import AdminSite


def enrol(site: AdminSite, request: HttpRequest) -> HttpResponse:
    """Scan the QR code (or type the secret) into an authenticator app, then confirm with its code. On
    success the session counts as verified and the recovery codes are shown, once."""
    user: Any = request.user
    overview_url = reverse("admin:two_factor", current_app=site.name)
    form = OtpCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            device, codes = totp_enrolment_confirm(user=user, code=form.cleaned_data["code"])
        except AlreadyEnrolled as exc:
            messages.info(request, exc.detail)
            return HttpResponseRedirect(overview_url)
        except InvalidOtpCode as exc:
            form.add_error("code", exc.detail)
        else:
            django_otp.login(request, device)
            return _recovery_codes_page(site, request, codes, enrolled_now=True)
    try:
        setup = totp_enrolment_start(user=user)
    except AlreadyEnrolled:
        return HttpResponseRedirect(overview_url)
    context = {
        **site.each_context(request),
        "title": "Set up two-factor authentication",
        "setup": setup,
        "qr_svg": mark_safe(setup.qr_svg),  # noqa: S308 - segno's SVG of our own otpauth:// URL
        "form": form,
        "required": bool(settings.ADMIN_REQUIRE_2FA),
    }
    return TemplateResponse(request, "admin/users/two_factor_enrol.html", context)


def overview(site: AdminSite, request: HttpRequest) -> HttpResponse:
    """Whether this account has an authenticator, how many recovery codes are left; renew them."""
    user: Any = request.user
    if request.method == "POST" and two_factor_enrolled(user=user):
        return _recovery_codes_page(site, request, recovery_codes_renew(user=user), enrolled_now=False)
    context = {
        **site.each_context(request),
        "title": "Two-factor authentication",
        "enrolled": two_factor_enrolled(user=user),
        "codes_left": recovery_codes_left(user=user),
        "code_count": RECOVERY_CODE_COUNT,
    }
    return TemplateResponse(request, "admin/users/two_factor.html", context)


def _recovery_codes_page(
    site: AdminSite, request: HttpRequest, codes: list[str], *, enrolled_now: bool
) -> HttpResponse:
    context = {
        **site.each_context(request),
        "title": "Your recovery codes",
        "codes": codes,
        "enrolled_now": enrolled_now,
    }
    return TemplateResponse(request, "admin/users/recovery_codes.html", context)
