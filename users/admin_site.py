"""The back office's admin site: Django's, with the door of users/staff_login.py (login lockout, second
factor) and the operator's own two-factor pages. Installed as the default admin site by
users.apps.BackOfficeAdminConfig, so every app registers its pages on it as usual."""

from __future__ import annotations

from collections.abc import Callable
from functools import update_wrapper
from typing import Any

from django.conf import settings
from django.contrib import admin
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import URLPattern, URLResolver, path, reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect

from users import admin_two_factor
from users.admin_forms import StaffLoginForm
from users.two_factor import two_factor_enrolment_due


class BackOfficeSite(admin.AdminSite):
    login_form = StaffLoginForm
    login_template = "admin/users/login.html"
    index_template = "admin/users/index.html"

    def has_permission(self, request: HttpRequest) -> bool:
        """Django's rule (an active staff member) and, with ADMIN_REQUIRE_2FA on, a session verified by a
        code. (An account with an authenticator gives its code at every login either way.)"""
        if not super().has_permission(request):
            return False
        return not settings.ADMIN_REQUIRE_2FA or _verified(request)

    def admin_view(  # type: ignore[override]
        self, view: Callable[..., HttpResponse], cacheable: bool = False
    ) -> Callable[..., HttpResponse]:
        """A staff member who must still enrol is sent to the enrolment page from every admin page
        (logging out aside)."""
        guarded = super().admin_view(view, cacheable)
        staff_only = self.staff_view(view)

        def inner(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if _must_enrol(request):
                if request.path == reverse("admin:logout", current_app=self.name):
                    return staff_only(request, *args, **kwargs)
                return HttpResponseRedirect(reverse("admin:two_factor_enrol", current_app=self.name))
            return guarded(request, *args, **kwargs)

        return update_wrapper(inner, guarded)

    def login(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        # Logged in by password with no authenticator yet: the enrolment page is the only way on.
        enrol = HttpResponseRedirect(reverse("admin:two_factor_enrol", current_app=self.name))
        if request.method == "GET" and _must_enrol(request):
            return enrol
        response = super().login(request, extra_context)
        if request.method == "POST" and response.status_code == 302 and _must_enrol(request):
            return enrol
        return response

    def staff_view(self, view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        """For the enrolment page: any logged-in, active staff member, verified or not."""

        def inner(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not (request.user.is_active and request.user.is_staff):
                return redirect_to_login(
                    request.get_full_path(), reverse("admin:login", current_app=self.name)
                )
            return view(request, *args, **kwargs)

        return csrf_protect(never_cache(update_wrapper(inner, view)))

    def get_urls(self) -> list[URLPattern | URLResolver]:
        own = [
            path(
                "two-factor/",
                self.admin_view(lambda request: admin_two_factor.overview(self, request)),
                name="two_factor",
            ),
            path(
                "two-factor/enrol/",
                self.staff_view(lambda request: admin_two_factor.enrol(self, request)),
                name="two_factor_enrol",
            ),
        ]
        return [*own, *super().get_urls()]


def _verified(request: HttpRequest) -> bool:
    is_verified = getattr(request.user, "is_verified", None)  # set by django-otp's middleware
    return bool(is_verified is not None and is_verified())


def _must_enrol(request: HttpRequest) -> bool:
    user: Any = request.user
    if not settings.ADMIN_REQUIRE_2FA or not user.is_authenticated or _verified(request):
        return False  # no query in the common cases: a verified session has an authenticator
    return bool(user.is_active and two_factor_enrolment_due(user=user))
