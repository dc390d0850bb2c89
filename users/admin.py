from typing import Any

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest

from config import clock
from config.admin_readonly import ReadOnlyAdminMixin
from users.lockout import login_lock_clear, login_lock_remaining
from users.models import LoginLock, User
from users.two_factor import two_factor_enrolled, two_factor_reset


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ("email",)
    list_display = ("email", "name", "is_staff", "is_active", "date_joined")
    search_fields = ("email", "name")
    list_filter = ("is_staff", "is_active", "groups")
    readonly_fields = ("date_joined", "last_login", "two_factor")
    fieldsets = (
        (None, {"fields": ("email", "name", "password")}),
        ("Permissions", {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        ("Two-factor authentication", {"fields": ("two_factor",)}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "name", "password1", "password2")}),)
    actions = ["reset_two_factor"]

    @admin.display(description="authenticator app")
    def two_factor(self, user: User) -> str:
        return "set up" if two_factor_enrolled(user=user) else "not set up"

    @admin.action(
        description="Reset two-factor authentication (they set up an app again)", permissions=["change"]
    )
    def reset_two_factor(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        for user in queryset:
            two_factor_reset(user=user)
            self.log_change(request, user, "Reset two-factor authentication.")
        self.message_user(request, f"Two-factor authentication reset for {len(queryset)} account(s).")


class LockInForce(admin.SimpleListFilter):
    title = "lock"
    parameter_name = "in_force"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("yes", "in force"), ("no", "ended or cleared")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[LoginLock]) -> QuerySet[LoginLock]:
        in_force = {"cleared_at__isnull": True, "locked_until__gt": clock.now()}
        if self.value() == "yes":
            return queryset.filter(**in_force)
        if self.value() == "no":
            return queryset.exclude(**in_force)
        return queryset


@admin.register(LoginLock)
class LoginLockAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Emails the login lockout locked (both doors: the API's token login and this admin's), with the
    action that clears a lock early. Read-only otherwise: the locks are taken by failed logins."""

    list_display = ("email", "locked_at", "locked_until", "status")
    list_filter = (LockInForce,)
    search_fields = ("email",)
    actions = ["clear_locks"]

    @admin.display(description="status")
    def status(self, lock: LoginLock) -> str:
        if lock.cleared_at is not None:
            by = lock.cleared_by.email if lock.cleared_by else "someone"
            return f"cleared by {by} at {lock.cleared_at:%Y-%m-%d %H:%M:%S}"
        if lock.locked_until <= clock.now():
            return "ended"
        remaining = login_lock_remaining(email=lock.email)  # the lock itself, in the cache
        return f"locked, {int(remaining // 60) + 1} min left" if remaining > 0 else "ended"

    def has_clear_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("users.change_loginlock")

    @admin.action(
        description="Clear the selected locks (the email may log in again now)", permissions=["clear"]
    )
    def clear_locks(self, request: HttpRequest, queryset: QuerySet[LoginLock]) -> None:
        emails = sorted({lock.email for lock in queryset})
        operator: Any = request.user
        cleared = [email for email in emails if login_lock_clear(email=email, by=operator)]
        for lock in queryset.filter(email__in=cleared, cleared_by=operator):
            self.log_change(request, lock, "Cleared the lock.")
        if cleared:
            self.message_user(request, f"Cleared {len(cleared)} lock(s): {', '.join(cleared)}.")
        if len(cleared) < len(emails):
            self.message_user(
                request, f"{len(emails) - len(cleared)} email(s) were not locked any more.", messages.WARNING
            )
